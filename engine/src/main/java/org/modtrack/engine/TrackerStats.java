package org.modtrack.engine;

/**
 * Counters and gauges of a tracker, read at one moment.
 *
 * @param openSnapshot the id of the open period's snapshot
 * @param lastBlessed the last blessed snapshot id
 * @param liveSnapshots how many snapshots are kept (from the last blessed to the open one)
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
 * @param continuity whether the next result will be complete
 */
public record TrackerStats(
        long openSnapshot,
        long lastBlessed,
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
        Continuity continuity) {

    /** Records per fdatasync (0 when there was none): how well group commit batches. */
    public double recordsPerSync() {
        return syncs == 0 ? 0 : (double) records / syncs;
    }
}
