package org.modtrack.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.BlessException;
import org.modtrack.engine.ResultTooLargeException;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.engine.journal.ConsumerState;
import org.modtrack.source.linux.LinuxResult;
import org.modtrack.source.linux.LatencyHistogram;
import org.modtrack.source.linux.LinuxSource;
import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * One watched root: its source, and the lock that serializes its queries (two clients querying at
 * once each get a complete result, one after the other).
 */
final class Root implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Root.class.getName());
    /**
     * The most checkpoints one query makes for one result: after a refusal it waits for room and
     * asks again, and it is refused again only if more records were written meanwhile than the room
     * it waited for holds and others took the rest.
     */
    private static final int MAX_ADMISSION_ROUNDS = 8;
    /** How long an interrupted query may take to end before its lock is released anyway (logged). */
    private static final long INTERRUPTED_QUERY_END_SECONDS = 60;
    private final Path path;
    private final BarrierKind barrier;
    private final LinuxSource source;
    private final ReentrantLock queryLock = new ReentrantLock(true);
    private final AtomicLong queries = new AtomicLong();
    private final AtomicLong queryNanos = new AtomicLong();
    private volatile long lastBarrierWaitNanos;
    private final LatencyHistogram queryDurations = new LatencyHistogram();
    /**
     * The platform thread every query of this root checkpoints on, at the nice value
     * LinuxSource.query sets so that its /proc scans and mark removals yield to writers
     * (docs/benchmarks.md, "Checkpoint impact"), while the client's own thread, which writes the
     * answer, keeps its priority; and one thread, so the root's queries run one at a time. Its
     * queue holds at most one query (and the no-op of {@link #awaitQueryEnd}): callers hold
     * {@link #queryLock}.
     */
    private final ExecutorService checkpointThread;
    /** The heap this root's results share with every other root's. */
    private final ResultMemory memory;

    private Root(Path path, BarrierKind barrier, LinuxSource source, ResultMemory memory) {
        this.path = path;
        this.barrier = barrier;
        this.source = source;
        this.memory = memory;
        this.checkpointThread = Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().daemon().name("modtrack-checkpoint " + path).unstarted(r));
    }

    /** Opens the source of {@code path} with its state in {@code state}, its results admitted by {@code memory}. */
    static Root open(Path path, Path state, BarrierKind barrier, LinuxSourceOptions options, TrackerConfig config,
                     ResultMemory memory) throws IOException {
        LinuxSource source = LinuxSource.open(path, state, config.withResultAdmission(memory), options);
        return new Root(source.watched(), barrier, source, memory);
    }

    Path path() {
        return path;
    }

    BarrierKind barrier() {
        return barrier;
    }

    LinuxSource source() {
        return source;
    }

    /** The heap this root's results share with every other root's. */
    ResultMemory memory() {
        return memory;
    }

    /**
     * A result and the memory it holds until it is sent: close it once the result is sent (or will
     * not be).
     */
    record Answer(LinuxResult result, ResultMemory.Grant memory) implements AutoCloseable {
        @Override
        public void close() {
            memory.close();
        }
    }

    /**
     * A checkpoint and its result for {@code consumer}, or with {@code view} a result only to look
     * at (a watch); queries of this root run one at a time. The caller closes the answer once it
     * has sent the result.
     */
    Answer query(String consumer, boolean view) throws IOException, InterruptedException {
        long admitBy = memory.deadlineFromNow(); // the wait for the heap counts from here, the wait for the lock included
        queryLock.lockInterruptibly();
        try {
            long t0 = System.nanoTime();
            Answer a = onCheckpointThread(consumer, view, admitBy);
            queryNanos.addAndGet(System.nanoTime() - t0);
            queryDurations.record(System.nanoTime() - t0);
            queries.incrementAndGet();
            lastBarrierWaitNanos = a.result().barrierWait().toNanos();
            return a;
        } finally {
            queryLock.unlock();
        }
    }

    /** {@code source.query(consumer)} (or {@code view}) on {@link #checkpointThread}; the caller holds {@link #queryLock}. */
    private Answer onCheckpointThread(String consumer, boolean view, long admitBy) throws IOException, InterruptedException {
        Handoff handoff = new Handoff();
        Future<Answer> query = checkpointThread.submit(() -> handoff.deliver(answer(consumer, view, admitBy)));
        try {
            return query.get();
        } catch (InterruptedException e) {
            handoff.abandon(); // a result made all the same lets its memory go
            query.cancel(true);
            awaitQueryEnd();
            throw e;
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case InterruptedException ie -> throw ie;
                case RuntimeException re -> throw re;
                case Error err -> throw err;
                default -> throw new IllegalStateException(e.getCause());
            }
        }
    }

    /**
     * The query itself, on {@link #checkpointThread}, with the memory its result was admitted with.
     * A result that does not fit beside the results being made or sent is refused before anything
     * is issued; the query then waits for room outside the tracker's locks ({@link ResultMemory#awaitRoom},
     * until {@code admitBy}) and is asked again: a new checkpoint, whose result holds every record
     * the refused one would have, and any written since. Each round ends in an answer, a refusal
     * or a wait that ends by {@code admitBy}, and there are at most {@link #MAX_ADMISSION_ROUNDS}.
     */
    private Answer answer(String consumer, boolean view, long admitBy) throws IOException, InterruptedException {
        for (int round = 1; ; round++) {
            LinuxResult r;
            try {
                r = view ? source.view(consumer) : source.query(consumer);
            } catch (ResultTooLargeException e) {
                if (e.heldByOthers() > 0 && round < MAX_ADMISSION_ROUNDS && memory.awaitRoom(e.weight(), admitBy)) {
                    continue; // room held for it: ask again
                }
                memory.dropRoom();
                throw e;
            } catch (IOException | InterruptedException | RuntimeException | Error e) {
                memory.take().close(); // admitted, then failed while it was made
                memory.dropRoom();
                throw e;
            }
            memory.dropRoom(); // none is left after an admission; a query that never asked leaves its room
            ResultMemory.Grant g = memory.take();
            g.made(ResultMemory.sentWeight(r.changes().size(), r.scanNamedEntries()));
            return new Answer(r, g);
        }
    }

    /**
     * Passes an answer from the checkpoint thread to the client's: once the client has stopped
     * waiting for it (interrupted), an answer made all the same is closed, so that its memory is
     * not held by a result nobody sends.
     */
    private static final class Handoff {
        private Answer delivered;
        private boolean abandoned;

        synchronized Answer deliver(Answer a) {
            if (abandoned) {
                a.close();
            } else {
                delivered = a;
            }
            return a;
        }

        synchronized void abandon() {
            abandoned = true;
            if (delivered != null) {
                delivered.close();
            }
        }
    }

    /** Waits until the cancelled query has really ended: one thread, first in first out, so a no-op queued after it. */
    private void awaitQueryEnd() {
        try {
            checkpointThread.submit(() -> { }).get(INTERRUPTED_QUERY_END_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            LOG.log(Level.SEVERE, "an interrupted query of " + path + " did not end within "
                    + INTERRUPTED_QUERY_END_SECONDS + " s; releasing its lock anyway", e);
        }
    }

    void bless(String consumer, long snapshot) throws BlessException, IOException {
        source.bless(consumer, snapshot);
    }

    /** Consumer {@code name}, if this root has one of that name. */
    Optional<ConsumerState> consumer(String name) {
        return source.consumers().stream().filter(c -> c.name().equals(name)).findFirst();
    }

    long queries() {
        return queries.get();
    }

    LatencyHistogram queryDurations() {
        return queryDurations;
    }

    long queryNanos() {
        return queryNanos.get();
    }

    long lastBarrierWaitNanos() {
        return lastBarrierWaitNanos;
    }

    /** Records and events so far: when it has not moved, a watch need not query. */
    long activity() {
        return source.stats().records() + source.eventCounts().total();
    }

    /** Waits for a query in progress, then closes the source (the kernel lets blocked writers go). */
    @Override
    public void close() throws IOException {
        queryLock.lock();
        try {
            checkpointThread.shutdown();
            source.close();
        } finally {
            queryLock.unlock();
        }
    }
}
