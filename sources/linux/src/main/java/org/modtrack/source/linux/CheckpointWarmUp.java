package org.modtrack.source.linux;

import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs the {@code srcu} barrier's scans of /proc a few times right after the first source of the
 * process starts, on a thread of the lowest priority, so that a new daemon's first checkpoints run
 * compiled code (see
 * {@link SyscallBarrier#warmUp}). Reads /proc only: no mark, record or file of the tracked file
 * system is touched, and a checkpoint running meanwhile is unaffected.
 */
final class CheckpointWarmUp implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CheckpointWarmUp.class.getName());
    /**
     * Passes: HotSpot compiles a method after about 200 calls, and a pass calls the per-thread and
     * per-process readers once per thread and process (about 100 of each here). Measured with
     * {@code benchmarks/peers/answer --files 1000}, 8 new daemons each way: the first answer's
     * checkpoint 26 ms median (16-40) against 79 (31-104) without (docs/benchmarks.md, <i>One
     * daemon's answer, alone</i>).
     */
    static final int PASSES = 5;
    /** Nice value of the warm-up: it yields to everything else on the machine. */
    private static final int NICE = 19;
    /** How long a close waits for a pass in progress to end (a pass takes tens of milliseconds). */
    private static final long CLOSE_WAIT_MS = 2_000;

    private final Thread thread;

    private CheckpointWarmUp(Thread thread) {
        this.thread = thread;
    }

    /** Starts {@link #PASSES} passes of {@code barrier}'s scans on a daemon thread. */
    static CheckpointWarmUp start(SyscallBarrier barrier) {
        Thread t = Thread.ofPlatform().daemon().name("modtrack-warm-up").unstarted(() -> {
            ThreadNice.set(NICE);
            try {
                for (int i = 0; i < PASSES && !Thread.currentThread().isInterrupted(); i++) {
                    barrier.warmUp();
                }
            } catch (IOException | RuntimeException e) {
                // Nothing depends on it: the checkpoints read /proc themselves, and report their own errors.
                LOG.log(Level.FINE, "the checkpoint warm-up stopped", e);
            }
        });
        t.start();
        return new CheckpointWarmUp(t);
    }

    /** Stops after the pass in progress. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(CLOSE_WAIT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
