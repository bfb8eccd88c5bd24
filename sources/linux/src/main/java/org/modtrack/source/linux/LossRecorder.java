package org.modtrack.source.linux;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.ChangeTracker;

/**
 * Records continuity losses on a thread of its own: marking a loss writes the journal's control
 * file, and the journal's disk may be the very thing that stalled; whoever reports a loss (the
 * deadline thread above all) must never wait for that. Reports that arrive while one is being
 * written are coalesced into the next write (the first reason is kept: it is the one to act on).
 */
final class LossRecorder implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LossRecorder.class.getName());
    private final ChangeTracker tracker;
    private final AtomicReference<String> waiting = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean running = true;

    LossRecorder(ChangeTracker tracker) {
        this.tracker = tracker;
        this.thread = Thread.ofPlatform().daemon().name("modtrack-loss-recorder").start(this::loop);
    }

    /** Returns at once; the loss is recorded soon after (and logged now). */
    void report(String reason) {
        LOG.warning(() -> "continuity lost: " + reason);
        if (waiting.compareAndSet(null, reason)) {
            LockSupport.unpark(thread);
        }
    }

    private void loop() {
        while (running || waiting.get() != null) {
            String reason = waiting.getAndSet(null);
            if (reason == null) {
                LockSupport.parkNanos(100_000_000L);
                continue;
            }
            try {
                tracker.markContinuityLost(reason);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.SEVERE, "could not record that continuity was lost: " + reason, e);
            }
        }
    }

    /** Records what is waiting (waiting at most 5 s), then stops. */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
