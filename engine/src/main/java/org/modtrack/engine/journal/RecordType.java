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

    /** Each type at its code: decoding looks one up per record, and values() copies its array per call. */
    private static final RecordType[] BY_CODE;

    static {
        int highest = 0;
        for (RecordType t : values()) {
            highest = Math.max(highest, t.code);
        }
        BY_CODE = new RecordType[highest + 1];
        for (RecordType t : values()) {
            assert BY_CODE[t.code] == null : "two record types with code " + t.code;
            BY_CODE[t.code] = t;
        }
    }

    final int code;

    RecordType(int code) {
        this.code = code;
    }

    /** The type with {@code code}, or null if none has it (a damaged or foreign record). */
    static RecordType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
