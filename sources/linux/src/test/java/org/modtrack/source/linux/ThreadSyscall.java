package org.modtrack.source.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;

/**
 * The system call a thread is in, from {@code /proc/<pid>/task/<tid>/syscall}: how the source tells
 * a read from a write while the thread waits for the answer to its {@code FAN_PRE_ACCESS} event
 * (the event itself looks the same for both). The kernel answers only while the thread is blocked:
 * {@code "nr arg0 .. arg5 sp pc"}; {@code "-1 sp pc"} when it is blocked outside a system call (a
 * page fault); {@code "running"} when it runs.
 *
 * <p>Read with {@link Posix} calls into a per-thread buffer, not {@code java.nio}: an interrupt must
 * not close anything on the event path, and procfs raises no fanotify events.
 *
 * @param state  whether the thread was in a system call, blocked outside one, or running
 * @param number the x86_64 system call number ({@link #READ}...), or -1
 * @param args   its six arguments (all zero when not in a system call)
 */
public record ThreadSyscall(State state, int number, long[] args) {
    /** What the kernel could say about the thread. */
    public enum State { IN_SYSCALL, NOT_IN_SYSCALL, RUNNING }

    // x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl)
    public static final int READ = 0;
    public static final int WRITE = 1;
    public static final int OPEN = 2;
    public static final int MMAP = 9;
    public static final int PREAD64 = 17;
    public static final int PWRITE64 = 18;
    public static final int READV = 19;
    public static final int WRITEV = 20;
    public static final int SENDFILE = 40;
    public static final int TRUNCATE = 76;
    public static final int FTRUNCATE = 77;
    public static final int OPENAT = 257;
    public static final int SPLICE = 275;
    public static final int FALLOCATE = 285;
    public static final int PREADV = 295;
    public static final int PWRITEV = 296;
    public static final int COPY_FILE_RANGE = 326;
    public static final int PREADV2 = 327;
    public static final int PWRITEV2 = 328;
    public static final int OPENAT2 = 437;

    // mmap arguments
    public static final long PROT_READ = 0x1;
    public static final long PROT_WRITE = 0x2;
    public static final long MAP_SHARED = 0x01;
    public static final long MAP_PRIVATE = 0x02;

    /** The file is one line of at most 9 hexadecimal numbers. */
    private static final int MAX_LINE = 256;
    private static final ThreadLocal<MemorySegment> BUFFER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(MAX_LINE));

    public ThreadSyscall {
        args = args.clone();
    }

    /** A copy of the six arguments. */
    @Override
    public long[] args() {
        return args.clone();
    }

    /** Argument {@code i} (0..5). */
    public long arg(int i) {
        return args[i];
    }

    /** Reads {@code /proc/<pid>/task/<tid>/syscall}; with {@code FAN_REPORT_TID} the event's pid is the tid. */
    public static ThreadSyscall read(int pid, int tid) throws PosixException {
        return parse(readProcFile("/proc/" + pid + "/task/" + tid + "/syscall"));
    }

    /** Reads {@code /proc/<tid>/syscall}: procfs also answers for a thread id that is not a process id. */
    public static ThreadSyscall read(int tid) throws PosixException {
        return parse(readProcFile("/proc/" + tid + "/syscall"));
    }

    /** Parses the file's line (see the class comment). */
    public static ThreadSyscall parse(String line) {
        String text = line.strip();
        if (text.equals("running")) {
            return new ThreadSyscall(State.RUNNING, -1, new long[6]);
        }
        String[] fields = text.split(" ");
        int number;
        try {
            number = Integer.parseInt(fields[0]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a /proc/<tid>/syscall line: \"" + text + "\".");
        }
        if (number < 0) {
            return new ThreadSyscall(State.NOT_IN_SYSCALL, -1, new long[6]);
        }
        if (fields.length < 7) {
            throw new IllegalArgumentException("a /proc/<tid>/syscall line with " + fields.length
                    + " fields, expected 9: \"" + text + "\".");
        }
        long[] args = new long[6];
        for (int i = 0; i < 6; i++) {
            args[i] = Long.parseUnsignedLong(fields[i + 1].substring(fields[i + 1].startsWith("0x") ? 2 : 0), 16);
        }
        return new ThreadSyscall(State.IN_SYSCALL, number, args);
    }

    private static String readProcFile(String path) throws PosixException {
        MemorySegment buffer = BUFFER.get();
        int fd = Posix.open(path, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        try {
            long n = Posix.pread(fd, buffer, 0, path);
            return new String(buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
        } finally {
            Posix.close(fd, path);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ThreadSyscall t && t.state == state && t.number == number && Arrays.equals(t.args, args);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * state.hashCode() + number) + Arrays.hashCode(args);
    }

    /** {@code "18 (0x5, 0x7f.., 0x1, 0x1388, 0x0, 0x0)"}, {@code "running"} or {@code "not in a system call"}. */
    @Override
    public String toString() {
        return switch (state) {
            case RUNNING -> "running";
            case NOT_IN_SYSCALL -> "not in a system call";
            case IN_SYSCALL -> number + " (" + String.join(", ", Arrays.stream(args).mapToObj(a -> "0x" + Long.toHexString(a)).toList()) + ")";
        };
    }
}
