package org.modtrack.engine;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How a checkpoint waits for writes the tracker cannot see end.
 *
 * <p>The tracker always waits for the writes it knows about: every {@link ChangeTracker#preWrite}
 * of the closing period until its {@link ChangeTracker#postWrite}. A kernel source also lets writes
 * through without any call (a file under an ignore mark raises no event); such a source supplies a
 * barrier that waits for those too: for example a grace period over threads inside write calls,
 * or a file-system freeze.
 *
 * <p>{@link #begin} is called after the new period has started and the source was told to clear
 * its ignore marks, so every write that passed the source's hook under the closing period began
 * before it; the returned {@link Wait} must not finish before those writes have.
 */
public interface WriteBarrier {

    /** A barrier that adds nothing to the tracker's own post-write accounting. */
    WriteBarrier NONE = new WriteBarrier() {
        @Override
        public String name() {
            return "post-write";
        }

        @Override
        public Wait begin(long closingSnapshot) {
            return Wait.DONE;
        }
    };

    /** A short name for results and logs, for example {@code srcu} or {@code freeze}. */
    String name();

    /** Starts waiting for the writes that passed the hook under {@code closingSnapshot}. */
    Wait begin(long closingSnapshot) throws IOException;

    /** How often a wait is re-checked when its barrier has not signalled progress. */
    long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    /** One checkpoint's wait. */
    interface Wait extends AutoCloseable {
        /** A wait that is already over. */
        Wait DONE = new Wait() {
            @Override
            public boolean isDone() {
                return true;
            }

            @Override
            public void awaitProgress(long maxNanos) {}

            @Override
            public List<FileId> filesToCarry() {
                return List.of();
            }
        };

        /** True once every write this wait covers has ended. Cheap; called repeatedly. */
        boolean isDone() throws IOException;

        /** Blocks for at most {@code maxNanos}, returning early when {@link #isDone} may have changed. */
        void awaitProgress(long maxNanos) throws InterruptedException, IOException;

        /**
         * Waits until {@link #isDone} or until {@code deadlineNanos} ({@link System#nanoTime}),
         * re-checking at least every 5 ms (a barrier that cannot signal progress is polled). True if done.
         */
        default boolean awaitDone(long deadlineNanos) throws InterruptedException, IOException {
            while (!isDone()) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                awaitProgress(Math.min(left, POLL_NANOS));
            }
            return true;
        }

        /**
         * Asked once, when the wait ends (done or timed out): the files to carry into the new period.
         * They are the files of writes still in flight if the tracker gave up waiting, plus files that
         * stay writable without any further call the barrier could see (for example files mapped
         * shared and writable). A barrier that cannot name a write still in flight must name a
         * superset (say, every file its process has open for writing); an unnamed write cannot be
         * carried.
         */
        List<FileId> filesToCarry() throws IOException;

        /**
         * The barrier that actually ran, when it is not the configured one (for example a
         * fall-back to a freeze, with why), for the result and the log; null if it is the configured one.
         */
        default String usedBarrier() {
            return null;
        }

        /** Releases what the wait holds (for a freeze: thaws). Idempotent. */
        @Override
        default void close() throws IOException {}
    }
}
