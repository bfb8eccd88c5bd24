package org.modtrack.consumer.mirror;

/** What one cycle of a mirror did. Mutable: the destinations count as they go. */
public final class MirrorStats {
    /** The result applied (0: none). */
    public long result;
    /** Its entries. */
    public long entries;
    /** Files copied from the source. */
    public long filesCopied;
    /** Their bytes. */
    public long bytesCopied;
    /** Paths removed from the destination (a directory counts once). */
    public long removed;
    /** Moves done in the destination. */
    public long moved;
    /** Other names of files the result named with more than one link, looked at after its entries. */
    public long otherLinks;
    /** Whether this cycle copied the whole tree (a first run, or continuity lost). */
    public boolean fullCopy;
    /**
     * The result's continuity: {@code intact}, {@code reconciled} (the daemon found by a walk what
     * changed while it did not track), or {@code lost}; empty for a cycle that applied no result.
     */
    public String continuity = "";
    /** Whether the result held records made before an unclean stop of the daemon. */
    public boolean recovered;
    /** Whether it resumed a result a stopped run had been applying. */
    public boolean resumed;
    /** Nanoseconds the cycle took. */
    public long nanos;

    /** One line for people. */
    public String line() {
        return (fullCopy ? "copied the whole tree" : "applied result " + result + " (" + entries + " entries)")
                + (continuity.equals("reconciled") ? ", reconciled by the daemon's walk" : "")
                + (recovered ? ", recovered after an unclean stop" : "") + (resumed ? ", resumed" : "") + ": " + filesCopied + " files (" + bytesCopied + " bytes) copied, " + removed
                + " removed, " + moved + " moved" + (otherLinks > 0 ? ", " + otherLinks + " other names of hard-linked files looked at" : "") + ", in " + nanos / 1_000_000 + " ms; blessed " + result;
    }
}
