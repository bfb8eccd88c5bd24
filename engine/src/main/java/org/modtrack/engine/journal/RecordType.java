package org.modtrack.engine.journal;

/** What a journal record says about its file. */
public enum RecordType {
    /** A preWrite announced that the file is about to be modified. */
    INTENT(1),
    /** A write to the file outlived a checkpoint's barrier timeout; the file was carried into this period. */
    CARRIED(2);

    final int code;

    RecordType(int code) {
        this.code = code;
    }

    static RecordType ofCode(int code) {
        return switch (code) {
            case 1 -> INTENT;
            case 2 -> CARRIED;
            default -> null;
        };
    }
}
