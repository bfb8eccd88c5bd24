package org.modtrack.engine;

/** A kind of change a result reports for a file. */
public enum Change {
    /** Its contents were (or may have been) written. */
    WRITTEN,
    /** It was recorded only for reads: unchanged unless its stamp says otherwise. */
    READ,
    /** It was created. */
    CREATED,
    /** It was deleted (its last name removed). */
    DELETED,
    /** It was renamed; {@link ChangedFile#renamedFrom()} says from where. */
    RENAMED,
    /** Its attributes (mode, owner, times, extended attributes) changed. */
    ATTRIBUTES,
    /**
     * It is a directory recorded as a {@link Access#SCOPE}: its children may have changed, and
     * their changes were recorded after the fact. Whoever cannot trust those records (after an
     * unclean stop, or a lost notification) must rescan it.
     */
    SCOPE
}
