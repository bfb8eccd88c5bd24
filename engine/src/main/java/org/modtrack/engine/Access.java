package org.modtrack.engine;

/**
 * What an announced access will do to the file's contents, as far as the caller can tell.
 * When in doubt, it is a {@link #WRITE}.
 */
public enum Access {
    /** The contents may change (write, truncate, fallocate, a shared writable mapping, or unknown). */
    WRITE,
    /**
     * The contents will only be read. Recorded like a write (so that a kernel source may set an
     * ignore mark, which hides later writes too), but flagged, so that a result made without a crash
     * in between can leave the file out when its stamp shows it unchanged (docs/correctness.md).
     */
    READ,
    /**
     * The file is a directory, and its children's accesses will not be announced one by one for
     * the rest of the period: a kernel source sets one ignore mark on the directory for all of
     * them, and reports their changes after the fact ({@link ChangeTracker#recordChange} with
     * {@link Change#WRITTEN} and the namespace changes). Results made without an unclean stop in
     * between name the children; the scope itself ({@link Change#SCOPE}) tells a source which
     * directories to rescan when it cannot (docs/correctness.md).
     */
    SCOPE
}
