package org.modtrack.source.linux.rules;

import org.modtrack.engine.Access;
import org.modtrack.engine.Durability;
import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * When a permission event is answered with respect to its record: the four orders
 * the pre-content handler ({@code AccessRecorder}) chooses among, and the simulator's model of it. A write must not go on before its record is durable; a
 * read may (it changes nothing), but its ignore mark must wait for the record, since the mark would
 * hide a later write, and until the mark is set every access raises an event again. Pure, so that
 * the choice can be read, and tested, apart from the system calls that carry it out.
 */
public enum AnswerOrder {
    /**
     * Directory records with {@code process} durability: a directory's record costs no sync, so
     * every event whose directory can be recorded is answered only after the record and its mark,
     * read or write alike, and nobody reads /proc to tell which (that would only let a read go
     * before a record that costs it nothing, and the read's own first call would then raise a
     * second event before the mark). If the directory cannot be recorded, the access is classified
     * and takes one of the other orders.
     */
    RECORD_DIRECTORY_THEN_ANSWER,
    /** A write: its directory (with directory records) or else the file itself is recorded and marked, then answered. */
    RECORD_THEN_ANSWER,
    /** A read: answered at once; its directory or else the file is recorded and marked after. */
    ANSWER_THEN_RECORD,
    /**
     * An open that does not record the file on its own: a read-only or read-write open with
     * pre-content events (its first access is classified then), or a read-only open with opens alone
     * (a later writer's open raises its own event). Answered at once; with directory records its
     * directory is recorded and marked after, as for any first access; otherwise nothing is.
     */
    ANSWER_THEN_RECORD_DIRECTORY;

    /** Whether events take {@link #RECORD_DIRECTORY_THEN_ANSWER} before any classification. */
    public static boolean recordsDirectoryBeforeClassifying(LinuxSourceOptions.Granularity granularity, Durability durability) {
        return granularity == LinuxSourceOptions.Granularity.DIRECTORY && durability == Durability.PROCESS;
    }

    /** The order of a classified access: {@code access} as its system call says, {@code open} for an open event. */
    public static AnswerOrder of(Access access, boolean open) {
        if (access != Access.READ) {
            return RECORD_THEN_ANSWER;
        }
        return open ? ANSWER_THEN_RECORD_DIRECTORY : ANSWER_THEN_RECORD;
    }

    /** Whether the event is answered before anything is recorded. */
    public boolean answersFirst() {
        return this == ANSWER_THEN_RECORD || this == ANSWER_THEN_RECORD_DIRECTORY;
    }

    /**
     * Whether the file is recorded on its own when its directory is not (file records, or a
     * directory that cannot be pinned down).
     */
    public boolean recordsTheFile() {
        return this == RECORD_THEN_ANSWER || this == ANSWER_THEN_RECORD;
    }
}
