package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The file system calls modtrack makes itself, bound with {@code java.lang.foreign}.
 *
 * <p>Why not {@link java.nio.channels.FileChannel}: a FileChannel closes itself when a thread is
 * interrupted in the middle of an I/O call ({@code ClosedByInterruptException}); one interrupted
 * writer would take the shared journal down with it. These calls are not interruptible, report the
 * exact {@code errno}, and take off-heap memory directly, without a copy.
 *
 * <p>Every failure is a {@link PosixException} whose message says what was attempted on which
 * path. Calls interrupted by a signal ({@code EINTR}) are retried; short writes are continued.
 * Constants are those of Linux on x86_64, the only platform this class loads on.
 */
public final class Posix {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_LARGEFILE = 0100000;
    /** Opens for naming only (handles, statx, /proc/self/fd): no read or write is possible through it. */
    public static final int O_PATH = 010000000;

    /** {@code poll} event bits. */
    public static final short POLLIN = 0x1;
    public static final short POLLPRI = 0x2;
    public static final short POLLOUT = 0x4;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;
    public static final short POLLNVAL = 0x20;

    /** {@code ioctl} request that freezes a filesystem (new writes wait; dirty data is written first); arg 0. */
    public static final long FIFREEZE = 0xC0045877L;
    /** {@code ioctl} request that thaws a filesystem frozen with {@link #FIFREEZE}; arg 0. */
    public static final long FITHAW = 0xC0045878L;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE_LAYOUT.varHandle(
            MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE_LAYOUT));

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle PWRITE = downcall("pwrite",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle PREAD = downcall("pread",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle FDATASYNC = downcall("fdatasync",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SYNCFS = downcall("syncfs",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle FSYNC = downcall("fsync",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle FTRUNCATE = downcall("ftruncate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle LSEEK = downcall("lseek",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private static final MethodHandle READ = downcall("read",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle WRITE = downcall("write",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle CLOCK_GETTIME = downcall("clock_gettime",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final ThreadLocal<MemorySegment> TIMESPEC = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(16));
    private static final MethodHandle EVENTFD = downcall("eventfd",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle POLL = downcall("poll",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle READLINK = downcall("readlink",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FCNTL_INT = downcall("fcntl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final MethodHandle GETTID = downcall("gettid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle SETPRIORITY = downcall("setpriority",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle STATFS = downcall("statfs",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle FSTATFS = downcall("fstatfs",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

    private static final int SEEK_END = 2;
    /** {@code struct pollfd}: int fd, short events, short revents. */
    private static final long POLLFD_SIZE = 8;
    /** PATH_MAX: a readlink result this long may have been cut, so the buffer grows up to {@link #READLINK_MAX}. */
    private static final int PATH_MAX = 4096;
    private static final int READLINK_MAX = 1 << 16;

    static {
        String arch = System.getProperty("os.arch");
        if (!"Linux".equals(System.getProperty("os.name")) || !("amd64".equals(arch) || "x86_64".equals(arch))) {
            throw new UnsupportedOperationException("modtrack's system-call bindings support Linux on x86_64 only, not "
                    + System.getProperty("os.name") + " on " + arch + ".");
        }
    }

    private Posix() {}

    /**
     * Looks up a libc function and binds it so that {@code errno} is captured: the handle's first
     * parameter is the call-state segment.
     */
    public static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(options, 0, all, 1, options.length);
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsupportedOperationException("libc has no function " + name + "."));
        return LINKER.downcallHandle(symbol, descriptor, all);
    }

    /** This thread's call-state segment, to pass as the first argument of a {@link #downcall} handle. */
    public static MemorySegment callState() {
        return CALL_STATE.get();
    }

    /** The {@code errno} captured by this thread's last call through a {@link #downcall} handle. */
    public static int lastErrno() {
        return (int) ERRNO.get(CALL_STATE.get(), 0L);
    }

    /** Opens {@code path}; returns the file descriptor. */
    public static int open(String path, int flags, int mode) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(path);
            while (true) {
                int fd = (int) OPEN.invokeExact(callState(), cPath, flags, mode);
                if (fd >= 0) {
                    return fd;
                }
                int errno = lastErrno();
                if (errno != Errno.EINTR) {
                    throw new PosixException("open of " + path, errno);
                }
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw linkageFailure("open", t);
        }
    }

    /** {@code eventfd(2)} flags: close on exec, non-blocking. */
    /**
     * The wall clock as of the kernel's last timekeeping update: what file timestamps are stamped
     * from (or from the fine clock, never behind it), so a time read from it is at or before the
     * ctime of every later change. It lags the fine clock by up to a tick, or more where the tick
     * is late (docs/kernel-facts.md).
     */
    public static final int CLOCK_REALTIME_COARSE = 5;

    /** {@code clock_gettime(clock)}, in nanoseconds since the epoch of that clock. */
    public static long clockNanos(int clock) {
        MemorySegment ts = TIMESPEC.get();
        int rc;
        try {
            rc = (int) CLOCK_GETTIME.invokeExact(callState(), clock, ts);
        } catch (Throwable t) {
            throw linkageFailure("clock_gettime", t);
        }
        if (rc != 0) {
            // Only an unknown clock fails, and the clocks asked for are constants every Linux has.
            throw new IllegalStateException("clock_gettime(" + clock + ") failed: errno " + lastErrno());
        }
        return ts.get(ValueLayout.JAVA_LONG, 0) * 1_000_000_000L + ts.get(ValueLayout.JAVA_LONG, 8);
    }

    public static final int EFD_CLOEXEC = 0x80000;
    public static final int EFD_NONBLOCK = 0x800;

    /**
     * A new event counter ({@code eventfd(0, flags)}): readable while its count is above zero, so a
     * thread blocked in {@link #poll} on it wakes when another adds to it ({@link #signal}).
     */
    public static int eventfd(int flags) throws PosixException {
        int fd;
        try {
            fd = (int) EVENTFD.invokeExact(callState(), 0, flags);
        } catch (Throwable t) {
            throw linkageFailure("eventfd", t);
        }
        if (fd < 0) {
            throw new PosixException("eventfd", lastErrno());
        }
        return fd;
    }

    /** Adds one to the event counter {@code fd}: a {@link #poll} on it wakes. */
    public static void signal(int fd) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1L);
            write(fd, one); // -1 (EAGAIN) only if the count is at its maximum: it is readable then anyway
        }
    }

    /** Closes {@code fd}. Like the kernel, does not retry on EINTR: the descriptor is gone either way. */
    public static void close(int fd, String path) throws PosixException {
        int rc;
        try {
            rc = (int) CLOSE.invokeExact(callState(), fd);
        } catch (Throwable t) {
            throw linkageFailure("close", t);
        }
        if (rc != 0 && lastErrno() != Errno.EINTR) {
            throw new PosixException("close of " + path, lastErrno());
        }
    }

    /** Writes all {@code buffer.byteSize()} bytes of {@code buffer} at {@code offset}. */
    public static void pwriteFully(int fd, MemorySegment buffer, long offset, String path) throws PosixException {
        long done = 0;
        long size = buffer.byteSize();
        while (done < size) {
            long n;
            try {
                // No slice on the first call (almost always the only one): it is the journal's hot path.
                MemorySegment from = done == 0 ? buffer : buffer.asSlice(done);
                n = (long) PWRITE.invokeExact(callState(), fd, from, size - done, offset + done);
            } catch (Throwable t) {
                throw linkageFailure("pwrite", t);
            }
            if (n > 0) {
                done += n;
            } else if (n == 0) {
                throw new PosixException("pwrite of " + (size - done) + " bytes at offset " + (offset + done)
                        + " of " + path + " (no progress)", Errno.EIO);
            } else if (lastErrno() != Errno.EINTR) {
                throw new PosixException("pwrite of " + (size - done) + " bytes at offset " + (offset + done)
                        + " of " + path, lastErrno());
            }
        }
    }

    /** Reads up to {@code buffer.byteSize()} bytes at {@code offset}; returns how many (0 at end of file). */
    public static long pread(int fd, MemorySegment buffer, long offset, String path) throws PosixException {
        while (true) {
            long n;
            try {
                n = (long) PREAD.invokeExact(callState(), fd, buffer, buffer.byteSize(), offset);
            } catch (Throwable t) {
                throw linkageFailure("pread", t);
            }
            if (n >= 0) {
                return n;
            }
            if (lastErrno() != Errno.EINTR) {
                throw new PosixException("pread at offset " + offset + " of " + path, lastErrno());
            }
        }
    }

    /**
     * The first {@code buffer.byteSize()} bytes of the small file {@code path} (such as a line of
     * /proc), as Latin-1: one open, one read, one close into the caller's buffer. For the
     * pre-content handlers' reads of {@code /proc/<tid>/syscall}, where {@code Files.readString}
     * took 16-128 µs per call (docs/benchmarks.md, "The permission round trip").
     */
    public static String readSmall(String path, MemorySegment buffer) throws PosixException {
        int fd = open(path, O_RDONLY | O_CLOEXEC, 0);
        try {
            long n = pread(fd, buffer, 0, path);
            byte[] bytes = buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            return new String(bytes, StandardCharsets.ISO_8859_1);
        } finally {
            close(fd, path);
        }
    }

    /** fdatasync: makes the file's data, and the metadata needed to read it back, durable. */
    public static void fdatasync(int fd, String path) throws PosixException {
        intCall(FDATASYNC, fd, "fdatasync of " + path);
    }

    /** fsync: makes the file's data and all its metadata durable (for a directory: its entries). */
    public static void fsync(int fd, String path) throws PosixException {
        intCall(FSYNC, fd, "fsync of " + path);
    }

    /** Opens directory {@code path} and fsyncs it: a rename or removal in it then survives a power loss. */
    public static void fsyncDirectory(String path) throws PosixException {
        int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        try {
            fsync(dir, path);
        } finally {
            close(dir, path);
        }
    }

    /** {@code syncfs}: writes out every dirty page and inode of the file system {@code fd} is on. */
    public static void syncfs(int fd, String path) throws PosixException {
        intCall(SYNCFS, fd, "syncfs of the file system holding " + path);
    }

    /** Sets the file's size. */
    public static void ftruncate(int fd, long size, String path) throws PosixException {
        while (true) {
            int rc;
            try {
                rc = (int) FTRUNCATE.invokeExact(callState(), fd, size);
            } catch (Throwable t) {
                throw linkageFailure("ftruncate", t);
            }
            if (rc == 0) {
                return;
            }
            if (lastErrno() != Errno.EINTR) {
                throw new PosixException("ftruncate of " + path + " to " + size + " bytes", lastErrno());
            }
        }
    }

    /** The file's size, from {@code lseek(fd, 0, SEEK_END)}. */
    public static long size(int fd, String path) throws PosixException {
        long n;
        try {
            n = (long) LSEEK.invokeExact(callState(), fd, 0L, SEEK_END);
        } catch (Throwable t) {
            throw linkageFailure("lseek", t);
        }
        if (n < 0) {
            throw new PosixException("lseek to the end of " + path, lastErrno());
        }
        return n;
    }

    /**
     * Reads up to {@code buffer.byteSize()} bytes from {@code fd}'s current position; returns how many
     * (0 at end of file), or -1 if {@code fd} is non-blocking and nothing is there yet ({@code EAGAIN}).
     */
    public static long read(int fd, MemorySegment buffer) throws PosixException {
        return transferOnce(READ, "read", fd, buffer);
    }

    /**
     * Writes {@code buffer} to {@code fd} with one {@code write} call (retried on EINTR); returns how many
     * bytes it took, or -1 if {@code fd} is non-blocking and full ({@code EAGAIN}). Unlike
     * {@link #pwriteFully}, a short write is the caller's to continue: for the descriptors this is
     * for (fanotify groups, pipes) a partial write means something else than "write the rest".
     */
    public static long write(int fd, MemorySegment buffer) throws PosixException {
        return transferOnce(WRITE, "write", fd, buffer);
    }

    /**
     * One read or write call, retried on EINTR; -1 on EAGAIN. The failure sentence is built only on
     * failure: fanotify responses go through here, and the answer path does not allocate.
     */
    private static long transferOnce(MethodHandle call, String name, int fd, MemorySegment buffer)
            throws PosixException {
        while (true) {
            long n;
            try {
                n = (long) call.invokeExact(callState(), fd, buffer, buffer.byteSize());
            } catch (Throwable t) {
                throw linkageFailure(name, t);
            }
            if (n >= 0) {
                return n;
            }
            int errno = lastErrno();
            if (errno == Errno.EAGAIN) {
                return -1;
            }
            if (errno != Errno.EINTR) {
                String attempted = call == READ
                        ? "read of up to " + buffer.byteSize() + " bytes from fd " + fd
                        : "write of " + buffer.byteSize() + " bytes to fd " + fd;
                throw new PosixException(attempted, errno);
            }
        }
    }

    /**
     * Waits until one of {@code fds} has one of {@code events} ({@link #POLLIN}...), or {@code timeoutMs}
     * passed (negative: no limit). Returns each descriptor's {@code revents}, all zero on timeout; errors
     * and hang-ups ({@link #POLLERR}, {@link #POLLHUP}, {@link #POLLNVAL}) are reported there too.
     * An EINTR restarts the wait for the time that is left.
     */
    public static short[] poll(int[] fds, short events, int timeoutMs) throws PosixException {
        short[] each = new short[fds.length];
        Arrays.fill(each, events);
        return poll(fds, each, timeoutMs);
    }

    /** Like {@link #poll(int[], short, int)}, with each descriptor's own {@code events}. */
    public static short[] poll(int[] fds, short[] events, int timeoutMs) throws PosixException {
        if (events.length != fds.length) {
            throw new IllegalArgumentException(fds.length + " descriptors but " + events.length + " event masks");
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(timeoutMs, 0));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfds = arena.allocate(POLLFD_SIZE * fds.length, 8);
            for (int i = 0; i < fds.length; i++) {
                pollfds.set(ValueLayout.JAVA_INT, i * POLLFD_SIZE, fds[i]);
                pollfds.set(ValueLayout.JAVA_SHORT, i * POLLFD_SIZE + 4, events[i]);
            }
            int wait = timeoutMs;
            while (true) {
                int rc;
                try {
                    rc = (int) POLL.invokeExact(callState(), pollfds, (long) fds.length, wait);
                } catch (Throwable t) {
                    throw linkageFailure("poll", t);
                }
                if (rc >= 0) {
                    return revents(pollfds, fds.length);
                }
                if (lastErrno() != Errno.EINTR) {
                    throw new PosixException("poll of " + fds.length + " descriptors", lastErrno());
                }
                if (timeoutMs >= 0) {
                    wait = (int) Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                }
            }
        }
    }

    private static short[] revents(MemorySegment pollfds, int count) {
        short[] revents = new short[count];
        for (int i = 0; i < count; i++) {
            revents[i] = pollfds.get(ValueLayout.JAVA_SHORT, i * POLLFD_SIZE + 6);
        }
        return revents;
    }

    /** The target of the symbolic link {@code path} (for example {@code /proc/self/fd/7}), as bytes decoded as UTF-8. */
    public static String readlink(String path) throws PosixException {
        if (path.length() <= CallScratch.MAX_PATH_CHARS) {
            // Once per object a result opens by handle: this thread's buffers, no arena.
            CallScratch scratch = CallScratch.get();
            scratch.path.setString(0, path);
            long n;
            try {
                n = (long) READLINK.invokeExact(callState(), scratch.path, scratch.link, scratch.link.byteSize());
            } catch (Throwable t) {
                throw linkageFailure("readlink", t);
            }
            if (n < 0) {
                throw new PosixException("readlink of " + path, lastErrno());
            }
            if (n < scratch.link.byteSize()) {
                return new String(scratch.link.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            }
        }
        try (Arena arena = Arena.ofConfined()) { // a long path, or a target that may be longer than PATH_MAX
            MemorySegment cPath = arena.allocateFrom(path);
            for (int size = PATH_MAX; ; size *= 2) {
                MemorySegment buffer = arena.allocate(size);
                long n;
                try {
                    n = (long) READLINK.invokeExact(callState(), cPath, buffer, (long) size);
                } catch (Throwable t) {
                    throw linkageFailure("readlink", t);
                }
                if (n < 0) {
                    throw new PosixException("readlink of " + path, lastErrno());
                }
                if (n < size) {
                    return new String(buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                }
                if (size >= READLINK_MAX) {
                    throw new PosixException("readlink of " + path + " (target longer than " + READLINK_MAX + " bytes)",
                            Errno.ENAMETOOLONG);
                }
            }
        }
    }

    /**
     * {@code ioctl(fd, request, arg)} for requests whose argument is a number or an address given as
     * one ({@link #FIFREEZE}, {@link #FITHAW}: 0); returns the call's non-negative result.
     */
    public static int ioctl(int fd, long request, long arg) throws PosixException {
        int rc = ioctlOrErrno(fd, request, arg);
        if (rc < 0) {
            throw new PosixException("ioctl 0x" + Long.toHexString(request) + " on fd " + fd, -rc);
        }
        return rc;
    }

    /**
     * As {@link #ioctl}, with a failure returned as the negated {@code errno} rather than thrown: for
     * a request whose failure is an answer ({@code PROCMAP_QUERY}'s {@code ENOENT} after a process's
     * last mapping, asked of every process at every checkpoint).
     */
    public static int ioctlOrErrno(int fd, long request, long arg) {
        while (true) {
            int rc;
            try {
                rc = (int) IOCTL.invokeExact(callState(), fd, request, arg);
            } catch (Throwable t) {
                throw linkageFailure("ioctl", t);
            }
            if (rc >= 0) {
                return rc;
            }
            if (lastErrno() != Errno.EINTR) {
                return -lastErrno();
            }
        }
    }

    /**
     * A close-on-exec duplicate of {@code fd} numbered {@code lowest} or above
     * ({@code fcntl(fd, F_DUPFD_CLOEXEC, lowest)}); the caller still owns {@code fd}.
     */
    public static int duplicateAbove(int fd, int lowest) throws PosixException {
        while (true) {
            int rc;
            try {
                rc = (int) FCNTL_INT.invokeExact(callState(), fd, F_DUPFD_CLOEXEC, lowest);
            } catch (Throwable t) {
                throw linkageFailure("fcntl", t);
            }
            if (rc >= 0) {
                return rc;
            }
            if (lastErrno() != Errno.EINTR) {
                throw new PosixException("fcntl F_DUPFD_CLOEXEC of fd " + fd, lastErrno());
            }
        }
    }

    /**
     * Sets the calling thread's nice value ({@code setpriority(PRIO_PROCESS, gettid(), nice)}: on
     * Linux a thread's own priority). A negative value needs CAP_SYS_NICE.
     */
    public static void setThisThreadNice(int nice) throws PosixException {
        int tid;
        try {
            tid = (int) GETTID.invokeExact(callState());
        } catch (Throwable t) {
            throw linkageFailure("gettid", t);
        }
        setThreadNice(tid, nice);
    }

    /** Sets the nice value of thread {@code tid} ({@code setpriority(PRIO_PROCESS, tid, nice)}). */
    public static void setThreadNice(int tid, int nice) throws PosixException {
        int rc;
        try {
            rc = (int) SETPRIORITY.invokeExact(callState(), 0 /* PRIO_PROCESS */, tid, nice);
        } catch (Throwable t) {
            throw linkageFailure("setpriority", t);
        }
        if (rc != 0) {
            throw new PosixException("setpriority(nice " + nice + ") of thread " + tid, lastErrno());
        }
    }

    /** {@code ioctl} request: how many bytes can be read now (an {@code int} written to the address given). */
    public static final long FIONREAD = 0x541BL;

    /**
     * {@code ioctl(fd, FIONREAD)}: for a fanotify group, {@code FAN_EVENT_METADATA_LEN} (24) times the
     * number of events queued, whatever their info records (docs/kernel-facts.md 6b).
     */
    public static int bytesQueued(int fd) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            ioctl(fd, FIONREAD, out.address());
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** {@code statfs(path)}: the type and id of the filesystem {@code path} is on. */
    public static StatFs statfs(String path) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(path);
            MemorySegment buf = arena.allocate(StatFs.STRUCT_SIZE, 8);
            while (true) {
                int rc;
                try {
                    rc = (int) STATFS.invokeExact(callState(), cPath, buf);
                } catch (Throwable t) {
                    throw linkageFailure("statfs", t);
                }
                if (rc == 0) {
                    return StatFs.from(buf);
                }
                if (lastErrno() != Errno.EINTR) {
                    throw new PosixException("statfs of " + path, lastErrno());
                }
            }
        }
    }

    /** {@code fstatfs(fd)}: like {@link #statfs} for an open descriptor (an event's fd, say). */
    public static StatFs fstatfs(int fd) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(StatFs.STRUCT_SIZE, 8);
            while (true) {
                int rc;
                try {
                    rc = (int) FSTATFS.invokeExact(callState(), fd, buf);
                } catch (Throwable t) {
                    throw linkageFailure("fstatfs", t);
                }
                if (rc == 0) {
                    return StatFs.from(buf);
                }
                if (lastErrno() != Errno.EINTR) {
                    throw new PosixException("fstatfs of fd " + fd, lastErrno());
                }
            }
        }
    }

    private static void intCall(MethodHandle handle, int fd, String attempted) throws PosixException {
        while (true) {
            int rc;
            try {
                rc = (int) handle.invokeExact(callState(), fd);
            } catch (Throwable t) {
                throw linkageFailure(attempted, t);
            }
            if (rc == 0) {
                return;
            }
            if (lastErrno() != Errno.EINTR) {
                throw new PosixException(attempted, lastErrno());
            }
        }
    }

    /** A downcall that threw: a programming error in a binding, never a system-call failure. */
    public static IllegalStateException linkageFailure(String call, Throwable cause) {
        return new IllegalStateException("the native call " + call + " could not be made: " + cause, cause);
    }
}
