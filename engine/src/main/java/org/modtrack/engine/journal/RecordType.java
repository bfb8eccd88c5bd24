package org.modtrack.engine.journal;

/** What a journal record says about its file. */
public enum RecordType {
    /** A preWrite announced that the file is about to be modified (recorded before the write). */
    INTENT(1),
    /** A write to the file outlived a checkpoint's barrier timeout; the file was carried into this period. */
    CARRIED(2),
    /** An access that will only read the file was announced (recorded before the access). */
    READ_INTENT(3),
    /** The file was created (recorded after the fact). */
    CREATED(4),
    /** The file was deleted (recorded after the fact). */
    DELETED(5),
    /** The file was renamed; the record carries the old path (recorded after the fact). */
    RENAMED(6),
    /** The file's attributes changed (recorded after the fact). */
    ATTRIBUTES(7),
    /**
     * A directory whose children's accesses are not announced one by one in this period (recorded
     * before the first of them may proceed); their changes are recorded after the fact, as
     * {@link #MODIFIED} and the namespace records. After an unclean stop it names a directory to rescan.
     */
    SCOPE(8),
    /** The file's contents changed (recorded after the fact, for a child of a recorded {@link #SCOPE}). */
    MODIFIED(9);

    final int code;

    RecordType(int code) {
        this.code = code;
    }

    static RecordType ofCode(int code) {
        for (RecordType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
