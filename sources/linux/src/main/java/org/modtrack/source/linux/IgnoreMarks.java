package org.modtrack.source.linux;

import static org.modtrack.posix.Fanotify.FAN_MARK_ADD;
import static org.modtrack.posix.Fanotify.FAN_MARK_EVICTABLE;
import static org.modtrack.posix.Fanotify.FAN_MARK_FLUSH;
import static org.modtrack.posix.Fanotify.FAN_MARK_IGNORE;
import static org.modtrack.posix.Fanotify.FAN_MARK_IGNORED_SURV_MODIFY;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.modtrack.posix.Errno;
import org.modtrack.engine.FileId;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;
import org.modtrack.source.linux.rules.EpochRule;

/**
 * A group's ignore marks (the pre-content group's; with directory records also the notification
 * group's, for {@code FAN_MODIFY}), and the rule that keeps them safe: a mark earned by a record
 * in one period is never set after the next period has begun.
 *
 * <p>{@link #flush} bumps an epoch and clears every mark under the write lock; {@link #ignore} sets
 * a mark under the read lock only if the epoch is still the one its caller read before recording.
 * A handler that recorded in the closing period therefore either set its mark before the flush (and
 * the flush removed it) or does not set it at all. {@link #flushExcept} bumps the epoch the same
 * way but leaves the marks of directories already recorded in the new period, and removes the
 * closing epoch's others one by one, which is why every mark is remembered with its file's handle.
 */
final class IgnoreMarks implements SyscallBarrier.IgnoreMarks {
    /** Evictable (memory pressure may drop them: the next access just raises an event again) and surviving modification (docs/kernel-facts.md, 3). */
    private static final int FLAGS = FAN_MARK_ADD | FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE;

    /** The most marks of one epoch remembered for {@link #flushExcept}; beyond it the next flush removes them all. */
    static final int MAX_TRACKED = 4096;

    private final int group;
    private final String mountPoint;
    private final long mask;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile long epoch;
    /** The objects marked in this epoch, each with whether the mark covers its children. */
    private volatile Map<FileId, Boolean> marked = new ConcurrentHashMap<>();
    /** A mark of this epoch is not in {@link #marked} (no handle, or past the bound): only a full flush is safe. */
    private volatile boolean untracked;

    IgnoreMarks(int group, Path mountPoint, long mask) {
        this.group = group;
        this.mountPoint = mountPoint.toString();
        this.mask = mask;
    }

    /** Read before recording; pass to {@link #ignore}. */
    long epoch() {
        return epoch;
    }

    /**
     * Ignores later accesses to {@code file}, open as {@code fd}; false (and nothing set) if a flush
     * came after {@code epochBeforeRecord}.
     */
    boolean ignore(int fd, FileId file, long epochBeforeRecord) throws PosixException {
        return mark(fd, null, file, false, epochBeforeRecord);
    }

    /**
     * Ignores later accesses to every child of {@code directory}, open as {@code directoryFd} (an
     * ignore mark with {@code FAN_EVENT_ON_CHILD}, docs/kernel-facts.md 3b), under the same rule.
     */
    boolean ignoreChildren(int directoryFd, FileId directory, long epochBeforeRecord) throws PosixException {
        return mark(directoryFd, null, directory, true, epochBeforeRecord);
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
            return mark(Statx.AT_FDCWD, "/proc/self/fd/" + fd, file, children, epochBeforeRecord);
        } finally {
            Posix.close(fd, "a descriptor opened by handle");
        }
    }

    private long maskOf(boolean children) {
        return children ? mask | Fanotify.FAN_EVENT_ON_CHILD : mask;
    }

    private boolean mark(int fd, String path, FileId file, boolean children, long epochBeforeRecord)
            throws PosixException {
        lock.readLock().lock();
        try {
            if (!EpochRule.mayMark(epochBeforeRecord, epoch)) {
                return false;
            }
            Fanotify.mark(group, FLAGS, maskOf(children), fd, path);
            track(file, children);
            return true;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Under the read lock (or the write lock), so that a flush sees every mark of the epoch it closes. */
    private void track(FileId file, boolean children) {
        Map<FileId, Boolean> now = marked;
        if (file == null || !file.hasHandle() || now.size() >= MAX_TRACKED) {
            untracked = true;
        } else {
            now.merge(file, children, Boolean::logicalOr);
        }
    }

    /** Starts a new epoch and removes every mark. */
    @Override
    public void flush() throws PosixException {
        lock.writeLock().lock();
        try {
            epoch++;
            flushAll();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Under the write lock. */
    private void flushAll() throws PosixException {
        Fanotify.mark(group, FAN_MARK_FLUSH, 0, Statx.AT_FDCWD, mountPoint);
        marked = new ConcurrentHashMap<>();
        untracked = false;
    }

    /**
     * Starts a new epoch and removes every mark of the closing one but the children-marks of
     * {@code keep}; returns those kept. Only for directories whose record in the new epoch's
     * period was made before this call (recorded ahead): their marks stand on that record as a
     * handler's would, so they need not come off, and their children raise no permission event
     * across the checkpoint, not even between a flush and a new mark. Removes the others one by one
     * (an {@code O_PATH} open by handle and {@code FAN_MARK_REMOVE}); if the closing epoch had a mark
     * it cannot name, or one cannot be removed (its object gone, say), it removes them all instead
     * ({@code FAN_MARK_FLUSH}) and keeps none. Marks set meanwhile under the new epoch may be
     * removed too, which costs events, never records. Outside the lock, so that handlers wait for
     * none of it.
     */
    Set<FileId> flushExcept(int mountFd, Set<FileId> keep) throws PosixException {
        Map<FileId, Boolean> closing;
        lock.writeLock().lock();
        try {
            epoch++;
            closing = marked;
            if (untracked || keep.isEmpty()) {
                flushAll();
                return Set.of();
            }
            marked = new ConcurrentHashMap<>();
        } finally {
            lock.writeLock().unlock();
        }
        Set<FileId> kept = new HashSet<>();
        for (Map.Entry<FileId, Boolean> m : closing.entrySet()) {
            if (m.getValue() && keep.contains(m.getKey())) {
                kept.add(m.getKey());
            } else if (!remove(mountFd, m.getKey(), m.getValue())) {
                flush(); // a mark that may stay: none may
                return Set.of();
            }
        }
        lock.readLock().lock();
        try {
            kept.forEach(k -> track(k, true)); // they belong to the new epoch now
        } finally {
            lock.readLock().unlock();
        }
        return kept;
    }

    /** Removes the mark of {@code file}; true if it is gone (or was never there: evicted), false if it may remain. */
    private boolean remove(int mountFd, FileId file, boolean children) {
        int fd;
        try {
            fd = FileHandles.openByHandleAt(mountFd, file.handleType(), file.handle(), Posix.O_PATH | Posix.O_CLOEXEC);
        } catch (PosixException e) {
            return false; // unreachable by handle, though its mark may live on an open inode
        }
        try {
            Fanotify.mark(group, Fanotify.FAN_MARK_REMOVE | FAN_MARK_IGNORE, maskOf(children), Statx.AT_FDCWD,
                    "/proc/self/fd/" + fd);
            return true;
        } catch (PosixException e) {
            return e.errno() == Errno.ENOENT; // no such mark: evicted
        } finally {
            try {
                Posix.close(fd, "a descriptor opened by handle");
            } catch (PosixException ignored) {
                // an O_PATH descriptor: nothing was written through it
            }
        }
    }
}
