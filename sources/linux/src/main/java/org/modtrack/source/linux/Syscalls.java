package org.modtrack.source.linux;

import java.util.Map;

/** The x86_64 system calls the tracker cares about: which may change a file's contents, and where their fds are. */
final class Syscalls {
    static final int READ = 0;
    static final int WRITE = 1;
    static final int OPEN = 2;
    static final int MMAP = 9;
    static final int PREAD64 = 17;
    static final int PWRITE64 = 18;
    static final int READV = 19;
    static final int WRITEV = 20;
    static final int SENDFILE = 40;
    static final int EXECVE = 59;
    static final int TRUNCATE = 76;
    static final int FTRUNCATE = 77;
    static final int CREAT = 85;
    static final int READAHEAD = 187;
    static final int IO_SUBMIT = 209;
    static final int OPEN_BY_HANDLE_AT = 304;
    static final int OPENAT = 257;
    static final int SPLICE = 275;
    static final int FALLOCATE = 285;
    static final int PREADV = 295;
    static final int PWRITEV = 296;
    static final int EXECVEAT = 322;
    static final int COPY_FILE_RANGE = 326;
    static final int PREADV2 = 327;
    static final int PWRITEV2 = 328;
    static final int IO_URING_ENTER = 426;
    static final int OPENAT2 = 437;

    static final long PROT_WRITE = 0x2;
    static final long MAP_SHARED = 0x1;
    static final long MAP_SHARED_VALIDATE = 0x3;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(READ, "read"), Map.entry(WRITE, "write"), Map.entry(OPEN, "open"), Map.entry(MMAP, "mmap"),
            Map.entry(PREAD64, "pread64"), Map.entry(PWRITE64, "pwrite64"), Map.entry(READV, "readv"),
            Map.entry(WRITEV, "writev"), Map.entry(SENDFILE, "sendfile"), Map.entry(EXECVE, "execve"),
            Map.entry(TRUNCATE, "truncate"), Map.entry(FTRUNCATE, "ftruncate"), Map.entry(CREAT, "creat"),
            Map.entry(READAHEAD, "readahead"), Map.entry(IO_SUBMIT, "io_submit"), Map.entry(OPENAT, "openat"),
            Map.entry(SPLICE, "splice"), Map.entry(FALLOCATE, "fallocate"), Map.entry(PREADV, "preadv"),
            Map.entry(PWRITEV, "pwritev"), Map.entry(EXECVEAT, "execveat"), Map.entry(COPY_FILE_RANGE, "copy_file_range"),
            Map.entry(PREADV2, "preadv2"), Map.entry(PWRITEV2, "pwritev2"), Map.entry(IO_URING_ENTER, "io_uring_enter"),
            Map.entry(OPENAT2, "openat2"), Map.entry(OPEN_BY_HANDLE_AT, "open_by_handle_at"));

    private Syscalls() {}

    static String name(int nr) {
        return NAMES.getOrDefault(nr, "syscall " + nr);
    }

    /**
     * Whether a thread inside this call may be changing a file's contents on the tracked file system
     * (a checkpoint must wait for it to leave). Unknown calls count as writes, except those that
     * certainly only read or touch no file contents.
     */
    static boolean mayWrite(int nr) {
        return switch (nr) {
            case READ, PREAD64, READV, PREADV, PREADV2, READAHEAD, EXECVE, EXECVEAT -> false;
            default -> nr >= 0 && !certainlyNoContentChange(nr);
        };
    }

    /** Calls that never change file contents and may block for long (so a checkpoint need not wait for them). */
    private static boolean certainlyNoContentChange(int nr) {
        return switch (nr) {
            case 7 /* poll */, 23 /* select */, 34 /* pause */, 35 /* nanosleep */, 61 /* wait4 */,
                 202 /* futex */, 230 /* clock_nanosleep */, 232 /* epoll_wait */, 270 /* pselect6 */,
                 271 /* ppoll */, 281 /* epoll_pwait */, 441 /* epoll_pwait2 */, 247 /* waitid */,
                 43 /* accept */, 288 /* accept4 */, 45 /* recvfrom */, 47 /* recvmsg */, 299 /* recvmmsg */,
                 44 /* sendto */, 46 /* sendmsg */, 307 /* sendmmsg */, 42 /* connect */, 128 /* rt_sigtimedwait */,
                 130 /* rt_sigsuspend */, 3 /* close */, 4, 5, 6 /* stat family */, 332 /* statx */,
                 89 /* readlink */, 267 /* readlinkat */, 217 /* getdents64 */, 78 /* getdents */ -> true;
            default -> false;
        };
    }

    /** The fd whose file the call writes, if it has one (-1: none, or the file is named by path). */
    static int writtenFd(SyscallState s) {
        return switch (s.number()) {
            case WRITE, PWRITE64, WRITEV, PWRITEV, PWRITEV2, FTRUNCATE, FALLOCATE, MMAP -> fd(s, s.number() == MMAP ? 4 : 0);
            case SENDFILE -> fd(s, 0);
            case SPLICE, COPY_FILE_RANGE -> fd(s, 2);
            default -> -1;
        };
    }

    /** The fd a reading call reads from (-1 if the call is not a plain read of one fd). */
    static int readFd(SyscallState s) {
        return switch (s.number()) {
            case READ, PREAD64, READV, PREADV, PREADV2, READAHEAD -> fd(s, 0);
            case SENDFILE -> fd(s, 1);
            case SPLICE, COPY_FILE_RANGE -> fd(s, 0);
            case MMAP -> fd(s, 4);
            default -> -1;
        };
    }

    private static int fd(SyscallState s, int arg) {
        long v = s.arg(arg);
        return v >= 0 && v < Integer.MAX_VALUE ? (int) v : -1;
    }
}
