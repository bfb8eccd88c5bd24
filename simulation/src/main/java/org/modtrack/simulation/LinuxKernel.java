package org.modtrack.simulation;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.modtrack.engine.FileId;
import org.modtrack.engine.TrackerCore;
import org.modtrack.engine.WriteBarrier;

/**
 * The kernel side of the Linux source, modelled: writer threads (other processes than the tracker)
 * whose write-family calls raise a pre-content event unless their file has an ignore mark; the
 * handler that records the file, sets the mark by the epoch rule ({@code IgnoreMarks}) and answers
 * (then calls postWrite at once, as {@code PreContentListener} does); shared writable mappings
 * whose stores raise nothing; file descriptors opened before the tracker's mark (after a restart);
 * and the {@code srcu} barrier ({@code SyscallBarrier}, {@code AlwaysWritable}) as a real
 * {@link WriteBarrier} over these threads.
 *
 * <p>The tracker's crash does not stop the writers: its group is released, which clears every
 * mark and lets every waiting access through unrecorded, and open descriptors stop raising events
 * (the kernel decides at open time). A power loss ends everything.
 */
final class LinuxKernel {
    /** Where a writer thread is. */
    enum CallState { IDLE, EVENT, HANDLING, ALLOWED }

    /** A writer thread, and its one open file descriptor. */
    static final class WriterThread {
        CallState state = CallState.IDLE;
        int fdFile = -1;
        boolean fdBeforeMark;
        boolean mmap;
        boolean wrote;
        int version;
        long epoch;
        long token;
        long lsn;
        long callSeq;
        int calls;
    }

    private final WriterThread[] threads;
    private final FileId[] ids;
    private final int[] truth;
    private final int[] completed;
    private final boolean[] marked;
    private final int[] mappings;
    private final LinuxMutant mutant;
    private long epoch;
    private int stores;

    /** {@code truth} and {@code completed} are the world's, updated in place. */
    LinuxKernel(int threads, FileId[] ids, int[] truth, int[] completed, LinuxMutant mutant) {
        this.threads = new WriterThread[threads];
        for (int i = 0; i < threads; i++) {
            this.threads[i] = new WriterThread();
        }
        this.ids = ids;
        this.truth = truth;
        this.completed = completed;
        this.marked = new boolean[ids.length];
        this.mappings = new int[ids.length];
        this.mutant = mutant;
    }

    WriterThread thread(int i) {
        return threads[i];
    }

    int threads() {
        return threads.length;
    }

    boolean mapped(int file) {
        return mappings[file] > 0;
    }

    int stores() {
        return stores;
    }

    // ---- a writer's call ---------------------------------------------------------------------------

    /** WriterThread {@code w} enters a write (or shared writable mmap) call on {@code file}. */
    String call(int w, int file, boolean mmap) {
        WriterThread t = threads[w];
        if (t.fdFile != file) {
            t.fdFile = file;
            t.fdBeforeMark = false;
        }
        t.mmap = mmap;
        t.wrote = false;
        t.calls++;
        t.callSeq++;
        if (marked[file] || t.fdBeforeMark) {
            t.state = CallState.ALLOWED;
            return t.fdBeforeMark ? "opened before the mark: no event" : "ignore-marked: no event";
        }
        t.state = CallState.EVENT;
        return "pre-content event, the thread waits for the answer";
    }

    /** The handler reads the epoch and records the event's file (preWrite). */
    String handle(int w, TrackerCore core) throws IOException {
        WriterThread t = threads[w];
        t.epoch = epoch;
        TrackerCore.Intent intent = core.preWrite(ids[t.fdFile]);
        t.token = intent.token();
        t.lsn = intent.lsn();
        t.state = CallState.HANDLING;
        return (intent.alreadyRecorded() ? "already recorded" : "recorded (lsn " + intent.lsn() + ")")
                + (core.journal().isAcknowledged(intent.lsn()) ? "" : ", waits for a sync");
    }

    /** Whether thread {@code w}'s handler may answer: its record is acknowledged. */
    boolean answerable(int w, TrackerCore core) {
        WriterThread t = threads[w];
        return t.state == CallState.HANDLING && core.journal().isAcknowledged(t.lsn);
    }

    /** The handler sets the mark if no flush came since it read the epoch, answers, and calls postWrite. */
    String answer(int w, TrackerCore core) {
        WriterThread t = threads[w];
        boolean mark = t.epoch == epoch || mutant == LinuxMutant.MARK_AFTER_FLUSH;
        marked[t.fdFile] |= mark;
        core.postWrite(t.token);
        t.state = CallState.ALLOWED;
        return mark ? "marked, allowed" : "allowed (a flush came since the record: no mark)";
    }

    /** The handler's sync failed: the access is denied. */
    void deny(int w, TrackerCore core) {
        core.postWrite(threads[w].token);
        threads[w].state = CallState.IDLE;
    }

    /** The data lands (or, for an mmap call, the mapping exists). */
    String data(int w) {
        WriterThread t = threads[w];
        t.wrote = true;
        if (t.mmap) {
            mappings[t.fdFile]++;
            return "f" + t.fdFile + " is mapped shared and writable";
        }
        t.version = ++truth[t.fdFile];
        return "f" + t.fdFile + " is now version " + t.version;
    }

    /** The thread leaves its call; a write is now complete. */
    String leave(int w) {
        WriterThread t = threads[w];
        if (t.wrote && !t.mmap) {
            completed[t.fdFile] = Math.max(completed[t.fdFile], t.version);
        }
        t.state = CallState.IDLE;
        return "";
    }

    /** The thread closes its descriptor. */
    String close(int w) {
        threads[w].fdFile = -1;
        return "";
    }

    /** A store through a mapping of {@code file}: no call, no event. */
    String store(int file) {
        stores++;
        completed[file] = ++truth[file];
        return "f" + file + " is now version " + truth[file];
    }

    /** One mapping of {@code file} goes away. */
    String unmap(int file) {
        mappings[file]--;
        return "";
    }

    // ---- the tracker's crash -----------------------------------------------------------------------

    /** The tracker died: its group is gone, so marks vanish and waiting accesses are let through. */
    void trackerDied() {
        clearMarks();
        for (WriterThread t : threads) {
            if (t.state == CallState.EVENT || t.state == CallState.HANDLING) {
                t.state = CallState.ALLOWED; // the kernel answers FAN_ALLOW when the group is released
            }
            t.fdBeforeMark = t.fdFile >= 0;
        }
    }

    /** The machine lost power: every process is gone. */
    void powerLost() {
        clearMarks();
        for (int i = 0; i < threads.length; i++) {
            WriterThread t = new WriterThread();
            t.calls = threads[i].calls;
            threads[i] = t;
        }
        java.util.Arrays.fill(mappings, 0);
    }

    private void clearMarks() {
        epoch++;
        java.util.Arrays.fill(marked, false);
    }

    // ---- the srcu barrier --------------------------------------------------------------------------

    /** The {@code srcu} barrier over these threads. */
    WriteBarrier barrier() {
        return new WriteBarrier() {
            @Override
            public String name() {
                return "srcu";
            }

            @Override
            public Wait begin(long closingSnapshot) {
                clearMarks();
                Map<Integer, Long> inCall = new LinkedHashMap<>();
                for (int i = 0; i < threads.length; i++) {
                    if (threads[i].state != CallState.IDLE && mutant != LinuxMutant.BARRIER_IGNORES_IN_CALL) {
                        inCall.put(i, threads[i].callSeq);
                    }
                }
                return new SrcuWait(inCall);
            }
        };
    }

    /** One checkpoint's grace period: the threads inside a call at the flush, until each left it. */
    private final class SrcuWait implements WriteBarrier.Wait {
        private final Map<Integer, Long> pending;

        SrcuWait(Map<Integer, Long> pending) {
            this.pending = pending;
        }

        @Override
        public boolean isDone() {
            pending.entrySet().removeIf(e -> left(threads[e.getKey()], e.getValue()));
            return pending.isEmpty();
        }

        private static boolean left(WriterThread t, long callSeq) {
            return t.state == CallState.IDLE || t.callSeq != callSeq;
        }

        @Override
        public void awaitProgress(long maxNanos) {}

        @Override
        public List<FileId> filesToCarry() {
            isDone();
            Set<Integer> carry = new LinkedHashSet<>();
            pending.keySet().forEach(w -> carry.add(threads[w].fdFile));
            for (int f = 0; f < mappings.length; f++) {
                if (mappings[f] > 0 && mutant != LinuxMutant.NO_CARRY_MAPPINGS) {
                    carry.add(f);
                }
            }
            for (WriterThread t : threads) {
                if (t.fdBeforeMark && t.fdFile >= 0) {
                    carry.add(t.fdFile);
                }
            }
            List<FileId> files = new ArrayList<>();
            carry.forEach(f -> files.add(ids[f]));
            return files;
        }
    }
}
