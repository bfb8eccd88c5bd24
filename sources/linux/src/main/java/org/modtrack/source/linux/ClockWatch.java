package org.modtrack.source.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;

/**
 * Tells when the wall clock is set back while the tracker runs, the moment it happens, with no
 * polling: a {@code timerfd} on {@code CLOCK_REALTIME} armed far in the future with
 * {@code TFD_TIMER_CANCEL_ON_SET}, whose read fails with {@code ECANCELED} whenever the clock is
 * set. A step back gives later changes earlier ctimes than the checkpoints before it, so the power
 * lease must not vouch for those checkpoints across a reboot ({@link PowerLease#renew}); within
 * the boot, {@link CheckpointTimes#since} sees the step itself. One thread, asleep in
 * {@code poll} until the clock is set or the watch is closed.
 */
final class ClockWatch implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ClockWatch.class.getName());
    private static final int CLOCK_REALTIME = 0;
    private static final int TFD_CLOEXEC = 02000000;
    private static final int TFD_TIMER_ABSTIME = 1;
    private static final int TFD_TIMER_CANCEL_ON_SET = 2;
    private static final int ECANCELED = 125;
    private static final MethodHandle TIMERFD_CREATE = Posix.downcall("timerfd_create",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle TIMERFD_SETTIME = Posix.downcall("timerfd_settime",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS));
    /** Where the timer is armed: far enough that it never fires (the year 2^62 ns after 1970). */
    private static final long NEVER_SECONDS = 1L << 40;

    private final int timer;
    private final int wake;
    private final LongConsumer setBack;
    private final Thread thread;
    private volatile boolean closed;

    /**
     * Starts watching; {@code setBack} gets how many milliseconds the wall clock went back, each
     * time it is set back by more than {@link CheckpointTimes#STEP_TOLERANCE_MILLIS}.
     */
    static ClockWatch start(LongConsumer setBack) throws PosixException {
        return new ClockWatch(setBack);
    }

    private ClockWatch(LongConsumer setBack) throws PosixException {
        this.setBack = setBack;
        int t;
        try {
            t = (int) TIMERFD_CREATE.invokeExact(Posix.callState(), CLOCK_REALTIME, TFD_CLOEXEC);
        } catch (Throwable e) {
            throw Posix.linkageFailure("timerfd_create", e);
        }
        if (t < 0) {
            throw new PosixException("timerfd_create", Posix.lastErrno());
        }
        this.timer = t;
        try {
            this.wake = Posix.eventfd(Posix.EFD_CLOEXEC);
        } catch (PosixException e) {
            Posix.close(t, "the clock watch's timer");
            throw e;
        }
        arm();
        thread = Thread.ofPlatform().daemon().name("clock-watch").start(this::run);
    }

    private void arm() throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment spec = arena.allocate(32); // struct itimerspec: interval {0, 0}, value {NEVER, 0}
            spec.set(ValueLayout.JAVA_LONG, 16, NEVER_SECONDS);
            int rc = (int) TIMERFD_SETTIME.invokeExact(Posix.callState(), timer, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
                    spec, MemorySegment.NULL);
            if (rc != 0) {
                throw new PosixException("timerfd_settime", Posix.lastErrno());
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable e) {
            throw Posix.linkageFailure("timerfd_settime", e);
        }
    }

    private void run() {
        long offset = CheckpointTimes.offsetMillis();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(8);
            while (!closed) {
                short[] ready = Posix.poll(new int[] {timer, wake}, new short[] {Posix.POLLIN, Posix.POLLIN}, -1);
                if (closed || ready[1] != 0) {
                    return;
                }
                try {
                    Posix.read(timer, count);
                    continue; // it fired: it cannot, armed where it is; nothing was set
                } catch (PosixException e) {
                    if (e.errno() != ECANCELED) {
                        throw e;
                    }
                }
                long now = CheckpointTimes.offsetMillis();
                if (CheckpointTimes.steppedBack(offset, now)) {
                    long back = offset - now;
                    LOG.warning(() -> "the wall clock was set back by " + back + " ms");
                    setBack.accept(back);
                }
                offset = now;
                arm(); // a cancelled timer stays cancelled until it is set again
            }
        } catch (PosixException | RuntimeException e) {
            LOG.log(Level.WARNING, "the clock watch stopped: a wall clock set back from now on is seen only by"
                    + " the checks of each walk", e);
        } finally {
            quietlyClose(timer); // only this thread uses it; the wake-up is close()'s to close
        }
    }

    /** Stops the thread (at most a second's wait) and releases both descriptors. */
    @Override
    public void close() {
        closed = true;
        try {
            if (thread.isAlive()) {
                Posix.signal(wake);
                thread.join(1_000);
            }
        } catch (PosixException e) {
            LOG.log(Level.FINE, "could not wake the clock watch", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            quietlyClose(wake);
        }
    }

    private static void quietlyClose(int fd) {
        try {
            Posix.close(fd, "a clock watch descriptor");
        } catch (PosixException e) {
            // nothing more to release
        }
    }
}
