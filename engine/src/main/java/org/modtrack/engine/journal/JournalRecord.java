package org.modtrack.engine.journal;

import org.modtrack.engine.FileId;

/**
 * One record read back from a snapshot file.
 *
 * @param type what the record says
 * @param file the file it names
 */
public record JournalRecord(RecordType type, FileId file) {}
