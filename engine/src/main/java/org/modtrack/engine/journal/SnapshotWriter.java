package org.modtrack.engine.journal;

import org.modtrack.engine.storage.AppendFile;

/**
 * A snapshot file open for appending. Owned by the {@link Journal}; callers only hold it to say
 * where a record goes. Fields are guarded by the journal's owner (see {@link Journal}).
 */
public final class SnapshotWriter {
    final long id;
    final AppendFile file;
    long position;
    long durableEnd;
    boolean dirty;
    boolean sealed;

    SnapshotWriter(long id, AppendFile file, long position) {
        this.id = id;
        this.file = file;
        this.position = position;
        this.durableEnd = position;
    }

    /** The snapshot's id. */
    public long id() {
        return id;
    }

    @Override
    public String toString() {
        return "snapshot " + id;
    }
}
