package org.modtrack.source.linux;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;
import org.modtrack.engine.Access;

/**
 * Tells a read from a write for a pre-content event, from the system call the blocked thread is in
 * (its {@code /proc/<tid>/syscall}, read while the thread waits for our answer). When in doubt, it
 * is a write: a read classified as a write costs a false positive, a write classified as a read
 * would cost a missed change.
 *
 * <p>A read counts only when the call's own fd is the event's file: {@code read(fdX, buf)} into a
 * buffer that maps file Y faults Y's pages in, and Y is being <em>written</em> then. A shared
 * mapping of a file open for writing counts as a write whatever its protection, because
 * {@code mprotect} can make it writable later and stores through it raise no event.
 */
final class AccessClassifier {
    /** What the classifier needs to know about other threads; {@link ProcFs} reads it from /proc. */
    interface ThreadView {
        /** The line of {@code /proc/<tid>/syscall}. */
        String syscall(int tid) throws IOException;

        /** The identity of the file behind fd {@code fd} of thread {@code tid}. */
        FileKey fdTarget(int tid, int fd) throws IOException;

        /** The access mode (O_RDONLY 0, O_WRONLY 1, O_RDWR 2) fd {@code fd} of thread {@code tid} was opened with. */
        int fdAccessMode(int tid, int fd) throws IOException;
    }

    /**
     * A decision and why, for statistics and logs.
     *
     * @param access read or write
     * @param reason one short phrase
     */
    record Decision(Access access, String reason) {}

    private static final long O_TRUNC = 01000;
    private static final long O_ACCMODE = 3;
    private static final long O_WRONLY = 1;
    private static final long O_RDONLY = 0;

    private final ThreadView threads;

    AccessClassifier(ThreadView threads) {
        this.threads = threads;
    }

    /**
     * How often a thread that {@code /proc} shows "running" is looked at again. The thread waits for
     * our answer inside its system call, but it queues the event before it goes to sleep, so a
     * handler that is quick (or on another CPU) can find it still on a CPU, and the kernel then
     * does not say which call it is in. It cannot leave the call before we answer, so looking again
     * can only give the true call; if it still runs after this, the access counts as a write.
     */
    static final int RUNNING_RETRIES = 200;
    /**
     * The first looks again only yield the CPU: the thread is usually a few microseconds from
     * sleeping, and a park lasts at least the timer slack (50 µs), which a third of kbuild's events
     * paid (docs/benchmarks.md, "The permission round trip"). Later looks park, so that a thread
     * kept running for long does not cost a CPU.
     */
    static final int YIELDING_RETRIES = 20;
    private static final long RUNNING_PAUSE_NANOS = 10_000;

    /** What thread {@code tid} is doing, looked at again while it is still on its way to sleep. */
    private SyscallState state(int tid) throws IOException {
        SyscallState s = SyscallState.parse(threads.syscall(tid));
        for (int i = 0; i < RUNNING_RETRIES && s == SyscallState.RUNNING; i++) {
            if (i < YIELDING_RETRIES) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(RUNNING_PAUSE_NANOS);
            }
            s = SyscallState.parse(threads.syscall(tid));
        }
        return s;
    }

    /** Classifies the access of thread {@code tid} to the file {@code eventFile}. */
    Decision classify(int tid, FileKey eventFile) {
        SyscallState s;
        try {
            s = state(tid);
        } catch (IOException e) {
            return write("the thread's state could not be read");
        }
        if (!s.inSyscall()) {
            return write(s.toString());
        }
        try {
            return switch (s.number()) {
                case Syscalls.READ, Syscalls.PREAD64, Syscalls.READV, Syscalls.PREADV, Syscalls.PREADV2,
                     Syscalls.READAHEAD, Syscalls.SENDFILE, Syscalls.SPLICE, Syscalls.COPY_FILE_RANGE ->
                        readsThisFile(tid, s, eventFile) ? read(Syscalls.name(s.number()))
                                : write(Syscalls.name(s.number()) + " of another file");
                case Syscalls.EXECVE, Syscalls.EXECVEAT -> read("exec");
                case Syscalls.MMAP -> mapping(tid, s, eventFile);
                default -> write(Syscalls.name(s.number()));
            };
        } catch (IOException e) {
            return write(Syscalls.name(s.number()) + " on an fd that could not be inspected");
        }
    }

    /**
     * Whether an open that thread {@code tid} is blocked in is recorded as a write. An open with
     * {@code O_TRUNC} must be: it empties a file without any {@code FAN_PRE_ACCESS} event
     * (docs/kernel-facts.md, 1b). A write-only open is, too, because such a descriptor exists to
     * write: recording it now, with its ignore mark, spares the first write its own round trip (a
     * created file costs one permission event instead of two); the price is a false positive for
     * a file opened write-only and never written. When in doubt (an unreadable state,
     * {@code openat2}, whose flags are in memory the tracker cannot read, or a call that is not an
     * open), it is recorded.
     *
     * @param opensOnly whether opens are the only permission events ({@link LinuxSourceOptions.Hook#OPEN_PERM}):
     *     then a read-write open is recorded too, since no later event would come before its writes
     */
    boolean recordsOnOpen(int tid, boolean opensOnly) {
        SyscallState s;
        try {
            s = state(tid);
        } catch (IOException e) {
            return true;
        }
        if (!s.inSyscall()) {
            return true;
        }
        return switch (s.number()) {
            case Syscalls.OPEN -> writesOrTruncates(s.arg(1), opensOnly);
            case Syscalls.OPENAT, Syscalls.OPEN_BY_HANDLE_AT -> writesOrTruncates(s.arg(2), opensOnly);
            case Syscalls.EXECVE, Syscalls.EXECVEAT -> false;
            default -> true; // creat, openat2, or something unexpected
        };
    }

    private static boolean writesOrTruncates(long flags, boolean opensOnly) {
        long mode = flags & O_ACCMODE;
        return (flags & O_TRUNC) != 0 || mode == O_WRONLY || opensOnly && mode != O_RDONLY;
    }

    private boolean readsThisFile(int tid, SyscallState s, FileKey eventFile) throws IOException {
        int fd = Syscalls.readFd(s);
        return fd >= 0 && eventFile.equals(threads.fdTarget(tid, fd));
    }

    private Decision mapping(int tid, SyscallState s, FileKey eventFile) throws IOException {
        int fd = Syscalls.readFd(s);
        if (fd < 0 || !eventFile.equals(threads.fdTarget(tid, fd))) {
            return write("mmap of another file");
        }
        boolean shared = (s.arg(3) & Syscalls.MAP_SHARED) != 0;
        boolean writable = (s.arg(2) & Syscalls.PROT_WRITE) != 0 || threads.fdAccessMode(tid, fd) != 0;
        return shared && writable ? write("shared writable mmap") : read("private or read-only mmap");
    }

    private static Decision read(String why) {
        return new Decision(Access.READ, why);
    }

    private static Decision write(String why) {
        return new Decision(Access.WRITE, why);
    }
}
