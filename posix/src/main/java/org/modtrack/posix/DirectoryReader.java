package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * The entries of one directory, read with {@code getdents64} into one buffer, and the
 * {@code statx} and {@code name_to_handle_at} of each entry relative to the open directory.
 *
 * <p>Why not {@link java.nio.file.Files#newDirectoryStream}: a tracker's result scans and walks read
 * every entry of many directories and stat each. Through the JDK each entry costs a {@code Path},
 * then every call by absolute path allocates a native copy of it and makes the kernel look up
 * every component again. Here an entry costs a lookup of its name in the directory already open,
 * no native allocation, and its name is passed to the kernel from where {@code getdents64} put
 * it. {@code benchmarks/peers/answer --files 200000} measured the scan of a result at 5-7 µs per
 * entry the JDK's way.
 *
 * <p>Names are decoded as UTF-8 (bytes that are not become U+FFFD), as fanotify's and
 * {@code readlink}'s are; the calls use the name's own bytes, so an entry whose name is not UTF-8 is
 * still stat'ed. Not thread-safe: one thread reads a directory. {@code "."} and {@code ".."} are
 * skipped.
 */
public final class DirectoryReader implements AutoCloseable {
    /** {@code d_type} of a directory. */
    public static final int DT_DIR = 4;
    /** {@code d_type} when the file system does not say: {@code statx} tells. */
    public static final int DT_UNKNOWN = 0;
    /** Bytes read per {@code getdents64}: about 1,500 entries of ext4's usual name lengths. */
    private static final int BUFFER_BYTES = 64 * 1024;
    /** {@code struct linux_dirent64}: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, then the name. */
    private static final int NAME_OFFSET = 19;
    /**
     * Bytes read per {@code getdents64} by {@link #openSmall}: a directory of /proc (a process's
     * threads, its open files) has tens of entries, and the buffer is zeroed at every open.
     */
    private static final int SMALL_BUFFER_BYTES = 4 * 1024;
    private static final MethodHandle GETDENTS64 = Posix.downcall("getdents64",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle READLINKAT = Posix.downcall("readlinkat",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG));

    /** The empty C string that, with {@code AT_EMPTY_PATH}, makes a call about the descriptor itself. */
    private static final MemorySegment EMPTY_PATH = Arena.global().allocateFrom("");

    private final String path;
    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final int bufferBytes;
    private final MemorySegment entries;
    private final MemorySegment statBuffer = arena.allocate(Statx.structSize(), 8);
    private final MemorySegment handleBuffer = arena.allocate(FileHandles.bufferSize(), 4);
    private final MemorySegment mountId = arena.allocate(ValueLayout.JAVA_INT);
    private long filled;
    private long at;
    private long current = -1; // offset of the current entry in entries
    private int nameLength;
    /** Where a name is copied to be decoded: Linux's names have at most 255 bytes (NAME_MAX); grown for a longer one. */
    private byte[] nameBytes = new byte[256];
    private String name;
    private boolean closed;

    private DirectoryReader(String path, int fd, int bufferBytes) {
        this.path = path;
        this.fd = fd;
        this.bufferBytes = bufferBytes;
        this.entries = arena.allocate(bufferBytes, 8);
    }

    /**
     * Opens the directory at {@code path} ({@code O_DIRECTORY}, {@code O_NOFOLLOW}: a symbolic link
     * there fails with {@code ENOTDIR} or {@code ELOOP}, a file with {@code ENOTDIR}).
     */
    public static DirectoryReader open(String path) throws PosixException {
        return open(path, BUFFER_BYTES);
    }

    /** Like {@link #open}, with a buffer for a directory of tens of entries (one of /proc's). */
    public static DirectoryReader openSmall(String path) throws PosixException {
        return open(path, SMALL_BUFFER_BYTES);
    }

    private static DirectoryReader open(String path, int bufferBytes) throws PosixException {
        int fd = Posix.open(path, Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_NOFOLLOW | Posix.O_CLOEXEC, 0);
        return new DirectoryReader(path, fd, bufferBytes);
    }

    /** The path the directory was opened at. */
    public String path() {
        return path;
    }

    /** Moves to the next entry; false at the end of the directory. */
    public boolean next() throws PosixException {
        if (closed) {
            throw new IllegalStateException("read after close: " + path);
        }
        while (true) {
            if (at >= filled) {
                long n = fill();
                if (n == 0) {
                    current = -1;
                    return false;
                }
            }
            long entry = at;
            int length = Short.toUnsignedInt(entries.get(ValueLayout.JAVA_SHORT_UNALIGNED, entry + 16));
            if (length < NAME_OFFSET + 1 || entry + length > filled) {
                throw new IllegalStateException("getdents64 of " + path + " returned a record of " + length
                        + " bytes at " + entry + " of " + filled);
            }
            at = entry + length;
            int n = 0;
            while (n < length - NAME_OFFSET && entries.get(ValueLayout.JAVA_BYTE, entry + NAME_OFFSET + n) != 0) {
                n++;
            }
            if (isDot(entry, n)) {
                continue;
            }
            current = entry;
            nameLength = n;
            name = null;
            return true;
        }
    }

    private long fill() throws PosixException {
        while (true) {
            long n;
            try {
                n = (long) GETDENTS64.invokeExact(Posix.callState(), fd, entries, (long) bufferBytes);
            } catch (Throwable t) {
                throw Posix.linkageFailure("getdents64", t);
            }
            if (n >= 0) {
                filled = n;
                at = 0;
                return n;
            }
            if (Posix.lastErrno() != Errno.EINTR) {
                throw new PosixException("getdents64 of " + path, Posix.lastErrno());
            }
        }
    }

    private boolean isDot(long entry, int n) {
        return (n == 1 || n == 2) && entries.get(ValueLayout.JAVA_BYTE, entry + NAME_OFFSET) == '.'
                && (n == 1 || entries.get(ValueLayout.JAVA_BYTE, entry + NAME_OFFSET + 1) == '.');
    }

    private void requireEntry() {
        if (current < 0) {
            throw new IllegalStateException("no current entry of " + path);
        }
    }

    /** The current entry's name. */
    public String name() {
        requireEntry();
        if (name == null) {
            // Through one buffer: a scan decodes a million names, and a copy each was garbage.
            if (nameLength > nameBytes.length) {
                nameBytes = new byte[nameLength];
            }
            MemorySegment.copy(entries, ValueLayout.JAVA_BYTE, current + NAME_OFFSET, nameBytes, 0, nameLength);
            name = new String(nameBytes, 0, nameLength, StandardCharsets.UTF_8);
        }
        return name;
    }

    /** How many bytes the current entry's name has. */
    public int nameLength() {
        requireEntry();
        return nameLength;
    }

    /**
     * Copies the current entry's name, as the kernel gave its bytes, into {@code dst} from
     * {@code offset}: a scan keeps a million names without making a {@code String} of each.
     */
    public void copyName(byte[] dst, int offset) {
        requireEntry();
        MemorySegment.copy(entries, ValueLayout.JAVA_BYTE, current + NAME_OFFSET, dst, offset, nameLength);
    }

    /**
     * The current entry's name read as a decimal number (a process or thread of /proc, an fd of
     * {@code /proc/<pid>/fd}), or -1 if it is not one: without making a {@code String} of it.
     */
    public long number() {
        requireEntry();
        if (nameLength == 0 || nameLength > 18) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < nameLength; i++) {
            int digit = entries.get(ValueLayout.JAVA_BYTE, current + NAME_OFFSET + i) - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            value = value * 10 + digit;
        }
        return value;
    }

    /**
     * {@code readlinkat} of the current entry into {@code target}: the length of the target, as
     * many of its bytes as fit (a length of {@code target.byteSize()} may have been cut).
     *
     * @throws PosixException if the entry is not a symbolic link ({@code EINVAL}) or is gone
     */
    public int readlink(MemorySegment target) throws PosixException {
        requireEntry();
        long n;
        try {
            n = (long) READLINKAT.invokeExact(Posix.callState(), fd, entries.asSlice(current + NAME_OFFSET), target,
                    target.byteSize());
        } catch (Throwable t) {
            throw Posix.linkageFailure("readlinkat", t);
        }
        if (n < 0) {
            throw new PosixException("readlink of " + childPath(), Posix.lastErrno());
        }
        return (int) n;
    }

    /** The current entry's path: the directory's path, a slash and its name. */
    public String childPath() {
        return path.endsWith("/") ? path + name() : path + "/" + name();
    }

    /** The current entry's inode number ({@code d_ino}). */
    public long inode() {
        requireEntry();
        return entries.get(ValueLayout.JAVA_LONG_UNALIGNED, current);
    }

    /** The current entry's type ({@code d_type}: {@link #DT_DIR}, {@link #DT_UNKNOWN}, ...). */
    public int type() {
        requireEntry();
        return Byte.toUnsignedInt(entries.get(ValueLayout.JAVA_BYTE, current + 18));
    }

    /** {@code statx} of the current entry in this directory ({@code ENOENT}: removed since it was read). */
    public Statx statx(int flags, int mask) throws PosixException {
        requireEntry();
        try {
            return Statx.statx(fd, entries.asSlice(current + NAME_OFFSET), flags, mask, statBuffer, "");
        } catch (PosixException e) {
            throw new PosixException("statx of " + childPath(), e.errno());
        }
    }

    /** {@code statx} of the directory itself, through the descriptor it was read with. */
    public Statx statxDirectory(int mask) throws PosixException {
        if (closed) {
            throw new IllegalStateException("statx after close: " + path);
        }
        return Statx.statx(fd, EMPTY_PATH, Statx.AT_EMPTY_PATH, mask, statBuffer, path);
    }

    /** {@code name_to_handle_at} of the current entry in this directory, not following a symbolic link. */
    public FileHandles.FileHandle handle() throws PosixException {
        requireEntry();
        try {
            return FileHandles.nameToHandleAt(fd, entries.asSlice(current + NAME_OFFSET), 0, handleBuffer, mountId, "");
        } catch (PosixException e) {
            throw new PosixException("name_to_handle_at of " + childPath(), e.errno());
        }
    }

    @Override
    public void close() throws PosixException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Posix.close(fd, path);
        } finally {
            arena.close();
        }
    }
}
