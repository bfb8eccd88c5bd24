package org.modtrack.engine.journal;

import java.io.IOException;
import java.util.List;

/**
 * One group commit: the snapshot files dirtied since the last one and the record sequence number
 * they cover. Prepared and completed by the journal's owner; {@link #execute} may run without it,
 * so that records keep being appended while the disk syncs.
 */
public final class SyncPlan {
    final long lsn;
    final List<SnapshotWriter> writers;
    final long[] ends;
    boolean completed; // by the journal's owner, under its lock

    SyncPlan(long lsn, List<SnapshotWriter> writers, long[] ends) {
        this.lsn = lsn;
        this.writers = writers;
        this.ends = ends;
    }

    /** The highest record sequence number this plan makes durable. */
    public long lsn() {
        return lsn;
    }

    /** True if there is nothing to sync. */
    public boolean isEmpty() {
        return writers.isEmpty();
    }

    /** Syncs the files (fdatasync each). Safe without the owner's lock. */
    public void execute() throws IOException {
        for (SnapshotWriter w : writers) {
            w.file.sync();
        }
    }
}
