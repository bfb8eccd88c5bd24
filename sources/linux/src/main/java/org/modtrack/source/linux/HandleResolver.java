package org.modtrack.source.linux;

import org.modtrack.posix.Errno;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * Turns a file handle into the file's current path and status, through
 * {@code open_by_handle_at(O_PATH)} and {@code readlink} of {@code /proc/self/fd}. Opens no content,
 * so it raises no event on the tracked file system (docs/kernel-facts.md, 4).
 */
final class HandleResolver {
    /**
     * Where a handle leads now.
     *
     * @param path the current path, or null if the file no longer has a name
     * @param status its status (null if it is gone)
     */
    record Resolved(String path, Statx status) {
        boolean gone() {
            return path == null;
        }
    }

    private static final Resolved GONE = new Resolved(null, null);
    private final TrackedFilesystem fs;

    HandleResolver(TrackedFilesystem fs) {
        this.fs = fs;
    }

    /** Resolves the handle; a file that was removed (ESTALE, or only open under a deleted name) is gone. */
    Resolved resolve(int handleType, byte[] handle) throws PosixException {
        int fd;
        try {
            fd = FileHandles.openByHandleAt(fs.mountFd(), handleType, handle, Posix.O_PATH | Posix.O_CLOEXEC);
        } catch (PosixException e) {
            if (e.errno() == Errno.ESTALE || e.errno() == Errno.ENOENT) {
                return GONE;
            }
            throw e;
        }
        try {
            String path = Posix.readlink("/proc/self/fd/" + fd);
            Statx st = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_BASIC_STATS);
            if (st.nlink() == 0) { // unlinked, held open elsewhere: readlink would add " (deleted)"
                return GONE;
            }
            return new Resolved(path, st);
        } finally {
            Posix.close(fd, "a file opened by handle");
        }
    }
}
