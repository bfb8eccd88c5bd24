package org.modtrack.engine;

import java.io.IOException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.modtrack.engine.journal.Journal;
import org.modtrack.engine.journal.JournalFailedException;
import org.modtrack.engine.journal.SyncPlan;

/**
 * Shares fdatasyncs among concurrent writers. A writer whose record is not yet durable either
 * becomes the leader (no sync running: it syncs everything appended so far, its own record and
 * every other) or parks until the running sync ends and checks again. While the leader's sync runs,
 * records keep being appended; the next leader takes all of them in one sync.
 *
 * <p>Two measured choices (docs/benchmarks.md, "records per fdatasync"):
 * <ul>
 *   <li><b>Direct wake-up.</b> Waiters park on their own thread and the leader unparks them all.
 *   Waiting on a lock's condition instead made them re-acquire the lock one after another: a chain of
 *   futex wake-ups and context switches, a median of 67 µs for 16 writers on two cores.
 *   <li><b>Gathering.</b> A leader that syncs at once takes only the writers already back from the
 *   previous sync (about half: 7.5 records per sync at 16 writers). So the leader first parks
 *   until as many records are pending as were appended over the last sync period, but never longer
 *   than half an average sync. A lone writer never waits: its own record is all that
 *   is expected.
 * </ul>
 */
final class GroupCommit {
    private final ReentrantLock coreLock;
    private final Journal journal;
    private final AtomicBoolean syncing = new AtomicBoolean();
    private final ConcurrentLinkedQueue<Thread> parked = new ConcurrentLinkedQueue<>();
    private volatile long acknowledged;
    private volatile IOException failure;
    private volatile long expectedBatch = 1; // records appended over the last sync period
    private volatile long averageSyncNanos; // moving average, so one slow sync does not stretch the next gather
    private volatile Thread gatherer;
    private volatile long gatherUntilLsn;

    /**
     * How long a leader may gather, as a share of an average sync. Measured A/B (docs/benchmarks.md,
     * "Group commit: gathering"): 0 gives 7.8 records per sync at 16 writers, 1/4 gives 13.8, 1/2
     * gives 14.5, with equal throughput for 1/4 and 1/2 (+12% over 0) and no cost to a lone writer.
     */
    static final double GATHER_FRACTION = 0.5;

    /** The longest a leader gathers, whatever the disk does. */
    private static final long MAX_GATHER_NANOS = 500_000;

    GroupCommit(ReentrantLock coreLock, Journal journal) {
        this.coreLock = coreLock;
        this.journal = journal;
    }

    /** Returns once record {@code lsn} is durable; throws if a sync failed. */
    void awaitDurable(long lsn) throws IOException {
        Thread me = Thread.currentThread();
        Thread leader = gatherer;
        if (leader != null && lsn >= gatherUntilLsn) {
            LockSupport.unpark(leader); // this record completes the batch the leader waits for
        }
        while (acknowledged < lsn) {
            if (failure != null) {
                throw new JournalFailedException(failure);
            }
            if (syncing.compareAndSet(false, true)) {
                try {
                    if (acknowledged < lsn && failure == null) {
                        gather();
                        leadOneSync();
                    }
                } finally {
                    syncing.set(false);
                    wakeAll();
                }
                continue;
            }
            parked.add(me);
            // Re-check after queueing: a leader that finished in between has already drained the queue.
            if (acknowledged < lsn && failure == null && syncing.get()) {
                LockSupport.park(this);
            }
        }
    }

    /**
     * Waits briefly for the writers the last sync released to come back with their next record:
     * parks until the writer whose record completes the expected batch unparks it, or until half an
     * average sync has passed (at most {@link #MAX_GATHER_NANOS}). Parking, not spinning: on two
     * cores the writers need the CPU (a yield loop cost 185 µs of kernel time per record).
     */
    private void gather() {
        long target = acknowledged + expectedBatch;
        if (journal.appendedLsn() >= target) {
            return;
        }
        long deadline = System.nanoTime() + Math.min(MAX_GATHER_NANOS, (long) (averageSyncNanos * GATHER_FRACTION));
        gatherUntilLsn = target;
        gatherer = Thread.currentThread();
        try {
            long left;
            while (journal.appendedLsn() < target && (left = deadline - System.nanoTime()) > 0) {
                LockSupport.parkNanos(this, left);
            }
        } finally {
            gatherer = null;
        }
    }

    private void leadOneSync() {
        long before = acknowledged;
        SyncPlan plan;
        coreLock.lock();
        try {
            plan = journal.prepareSync();
        } finally {
            coreLock.unlock();
        }
        IOException error = null;
        long start = System.nanoTime();
        try {
            plan.execute();
        } catch (IOException e) {
            error = e;
        } catch (RuntimeException e) {
            // A plan left neither completed nor failed would hold every later record unacknowledged.
            error = new IOException("the group commit's sync failed: " + e, e);
        }
        long took = System.nanoTime() - start;
        long durable;
        coreLock.lock();
        try {
            if (error == null) {
                journal.completeSync(plan);
            } else {
                journal.failSync(error);
            }
            durable = journal.durableLsn();
        } finally {
            coreLock.unlock();
        }
        if (error != null) {
            failure = error;
            return;
        }
        if (!plan.isEmpty()) {
            averageSyncNanos = averageSyncNanos == 0 ? took : (averageSyncNanos * 7 + took) / 8;
            expectedBatch = Math.max(1, journal.appendedLsn() - before);
        }
        acknowledged = Math.max(acknowledged, durable); // the journal's word, not the plan's: see Journal.completeSync
    }

    private void wakeAll() {
        for (Thread t; (t = parked.poll()) != null; ) {
            LockSupport.unpark(t);
        }
    }
}
