package org.modtrack.source.linux;

import static org.modtrack.posix.Fanotify.FAN_ALLOW;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.posix.Errno;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;

/**
 * Answers the pre-content group's permission events: each exactly once, and every one by the
 * answer deadline whatever holds it up. Its handler allows it once it is recorded ({@link #allow}),
 * or answers by the failure policy when the record fails ({@link #fail}); a deadline thread answers
 * by the policy any event still waiting past the deadline (a stalled journal disk, a full handler
 * pool). Fail-open allows the access and marks continuity lost (through {@link LossRecorder}, which
 * never blocks the caller even when the journal's disk does); fail-closed denies it with EIO.
 *
 * <p>The deadline thread also beats the watchdog's heart ({@link #onHeartbeat}): proof that answers
 * can still be given.
 */
final class Answerer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Answerer.class.getName());

    private final int group;
    private final TrackedFilesystem fs;
    private final LinuxSourceOptions options;
    private final LossRecorder losses;
    private final PermissionCounters counters;
    private final long deadlineNanos;
    private final Set<PermissionEvent> pending = ConcurrentHashMap.newKeySet();
    private final LatencyHistogram latency = new LatencyHistogram();
    private final Thread deadlineThread;
    private volatile boolean deadlineIdle; // the deadline thread sleeps its long, idle tick: wake it for an event
    private volatile boolean running = true;
    private volatile Runnable heartbeat = () -> { };

    Answerer(int group, TrackedFilesystem fs, LinuxSourceOptions options, LossRecorder losses, PermissionCounters counters) {
        this.group = group;
        this.fs = fs;
        this.options = options;
        this.losses = losses;
        this.counters = counters;
        this.deadlineNanos = options.answerDeadline().toNanos();
        this.deadlineThread = Thread.ofPlatform().daemon().name("modtrack-answer-deadline").unstarted(this::enforceDeadlines);
    }

    /** Starts the deadline thread. */
    void start() {
        deadlineThread.start();
    }

    /** Called on every tick of the deadline thread (about 8 per deadline). */
    void onHeartbeat(Runnable beat) {
        this.heartbeat = beat;
    }

    /** The answer deadline, in nanoseconds from the read. */
    long deadlineNanos() {
        return deadlineNanos;
    }

    /** How long permission events waited for their answer, from when the reader read them. */
    LatencyHistogram latency() {
        return latency;
    }

    /** An event just read, to be answered by its deadline. */
    PermissionEvent accept(int fd, long mask, int tid) {
        PermissionEvent event = new PermissionEvent(fd, mask, tid, System.nanoTime() + deadlineNanos);
        pending.add(event);
        if (deadlineIdle) {
            LockSupport.unpark(deadlineThread); // it sleeps long while nothing waits
        }
        return event;
    }

    /** Lets the access go on; false if the event was already answered. */
    boolean allow(PermissionEvent event) {
        return answer(event, FAN_ALLOW);
    }

    /** Answers an event whose access could not be recorded, by the failure policy. */
    void fail(PermissionEvent event, String reason, Throwable cause) {
        counters.failures.increment();
        if (options.failurePolicy() == LinuxSourceOptions.FailurePolicy.FAIL_CLOSED) {
            if (answer(event, Fanotify.FAN_DENY_ERRNO(Errno.EIO))) {
                counters.denied.increment();
                LOG.log(Level.WARNING, "denied an access (fail-closed): " + reason, cause);
            }
        } else if (answer(event, FAN_ALLOW)) {
            losses.report("allowed an access unrecorded (fail-open): " + reason, cause);
        }
    }

    /** Answers once; false if the event was already answered. */
    private boolean answer(PermissionEvent event, int response) {
        if (!event.claimAnswer()) {
            return false;
        }
        latency.record(System.nanoTime() - event.readNanos);
        try {
            Fanotify.respond(group, event.fd, response);
        } catch (PosixException e) {
            if (e.errno() == Errno.EINVAL && response != Fanotify.FAN_DENY && (response & 0xff) == Fanotify.FAN_DENY) {
                denyWithoutErrno(event); // a kernel before 6.14 knows no FAN_DENY_ERRNO: the call fails with EPERM instead
            } else {
                // ENOENT: the group is closing and the kernel already let the access go.
                LOG.log(Level.FINE, "answering a pre-content event failed", e);
            }
        }
        return true;
    }

    private void denyWithoutErrno(PermissionEvent event) {
        try {
            Fanotify.respond(group, event.fd, Fanotify.FAN_DENY);
        } catch (PosixException e) {
            LOG.log(Level.FINE, "denying a permission event failed", e);
        }
    }

    /** Closes the event's fd: only its handler (or the reader, if no handler got it) does, after every use. */
    void finish(PermissionEvent event) {
        pending.remove(event);
        try {
            Posix.close(event.fd, "a pre-content event's file");
        } catch (PosixException e) {
            LOG.log(Level.FINE, "closing an event fd failed", e);
        }
    }

    /**
     * Answers at the deadline what waited too long, and beats the watchdog's heart. It looks every
     * eighth of a deadline while an event waits; with none waiting it only needs to beat the heart
     * (every quarter of the watchdog's timeout), and the reader wakes it when an event comes (an
     * idle daemon's wake-ups are its CPU cost: docs/benchmarks.md, *Idle*).
     */
    private void enforceDeadlines() {
        long tick = Math.max(TimeUnit.MILLISECONDS.toNanos(2), deadlineNanos / 8);
        long idleTick = Math.max(tick, LinuxSource.watchdogTimeout(options).toNanos() / 4);
        while (running) {
            // Idle first, then look: an event added meanwhile is either seen here, or its reader
            // sees the flag and unparks this thread.
            deadlineIdle = true;
            boolean idle = pending.isEmpty();
            if (!idle) {
                deadlineIdle = false;
            }
            LockSupport.parkNanos(idle ? idleTick : tick);
            deadlineIdle = false;
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            long now = System.nanoTime();
            for (PermissionEvent event : pending) {
                if (now - event.deadlineNanos > 0 && !event.answered()) {
                    counters.answeredAtDeadline.increment();
                    fail(event, "an access on " + fs + " waited longer than the " + options.answerDeadline().toMillis()
                            + " ms deadline for its record", null);
                }
            }
            heartbeat.run();
        }
    }

    /** The deadline thread ends at its next tick: the tracker is stopping. */
    void stopping() {
        running = false;
    }

    /** Wakes the deadline thread to end it, if it has not ended yet. */
    @Override
    public void close() {
        deadlineThread.interrupt();
    }
}
