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
    private static final MethodHandle FSYNC = downcall("fsync",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle FTRUNCATE = downcall("ftruncate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle LSEEK = downcall("lseek",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private static final int SEEK_END = 2;

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

    /** fdatasync: makes the file's data, and the metadata needed to read it back, durable. */
    public static void fdatasync(int fd, String path) throws PosixException {
        intCall(FDATASYNC, fd, "fdatasync of " + path);
    }

    /** fsync: makes the file's data and all its metadata durable (for a directory: its entries). */
    public static void fsync(int fd, String path) throws PosixException {
        intCall(FSYNC, fd, "fsync of " + path);
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
