package org.modtrack.source.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.modtrack.posix.FanotifyEvents;
import org.modtrack.posix.Posix;

/**
 * A thread that reads a fanotify group's events in batches (one {@code read} of up to
 * {@code bufferBytes}) and hands each to a handler, until {@link #stop}. A failure while reading or
 * handling is not fatal: it marks continuity lost ({@link LossRecorder}), since an event may have
 * gone unrecorded.
 */
final class EventReader {
    private static final int POLL_MILLIS = 10;

    /** Handles the event the cursor is on. */
    interface Handler {
        void handle(FanotifyEvents event) throws IOException;
    }

    private final int group;
    private final int bufferBytes;
    private final Handler handler;
    private final LossRecorder losses;
    private final String what;
    private final Thread thread;
    private volatile boolean running = true;
    private final java.util.concurrent.atomic.AtomicLong emptyReads = new java.util.concurrent.atomic.AtomicLong();

    EventReader(String what, int group, int bufferBytes, LossRecorder losses, Handler handler) {
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

    private void loop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(bufferBytes, 8);
            FanotifyEvents cursor = new FanotifyEvents();
            int[] fds = {group};
            while (running) {
                try {
                    Posix.poll(fds, Posix.POLLIN, POLL_MILLIS);
                    long n = Posix.read(group, buffer);
                    if (n <= 0) {
                        synchronized (emptyReads) {
                            emptyReads.incrementAndGet();
                            emptyReads.notifyAll();
                        }
                        continue;
                    }
                    cursor.reset(buffer, n);
                    while (cursor.next()) {
                        handler.handle(cursor);
                    }
                } catch (IOException | RuntimeException e) {
                    if (running) {
                        losses.report("reading " + what + " events failed (" + e.getMessage() + ")", e);
                    }
                }
            }
        }
    }

    /**
     * Waits until every event queued before this call has been handled: until the reader has found
     * the queue empty twice since (the first empty read may have begun before the call). False if
     * that took longer than {@code timeoutMillis}.
     */
    boolean awaitDrained(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (emptyReads) {
            long target = emptyReads.get() + 2;
            while (emptyReads.get() < target) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || !running) {
                    return false;
                }
                emptyReads.wait(left);
            }
            return true;
        }
    }

    /** Stops reading (waiting at most 5 s for the thread); the group stays open. */
    void stop() {
        running = false;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
