package org.modtrack.engine;

import java.io.IOException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.modtrack.engine.journal.Journal;
import org.modtrack.engine.journal.JournalFailedException;
import org.modtrack.engine.journal.SyncPlan;

/**
 * Shares fdatasyncs among concurrent writers. A writer whose record is not yet durable either
 * becomes the leader (no sync running: it syncs everything appended so far, its own record and
 * every other) or waits for the running sync and checks again. While the leader's sync runs,
 * records keep being appended; the next leader takes all of them in one sync.
 */
final class GroupCommit {
    private final ReentrantLock coreLock;
    private final Journal journal;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition progress = lock.newCondition();
    private volatile long acknowledged;
    private boolean syncing; // guarded by lock
    private IOException failure; // guarded by lock

    GroupCommit(ReentrantLock coreLock, Journal journal) {
        this.coreLock = coreLock;
        this.journal = journal;
    }

    /** Returns once record {@code lsn} is durable; throws if a sync failed. */
    void awaitDurable(long lsn) throws IOException {
        while (acknowledged < lsn) {
            lock.lock();
            boolean lead;
            try {
                while (acknowledged < lsn && syncing && failure == null) {
                    progress.awaitUninterruptibly();
                }
                if (failure != null) {
                    throw new JournalFailedException(failure);
                }
                if (acknowledged >= lsn) {
                    return;
                }
                syncing = true;
                lead = true;
            } finally {
                lock.unlock();
            }
            if (lead) {
                leadOneSync();
            }
        }
    }

    private void leadOneSync() {
        SyncPlan plan;
        coreLock.lock();
        try {
            plan = journal.prepareSync();
        } finally {
            coreLock.unlock();
        }
        IOException error = null;
        try {
            plan.execute();
        } catch (IOException e) {
            error = e;
        }
        coreLock.lock();
        try {
            if (error == null) {
                journal.completeSync(plan);
            } else {
                journal.failSync(error);
            }
        } finally {
            coreLock.unlock();
        }
        lock.lock();
        try {
            syncing = false;
            if (error == null) {
                acknowledged = Math.max(acknowledged, plan.lsn());
            } else {
                failure = error;
            }
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
