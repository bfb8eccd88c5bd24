package org.modtrack.source.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.posix.FanotifyEvents;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;

/**
 * A thread that reads a fanotify group's events in batches (one {@code read} of up to
 * {@code bufferBytes}) and hands each to a handler, until {@link #stop}. A failure while reading or
 * handling is not fatal: it marks continuity lost ({@link LossRecorder}), since an event may have
 * gone unrecorded.
 */
final class EventReader {
    private static final Logger LOG = Logger.getLogger(EventReader.class.getName());
    /**
     * The longest one wait for events lasts. Nothing needs the reader to wake on its own: events
     * end the wait, and so does {@link #stop}, through an event counter in the same poll that it
     * never reads, so the counter stays readable and a stop just before the poll still ends it.
     * So this only bounds the wait, and sets how often an idle reader wakes, which is an idle
     * daemon's CPU cost (docs/benchmarks.md, <i>Idle</i>): once a minute, instead of every 4 s.
     */
    private static final int POLL_MILLIS = 60_000;
    /** How long {@link #stop} waits for the thread once the event counter woke it. */
    private static final long STOP_MILLIS = 5_000;

    /** Handles the event the cursor is on. */
    interface Handler {
        void handle(FanotifyEvents event) throws IOException;

        /** Every event of a batch is handled (or the batch failed); before the batch counts as done. */
        default void batchEnded() {}
    }

    /**
     * Where the reader's batches are read to, and what it tells about its progress through each
     * ({@link Handover} keeps both where a successor can find them).
     */
    interface Batches {
        /** The buffer one read fills. */
        MemorySegment buffer();

        /** The byte range of the buffer read by a previous holder and not yet recorded: handled first. */
        default long[] leftover() {
            return new long[] {0, 0};
        }

        /** A read is about to be made. */
        default void reading() {}

        /** The read took {@code bytes}. */
        default void read(long bytes) {}

        /** Every event before byte {@code upTo} of the batch is recorded. */
        default void recorded(long upTo) {}

        /** The batch of {@code bytes} is over. */
        default void done(long bytes) {}

        /** A buffer of {@code bytes} in this process's memory: nothing outlives it. */
        static Batches inMemory(Arena arena, int bytes) {
            MemorySegment buffer = arena.allocate(bytes, 8);
            return () -> buffer;
        }
    }

    private final int group;
    private final int bufferBytes;
    private final Batches batches; // null: a buffer of bufferBytes in memory
    private final Handler handler;
    private final LossRecorder losses;
    private final String what;
    private final Thread thread;
    private final int wake; // an event counter: stop() adds to it, which ends the reader's wait
    private volatile boolean running = true;
    /** Held across each read and the count of what it took, so that a drain can tell what was queued before it. */
    private final Object reading = new Object();
    private long dequeued; // events taken from the kernel's queue (under {@link #reading})
    private final Object progress = new Object();
    private long handled; // events handled, in queue order (under {@link #progress})

    private final int nice;

    EventReader(String what, int group, int bufferBytes, LossRecorder losses, Handler handler) throws PosixException {
        this(what, group, bufferBytes, null, losses, handler, 0);
    }

    /** @param nice the reading thread's nice value (0: the process's); see {@link ThreadNice} */
    EventReader(String what, int group, int bufferBytes, LossRecorder losses, Handler handler, int nice)
            throws PosixException {
        this(what, group, bufferBytes, null, losses, handler, nice);
    }

    /**
     * @param batches where batches are read to (null: a buffer of {@code bufferBytes} in memory)
     * @param nice the reading thread's nice value (0: the process's); see {@link ThreadNice}
     */
    EventReader(String what, int group, int bufferBytes, Batches batches, LossRecorder losses, Handler handler, int nice)
            throws PosixException {
        this.batches = batches;
        this.wake = Posix.eventfd(Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        this.nice = nice;
        this.what = what;
        this.group = group;
        this.bufferBytes = bufferBytes;
        this.losses = losses;
        this.handler = handler;
        this.thread = Thread.ofPlatform().daemon().name("modtrack-" + what + "-reader").unstarted(this::loop);
    }

    void start() {
        thread.start();
    }

    boolean running() {
        return running;
    }

    /** Whether the reading thread is still there (an event nobody reads is never answered). */
    boolean alive() {
        return thread.isAlive();
    }

    private void loop() {
        if (nice != 0) {
            ThreadNice.set(nice);
        }
        try (Arena arena = Arena.ofConfined()) {
            Batches b = batches != null ? batches : Batches.inMemory(arena, bufferBytes);
            MemorySegment buffer = b.buffer();
            FanotifyEvents cursor = new FanotifyEvents();
            recordLeftover(b, cursor);
            int[] fds = {group, wake};
            while (running) {
                try {
                    Posix.poll(fds, Posix.POLLIN, POLL_MILLIS);
                    if (!running) {
                        break;
                    }
                    long n;
                    long events = 0;
                    synchronized (reading) {
                        b.reading();
                        n = Posix.read(group, buffer);
                        b.read(Math.max(n, 0));
                        if (n > 0) {
                            events = FanotifyEvents.count(buffer, n);
                            dequeued += events;
                        }
                    }
                    if (n <= 0) {
                        continue;
                    }
                    handleBatch(b, cursor, buffer, 0, n, events);
                } catch (IOException | RuntimeException e) {
                    if (running) {
                        losses.report("reading " + what + " events failed (" + e.getMessage() + ")", e);
                    }
                } catch (Error e) {
                    // Never let this thread die: unread permission events would block their writers
                    // for good (the deadline only answers events that were read).
                    LOG.log(Level.SEVERE, "reading " + what + " events failed", e);
                    if (running) {
                        losses.report("reading " + what + " events failed (" + e + ")", e);
                    }
                }
            }
        }
    }

    /** The events of {@code buffer}'s bytes {@code from} to {@code to}: handled, in order, each noted once recorded. */
    private void handleBatch(Batches b, FanotifyEvents cursor, MemorySegment buffer, long from, long to, long events)
            throws IOException {
        long done = 0;
        cursor.reset(buffer.asSlice(from), to - from);
        try {
            while (cursor.next()) {
                handler.handle(cursor);
                b.recorded(from + cursor.end());
                advance(1);
                done++;
            }
        } finally {
            advance(events - done); // after a failure (reported by the caller): the rest of the batch is lost
            handler.batchEnded();
        }
        b.done(to);
    }

    /**
     * Records the events a previous holder of the group read and did not record (a kept group
     * taken over: {@link Handover}). Their descriptor fields are cleared first: a number from the
     * dead process means nothing here, and a handler must never close one of this process's.
     */
    private void recordLeftover(Batches b, FanotifyEvents cursor) {
        long[] range = b.leftover();
        if (range[1] <= range[0]) {
            return;
        }
        MemorySegment buffer = b.buffer();
        long events = FanotifyEvents.count(buffer.asSlice(range[0]), range[1] - range[0]);
        FanotifyEvents.clearDescriptors(buffer.asSlice(range[0]), range[1] - range[0]);
        synchronized (reading) {
            dequeued += events;
        }
        LOG.info(() -> "recording " + events + " " + what + " events the previous holder of the group read and did not record");
        try {
            handleBatch(b, cursor, buffer, range[0], range[1], events);
        } catch (IOException | RuntimeException e) {
            losses.report("recording the " + what + " events a previous holder left failed (" + e.getMessage() + ")", e);
        }
    }

    private void advance(long events) {
        if (events <= 0) {
            return;
        }
        synchronized (progress) {
            handled += events;
            progress.notifyAll();
        }
    }

    /**
     * Waits until every event queued before this call has been handled, however busy the queue
     * stays: the events already taken from the kernel plus those still queued ({@code FIONREAD})
     * are a count to reach, since the queue is first in, first out. False if that took longer than
     * {@code timeoutMillis}, or the reader stopped.
     */
    boolean awaitDrained(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long target;
        try {
            synchronized (reading) {
                target = dequeued + Posix.bytesQueued(group) / FanotifyEvents.METADATA_LENGTH;
            }
        } catch (IOException e) {
            return false;
        }
        synchronized (progress) {
            while (handled < target) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || !running) {
                    return false;
                }
                progress.wait(left);
            }
            return true;
        }
    }

    /**
     * Stops reading (waiting at most 5 s for the thread, or if it could not be woken, until its
     * wait's bound has passed); the group stays open.
     */
    void stop() {
        running = false;
        long join = STOP_MILLIS;
        try {
            Posix.signal(wake);
        } catch (PosixException e) {
            // Not woken, it sees the stop only at its wait's bound: wait that long for it, so that
            // a stop still returns with the reader ended.
            join = POLL_MILLIS + STOP_MILLIS;
            LOG.log(Level.WARNING, "could not wake the " + what + " reader; it sees the stop within " + POLL_MILLIS + " ms", e);
        }
        try {
            thread.join(join);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            try {
                Posix.close(wake, "the " + what + " reader's event counter");
            } catch (PosixException e) {
                LOG.log(Level.FINE, "closing an event counter failed", e);
            }
        }
    }
}
