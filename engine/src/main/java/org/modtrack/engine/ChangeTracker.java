package org.modtrack.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;
import org.modtrack.engine.journal.ConsumerState;
import org.modtrack.engine.storage.DirectoryStorage;
import org.modtrack.engine.storage.Storage;

/**
 * Answers "which files changed since the result I last blessed?" without ever missing a change,
 * even across crashes: the protocol of docs/correctness.md.
 *
 * <p>A writer calls {@link #preWrite} before it modifies a file and {@link #postWrite} after; a
 * consumer calls {@link #query()}, acts on the result, then {@link #bless}es it. Until blessed, a
 * result's changes are returned again by every query, including the first after a crash. Several
 * consumers may follow one tracker ({@link #addConsumer}); each queries and blesses on its own, by
 * name, and a snapshot is discarded once every consumer has blessed past it.
 *
 * <p>Thread-safe. Writes take one short lock and, in {@link Durability#POWER} mode, share an
 * fdatasync with concurrent writers (group commit). Queries and blesses are serialized with each
 * other (a second query waits for the first); they never hold the writers' lock during I/O or
 * while waiting for writes in progress.
 */
public final class ChangeTracker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ChangeTracker.class.getName());
    private final Storage storage;
    private final TrackerCore core;
    private final TrackerConfig config;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition writeEnded = lock.newCondition();
    private final ReentrantLock queryLock = new ReentrantLock();
    private final ReentrantLock controlLock = new ReentrantLock();
    private final GroupCommit groupCommit;

    private ChangeTracker(Storage storage, TrackerCore core) {
        this.storage = storage;
        this.core = core;
        this.config = core.config();
        this.groupCommit = new GroupCommit(lock, core.journal());
    }

    /**
     * Opens (creating if needed) the tracker state in {@code stateDirectory}, recovering from any
     * earlier crash. The directory is locked while the tracker is open.
     */
    public static ChangeTracker open(Path stateDirectory, TrackerConfig config) throws IOException {
        DirectoryStorage storage = DirectoryStorage.open(stateDirectory);
        try {
            return open(storage, config);
        } catch (IOException | RuntimeException e) {
            storage.close();
            throw e;
        }
    }

    /** Opens the tracker state in {@code storage}; the tracker closes it on {@link #close}. */
    public static ChangeTracker open(Storage storage, TrackerConfig config) throws IOException {
        return new ChangeTracker(storage, TrackerCore.open(storage, config));
    }

    /**
     * Records the intent to modify {@code file}. Returns once the record is as durable as the
     * configured {@link Durability} requires; only then may the write proceed. Cheap when the file
     * is already recorded in the open period ({@link WriteTicket#alreadyRecorded()}).
     *
     * @throws IOException if the intent could not be recorded: the write must not proceed
     * @throws IllegalStateException if too many writes are in progress or the tracker is closed
     */
    public WriteTicket preWrite(FileId file) throws IOException {
        return preWrite(file, Access.WRITE);
    }

    /**
     * Records {@code access} intents for {@code files} ahead of their accesses, with one wait for
     * durability for all of them: for a source that knows which files are about to be accessed (the
     * Linux source, at a checkpoint: the directories busy in the closing period), so that their
     * first accesses in the new period find them recorded and need not wait for a sync. Nothing
     * stays in progress. A file already recorded in the open period costs a lookup.
     *
     * @throws IOException if a record could not be made or made durable; those made stay (a record
     *     too many is never wrong), and the accesses will record themselves
     */
    public void preRecord(Collection<FileId> files, Access access) throws IOException {
        long highest = 0;
        lock.lock();
        try {
            for (FileId file : files) {
                TrackerCore.Intent intent = core.preWrite(file, access);
                if (core.postWrite(intent.token()) && core.checkpointRunning()) {
                    writeEnded.signalAll();
                }
                highest = Math.max(highest, intent.lsn());
            }
            if (core.journal().isAcknowledged(highest)) {
                return;
            }
        } finally {
            lock.unlock();
        }
        groupCommit.awaitDurable(highest);
    }

    /**
     * Like {@link #preWrite(FileId)} for an access of the given kind: a {@link Access#READ} is
     * recorded and awaited the same way, and reported as {@link Change#READ} unless a write follows.
     */
    public WriteTicket preWrite(FileId file, Access access) throws IOException {
        TrackerCore.Intent intent;
        boolean mustWait;
        lock.lock();
        try {
            intent = core.preWrite(file, access);
            mustWait = !core.journal().isAcknowledged(intent.lsn());
        } finally {
            lock.unlock();
        }
        if (mustWait) {
            try {
                groupCommit.awaitDurable(intent.lsn());
            } catch (IOException | RuntimeException e) {
                postWrite(intent.token()); // the write will not happen
                throw e;
            }
        }
        return new WriteTicket(intent.token(), intent.alreadyRecorded());
    }

    /**
     * Records, after the fact, that {@code file} was created, deleted, renamed (from {@code from}) or
     * had its attributes changed. Returns at once: the change has already happened, so waiting for a
     * sync would make nothing safer (docs/correctness.md says what an unclean stop means for these).
     *
     * @return the record's sequence number, or 0 if the change was already recorded in the open
     *     period (a repeat: nothing was appended)
     */
    public long recordChange(FileId file, Change change, String from, boolean directory) throws IOException {
        lock.lock();
        try {
            return core.recordChange(file, change, from, directory);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Notes that the file system freed {@code file} (its last name removed, the kernel's
     * {@code FAN_DELETE_SELF}), if the tracker has a record of it: a result then needs not look for
     * it ({@link ChangedFile#freed}). Kept in memory only: an object whose handle is freed gets no
     * name again, so the note never goes stale, and after a restart its absence only costs a look.
     *
     * @return false if no record of {@code file} is kept (the note is then not made)
     */
    public boolean recordFreed(FileId file) {
        lock.lock();
        try {
            return core.recordFreed(file);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns once every record appended so far is durable (at once with {@code process}
     * durability, where nothing is): for a source that must know its after-the-fact records (a
     * walk's) are on disk before it promises anything about them.
     */
    public void awaitDurable() throws IOException {
        long lsn;
        lock.lock();
        try {
            lsn = core.journal().appendedLsn();
            if (core.journal().isAcknowledged(lsn)) {
                return;
            }
        } finally {
            lock.unlock();
        }
        groupCommit.awaitDurable(lsn);
    }

    /**
     * Ends the write that {@link #preWrite} returned {@code token} for, whether it succeeded or
     * failed. Returns false if the token is unknown or was already ended.
     */
    public boolean postWrite(long token) {
        lock.lock();
        try {
            boolean ended = core.postWrite(token);
            if (ended && core.checkpointRunning()) {
                writeEnded.signalAll();
            }
            return ended;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Starts a checkpoint and returns every file recorded since the last blessed result. Waits for
     * the closing period's writes in progress, at most {@link TrackerConfig#barrierTimeout()}; files
     * of writes still running then are carried into the new period and marked so in the result.
     *
     * @throws IOException if the checkpoint could not be persisted; nothing was lost, query again
     * @throws InterruptedException if interrupted while waiting; the checkpoint is completed first
     */
    public QueryResult query() throws IOException, InterruptedException {
        return query(ConsumerState.DEFAULT);
    }

    /**
     * Like {@link #query()}, for {@code consumer}: every file recorded since the last result it
     * blessed. Consumers that stopped blessing are dropped first (see
     * {@link TrackerConfig#consumerTimeout()} and {@link TrackerConfig#maxJournalBytes()}).
     *
     * @throws ConsumerException if there is no such consumer; nothing changed
     */
    public QueryResult query(String consumer) throws IOException, InterruptedException {
        return query(consumer, false);
    }

    /**
     * A result that shows what {@code consumer}'s next result would hold, which nobody may bless (a
     * watch): it takes no place among the results the consumer may bless. It is a checkpoint all the same.
     *
     * @throws ConsumerException if there is no such consumer; nothing changed
     */
    public QueryResult view(String consumer) throws IOException, InterruptedException {
        return query(consumer, true);
    }

    private QueryResult query(String consumer, boolean view) throws IOException, InterruptedException {
        queryLock.lock();
        try {
            controlLock.lock();
            try {
                for (String dropped : CheckpointSteps.dropStale(core, this::locked, consumer, System.currentTimeMillis())) {
                    LOG.warning(dropped);
                }
            } finally {
                controlLock.unlock();
            }
            CheckpointSteps.Started started = view
                    ? CheckpointSteps.beginView(core, this::locked, consumer, System.nanoTime())
                    : CheckpointSteps.begin(core, this::locked, consumer, System.nanoTime());
            return awaitAndFinish(started.closingSnapshot(), started.deadlineNanos());
        } finally {
            queryLock.unlock();
        }
    }

    private <T> T locked(CheckpointSteps.IoCallable<T> body) throws IOException {
        lock.lock();
        try {
            return body.call();
        } finally {
            lock.unlock();
        }
    }

    private QueryResult awaitAndFinish(long closingId, long deadline) throws IOException, InterruptedException {
        List<FileId> external = List.of();
        String barrierFailure = null;
        InterruptedException interrupted = null;
        WriteBarrier.Wait wait = WriteBarrier.Wait.DONE;
        try {
            wait = config.barrier().begin(closingId);
            external = awaitExternal(wait, deadline);
        } catch (IOException e) {
            barrierFailure = e.getMessage();
        } catch (InterruptedException e) {
            interrupted = e;
            try {
                external = wait.filesToCarry();
            } catch (IOException e2) {
                barrierFailure = e2.getMessage();
            }
        }
        if (interrupted == null) {
            try {
                awaitOwnWrites(deadline);
            } catch (InterruptedException e) {
                interrupted = e; // finish anyway: what is still in flight is carried
            }
        }
        try {
            wait.close();
        } catch (IOException e) {
            barrierFailure = barrierFailure == null ? e.getMessage() : barrierFailure;
        }
        if (barrierFailure != null) {
            markContinuityLost("the " + config.barrier().name() + " barrier failed (" + barrierFailure
                    + "), so a write in flight at the checkpoint may have been missed.");
        }
        QueryResult result = finish(external);
        String used = wait.usedBarrier();
        if (used != null) {
            result = new QueryResult(result.consumer(), result.snapshot(), result.lastBlessed(), result.recovered(), result.continuity(),
                    result.changes(), used, result.barrierWait());
        }
        if (interrupted != null) {
            throw interrupted;
        }
        return result;
    }

    private List<FileId> awaitExternal(WriteBarrier.Wait wait, long deadline) throws IOException, InterruptedException {
        wait.awaitDone(deadline);
        return wait.filesToCarry();
    }

    private void awaitOwnWrites(long deadline) throws InterruptedException {
        lock.lock();
        try {
            while (!core.ownWritesDone()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                writeEnded.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    private QueryResult finish(List<FileId> external) throws IOException {
        controlLock.lock();
        try {
            return CheckpointSteps.finish(core, this::locked, groupCommit::awaitDurable, external, System.nanoTime());
        } finally {
            controlLock.unlock();
        }
    }

    /**
     * Acknowledges result {@code snapshot}: the consumer has safely stored or acted on it. Only now
     * are the records it superseded discarded (durably). Blessing the last blessed id again does
     * nothing.
     *
     * @throws BlessException if the id was never returned or is older than the last blessed; nothing changed
     * @throws IOException if the bless could not be persisted; nothing changed
     */
    public void bless(long snapshot) throws BlessException, IOException {
        bless(ConsumerState.DEFAULT, snapshot);
    }

    /**
     * Like {@link #bless(long)}, for {@code consumer}: the snapshots every other consumer has
     * blessed past too are discarded.
     *
     * @throws BlessException if there is no such consumer, or the id was not returned to it or is
     *     older than its last blessed; nothing changed
     */
    public void bless(String consumer, long snapshot) throws BlessException, IOException {
        queryLock.lock();
        controlLock.lock();
        try {
            CheckpointSteps.bless(core, this::locked, consumer, snapshot, System.currentTimeMillis());
        } finally {
            controlLock.unlock();
            queryLock.unlock();
        }
    }

    /**
     * Adds consumer {@code name}, durably. Its first result names what was recorded in the open
     * period and after: a consumer starts from now, and reads what it tracks whole first.
     *
     * @param ownerUid the one user besides root and the daemon's own that may act as it (-1: any the daemon admits)
     * @param ownerGid or the members of this group (-1: none)
     * @throws ConsumerException if it exists, its name is not allowed, or there are too many; nothing changed
     */
    public void addConsumer(String name, int ownerUid, int ownerGid) throws IOException {
        try {
            ConsumerState.checkName(name);
        } catch (IllegalArgumentException e) {
            throw new ConsumerException(e.getMessage());
        }
        queryLock.lock();
        controlLock.lock();
        try {
            CheckpointSteps.addConsumer(core, this::locked, name, ownerUid, ownerGid, System.currentTimeMillis());
        } finally {
            controlLock.unlock();
            queryLock.unlock();
        }
    }

    /**
     * Removes consumer {@code name}, durably; the snapshots only it kept are discarded.
     *
     * @throws ConsumerException if there is no such consumer; nothing changed
     */
    public void removeConsumer(String name) throws IOException {
        queryLock.lock();
        controlLock.lock();
        try {
            CheckpointSteps.removeConsumer(core, this::locked, name);
        } finally {
            controlLock.unlock();
            queryLock.unlock();
        }
    }

    /** The consumers, as the control state has them now. */
    public List<ConsumerState> consumers() {
        lock.lock();
        try {
            return core.control().consumers();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records, durably, that changes may have been missed (for example a source's event queue
     * overflowed). Every result says so until one that did is blessed.
     *
     * @param reason one sentence: what was missed and where
     */
    public void markContinuityLost(String reason) throws IOException {
        controlLock.lock();
        try {
            CheckpointSteps.markContinuityLost(core, this::locked, reason);
        } finally {
            controlLock.unlock();
        }
    }

    /** Counters and gauges, read at one moment. */
    public TrackerStats stats() {
        lock.lock();
        try {
            return core.stats();
        } finally {
            lock.unlock();
        }
    }

    /** The lowest snapshot a consumer keeps (0: nothing was discarded yet): the oldest any result may reach back to. */
    public long keptFrom() {
        lock.lock();
        try {
            return core.control().keptFrom();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the previous run of this state stopped cleanly (true for new state). */
    public boolean previousRunWasClean() {
        return core.wasClean();
    }

    /** The configuration this tracker runs with. */
    public TrackerConfig config() {
        return config;
    }

    /**
     * Drops the tracker the way a crash of its process would: descriptors closed, nothing synced,
     * no clean-stop marker. For tests that recover from a crash without killing the JVM.
     */
    void abandon() throws IOException {
        lock.lock();
        try {
            core.journal().closeAll(false);
        } finally {
            lock.unlock();
            storage.close();
        }
    }

    /**
     * Stops the tracker, leaving a clean-stop marker if no write is in progress, and unlocks the
     * state directory.
     */
    @Override
    public void close() throws IOException {
        queryLock.lock();
        controlLock.lock();
        try {
            lock.lock();
            try {
                core.close();
            } finally {
                lock.unlock();
            }
        } finally {
            controlLock.unlock();
            queryLock.unlock();
            storage.close();
        }
    }
}
