package org.modtrack.engine;

import java.io.IOException;
import java.util.List;
import org.modtrack.engine.journal.ConsumerState;
import org.modtrack.engine.journal.ControlState;
import org.modtrack.engine.journal.Journal;
import org.modtrack.engine.journal.SnapshotWriter;

/**
 * The order of steps, with their I/O, that turns {@link TrackerCore}'s state changes into a query, a
 * bless, or a continuity loss. {@link ChangeTracker} runs them under its locks with group commit;
 * the simulator runs the same code one step at a time, so the order it checks is the order that
 * ships.
 *
 * <p>Why the order matters: a result may be issued only after its control state is durable (or a
 * bless of it could be refused after a crash); records carried into the new period must be durable
 * before the result that lets the closing period be discarded; a bless deletes files only after the
 * new last-blessed id is durable (or a crash in between would make recovery lose nothing but
 * report snapshots as missing).
 */
public final class CheckpointSteps {
    private CheckpointSteps() {}

    /** Runs a piece of core work under the caller's lock (the simulator has none). */
    public interface Locked {
        <T> T call(IoCallable<T> body) throws IOException;
    }

    /** A computation that may do I/O. */
    @FunctionalInterface
    public interface IoCallable<T> {
        T call() throws IOException;
    }

    /** Blocks until record {@code lsn} is durable (group commit, or a direct sync). */
    @FunctionalInterface
    public interface DurableWait {
        void awaitDurable(long lsn) throws IOException;
    }

    /**
     * A running checkpoint.
     *
     * @param closingSnapshot the closing period T
     * @param deadlineNanos when to stop waiting and carry what is still in flight
     */
    public record Started(long closingSnapshot, long deadlineNanos) {}

    /**
     * Creates the next period's snapshot (slow I/O, unlocked) and starts the checkpoint (locked).
     *
     * @throws org.modtrack.engine.journal.JournalFullException at the journal limit, with a result
     *     to bless first (see {@link TrackerCore#admitCheckpoint}); nothing changed
     */
    public static Started begin(TrackerCore core, Locked locked, String consumer, long nowNanos) throws IOException {
        return begin(core, locked, consumer, false, nowNanos);
    }

    /**
     * Like {@link #begin(TrackerCore, Locked, String, long)}, for a result that is only a view of
     * what {@code consumer} would be told (a watch): nobody may bless it.
     */
    public static Started beginView(TrackerCore core, Locked locked, String consumer, long nowNanos) throws IOException {
        return begin(core, locked, consumer, true, nowNanos);
    }

    private static Started begin(TrackerCore core, Locked locked, String consumer, boolean view, long nowNanos) throws IOException {
        long id = locked.call(() -> core.admitCheckpoint(consumer));
        SnapshotWriter next = core.journal().createSnapshot(id);
        return locked.call(() -> {
            core.beginCheckpoint(next, nowNanos, consumer, view);
            return new Started(core.closingSnapshotId(), core.deadlineNanos());
        });
    }

    /**
     * Drops the consumers that stopped blessing ({@link TrackerCore#planDrops}) before
     * {@code querying} (null: nobody) queries: persists the new control state, forgets what only
     * they kept, deletes its files. Serialize with every other control change. Returns each
     * dropped consumer's reason (the sentence its next result says).
     */
    public static List<String> dropStale(TrackerCore core, Locked locked, String querying, long nowMillis) throws IOException {
        ControlState before = locked.call(core::control);
        ControlState next = locked.call(() -> core.planDrops(querying, nowMillis));
        if (next == null) {
            return List.of();
        }
        persist(core, locked, next);
        return next.consumers().stream()
                .filter(c -> c.continuityLost() && !before.consumer(c.name()).map(b -> b.lostReason().equals(c.lostReason())).orElse(false))
                .map(ConsumerState::lostReason).toList();
    }

    /** Adds consumer {@code name}, starting from the open period, durably. */
    public static void addConsumer(TrackerCore core, Locked locked, String name, int ownerUid, int ownerGid, long nowMillis)
            throws IOException {
        persist(core, locked, locked.call(() -> core.planAddConsumer(name, ownerUid, ownerGid, nowMillis)));
    }

    /** Removes consumer {@code name} durably, then discards what only it kept. */
    public static void removeConsumer(TrackerCore core, Locked locked, String name) throws IOException {
        persist(core, locked, locked.call(() -> core.planRemoveConsumer(name)));
    }

    /** Makes {@code next} durable, adopts it, and deletes the snapshot files no consumer keeps any longer. */
    private static void persist(TrackerCore core, Locked locked, ControlState next) throws IOException {
        core.journal().writeControl(next);
        List<String> discarded = locked.call(() -> core.commitControl(next));
        core.journal().deleteFiles(discarded);
    }

    /**
     * Ends the running checkpoint and issues its result: carries what is still in flight, builds the
     * result (without the lock: it lists every kept file, and writers must not wait for that), makes
     * the carried records durable, seals the closing snapshot, persists the control state, and only
     * then makes the result's id blessable.
     */
    public static QueryResult finish(TrackerCore core, Locked locked, DurableWait durable, List<FileId> externalInFlight,
                                     long nowNanos) throws IOException {
        TrackerCore.Finished finished = close(core, locked, externalInFlight, nowNanos);
        return issue(core, locked, durable, finished);
    }

    /** The first half of {@link #finish}: ends the checkpoint and freezes the kept records for the result (locked). */
    public static TrackerCore.Finished close(TrackerCore core, Locked locked, List<FileId> externalInFlight, long nowNanos)
            throws IOException {
        return locked.call(() -> core.finishCheckpoint(externalInFlight, nowNanos));
    }

    /**
     * The second half of {@link #finish}: builds the result from the frozen records (unlocked), ends
     * the freeze (locked), then the I/O that must precede issuing it. Writers may run between the
     * halves and during this one.
     */
    public static QueryResult issue(TrackerCore core, Locked locked, DurableWait durable, TrackerCore.Finished finished)
            throws IOException {
        Journal journal = core.journal();
        QueryResult result;
        boolean refused = false;
        try {
            result = core.buildResult(finished);
        } catch (ResultTooLargeException e) {
            // Refused before anything was issued: the closing snapshot is closed as after any
            // result, its records kept for the next one, which will hold them all.
            refused = true;
            journal.seal(finished.sealed());
            throw e;
        } finally {
            if (!refused || core.mutant() != Mutant.REFUSAL_KEEPS_FREEZE) {
                locked.call(() -> {
                    core.endBuild();
                    return null;
                });
            }
        }
        long carryLsn = finished.carryLsn();
        if (carryLsn > 0 && core.mutant() != Mutant.ISSUE_BEFORE_CARRY_DURABLE) {
            if (!locked.call(() -> journal.isAcknowledged(carryLsn))) {
                durable.awaitDurable(carryLsn);
            }
            // The bless this result allows discards the closing period: a write still in flight is
            // then recorded only by its carry, so the carry must be on stable storage first.
            if (!locked.call(() -> journal.isAcknowledged(carryLsn))) {
                throw new IllegalStateException("the carried record " + carryLsn + " is not acknowledged after the wait"
                        + " for it; result " + finished.snapshot() + " is not issued.");
            }
        }
        journal.seal(finished.sealed());
        journal.writeControl(finished.control());
        return locked.call(() -> core.issue(finished, result));
    }

    /**
     * {@code consumer} blesses {@code id}: persists its new last-blessed id, forgets what no
     * consumer keeps any longer, deletes its files.
     */
    public static void bless(TrackerCore core, Locked locked, String consumer, long id, long nowMillis)
            throws BlessException, IOException {
        ControlState next;
        try {
            next = locked.call(() -> {
                try {
                    return core.planBless(consumer, id, nowMillis);
                } catch (BlessException e) {
                    throw new WrappedBless(e);
                }
            });
        } catch (WrappedBless e) {
            throw e.bless;
        }
        if (next == null) {
            return;
        }
        persist(core, locked, next);
    }

    /** Persists a continuity loss for {@code reason}, then adopts it. */
    public static void markContinuityLost(TrackerCore core, Locked locked, String reason) throws IOException {
        ControlState next = locked.call(() -> core.planContinuityLost(reason));
        core.journal().writeControl(next);
        locked.call(() -> {
            core.setControl(next);
            return null;
        });
    }

    /** Carries a BlessException through {@link Locked#call}, which only declares IOException. */
    private static final class WrappedBless extends IOException {
        final BlessException bless;

        WrappedBless(BlessException bless) {
            super(bless.getMessage());
            this.bless = bless;
        }
    }
}
