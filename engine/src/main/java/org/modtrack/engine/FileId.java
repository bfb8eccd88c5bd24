package org.modtrack.engine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Identifies a file to the tracker.
 *
 * <p>Two kinds exist. A <em>handle identity</em>, filled by a kernel source, is a file system id
 * plus the kernel's file handle: it survives renames and names hard links as one file; it carries
 * the path the file had when it was seen (a hint, resolved again when a result is made) and a
 * {@link StatStamp}. A <em>path identity</em>, for simple in-process callers, is an absolute path.
 *
 * <p>Equality and hashing use the identity only (file system id and handle, or path), never the
 * hint or the stamp: recording a file again under a new name is recording the same file.
 */
public final class FileId {
    /** Linux's MAX_HANDLE_SZ: no file handle is longer. */
    public static final int MAX_HANDLE_BYTES = 128;
    /** Linux's PATH_MAX, in bytes of UTF-8. */
    public static final int MAX_PATH_BYTES = 4096;

    private final long fsid;
    private final int handleType;
    private final byte[] handle; // null for a path identity
    private final String path; // the identity of a path identity; the hint of a handle identity (may be null)
    private final StatStamp stamp; // may be null
    private final int hash;

    private FileId(long fsid, int handleType, byte[] handle, String path, StatStamp stamp) {
        this.fsid = fsid;
        this.handleType = handleType;
        this.handle = handle;
        this.path = path;
        this.stamp = stamp;
        this.hash = handle == null
                ? path.hashCode()
                : (31 * (31 * Long.hashCode(fsid) + handleType) + Arrays.hashCode(handle));
    }

    /** A path identity for {@code path}, made absolute and normalized. */
    public static FileId ofPath(Path path) {
        return ofPath(path.toAbsolutePath().normalize().toString());
    }

    /**
     * A path identity for an absolute path string, taken as given.
     *
     * @throws IllegalArgumentException if the path is not absolute, has a NUL byte, or exceeds
     *     {@link #MAX_PATH_BYTES}
     */
    public static FileId ofPath(String absolutePath) {
        checkPath(absolutePath, "a path identity");
        return new FileId(0, 0, null, absolutePath, null);
    }

    /**
     * A handle identity.
     *
     * @param fsid the file system id ({@code statfs} f_fsid, as fanotify reports it)
     * @param handleType the kernel's handle type ({@code struct file_handle.handle_type})
     * @param handle the handle bytes (copied)
     * @param pathHint where the file was when seen, or null if unknown
     * @param stamp what statx said when it was seen, or null
     */
    public static FileId ofHandle(long fsid, int handleType, byte[] handle, String pathHint, StatStamp stamp) {
        Objects.requireNonNull(handle, "handle");
        if (handle.length == 0 || handle.length > MAX_HANDLE_BYTES) {
            throw new IllegalArgumentException("a file handle has 1 to " + MAX_HANDLE_BYTES
                    + " bytes, not " + handle.length + ".");
        }
        if (pathHint != null) {
            checkPath(pathHint, "a path hint");
        }
        return new FileId(fsid, handleType, handle.clone(), pathHint, stamp);
    }

    /** A handle identity from parts the tracker stored after checking them: {@code handle} is owned, not copied. */
    static FileId ofOwnedHandle(long fsid, int handleType, byte[] handle, String pathHint, StatStamp stamp) {
        assert handle.length > 0 && handle.length <= MAX_HANDLE_BYTES;
        return new FileId(fsid, handleType, handle, pathHint, stamp);
    }

    /** A path identity from a path the tracker stored after checking it. */
    static FileId ofCheckedPath(String absolutePath) {
        assert absolutePath.startsWith("/");
        return new FileId(0, 0, null, absolutePath, null);
    }

    /** The handle bytes themselves (null for a path identity): the tracker's table reads them without a copy. */
    byte[] rawHandle() {
        return handle;
    }

    private static void checkPath(String p, String what) {
        Objects.requireNonNull(p, what);
        if (!p.startsWith("/")) {
            throw new IllegalArgumentException(what + " must be an absolute path, not '" + p + "'.");
        }
        if (p.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " must not contain a NUL character.");
        }
        // A char takes at most 3 bytes of UTF-8 (a surrogate pair 4 for 2): most paths are checked
        // without encoding them, which a million-entry result would do a million times.
        if (p.length() > MAX_PATH_BYTES
                || (p.length() > MAX_PATH_BYTES / 3 && p.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES)) {
            throw new IllegalArgumentException(what + " must be at most " + MAX_PATH_BYTES + " bytes of UTF-8.");
        }
    }

    /** True for a handle identity, false for a path identity. */
    public boolean hasHandle() {
        return handle != null;
    }

    /** The file system id of a handle identity; 0 for a path identity. */
    public long fsid() {
        return fsid;
    }

    /** The kernel's handle type of a handle identity; 0 for a path identity. */
    public int handleType() {
        return handleType;
    }

    /** A copy of the handle bytes; empty for a path identity. */
    public byte[] handle() {
        return handle == null ? new byte[0] : handle.clone();
    }

    /** The path of a path identity, or the path hint of a handle identity (null if none). */
    public String path() {
        return path;
    }

    /** The stamp recorded with this identity, or null. */
    public StatStamp stamp() {
        return stamp;
    }

    /** The same identity with another path hint and stamp (only for handle identities). */
    public FileId withHint(String pathHint, StatStamp newStamp) {
        if (handle == null) {
            throw new IllegalStateException("a path identity has no hint to replace.");
        }
        return new FileId(fsid, handleType, handle, pathHint, newStamp);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof FileId other) || other.hash != hash) {
            return false;
        }
        if (handle == null) {
            return other.handle == null && path.equals(other.path);
        }
        return other.handle != null && fsid == other.fsid && handleType == other.handleType
                && Arrays.equals(handle, other.handle);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        if (handle == null) {
            return path;
        }
        return "handle(" + Long.toHexString(fsid) + ":" + handleType + ":" + HexFormat.of().formatHex(handle) + ")"
                + (path == null ? "" : " " + path);
    }
}
