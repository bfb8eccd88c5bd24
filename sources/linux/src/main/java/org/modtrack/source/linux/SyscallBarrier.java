package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.modtrack.engine.FileId;
import org.modtrack.engine.WriteBarrier;
import org.modtrack.posix.Errno;
import org.modtrack.posix.PosixException;

/**
 * The {@code srcu} barrier: a grace period in user space, in the spirit of Jan Kara's proposal.
 * New writes keep flowing; a checkpoint waits only for threads that were inside a write-family
 * system call on the tracked file system when the ignore marks were flushed, until each has left
 * that call.
 *
 * <p>Why it is enough: {@link #begin} runs after the new period started and flushes every ignore
 * mark first. A write whose hook ran before the flush is made by a thread that is, at the scan
 * right after, either inside that call (waited for) or past it (done). A write whose hook runs after
 * the flush raises an event and is recorded in the new period.
 *
 * <p>How a thread is known to have left: it was seen outside every write-family call (and not on a
 * CPU, where the kernel does not say what it runs), or its count of completed write calls
 * ({@code syscw} in {@code /proc/<tid>/io}) went up, or it is gone. A thread running on a CPU when
 * scanned is a candidate only if its process has a file on the tracked file system open for
 * writing. At the deadline, an undecided thread is answered by carrying every file its process has
 * open for writing on the tracked file system. Files mapped shared and possibly writable are carried
 * at every checkpoint: stores through a mapping raise no event.
 *
 * <p>Known limit: a thread on a CPU inside {@code truncate(path)} at the scan, in a process with no
 * file of the tracked file system open for writing, is not waited for (its window is a few
 * microseconds), nor one inside a call that changes names ({@code rename}, {@code unlink}, ...),
 * which needs no open file: its event may come after the result's last reading of the queue and
 * belong to the next result (docs/linux-source.md, Known limits). io_uring and AIO writes, which finish outside the submitting call, are handled
 * conservatively: a checkpoint at which some process has an io_uring instance or an AIO context and
 * a file of the tracked file system open falls back to a freeze, and the result says so. So does
 * one at which a thread the kernel does not let us look into ({@link #uninspectable}) is running or
 * waiting uninterruptibly (R, D in its {@code stat}, which anyone may read): it may be inside a
 * write. One asleep otherwise (S) is taken to be outside every write: ext4's, xfs's and btrfs's own
 * waits in a write are uninterruptible or killable (D); a write stalled in S on a fault of its user
 * buffer (userfaultfd, a FUSE file's mapping) is the exception this misses.
 */
final class SyscallBarrier implements WriteBarrier {
    /** What the barrier reads from the system; {@link ProcFs} reads it from /proc. */
    interface SystemView {
        /** Every thread on the system, as (pid, tid) pairs, except this process's. */
        List<long[]> threads() throws IOException;

        /** The line of {@code /proc/<pid>/task/<tid>/syscall}. */
        String syscall(int pid, int tid) throws IOException;

        /** Completed write calls of the thread ({@code syscw} of {@code /proc/<pid>/task/<tid>/io}), or -1 if unknown. */
        long writeCalls(int pid, int tid) throws IOException;

        /** Whether the file behind fd {@code fd} of {@code tid} may be one of {@code tracked}: true if it cannot be told. */
        boolean fdMayBeOf(int tid, int fd, TrackedFiles tracked);

        /**
         * Fd {@code fd} of {@code tid} if it is open for writing now, or null (closed, or open to be
         * read). A write call names its fd, but the number may be closed and reused by the time it
         * is looked up (a file opened to be read): only an fd open for writing can be the one a
         * write goes through.
         */
        WritableFd writableFd(int tid, int fd);

        /** Fds of process {@code pid} open for writing on files of {@code tracked}. */
        List<WritableFd> writableFds(int pid, TrackedFiles tracked);

        /**
         * Files of process {@code pid} mapped shared and possibly writable, of {@code tracked}: those
         * /proc/PID/maps names by its superblock's device (every btrfs subvolume's files among them,
         * whose stat gives a device of their own).
         */
        List<Path> writableSharedMappings(int pid, TrackedFiles tracked);

        /**
         * The state letter of thread {@code tid} ({@code /proc/<pid>/task/<tid>/stat}, the field
         * after the command: R, S, D, T, Z...), which a thread we may not look into shows too; '?'
         * if it cannot be read (gone).
         */
        char threadState(int pid, int tid);

        /**
         * Whether process {@code pid} has an io_uring instance or an AIO context and any file of
         * {@code tracked} open: its writes may finish outside any system call of its threads.
         */
        boolean asyncIoUserOf(int pid, TrackedFiles tracked);
    }

    /** A barrier for a checkpoint this one cannot answer for ({@link FreezeBarrier#beginAsFallback}), saying why in the result. */
    interface Fallback {
        Wait beginAsFallback(String why) throws IOException;
    }

    /** Clears every ignore mark of the source's group, excluding concurrent mark setting while it runs. */
    interface IgnoreMarks {
        void flush() throws IOException;
    }

    /**
     * A descriptor open for writing, and the mount and inode it led to when it was listed
     * ({@code /proc/<tid>/fdinfo/<fd>}; {@code ino} -1 where the kernel does not give it): the same
     * number leading to another file later is not this one.
     */
    record WritableFd(int fd, long mountId, long ino) {}

    /** Turns a path under /proc (an fd or a mapped file) into the tracker's identity of its file. */
    interface Identifier {
        FileId identify(Path procLink) throws IOException;
    }

    private static final Logger LOG = Logger.getLogger(SyscallBarrier.class.getName());
    /**
     * The grace period looks at the threads it waits for after 1 ms, then twice as long each time up
     * to 8 ms: most write calls end within the first, and a call that lasts (a 1 GiB write takes
     * about 250 ms here) costs about 35 looks instead of 250, each of them CPU time taken from
     * writers on a busy machine (docs/benchmarks.md, "Checkpoint impact on other writers").
     */
    private static final long FIRST_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long LONGEST_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(8);

    private final TrackedFiles tracked;
    private final IgnoreMarks marks;
    private final SystemView system;
    private final AlwaysWritable alwaysWritable;
    private final Fallback fallback;
    /**
     * The calls the last checkpoint gave up waiting for (their files were carried). A thread found
     * in the very same call at the next checkpoint (same call line, stack and program counter, same
     * count of completed writes) is not waited for again: its files are carried at once, as at
     * the deadline, which is as safe (the file is named now and again in the next result). Why: a
     * process stuck inside a write (a hung device, a stopped FUSE server below an overlay) would
     * otherwise make every checkpoint wait the whole timeout. Only the query thread touches it.
     */
    private Set<Candidate> stuckAtLastDeadline = Set.of();
    /** {@link #uninspectable}: set by each scan, read by the daemon's status. */
    private volatile Set<Integer> uninspectable = Set.of();
    /** The uninspectable processes already named in the log; guarded by this (the warm-up scans on a thread of its own). */
    private final Set<Integer> warnedUninspectable = new HashSet<>();

    /**
     * @param fallback used for a checkpoint at which some process does asynchronous I/O on the file
     *     system, or a thread we may not look into may be inside a write
     */
    SyscallBarrier(TrackedFiles tracked, IgnoreMarks marks, SystemView system, AlwaysWritable alwaysWritable,
                   Fallback fallback) {
        this.tracked = tracked;
        this.marks = marks;
        this.system = system;
        this.alwaysWritable = alwaysWritable;
        this.fallback = fallback;
    }

    @Override
    public String name() {
        return "srcu";
    }

    @Override
    public Wait begin(long closingSnapshot) throws IOException {
        marks.flush();
        ThreadScan scan = scanThreads();
        Map<Integer, Candidate> candidates = scan.candidates();
        List<Candidate> stillStuck = new ArrayList<>();
        for (Candidate c : List.copyOf(candidates.values())) {
            if (c.fd() != RUNNING_FD && stuckAtLastDeadline.contains(c)) {
                candidates.remove(c.tid());
                stillStuck.add(c);
            }
        }
        if (!stillStuck.isEmpty()) {
            LOG.info(() -> "checkpoint " + closingSnapshot + " carries the files of " + stillStuck.size()
                    + " thread(s) still inside the call the last checkpoint gave up waiting for, without waiting again: "
                    + stillStuck);
        }
        Integer asyncIoUser = asyncIoUser(scan.pids());
        if (asyncIoUser != null) {
            String why = "process " + asyncIoUser + " does io_uring or AIO on the tracked file system";
            LOG.warning(() -> "checkpoint " + closingSnapshot + " freezes the file system: " + why);
            return fallback.beginAsFallback(why);
        }
        if (scan.maybeWriting() != null) {
            String why = scan.maybeWriting();
            LOG.info(() -> "checkpoint " + closingSnapshot + " freezes the file system: " + why);
            return fallback.beginAsFallback(why);
        }
        return new SyscallWait(candidates, scan.pids(), stillStuck);
    }

    /**
     * Runs what a checkpoint reads of /proc (every thread's call, every process's open files and
     * shared mappings) once, without flushing a mark or waiting, and forgets what it found. Why: a
     * checkpoint's scans run once per query, so a new daemon's first checkpoints ran them as
     * interpreted code, 2-3x slower than later ones (a 1,000-file answer's checkpoint 33-49 ms
     * against 12-15); a few of these at start, at the lowest priority, leave them compiled.
     */
    void warmUp() throws IOException {
        ThreadScan scan = scanThreads();
        asyncIoUser(scan.pids());
        alwaysWritable.addTo(new LinkedHashMap<>(), scan.pids());
    }

    /**
     * One look at every thread of the machine: those that may be inside a write, every process seen,
     * and why a thread we may not look into may be inside a write (null: none may).
     */
    private record ThreadScan(Map<Integer, Candidate> candidates, Set<Integer> pids, String maybeWriting) {}

    private ThreadScan scanThreads() throws IOException {
        Map<Integer, Candidate> candidates = new LinkedHashMap<>();
        Set<Integer> pids = new LinkedHashSet<>();
        Set<Integer> denied = new LinkedHashSet<>();
        String maybeWriting = null;
        TrackedFiles look = tracked.forOneLook();
        for (long[] t : system.threads()) {
            int pid = (int) t[0];
            int tid = (int) t[1];
            pids.add(pid);
            Candidate c = candidate(pid, tid, denied, look);
            if (c != null) {
                candidates.put(tid, c);
            } else if (maybeWriting == null && denied.contains(pid)) {
                char state = system.threadState(pid, tid);
                if (state == 'R' || state == 'D') {
                    maybeWriting = "thread " + tid + " of process " + pid + " (" + ProcFs.command(pid) + ") is "
                            + (state == 'R' ? "running" : "waiting uninterruptibly")
                            + ", and the kernel does not let the tracker see whether it writes";
                }
            }
        }
        noteUninspectable(denied);
        return new ThreadScan(candidates, pids, maybeWriting);
    }

    /**
     * Keeps the processes the last scan could not look into, and says once for each, as it first
     * appears, what that costs: their writes are waited for only by a freeze, their mappings not
     * carried.
     */
    private synchronized void noteUninspectable(Set<Integer> denied) {
        uninspectable = Set.copyOf(denied);
        warnedUninspectable.retainAll(denied); // bounded by the processes denied now; one seen again later is named again
        for (int pid : denied) {
            if (warnedUninspectable.add(pid)) {
                LOG.warning(() -> "the kernel does not let the tracker read what process " + pid + " (" + ProcFs.command(pid)
                        + ") does (its system calls, descriptors and mappings under /proc: a ptrace access check, an LSM"
                        + " or another user namespace): a checkpoint at which one of its threads runs freezes the file"
                        + " system instead, and a file it maps shared and writable is not carried; run the daemon where"
                        + " it may read every process (docs/linux-source.md, Known limits)");
            }
        }
    }

    /**
     * The processes whose threads the last scan was not allowed to look into (their
     * {@code /proc/PID/task/TID/syscall} refused with EACCES or EPERM).
     */
    Set<Integer> uninspectable() {
        return uninspectable;
    }

    /** The first of {@code pids} whose writes may finish outside any system call of its threads, or null. */
    private Integer asyncIoUser(Set<Integer> pids) {
        TrackedFiles look = tracked.forOneLook();
        for (int pid : pids) {
            if (system.asyncIoUserOf(pid, look)) {
                return pid;
            }
        }
        return null;
    }

    /** {@link Candidate#fd} of a thread seen on a CPU: what it runs is unknown. */
    private static final int RUNNING_FD = -2;

    /**
     * A thread that may be inside a write to the tracked file system, and how to tell it left.
     * {@code call} is its {@code /proc/<tid>/syscall} line (number, arguments, stack pointer,
     * program counter); {@code fd} the written fd, -1 if the call names none, {@link #RUNNING_FD}.
     */
    private record Candidate(int pid, int tid, long writeCalls, int fd, String call) {}

    private Candidate candidate(int pid, int tid, Set<Integer> denied, TrackedFiles look) {
        try {
            String line = system.syscall(pid, tid);
            SyscallState s = SyscallState.parse(line);
            boolean running = s.number() == SyscallState.RUNNING_NUMBER;
            if (!running && (!s.inSyscall() || !Syscalls.mayWrite(s.number()))) {
                return null; // most threads: their count of write calls is not read at all
            }
            // Read right after the call line, before anything slower: the count the wait compares with.
            long writes = system.writeCalls(pid, tid);
            if (running) {
                return system.writableFds(pid, look).isEmpty() ? null : new Candidate(pid, tid, writes, RUNNING_FD, line);
            }
            int fd = Syscalls.writtenFd(s);
            if (fd >= 0 && !system.fdMayBeOf(tid, fd, look)) {
                return null; // writing to another file system (a pipe, a socket, another disk)
            }
            return new Candidate(pid, tid, writes, fd, line);
        } catch (PosixException e) {
            if (e.errno() == Errno.EACCES || e.errno() == Errno.EPERM) {
                denied.add(pid);
            }
            return null; // the thread is gone, or the kernel does not let us look into it
        } catch (IOException e) {
            return null; // the thread is gone
        }
    }

    /** One checkpoint's grace period. */
    private final class SyscallWait implements Wait {
        private final Map<Integer, Candidate> pending;
        private final Set<Integer> pids;
        private final List<Candidate> stillStuck;

        SyscallWait(Map<Integer, Candidate> pending, Set<Integer> pids, List<Candidate> stillStuck) {
            this.pending = new HashMap<>(pending);
            this.pids = pids;
            this.stillStuck = stillStuck;
        }

        @Override
        public boolean isDone() {
            pending.values().removeIf(this::left);
            return pending.isEmpty();
        }

        private boolean left(Candidate c) {
            try {
                long writes = system.writeCalls(c.pid(), c.tid());
                if (writes >= 0 && c.writeCalls() >= 0 && writes != c.writeCalls()) {
                    return true;
                }
                SyscallState s = SyscallState.parse(system.syscall(c.pid(), c.tid()));
                return s.number() != SyscallState.RUNNING_NUMBER && (!s.inSyscall() || !Syscalls.mayWrite(s.number()));
            } catch (IOException e) {
                return true; // gone
            }
        }

        private long pollNanos = FIRST_POLL_NANOS;

        @Override
        public void awaitProgress(long maxNanos) throws InterruptedException {
            TimeUnit.NANOSECONDS.sleep(Math.min(maxNanos, pollNanos));
            pollNanos = Math.min(LONGEST_POLL_NANOS, pollNanos * 2);
        }

        @Override
        public List<FileId> filesToCarry() throws IOException {
            Map<String, FileId> carry = new LinkedHashMap<>();
            List<Candidate> undecided = new ArrayList<>(pending.values());
            undecided.addAll(stillStuck);
            stuckAtLastDeadline = Set.copyOf(undecided);
            for (Candidate c : undecided) {
                WritableFd written = c.fd() < 0 ? null : system.writableFd(c.tid(), c.fd());
                List<WritableFd> fds = c.fd() < 0 ? system.writableFds(c.pid(), tracked)
                        : written == null ? List.of() : List.of(written);
                for (WritableFd fd : fds) {
                    alwaysWritable.addWritable(carry, c.tid(), fd);
                }
            }
            alwaysWritable.addTo(carry, pids);
            return new ArrayList<>(carry.values());
        }
    }
}
