package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * What {@code statx(2)} says about a file, and the call itself ({@link #statx}). Fields not in
 * {@link #mask()} (the kernel answers only what it was asked and can give) are zero. Timestamps
 * are nanoseconds since the epoch; a change of ctime is how a tracker tells "written" from "read"
 * after the fact, which is why the call offers {@link #AT_STATX_FORCE_SYNC} and friends.
 *
 * @param mask       the {@code STATX_*} bits the kernel filled in
 * @param mode       file type and permission bits ({@code st_mode})
 * @param nlink      hard links
 * @param uid        owner
 * @param gid        group
 * @param ino        inode number
 * @param size       bytes
 * @param blocks     512-byte blocks allocated
 * @param atimeNanos last access
 * @param btimeNanos birth (creation), if {@link #STATX_BTIME} is in {@code mask}
 * @param ctimeNanos last status change (any write changes it)
 * @param mtimeNanos last modification of the content
 * @param devMajor   major number of the device the file is on
 * @param devMinor   minor number of that device
 * @param mountId    the mount's id, if {@link #STATX_MNT_ID} is in {@code mask}
 * @param subvolume  the subvolume the file is in (btrfs: its tree's id), if {@link #STATX_SUBVOL} is in
 *     {@code mask} (Linux 6.10+, file systems with subvolumes only)
 */
public record Statx(int mask, int mode, int nlink, int uid, int gid, long ino, long size, long blocks,
        long atimeNanos, long btimeNanos, long ctimeNanos, long mtimeNanos, int devMajor, int devMinor, long mountId,
        long subvolume) {
    public static final int STATX_TYPE = 0x1;
    public static final int STATX_MODE = 0x2;
    public static final int STATX_NLINK = 0x4;
    public static final int STATX_UID = 0x8;
    public static final int STATX_GID = 0x10;
    public static final int STATX_ATIME = 0x20;
    public static final int STATX_MTIME = 0x40;
    public static final int STATX_CTIME = 0x80;
    public static final int STATX_INO = 0x100;
    public static final int STATX_SIZE = 0x200;
    public static final int STATX_BLOCKS = 0x400;
    /** Everything {@code stat(2)} gives. */
    public static final int STATX_BASIC_STATS = 0x7ff;
    public static final int STATX_BTIME = 0x800;
    public static final int STATX_MNT_ID = 0x1000;
    /** The subvolume ({@link #subvolume()}), on file systems that have them; Linux 6.10+. */
    public static final int STATX_SUBVOL = 0x8000;

    /** {@code dirfd} meaning the current directory. */
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_NO_AUTOMOUNT = 0x800;
    /** With an empty path: the file {@code dirfd} itself refers to. */
    public static final int AT_EMPTY_PATH = 0x1000;
    /** Whatever {@code stat(2)} would do (the default: 0). */
    public static final int AT_STATX_SYNC_AS_STAT = 0x0000;
    /** Ask a network filesystem's server; local filesystems are always current. */
    public static final int AT_STATX_FORCE_SYNC = 0x2000;
    public static final int AT_STATX_DONT_SYNC = 0x4000;

    private static final MethodHandle STATX = Posix.downcall("statx",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    /** {@code sizeof(struct statx)}: 256 bytes, the tail being spare. */
    private static final long STRUCT_SIZE = 256;

    /**
     * {@code statx(dirfd, path, flags, mask, ...)}. For an open descriptor pass it, {@code ""} and
     * {@link #AT_EMPTY_PATH}.
     */
    public static Statx statx(int dirfd, String path, int flags, int mask) throws PosixException {
        Statx st = statxIfExists(dirfd, path, flags, mask, false);
        assert st != null;
        return st;
    }

    /**
     * {@link #statx(int, String, int, int)}, or null where nothing is at the path ({@code ENOENT},
     * or {@code ENOTDIR}: a component of it is no directory). Nothing there is an answer here, not
     * an error: an exception made for each of a large deletion's paths (its stack trace filled in)
     * cost more than the call.
     */
    public static Statx statxIfExists(int dirfd, String path, int flags, int mask) throws PosixException {
        return statxIfExists(dirfd, path, flags, mask, true);
    }

    private static Statx statxIfExists(int dirfd, String path, int flags, int mask, boolean nothingIsAnAnswer)
            throws PosixException {
        if (path.length() > CallScratch.MAX_PATH_CHARS) {
            try (Arena arena = Arena.ofConfined()) { // longer than this thread's buffer holds: an arena of its own
                MemorySegment buf = arena.allocate(STRUCT_SIZE, 8);
                return answer(dirfd, path, statxOrErrno(dirfd, arena.allocateFrom(path), flags, mask, buf), buf,
                        nothingIsAnAnswer);
            }
        }
        CallScratch scratch = CallScratch.get();
        assert scratch.head.byteSize() >= STRUCT_SIZE;
        scratch.path.setString(0, path);
        return answer(dirfd, path, statxOrErrno(dirfd, scratch.path, flags, mask, scratch.head), scratch.head,
                nothingIsAnAnswer);
    }

    private static Statx answer(int dirfd, String path, int errno, MemorySegment buf, boolean nothingIsAnAnswer)
            throws PosixException {
        if (nothingIsAnAnswer && (errno == Errno.ENOENT || errno == Errno.ENOTDIR)) {
            return null;
        }
        if (errno != 0) {
            throw new PosixException("statx of " + FileHandles.describe(dirfd, path), errno);
        }
        return from(buf);
    }

    /** {@code sizeof(struct statx)}, for a caller that keeps its own buffer ({@link DirectoryReader}). */
    static long structSize() {
        return STRUCT_SIZE;
    }

    /**
     * {@code statx} of the NUL-terminated {@code cPath} into {@code buf} ({@link #structSize()}
     * bytes), for callers that stat many files without allocating per call; {@code path} names it
     * in an error.
     */
    static Statx statx(int dirfd, MemorySegment cPath, int flags, int mask, MemorySegment buf, String path)
            throws PosixException {
        return answer(dirfd, path, statxOrErrno(dirfd, cPath, flags, mask, buf), buf, false);
    }

    /** 0 with {@code buf} filled in, or the errno (EINTR retried). */
    private static int statxOrErrno(int dirfd, MemorySegment cPath, int flags, int mask, MemorySegment buf) {
        while (true) {
            int rc;
            try {
                rc = (int) STATX.invokeExact(Posix.callState(), dirfd, cPath, flags, mask, buf);
            } catch (Throwable t) {
                throw Posix.linkageFailure("statx", t);
            }
            if (rc == 0) {
                return 0;
            }
            if (Posix.lastErrno() != Errno.EINTR) {
                return Posix.lastErrno();
            }
        }
    }

    /** Reads {@code struct statx} (linux/stat.h); each timestamp is s64 seconds, u32 nanoseconds, s32 padding. */
    private static Statx from(MemorySegment b) {
        return new Statx(b.get(ValueLayout.JAVA_INT, 0), Short.toUnsignedInt(b.get(ValueLayout.JAVA_SHORT, 28)),
                b.get(ValueLayout.JAVA_INT, 16), b.get(ValueLayout.JAVA_INT, 20), b.get(ValueLayout.JAVA_INT, 24),
                b.get(ValueLayout.JAVA_LONG, 32), b.get(ValueLayout.JAVA_LONG, 40), b.get(ValueLayout.JAVA_LONG, 48),
                nanos(b, 64), nanos(b, 80), nanos(b, 96), nanos(b, 112),
                b.get(ValueLayout.JAVA_INT, 136), b.get(ValueLayout.JAVA_INT, 140), b.get(ValueLayout.JAVA_LONG, 144),
                b.get(ValueLayout.JAVA_LONG, 160));
    }

    private static long nanos(MemorySegment b, long offset) {
        return b.get(ValueLayout.JAVA_LONG, offset) * 1_000_000_000L + Integer.toUnsignedLong(b.get(ValueLayout.JAVA_INT, offset + 8));
    }

    /** Whether {@code mode} is a directory's. */
    public boolean isDirectory() {
        return (mode & 0170000) == 0040000;
    }

    /** Whether {@code mode} is a regular file's. */
    public boolean isRegularFile() {
        return (mode & 0170000) == 0100000;
    }
}
