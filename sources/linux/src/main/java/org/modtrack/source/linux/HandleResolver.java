package org.modtrack.source.linux;

import java.util.function.UnaryOperator;
import org.modtrack.posix.Errno;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * Turns a file handle into the file's current path and status, through
 * {@code open_by_handle_at(O_PATH)} and {@code readlink} of {@code /proc/self/fd}; a path outside
 * the watched tree that a bind mount inside it shows is named there ({@link MountAliases}). Opens no content,
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

    /** Opens a handle with O_PATH, -1 where its file is gone (ESTALE, ENOENT); a seam for tests. */
    interface Opener {
        int open(int handleType, byte[] handle) throws PosixException;
    }

    /** How often an ENOMEM is retried (see {@link #resolve}). */
    static final int ENOMEM_ATTEMPTS = 20;
    private static final Resolved GONE = new Resolved(null, null);
    private final Opener opener;
    private final UnaryOperator<String> inTree;

    /** Opens handles through the tracked mount; a path it gives is named in the watched tree ({@link MountAliases}). */
    HandleResolver(TrackedFilesystem fs) {
        this((type, handle) -> FileHandles.openByHandleAtIfExists(fs.mountFd(), type, handle, Posix.O_PATH | Posix.O_CLOEXEC),
                fs::inTree);
    }

    /** With {@code opener}, paths as the kernel gives them. */
    HandleResolver(Opener opener) {
        this(opener, UnaryOperator.identity());
    }

    private HandleResolver(Opener opener, UnaryOperator<String> inTree) {
        this.opener = opener;
        this.inTree = inTree;
    }

    /**
     * Resolves the handle; a file that was removed (ESTALE, or only open under a deleted name) is gone.
     *
     * <p>ENOMEM is retried a few times before it fails the query: {@code open_by_handle_at} returned
     * it once, with plenty of free memory, in WorkloadTest (writers deleting files while a result was
     * resolved), which failed the whole query. The likely cause is ext4's {@code iget} meeting an
     * inode that is being evicted (a failed {@code iget_locked} is reported as ENOMEM), which is
     * transient; this is not proven, so a lasting ENOMEM still fails.
     */
    Resolved resolve(int handleType, byte[] handle) throws PosixException {
        int fd;
        for (int attempt = 1; ; attempt++) {
            try {
                fd = opener.open(handleType, handle);
                if (fd < 0) {
                    return GONE;
                }
                break;
            } catch (PosixException e) {
                if (e.errno() == Errno.ESTALE || e.errno() == Errno.ENOENT) {
                    return GONE;
                }
                if (e.errno() != Errno.ENOMEM || attempt == ENOMEM_ATTEMPTS) {
                    throw e;
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
        try {
            String path = Posix.readlink("/proc/self/fd/" + fd);
            Statx st = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_BASIC_STATS);
            if (st.nlink() == 0) { // unlinked, held open elsewhere: readlink would add " (deleted)"
                return GONE;
            }
            return new Resolved(inTree.apply(path), st);
        } finally {
            Posix.close(fd, "a file opened by handle");
        }
    }
}
