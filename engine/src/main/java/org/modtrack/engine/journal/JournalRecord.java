package org.modtrack.engine.journal;

import org.modtrack.engine.FileId;

/**
 * One journal record.
 *
 * @param type what the record says
 * @param file the file it names
 * @param from for {@link RecordType#RENAMED}: the path before the rename; otherwise null
 * @param directory whether the file is a directory
 */
public record JournalRecord(RecordType type, FileId file, String from, boolean directory) {
    /** A record without a rename source, about a non-directory. */
    public JournalRecord(RecordType type, FileId file) {
        this(type, file, null, false);
    }
}
