package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.StringJoiner;

/**
 * fanotify(7): {@code fanotify_init}, {@code fanotify_mark} and the response to a permission event,
 * with the constants of the kernel's uapi header ({@code include/uapi/linux/fanotify.h}, Linux 6.14
 * and later). The machine's userspace header is older and lacks many of them, so they are spelled
 * out here. Events are read with {@link Posix#read} and parsed with {@link FanotifyEvents}.
 */
public final class Fanotify {
    // fanotify_init flags
    public static final int FAN_CLOEXEC = 0x00000001;
    public static final int FAN_NONBLOCK = 0x00000002;
    public static final int FAN_CLASS_NOTIF = 0x00000000;
    public static final int FAN_CLASS_CONTENT = 0x00000004;
    public static final int FAN_CLASS_PRE_CONTENT = 0x00000008;
    public static final int FAN_UNLIMITED_QUEUE = 0x00000010;
    public static final int FAN_UNLIMITED_MARKS = 0x00000020;
    public static final int FAN_ENABLE_AUDIT = 0x00000040;
    public static final int FAN_REPORT_PIDFD = 0x00000080;
    /** The event's pid field is the thread id, which is what /proc/&lt;tid&gt;/syscall needs. */
    public static final int FAN_REPORT_TID = 0x00000100;
    public static final int FAN_REPORT_FID = 0x00000200;
    public static final int FAN_REPORT_DIR_FID = 0x00000400;
    public static final int FAN_REPORT_NAME = 0x00000800;
    public static final int FAN_REPORT_TARGET_FID = 0x00001000;
    public static final int FAN_REPORT_FD_ERROR = 0x00002000;
    public static final int FAN_REPORT_DFID_NAME = FAN_REPORT_DIR_FID | FAN_REPORT_NAME;
    public static final int FAN_REPORT_DFID_NAME_TARGET = FAN_REPORT_DFID_NAME | FAN_REPORT_FID | FAN_REPORT_TARGET_FID;

    // fanotify_mark flags
    public static final int FAN_MARK_ADD = 0x00000001;
    public static final int FAN_MARK_REMOVE = 0x00000002;
    public static final int FAN_MARK_DONT_FOLLOW = 0x00000004;
    public static final int FAN_MARK_ONLYDIR = 0x00000008;
    public static final int FAN_MARK_MOUNT = 0x00000010;
    public static final int FAN_MARK_IGNORED_MASK = 0x00000020;
    public static final int FAN_MARK_IGNORED_SURV_MODIFY = 0x00000040;
    public static final int FAN_MARK_FLUSH = 0x00000080;
    public static final int FAN_MARK_FILESYSTEM = 0x00000100;
    /** The mark may be dropped when the inode is evicted from the cache; it does not pin the inode. */
    public static final int FAN_MARK_EVICTABLE = 0x00000200;
    /** The new-style ignore mark (exclusive with {@link #FAN_MARK_IGNORED_MASK}). */
    public static final int FAN_MARK_IGNORE = 0x00000400;
    public static final int FAN_MARK_INODE = 0x00000000;

    // event mask bits
    public static final long FAN_ACCESS = 0x00000001L;
    public static final long FAN_MODIFY = 0x00000002L;
    public static final long FAN_ATTRIB = 0x00000004L;
    public static final long FAN_CLOSE_WRITE = 0x00000008L;
    public static final long FAN_CLOSE_NOWRITE = 0x00000010L;
    public static final long FAN_OPEN = 0x00000020L;
    public static final long FAN_MOVED_FROM = 0x00000040L;
    public static final long FAN_MOVED_TO = 0x00000080L;
    public static final long FAN_CREATE = 0x00000100L;
    public static final long FAN_DELETE = 0x00000200L;
    public static final long FAN_DELETE_SELF = 0x00000400L;
    public static final long FAN_MOVE_SELF = 0x00000800L;
    public static final long FAN_OPEN_EXEC = 0x00001000L;
    public static final long FAN_Q_OVERFLOW = 0x00004000L;
    public static final long FAN_FS_ERROR = 0x00008000L;
    public static final long FAN_OPEN_PERM = 0x00010000L;
    public static final long FAN_ACCESS_PERM = 0x00020000L;
    public static final long FAN_OPEN_EXEC_PERM = 0x00040000L;
    /** The pre-content hook: raised before data is read or written (and on mmap, truncate, fallocate). */
    public static final long FAN_PRE_ACCESS = 0x00100000L;
    public static final long FAN_EVENT_ON_CHILD = 0x08000000L;
    public static final long FAN_RENAME = 0x10000000L;
    public static final long FAN_ONDIR = 0x40000000L;
    /** The events that wait for a {@link #respond response}. */
    public static final long PERMISSION_EVENTS = FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM | FAN_PRE_ACCESS;

    // responses
    public static final int FAN_ALLOW = 0x01;
    public static final int FAN_DENY = 0x02;
    public static final int FAN_AUDIT = 0x10;
    public static final int FAN_INFO = 0x20;
    private static final int FAN_ERRNO_SHIFT = 24;
    private static final int FAN_ERRNO_MASK = 0xff;

    // info record types
    public static final int FAN_EVENT_INFO_TYPE_FID = 1;
    public static final int FAN_EVENT_INFO_TYPE_DFID_NAME = 2;
    public static final int FAN_EVENT_INFO_TYPE_DFID = 3;
    public static final int FAN_EVENT_INFO_TYPE_PIDFD = 4;
    public static final int FAN_EVENT_INFO_TYPE_ERROR = 5;
    public static final int FAN_EVENT_INFO_TYPE_RANGE = 6;
    public static final int FAN_EVENT_INFO_TYPE_MNT = 7;
    public static final int FAN_EVENT_INFO_TYPE_OLD_DFID_NAME = 10;
    public static final int FAN_EVENT_INFO_TYPE_NEW_DFID_NAME = 12;

    /** The fd of an event that carries none (FID-reporting groups, queue overflow). */
    public static final int FAN_NOFD = -1;
    public static final int FANOTIFY_METADATA_VERSION = 3;
    /** {@code sizeof(struct fanotify_event_metadata)}. */
    public static final int FAN_EVENT_METADATA_LEN = 24;

    private static final MethodHandle INIT = Posix.downcall("fanotify_init",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle MARK = Posix.downcall("fanotify_mark",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    /** {@code struct fanotify_response}: s32 fd, u32 response. */
    private static final long RESPONSE_SIZE = 8;
    /** One response buffer per thread: responding is on the hot path and must not allocate. */
    private static final ThreadLocal<MemorySegment> RESPONSE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(RESPONSE_SIZE, 4));

    private static final String[] MASK_NAMES = new String[64];
    private static final String[] MARK_FLAG_NAMES = new String[32];

    static {
        String[] events = {"FAN_ACCESS", "FAN_MODIFY", "FAN_ATTRIB", "FAN_CLOSE_WRITE", "FAN_CLOSE_NOWRITE", "FAN_OPEN",
            "FAN_MOVED_FROM", "FAN_MOVED_TO", "FAN_CREATE", "FAN_DELETE", "FAN_DELETE_SELF", "FAN_MOVE_SELF",
            "FAN_OPEN_EXEC", null, "FAN_Q_OVERFLOW", "FAN_FS_ERROR", "FAN_OPEN_PERM", "FAN_ACCESS_PERM",
            "FAN_OPEN_EXEC_PERM", null, "FAN_PRE_ACCESS"};
        System.arraycopy(events, 0, MASK_NAMES, 0, events.length);
        MASK_NAMES[27] = "FAN_EVENT_ON_CHILD";
        MASK_NAMES[28] = "FAN_RENAME";
        MASK_NAMES[30] = "FAN_ONDIR";
        String[] marks = {"FAN_MARK_ADD", "FAN_MARK_REMOVE", "FAN_MARK_DONT_FOLLOW", "FAN_MARK_ONLYDIR", "FAN_MARK_MOUNT",
            "FAN_MARK_IGNORED_MASK", "FAN_MARK_IGNORED_SURV_MODIFY", "FAN_MARK_FLUSH", "FAN_MARK_FILESYSTEM",
            "FAN_MARK_EVICTABLE", "FAN_MARK_IGNORE"};
        System.arraycopy(marks, 0, MARK_FLAG_NAMES, 0, marks.length);
    }

    private Fanotify() {}

    /** {@code fanotify_init(flags, eventFFlags)}: a new group; {@code eventFFlags} are the open flags of event fds. */
    public static int init(int flags, int eventFFlags) throws PosixException {
        int fd;
        try {
            fd = (int) INIT.invokeExact(Posix.callState(), flags, eventFFlags);
        } catch (Throwable t) {
            throw Posix.linkageFailure("fanotify_init", t);
        }
        if (fd < 0) {
            throw new PosixException("fanotify_init(0x" + Integer.toHexString(flags) + ", 0x"
                    + Integer.toHexString(eventFFlags) + ")", Posix.lastErrno());
        }
        return fd;
    }

    /**
     * {@code fanotify_mark(fd, flags, mask, dirfd, path)}. {@code path} may be null to mark the object
     * {@code dirfd} refers to (an event's fd, for an ignore mark on that file).
     */
    public static void mark(int fd, int flags, long mask, int dirfd, String pathOrNull) throws PosixException {
        if (pathOrNull == null) {
            // the ignore mark on an event's fd: once per recorded file, so no arena for a path we do not have
            mark(fd, flags, mask, dirfd, MemorySegment.NULL, null);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            mark(fd, flags, mask, dirfd, arena.allocateFrom(pathOrNull), pathOrNull);
        }
    }

    private static void mark(int fd, int flags, long mask, int dirfd, MemorySegment cPath, String path) throws PosixException {
        int rc;
        try {
            rc = (int) MARK.invokeExact(Posix.callState(), fd, flags, mask, dirfd, cPath);
        } catch (Throwable t) {
            throw Posix.linkageFailure("fanotify_mark", t);
        }
        if (rc != 0) {
            throw new PosixException("fanotify_mark(" + markFlagNames(flags) + ", " + maskNames(mask) + ") of "
                    + (path == null ? "fd " + dirfd : path) + " on group fd " + fd, Posix.lastErrno());
        }
    }

    /**
     * Answers the permission event whose fd is {@code eventFd}: {@link #FAN_ALLOW}, {@link #FAN_DENY} or
     * {@link #FAN_DENY_ERRNO}. The caller still owns {@code eventFd} and closes it afterwards.
     */
    public static void respond(int fd, int eventFd, int response) throws PosixException {
        MemorySegment buf = RESPONSE.get();
        buf.set(ValueLayout.JAVA_INT, 0, eventFd);
        buf.set(ValueLayout.JAVA_INT, 4, response);
        long n;
        try {
            n = Posix.write(fd, buf);
        } catch (PosixException e) {
            // the message is built only on failure: answering is the hot path
            throw new PosixException(responseAttempt(fd, eventFd, response), e.errno());
        }
        if (n != RESPONSE_SIZE) {
            throw new PosixException(responseAttempt(fd, eventFd, response) + " (wrote " + n + " of " + RESPONSE_SIZE
                    + " bytes)", Errno.EIO);
        }
    }

    private static String responseAttempt(int fd, int eventFd, int response) {
        return "fanotify response 0x" + Integer.toHexString(response) + " to event fd " + eventFd + " on group fd " + fd;
    }

    /** {@code FAN_DENY_ERRNO(errno)}: deny, and make the blocked call fail with {@code errno} (Linux 6.14+, pre-content events). */
    // Named like the uapi macro it mirrors, so a search for the C name finds it.
    public static int FAN_DENY_ERRNO(int errno) {
        return FAN_DENY | ((errno & FAN_ERRNO_MASK) << FAN_ERRNO_SHIFT);
    }

    /** Whether {@code mask} holds an event that waits for a response. */
    public static boolean isPermissionEvent(long mask) {
        return (mask & PERMISSION_EVENTS) != 0;
    }

    /** {@code "FAN_PRE_ACCESS|FAN_ONDIR"}: the names of {@code mask}'s bits (unknown bits in hex), for messages. */
    public static String maskNames(long mask) {
        return names(mask, MASK_NAMES);
    }

    /** {@code "FAN_MARK_ADD|FAN_MARK_FILESYSTEM"}; {@code "FAN_MARK_INODE"} for 0. */
    public static String markFlagNames(int flags) {
        return flags == 0 ? "FAN_MARK_INODE" : names(Integer.toUnsignedLong(flags), MARK_FLAG_NAMES);
    }

    private static String names(long bits, String[] names) {
        if (bits == 0) {
            return "0";
        }
        StringJoiner joined = new StringJoiner("|");
        for (int bit = 0; bit < 64; bit++) {
            long value = 1L << bit;
            if ((bits & value) != 0) {
                String name = bit < names.length ? names[bit] : null;
                joined.add(name != null ? name : "0x" + Long.toHexString(value));
            }
        }
        return joined.toString();
    }
}
