package org.modtrack.engine;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link ChangeTracker} behaves. Immutable; start from {@link #defaults()} and change what
 * you need with the {@code with...} methods.
 *
 * @param durability how durable a record is before the write may go on
 * @param barrierTimeout how long a checkpoint waits for a write in progress before carrying its
 *     file into the new period (the write stays tracked: it is waited for again next time)
 * @param maxWritesInProgress the most writes that may be between preWrite and postWrite at once;
 *     beyond it preWrite fails rather than let memory grow without bound
 * @param initialSnapshotBytes the size a snapshot file starts with; it doubles when full
 * @param maxSnapshotBytes the largest a snapshot file may grow; beyond it preWrite fails
 * @param maxJournalBytes the most disk the snapshots not yet discarded by a bless may take together
 *     (their file sizes, preallocation included); at it, new records are refused
 *     ({@link org.modtrack.engine.journal.JournalFullException}, "bless a result ...") and so is a
 *     query while a result newer than the last blessed one is waiting to be blessed
 * @param barrier waits for writes the tracker cannot see end (see {@link WriteBarrier})
 * @param consumerTimeout a consumer that has not blessed for longer (since it was added or last
 *     blessed) is dropped at the next query or bless of any consumer: its next result says that
 *     continuity was lost, and what only it kept is discarded; zero: never
 * @param maxResultRecords the most records a result may be made of, a record with names (a renamed
 *     file's) counting twice: a query whose result would hold more is refused
 *     ({@link ResultTooLargeException}) before anything is issued, rather than run out of memory
 *     while it is made (each record stands for a few hundred bytes until the result is written; the
 *     daemon derives the bound from its heap's)
 * @param resultAdmission admits each result within that bound, or refuses it, once its records are
 *     counted: what lets trackers sharing one heap bound the results they make at once together
 */
public record TrackerConfig(
        Durability durability,
        Duration barrierTimeout,
        int maxWritesInProgress,
        long initialSnapshotBytes,
        long maxSnapshotBytes,
        long maxJournalBytes,
        WriteBarrier barrier,
        Duration consumerTimeout,
        long maxResultRecords,
        ResultAdmission resultAdmission) {

    /** 1 GiB: snapshot files are read whole at recovery. */
    public static final long MAX_SNAPSHOT_BYTES = 1L << 30;

    /** 4 GiB: the default bound on the snapshots a consumer that never blesses makes the tracker keep. */
    public static final long DEFAULT_MAX_JOURNAL_BYTES = 4L << 30;

    /** 30 days: longer than any backup or sync schedule leaves between two blesses. */
    public static final Duration DEFAULT_CONSUMER_TIMEOUT = Duration.ofDays(30);

    public TrackerConfig {
        Objects.requireNonNull(durability, "durability");
        Objects.requireNonNull(consumerTimeout, "consumerTimeout");
        if (consumerTimeout.isNegative()) {
            throw new IllegalArgumentException("the consumer timeout must not be negative, not " + consumerTimeout + ".");
        }
        Objects.requireNonNull(barrierTimeout, "barrierTimeout");
        Objects.requireNonNull(barrier, "barrier");
        Objects.requireNonNull(resultAdmission, "resultAdmission");
        if (barrierTimeout.isNegative()) {
            throw new IllegalArgumentException("the barrier timeout must not be negative, not " + barrierTimeout + ".");
        }
        if (maxWritesInProgress < 1) {
            throw new IllegalArgumentException("at least one write must be allowed in progress, not " + maxWritesInProgress + ".");
        }
        if (initialSnapshotBytes < 4096 || maxSnapshotBytes < initialSnapshotBytes || maxSnapshotBytes > MAX_SNAPSHOT_BYTES) {
            throw new IllegalArgumentException("snapshot sizes must satisfy 4096 <= initial (" + initialSnapshotBytes
                    + ") <= max (" + maxSnapshotBytes + ") <= " + MAX_SNAPSHOT_BYTES + ".");
        }
        if (maxResultRecords < 1) {
            throw new IllegalArgumentException("a result must be allowed at least one record, not " + maxResultRecords + ".");
        }
        if (maxJournalBytes < 2 * initialSnapshotBytes) {
            throw new IllegalArgumentException("the journal limit (" + maxJournalBytes + " bytes) must hold at least two"
                    + " new snapshots (2 x " + initialSnapshotBytes + " bytes): a checkpoint keeps the closing and the open one.");
        }
    }

    /**
     * Power durability, a 10 s barrier timeout, 65,536 writes in progress, 1 MiB snapshots growing to
     * 1 GiB, 4 GiB for all snapshots not yet blessed, consumers dropped after 30 days without a bless,
     * results of any number of records, each admitted at once.
     */
    public static TrackerConfig defaults() {
        return new TrackerConfig(Durability.POWER, Duration.ofSeconds(10), 1 << 16, 1 << 20, MAX_SNAPSHOT_BYTES,
                DEFAULT_MAX_JOURNAL_BYTES, WriteBarrier.NONE, DEFAULT_CONSUMER_TIMEOUT, Long.MAX_VALUE,
                ResultAdmission.ALL);
    }

    public TrackerConfig withDurability(Durability d) {
        return new TrackerConfig(d, barrierTimeout, maxWritesInProgress, initialSnapshotBytes, maxSnapshotBytes, maxJournalBytes, barrier, consumerTimeout, maxResultRecords, resultAdmission);
    }

    public TrackerConfig withBarrierTimeout(Duration t) {
        return new TrackerConfig(durability, t, maxWritesInProgress, initialSnapshotBytes, maxSnapshotBytes, maxJournalBytes, barrier, consumerTimeout, maxResultRecords, resultAdmission);
    }

    public TrackerConfig withMaxWritesInProgress(int n) {
        return new TrackerConfig(durability, barrierTimeout, n, initialSnapshotBytes, maxSnapshotBytes, maxJournalBytes, barrier, consumerTimeout, maxResultRecords, resultAdmission);
    }

    public TrackerConfig withSnapshotBytes(long initial, long max) {
        return new TrackerConfig(durability, barrierTimeout, maxWritesInProgress, initial, max, maxJournalBytes, barrier, consumerTimeout, maxResultRecords, resultAdmission);
    }

    /** The most disk all snapshots not yet discarded by a bless may take (see {@link #maxJournalBytes()}). */
    public TrackerConfig withMaxJournalBytes(long max) {
        return new TrackerConfig(durability, barrierTimeout, maxWritesInProgress, initialSnapshotBytes, maxSnapshotBytes, max, barrier, consumerTimeout, maxResultRecords, resultAdmission);
    }

    public TrackerConfig withBarrier(WriteBarrier b) {
        return new TrackerConfig(durability, barrierTimeout, maxWritesInProgress, initialSnapshotBytes, maxSnapshotBytes, maxJournalBytes, b, consumerTimeout, maxResultRecords, resultAdmission);
    }

    /** See {@link #consumerTimeout()}; zero: never. */
    public TrackerConfig withConsumerTimeout(Duration t) {
        return new TrackerConfig(durability, barrierTimeout, maxWritesInProgress, initialSnapshotBytes, maxSnapshotBytes, maxJournalBytes, barrier, t, maxResultRecords, resultAdmission);
    }

    /** See {@link #maxResultRecords()}. */
    public TrackerConfig withMaxResultRecords(long max) {
        return new TrackerConfig(durability, barrierTimeout, maxWritesInProgress, initialSnapshotBytes, maxSnapshotBytes, maxJournalBytes, barrier, consumerTimeout, max, resultAdmission);
    }

    /** See {@link #resultAdmission()}. */
    public TrackerConfig withResultAdmission(ResultAdmission admission) {
        return new TrackerConfig(durability, barrierTimeout, maxWritesInProgress, initialSnapshotBytes, maxSnapshotBytes, maxJournalBytes, barrier, consumerTimeout, maxResultRecords, admission);
    }
}
