package org.modtrack.source.linux;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.ChangeTracker;

/**
 * Records continuity losses on a thread of its own: marking a loss writes the journal's control
 * file, and the journal's disk may be the very thing that stalled; whoever reports a loss (the
 * deadline thread above all) must never wait for that. Reports that arrive while one is being
 * written are coalesced into the next write (the first reason is kept: it is the one to act on).
 * A query first waits for the losses reported before it ({@link #awaitRecorded}): a result must
 * never say "intact" while a loss it should name is still on its way.
 */
final class LossRecorder implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LossRecorder.class.getName());
    private final ChangeTracker tracker;
    private final Thread thread;
    // Guarded by this: the first reason not yet written, and how many reports were made and written.
    private String waiting;
    private long reported;
    private long recorded;
    private boolean running = true;

    private final Handover handover; // null without a kept notification group

    LossRecorder(ChangeTracker tracker) {
        this(tracker, null);
    }

    /** @param handover where a successor learns of a loss reported and not yet written (null: nowhere) */
    LossRecorder(ChangeTracker tracker, Handover handover) {
        this.tracker = tracker;
        this.handover = handover;
        this.thread = Thread.ofPlatform().daemon().name("modtrack-loss-recorder").start(this::loop);
    }

    /** Returns at once; the loss is recorded soon after (and logged now). */
    void report(String reason) {
        report(reason, null);
    }

    /** Like {@link #report(String)}, logging what caused it. */
    void report(String reason, Throwable cause) {
        LOG.log(Level.WARNING, "continuity lost: " + reason, cause);
        synchronized (this) {
            reported++;
            if (handover != null) {
                handover.lossReported();
            }
            if (waiting == null) {
                waiting = reason;
            }
            notifyAll();
        }
    }

    /**
     * Waits until every loss reported before this call is written, so that a result made next says
     * so. False if that took longer than {@code timeoutMillis} (the journal's disk may be stalled).
     */
    synchronized boolean awaitRecorded(long timeoutMillis) throws InterruptedException {
        long target = reported;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (recorded < target) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    private void loop() {
        while (true) {
            String reason;
            long upTo;
            synchronized (this) {
                while (waiting == null && running) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (waiting == null) {
                    return; // stopped, nothing left
                }
                reason = waiting;
                upTo = reported;
                waiting = null;
            }
            try {
                tracker.markContinuityLost(reason);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.SEVERE, "could not record that continuity was lost: " + reason, e);
            }
            synchronized (this) {
                recorded = upTo;
                if (handover != null) {
                    handover.lossesRecorded(upTo);
                }
                notifyAll();
            }
        }
    }

    /** Records what is waiting (waiting at most 5 s), then stops. */
    @Override
    public void close() {
        synchronized (this) {
            running = false;
            notifyAll();
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
