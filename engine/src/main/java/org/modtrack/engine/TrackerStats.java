package org.modtrack.engine;

import java.util.List;
import org.modtrack.engine.journal.ConsumerState;

/**
 * Counters and gauges of a tracker, read at one moment.
 *
 * @param openSnapshot the id of the open period's snapshot
 * @param keptFrom the lowest snapshot a consumer keeps: snapshots below it are discarded
 * @param liveSnapshots how many snapshots are kept (from keptFrom to the open one)
 * @param trackedFiles distinct files recorded in the kept snapshots
 * @param writesInProgress writes between preWrite and postWrite
 * @param preWrites preWrite calls
 * @param alreadyRecorded preWrite calls that found the file recorded in the open period
 * @param records records appended to the journal
 * @param syncs fdatasync calls made for records
 * @param journalBytes bytes of records in the kept snapshots
 * @param checkpoints checkpoints completed
 * @param carried files carried into a new period because a write outlived the barrier timeout
 * @param durability the configured durability
 * @param continuity whether every consumer's next result will be complete (else the first reason)
 * @param consumers each consumer's state
 */
public record TrackerStats(
        long openSnapshot,
        long keptFrom,
        int liveSnapshots,
        long trackedFiles,
        long writesInProgress,
        long preWrites,
        long alreadyRecorded,
        long records,
        long syncs,
        long journalBytes,
        long checkpoints,
        long carried,
        Durability durability,
        Continuity continuity,
        List<ConsumerState> consumers) {

    public TrackerStats {
        consumers = List.copyOf(consumers);
    }

    /** Records per fdatasync (0 when there was none): how well group commit batches. */
    public double recordsPerSync() {
        return syncs == 0 ? 0 : (double) records / syncs;
    }
}
