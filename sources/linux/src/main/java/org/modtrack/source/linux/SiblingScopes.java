package org.modtrack.source.linux;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.Access;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.FileId;
import org.modtrack.posix.DirectoryReader;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.source.linux.rules.EpochRule;
import org.modtrack.source.linux.rules.SiblingRule;

/**
 * Records a walk's next directories before it reaches them. When a second directory under the
 * same parent gets its first record in a period, the subdirectories of that parent (at most
 * {@code limit}, found among its next {@link #MAX_ENTRIES} entries) are recorded as scopes with one
 * wait for durability, then marked: a walk through a tree, such as a build reading {@code src/*}
 * and writing {@code out/*}, then pays two round trips and about one sync per parent instead of
 * one of each per directory (docs/benchmarks.md, "Sibling scopes"). A parent with more
 * subdirectories than that is expanded again, from where its listing stopped, when the walk goes
 * past what was recorded ahead ({@link SiblingRule}): a directory of it gets its first record by an
 * event after the last expansion.
 *
 * <p>Why it cannot hide a change: a sibling is marked only after its scope is durable in the
 * period, under the epoch rule of every other mark ({@link IgnoreMarks}: no mark if a checkpoint's
 * flush came after the epoch read before the record), exactly as a handler marks the directory of
 * its own event. A scope recorded for nothing costs only a wider rescan after an unclean stop: a
 * result made without one names changed files from the notification group, never scopes.
 *
 * <p>Runs on a pre-content handler's thread after it answered its event, so no access waits for
 * it; and on one such thread at a time, so that a walk through many parents cannot keep the
 * handlers from answering (a parent whose expansion found another running is expanded at its next
 * new child). Bounded: {@link #MAX_PARENTS} parents counted per period, {@link #MAX_PER_PERIOD}
 * subdirectories recorded ahead per period, and each expansion reads at most {@link #MAX_ENTRIES}
 * entries beyond those the parent's earlier expansions read.
 */
final class SiblingScopes {
    private static final Logger LOG = Logger.getLogger(SiblingScopes.class.getName());
    /** Entries of a parent one expansion looks at for subdirectories: a huge directory of files is not listed whole. */
    static final int MAX_ENTRIES = 4096;
    /** Parents whose new children are counted in one period; beyond it, no more expansions until the next. */
    static final int MAX_PARENTS = 4096;
    /**
     * Subdirectories recorded ahead in one period, in all: each is a record and a mark, and the
     * checkpoint's kept-marks flush names at most 4,096 marks before it falls back to a full flush.
     */
    static final int MAX_PER_PERIOD = 16_384;

    /** A parent's children newly recorded in the period, and how far its subdirectories were recorded ahead. */
    private static final class Parent {
        final AtomicInteger newChildren = new AtomicInteger();
        final AtomicBoolean expanded = new AtomicBoolean();
        /** Entries of its listing the expansions read so far; {@link #LISTED} once one read it to its end. */
        volatile int resumeAt;
        /** Its new children once the last expansion's marks were set: one more since is the walk going past them. */
        volatile int childrenWhenExpanded = Integer.MAX_VALUE;

        static final int LISTED = -1;

        /** Whether the walk went past the last expansion ({@link SiblingRule#expands}'s {@code outran}). */
        boolean outran(int children) {
            return expanded.get() && resumeAt != LISTED && children > childrenWhenExpanded;
        }
    }

    /** The parents seen in the period that {@code epoch} of the marks began, and its subdirectories recorded ahead. */
    private record Period(long epoch, ConcurrentHashMap<String, Parent> parents, AtomicInteger recordedAhead) {
        Period(long epoch) {
            this(epoch, new ConcurrentHashMap<>(), new AtomicInteger());
        }
    }

    private final TrackedFilesystem fs;
    private final ChangeTracker tracker;
    private final IgnoreMarks marks;
    private final int limit;
    private final String mountPointSlash;
    private final LongAdder recorded = new LongAdder();
    private volatile Period period = new Period(-1);
    /** One expansion at a time, whatever the number of handler threads. */
    private final Semaphore expanding = new Semaphore(1);

    /** @param limit the most subdirectories of one parent recorded ahead (0: never) */
    SiblingScopes(TrackedFilesystem fs, ChangeTracker tracker, IgnoreMarks marks, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("the sibling limit is 0 or more, not " + limit);
        }
        this.fs = fs;
        this.tracker = tracker;
        this.marks = marks;
        this.limit = limit;
        String root = fs.mountPoint().toString();
        this.mountPointSlash = root.endsWith("/") ? root : root + "/";
    }

    /** Subdirectories recorded ahead so far. */
    long recorded() {
        return recorded.sum();
    }

    /**
     * Notes that {@code directory} got its first record in the period of {@code epoch}; returns its
     * parent if the parent now has two or more such children and was not expanded yet in the period
     * (expand it: {@link #expand}), else null.
     */
    String parentToExpand(String directory, long epoch) {
        int slash = directory.lastIndexOf('/');
        if (limit == 0 || slash <= 0 || !directory.startsWith(mountPointSlash)) {
            return null; // the tracked file system's root: its parent is another file system's to list
        }
        String parent = directory.substring(0, slash);
        Period p = periodOf(epoch);
        if (p == null) {
            return null; // a record of a period already closed
        }
        if (p.parents.size() >= MAX_PARENTS && !p.parents.containsKey(parent)) {
            return null;
        }
        Parent state = p.parents.computeIfAbsent(parent, k -> new Parent());
        int children = state.newChildren.incrementAndGet();
        return SiblingRule.expands(children, state.expanded.get(), state.outran(children), p.recordedAhead.get(), MAX_PER_PERIOD)
                ? parent : null;
    }

    private Period periodOf(long epoch) {
        Period p = period;
        if (p.epoch == epoch) {
            return p;
        }
        synchronized (this) {
            if (period.epoch < epoch) {
                period = new Period(epoch);
            }
            return period.epoch == epoch ? period : null;
        }
    }

    /**
     * Records and marks the subdirectories of {@code parent} (the next ones, if it was expanded in the
     * period and the walk went past that), unless another expansion is running or the walk has not
     * gone past this parent's last one; best effort (a failure only costs round trips).
     */
    void expand(String parent) {
        if (!expanding.tryAcquire()) {
            return; // its next new child asks again
        }
        try {
            long epoch = marks.epoch(); // before the records: their marks must not outlive this period
            Period p = periodOf(epoch);
            Parent state = p == null ? null : p.parents.get(parent);
            if (state == null || !(state.expanded.compareAndSet(false, true) || state.outran(state.newChildren.get()))) {
                return; // a new period began (the parent is counted again there), or the walk is within the last expansion
            }
            recordAndMark(parent, epoch, p, state);
            // Children recorded while this expansion ran were reached before its marks: not past it.
            state.childrenWhenExpanded = state.newChildren.get();
        } finally {
            expanding.release();
        }
    }

    private void recordAndMark(String parent, long epoch, Period p, Parent state) {
        List<FileId> siblings = subdirectories(parent, state, Math.min(limit, MAX_PER_PERIOD - p.recordedAhead.get()));
        if (siblings.isEmpty()) {
            return;
        }
        p.recordedAhead.addAndGet(siblings.size());
        try {
            tracker.preRecord(siblings, Access.SCOPE);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "could not record the subdirectories of " + parent + " ahead", e);
            return;
        }
        recorded.add(siblings.size());
        for (FileId sibling : siblings) {
            try {
                if (!marks.ignoreByHandle(fs.mountFd(), sibling, true, epoch) && !EpochRule.mayMark(epoch, marks.epoch())) {
                    return; // a checkpoint came: these records belong to a closing period
                }
            } catch (PosixException e) {
                LOG.log(Level.FINE, "could not mark " + sibling, e);
            }
        }
    }

    /**
     * The identities of at most {@code most} subdirectories of {@code parent} on the tracked file
     * system, from where its last expansion stopped reading its listing (which {@code state} keeps).
     * An entry the listing says is not a directory is not opened.
     */
    private List<FileId> subdirectories(String parent, Parent state, int most) {
        List<FileId> out = new ArrayList<>();
        int skip = state.resumeAt;
        if (skip == Parent.LISTED) {
            return out;
        }
        int read = 0;
        try (DirectoryReader list = DirectoryReader.open(parent)) {
            while (list.next()) {
                read++;
                if (read <= skip) {
                    continue; // looked at by an earlier expansion of this period
                }
                if (read > skip + MAX_ENTRIES || out.size() >= most) {
                    state.resumeAt = read - 1;
                    return out;
                }
                int type = list.type();
                if (type != DirectoryReader.DT_DIR && type != DirectoryReader.DT_UNKNOWN) {
                    continue;
                }
                FileId id = directoryId(list.childPath());
                if (id != null) {
                    out.add(id);
                }
            }
            state.resumeAt = Parent.LISTED;
        } catch (PosixException e) {
            LOG.log(Level.FINE, "could not list " + parent, e);
        }
        return out;
    }

    /**
     * The identity of {@code path} if it is a directory on the tracked file system, else null.
     * Opened with {@code O_DIRECTORY} ({@link TrackedFilesystem#DIRECTORY_OPEN_FLAGS}: no
     * permission event), so the handle is a directory's whatever the name leads to later.
     */
    private FileId directoryId(String path) {
        int fd;
        try {
            fd = Posix.open(path, TrackedFilesystem.DIRECTORY_OPEN_FLAGS, 0);
        } catch (PosixException e) {
            return null; // a file (ENOTDIR), a symbolic link, or gone
        }
        try {
            return fs.contains(fd) ? fs.identify(fd, path, null) : null; // not: a mount point of another file system
        } catch (PosixException e) {
            return null;
        } finally {
            try {
                Posix.close(fd, path);
            } catch (PosixException e) {
                LOG.log(Level.FINE, "closing " + path + " failed", e);
            }
        }
    }
}
