package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * File handles: a name for a file that survives renames and is the same one fanotify reports
 * ({@code name_to_handle_at}, {@code open_by_handle_at}). A tracker records handles, not paths,
 * and resolves the current path only when it makes a result (open the handle with
 * {@link Posix#O_PATH}, then {@code readlink /proc/self/fd/N}).
 *
 * <p>{@code open_by_handle_at} needs {@code CAP_DAC_READ_SEARCH}; a handle of a deleted file fails
 * with {@code ESTALE}.
 */
public final class FileHandles {
    /** The largest handle the kernel makes (bytes of {@code f_handle}). */
    public static final int MAX_HANDLE_SZ = 128;
    /** Flag of {@code name_to_handle_at}: follow a final symbolic link. */
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    /** Flag of {@code name_to_handle_at}: an id for comparison only, which may not open (Linux 6.5+). */
    public static final int AT_HANDLE_FID = 0x200;

    private static final MethodHandle NAME_TO_HANDLE_AT = Posix.downcall("name_to_handle_at",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle OPEN_BY_HANDLE_AT = Posix.downcall("open_by_handle_at",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    /** {@code struct file_handle}: u32 handle_bytes, s32 handle_type, then the bytes. */
    private static final long HEADER = 8;

    private FileHandles() {}

    /**
     * A file's handle and the id of the mount it was found through.
     *
     * @param handleType the filesystem's handle type ({@code handle_type})
     * @param handle     the opaque handle ({@code f_handle}); compared by content
     * @param mountId    the mount id {@code name_to_handle_at} reported (matches {@code statx}'s
     *                   {@code STATX_MNT_ID} and /proc/self/mountinfo)
     */
    public record FileHandle(int handleType, byte[] handle, int mountId) {
        public FileHandle {
            handle = handle.clone();
        }

        /** A copy of the handle bytes. */
        @Override
        public byte[] handle() {
            return handle.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FileHandle h && h.handleType == handleType && h.mountId == mountId
                    && Arrays.equals(h.handle, handle);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * handleType + mountId) + Arrays.hashCode(handle);
        }

        @Override
        public String toString() {
            return "FileHandle[type " + handleType + ", " + HexFormat.of().formatHex(handle) + ", mount " + mountId + "]";
        }
    }

    /**
     * {@code name_to_handle_at(dirfd, path, ..., flags)}. For the handle of an open descriptor pass
     * the descriptor, {@code ""} and {@link Statx#AT_EMPTY_PATH}.
     */
    public static FileHandle nameToHandleAt(int dirfd, String path, int flags) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            return nameToHandleAt(dirfd, arena.allocateFrom(path), flags, arena.allocate(bufferSize(), 4),
                    arena.allocate(ValueLayout.JAVA_INT), path);
        }
    }

    /**
     * Whether {@code path} names the file whose handle is {@code handleType} and {@code handle} (the
     * generation included): {@code name_to_handle_at} into this thread's buffer, compared where it
     * lies, with nothing allocated; false if the name cannot be asked (gone meanwhile, say). For a
     * look at many names, one per object of a result.
     */
    public static boolean namesHandle(int dirfd, String path, int flags, int handleType, byte[] handle) {
        if (path.length() > CallScratch.MAX_PATH_CHARS) {
            try {
                FileHandle h = nameToHandleAt(dirfd, path, flags);
                return h.handleType() == handleType && Arrays.equals(h.handle, handle);
            } catch (PosixException e) {
                return false;
            }
        }
        CallScratch scratch = CallScratch.get();
        MemorySegment buf = scratch.head;
        assert buf.byteSize() >= HEADER + MAX_HANDLE_SZ;
        scratch.path.setString(0, path);
        buf.set(ValueLayout.JAVA_INT, 0, MAX_HANDLE_SZ);
        int rc;
        try {
            // The mount id goes where readlink's target would: this call makes no readlink.
            rc = (int) NAME_TO_HANDLE_AT.invokeExact(Posix.callState(), dirfd, scratch.path, buf, scratch.link, flags);
        } catch (Throwable t) {
            throw Posix.linkageFailure("name_to_handle_at", t);
        }
        if (rc != 0 || buf.get(ValueLayout.JAVA_INT, 0) != handle.length || buf.get(ValueLayout.JAVA_INT, 4) != handleType) {
            return false;
        }
        for (int i = 0; i < handle.length; i++) {
            if (buf.get(ValueLayout.JAVA_BYTE, HEADER + i) != handle[i]) {
                return false;
            }
        }
        return true;
    }

    /** The bytes of the buffer {@link #nameToHandleAt(int, MemorySegment, int, MemorySegment, MemorySegment, String)} needs. */
    static long bufferSize() {
        return HEADER + MAX_HANDLE_SZ;
    }

    /**
     * {@code name_to_handle_at} of the NUL-terminated {@code cPath}, into caller-kept buffers
     * ({@code handle}: {@link #bufferSize()} bytes; {@code mountId}: an int), for callers that ask
     * for many handles without allocating per call; {@code path} names it in an error.
     */
    static FileHandle nameToHandleAt(int dirfd, MemorySegment cPath, int flags, MemorySegment handle, MemorySegment mountId,
                                     String path) throws PosixException {
        handle.set(ValueLayout.JAVA_INT, 0, MAX_HANDLE_SZ);
        int rc;
        try {
            rc = (int) NAME_TO_HANDLE_AT.invokeExact(Posix.callState(), dirfd, cPath, handle, mountId, flags);
        } catch (Throwable t) {
            throw Posix.linkageFailure("name_to_handle_at", t);
        }
        if (rc != 0) {
            throw new PosixException("name_to_handle_at of " + describe(dirfd, path), Posix.lastErrno());
        }
        int length = handle.get(ValueLayout.JAVA_INT, 0);
        byte[] bytes = handle.asSlice(HEADER, length).toArray(ValueLayout.JAVA_BYTE);
        return new FileHandle(handle.get(ValueLayout.JAVA_INT, 4), bytes, mountId.get(ValueLayout.JAVA_INT, 0));
    }

    /**
     * {@code open_by_handle_at(mountFd, handle, flags)}: opens the file the handle names on the
     * filesystem {@code mountFd} is on. With {@link Posix#O_PATH} in {@code flags} it opens no content,
     * so it raises no content event. {@code mountFd} itself must be an ordinary descriptor (say
     * {@code O_RDONLY | O_DIRECTORY} of the mount point): the kernel refuses an {@code O_PATH} one with
     * {@code EBADF}. Returns the new descriptor.
     */
    public static int openByHandleAt(int mountFd, int handleType, byte[] handle, int flags) throws PosixException {
        int fd = openOrErrno(mountFd, handleType, handle, flags);
        if (fd < 0) {
            throw failed(mountFd, handleType, handle, -fd);
        }
        return fd;
    }

    /**
     * {@link #openByHandleAt(int, int, byte[], int)}, or -1 where the handle's file is gone
     * ({@code ESTALE}: its last link removed, its inode freed or reused; {@code ENOENT}). A gone
     * file is an answer here, not an error: an exception made for each of a large deletion's files
     * (its stack trace filled in) was a sixth of the answer's time.
     */
    public static int openByHandleAtIfExists(int mountFd, int handleType, byte[] handle, int flags) throws PosixException {
        int fd = openOrErrno(mountFd, handleType, handle, flags);
        if (fd == -Errno.ESTALE || fd == -Errno.ENOENT) {
            return -1;
        }
        if (fd < 0) {
            throw failed(mountFd, handleType, handle, -fd);
        }
        return fd;
    }

    /** The new descriptor, or the negated errno (EINTR retried). */
    private static int openOrErrno(int mountFd, int handleType, byte[] handle, int flags) throws PosixException {
        if (handle.length > MAX_HANDLE_SZ) {
            throw new PosixException("open_by_handle_at of a " + handle.length + "-byte handle (longer than MAX_HANDLE_SZ "
                    + MAX_HANDLE_SZ + ")", Errno.EINVAL);
        }
        // A struct file_handle of at most 8 + 128 bytes, in this thread's buffer (used by nothing else meanwhile).
        MemorySegment fileHandle = CallScratch.get().head;
        fileHandle.set(ValueLayout.JAVA_INT, 0, handle.length);
        fileHandle.set(ValueLayout.JAVA_INT, 4, handleType);
        MemorySegment.copy(handle, 0, fileHandle, ValueLayout.JAVA_BYTE, HEADER, handle.length);
        while (true) {
            int fd;
            try {
                fd = (int) OPEN_BY_HANDLE_AT.invokeExact(Posix.callState(), mountFd, fileHandle, flags);
            } catch (Throwable t) {
                throw Posix.linkageFailure("open_by_handle_at", t);
            }
            if (fd >= 0) {
                return fd;
            }
            if (Posix.lastErrno() != Errno.EINTR) {
                return -Posix.lastErrno();
            }
        }
    }

    private static PosixException failed(int mountFd, int handleType, byte[] handle, int errno) {
        return new PosixException("open_by_handle_at of handle type " + handleType + " " + HexFormat.of().formatHex(handle)
                + " on mount fd " + mountFd, errno);
    }

    /** {@link #openByHandleAt(int, int, byte[], int)} for a handle from {@link #nameToHandleAt}. */
    public static int openByHandleAt(int mountFd, FileHandle handle, int flags) throws PosixException {
        return openByHandleAt(mountFd, handle.handleType(), handle.handle, flags);
    }

    /**
     * The inode number a file handle encodes, for the handle types whose layout is known (the
     * file system's export operations write it first, little-endian): ext2/3/4's and small xfs's
     * {@code FILEID_INO32_GEN} (1, 2 with the parent), xfs's 64-bit inode numbers (0x81, 0x82) and
     * btrfs's object id (0x4d, 0x4e, 0x4f). -1 for any other type: the handle then has to be
     * opened to learn which file it names. A number matched by {@code statx} at a path proves the
     * file is there, since no two live files of one file system share one (on btrfs, of one
     * subvolume: {@link #subvolume}); only a file removed and its number given to another could fool it.
     */
    public static long inodeNumber(int handleType, byte[] handle) {
        ByteBuffer b = ByteBuffer.wrap(handle).order(ByteOrder.LITTLE_ENDIAN);
        return switch (handleType) {
            case 0x1, 0x2 -> handle.length >= 4 ? Integer.toUnsignedLong(b.getInt(0)) : -1;
            case 0x81, 0x82, 0x4d, 0x4e, 0x4f -> handle.length >= 8 ? b.getLong(0) : -1;
            default -> -1;
        };
    }

    /**
     * The btrfs subvolume a file handle names its file in (the root object id btrfs writes after
     * the object id: {@code struct btrfs_fid}), as {@link Statx#subvolume()} gives it; -1 for a
     * handle of another file system. Each subvolume numbers its objects on its own, so two live
     * files of one btrfs may share an inode number, never this pair.
     */
    public static long subvolume(int handleType, byte[] handle) {
        return switch (handleType) {
            case 0x4d, 0x4e, 0x4f -> handle.length >= 16 ? ByteBuffer.wrap(handle).order(ByteOrder.LITTLE_ENDIAN).getLong(8) : -1;
            default -> -1;
        };
    }

    static String describe(int dirfd, String path) {
        if (path.isEmpty()) {
            return "fd " + dirfd;
        }
        if (path.startsWith("/") || dirfd == Statx.AT_FDCWD) {
            return path;
        }
        return path + " relative to fd " + dirfd;
    }
}
