package org.modtrack.source.linux;

import static org.modtrack.posix.Fanotify.FAN_MARK_ADD;
import static org.modtrack.posix.Fanotify.FAN_MARK_EVICTABLE;
import static org.modtrack.posix.Fanotify.FAN_MARK_FLUSH;
import static org.modtrack.posix.Fanotify.FAN_MARK_IGNORE;
import static org.modtrack.posix.Fanotify.FAN_MARK_IGNORED_SURV_MODIFY;

import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.modtrack.engine.FileId;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * A group's ignore marks (the pre-content group's; with directory records also the notification
 * group's, for {@code FAN_MODIFY}), and the rule that keeps them safe: a mark earned by a record
 * in one period is never set after the next period has begun.
 *
 * <p>{@link #flush} bumps an epoch and clears every mark under the write lock; {@link #ignore} sets
 * a mark under the read lock only if the epoch is still the one its caller read before recording.
 * A handler that recorded in the closing period therefore either set its mark before the flush (and
 * the flush removed it) or does not set it at all.
 */
final class IgnoreMarks implements SyscallBarrier.IgnoreMarks {
    /** Evictable (memory pressure may drop them: the next access just raises an event again) and surviving modification (docs/kernel-facts.md, 3). */
    private static final int FLAGS = FAN_MARK_ADD | FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE;

    private final int group;
    private final String mountPoint;
    private final long mask;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile long epoch;

    IgnoreMarks(int group, Path mountPoint, long mask) {
        this.group = group;
        this.mountPoint = mountPoint.toString();
        this.mask = mask;
    }

    /** Read before recording; pass to {@link #ignore}. */
    long epoch() {
        return epoch;
    }

    /** Ignores later accesses to the file behind {@code fd}; false (and nothing set) if a flush came after {@code epochBeforeRecord}. */
    boolean ignore(int fd, long epochBeforeRecord) throws PosixException {
        return mark(fd, mask, epochBeforeRecord);
    }

    /**
     * Ignores later accesses to every child of the directory behind {@code directoryFd} (an
     * ignore mark with {@code FAN_EVENT_ON_CHILD}, docs/kernel-facts.md 3b), under the same rule.
     */
    boolean ignoreChildren(int directoryFd, long epochBeforeRecord) throws PosixException {
        return mark(directoryFd, mask | Fanotify.FAN_EVENT_ON_CHILD, epochBeforeRecord);
    }

    /**
     * Ignores later events of the file (or with {@code children}, of every child of the directory)
     * that {@code file}'s handle names, under the same rule: for a thread that has no descriptor of
     * it. The handle is opened with {@code O_PATH} (no permission event, no access) and marked through
     * {@code /proc/self/fd/N}, since fanotify_mark refuses an O_PATH descriptor itself; a handle
     * cannot lead to another inode. False, and nothing set, if a flush came after
     * {@code epochBeforeRecord} or the file is gone.
     */
    boolean ignoreByHandle(int mountFd, FileId file, boolean children, long epochBeforeRecord) throws PosixException {
        int fd;
        try {
            fd = FileHandles.openByHandleAt(mountFd, file.handleType(), file.handle(), Posix.O_PATH | Posix.O_CLOEXEC);
        } catch (PosixException e) {
            return false; // gone or unreachable: its events (if any) simply keep coming
        }
        try {
            return mark(Statx.AT_FDCWD, "/proc/self/fd/" + fd, children ? mask | Fanotify.FAN_EVENT_ON_CHILD : mask,
                    epochBeforeRecord);
        } finally {
            Posix.close(fd, "a descriptor opened by handle");
        }
    }

    private boolean mark(int fd, long markMask, long epochBeforeRecord) throws PosixException {
        return mark(fd, null, markMask, epochBeforeRecord);
    }

    private boolean mark(int fd, String path, long markMask, long epochBeforeRecord) throws PosixException {
        lock.readLock().lock();
        try {
            if (epoch != epochBeforeRecord) {
                return false;
            }
            Fanotify.mark(group, FLAGS, markMask, fd, path);
            return true;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void flush() throws PosixException {
        lock.writeLock().lock();
        try {
            epoch++;
            Fanotify.mark(group, FAN_MARK_FLUSH, 0, Statx.AT_FDCWD, mountPoint);
        } finally {
            lock.writeLock().unlock();
        }
    }
}
