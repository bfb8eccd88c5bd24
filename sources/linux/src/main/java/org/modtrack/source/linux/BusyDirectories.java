package org.modtrack.source.linux;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.Access;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.FileId;
import org.modtrack.posix.PosixException;
import org.modtrack.source.linux.rules.EpochRule;

/**
 * With directory records, the directories busy in the current period, carried across each
 * checkpoint with their marks, so that their children raise no permission event at all across it
 * (docs/linux-source.md, *Checkpoints without a round trip for busy directories*).
 *
 * <p>A directory is busy when a permission event recorded it, or when a child of it was written,
 * created or removed: a directory marked for the whole period raises no permission event, so the
 * notification reader notes those. At a checkpoint, after the new period began and before the
 * flush, the busy directories are recorded as scopes of the new period with one sync for all
 * ({@link #recordAhead}); the flush then keeps their marks and marks again those that had none
 * ({@link #flushMarksKeepingRecordedAhead}). A directory with no such activity for a whole period
 * is not recorded ahead again (its next access records it).
 */
final class BusyDirectories {
    private static final Logger LOG = Logger.getLogger(BusyDirectories.class.getName());
    /** A bound on the busy directories of a period: the directories recorded ahead at a checkpoint are one sync's worth. */
    static final int MAX = 4096;

    private final TrackedFilesystem fs;
    private final IgnoreMarks marks;
    /** The directories noted in the current period (at most {@link #MAX}). */
    private volatile Set<FileId> busy = ConcurrentHashMap.newKeySet();
    /** The directories {@link #recordAhead} recorded in the new period, to mark again after the flush. */
    private volatile List<FileId> recordedAhead = List.of();

    /** @param marks the pre-content group's ignore marks, whose flush keeps the busy directories' */
    BusyDirectories(TrackedFilesystem fs, IgnoreMarks marks) {
        this.fs = fs;
        this.marks = marks;
    }

    /**
     * Notes a directory whose children are being accessed in the current period: by a permission
     * event, or (a directory marked for the whole period raises none) by a notification event of
     * one of its children. Thread-safe; beyond {@link #MAX} it is not noted.
     */
    void note(FileId directory) {
        Set<FileId> now = busy;
        if (now.size() < MAX) {
            now.add(directory);
        }
    }

    /**
     * At a checkpoint, after the new period began and before the marks are flushed: records the
     * directories busy in the closing period as scopes of the new one, with one sync for all of
     * them, so that the first access to each after the flush finds it recorded and answers without
     * waiting for a sync (docs/benchmarks.md, "Checkpoint impact on other writers"). Best effort:
     * if it fails, the accesses record their directories themselves, as without it.
     */
    void recordAhead(ChangeTracker tracker, long closingSnapshot) {
        // Never a list from an earlier checkpoint whose flush did not come (a failed freeze, say):
        // its directories are not recorded in the period now beginning, and the flush keeps the
        // marks of those listed here.
        recordedAhead = List.of();
        Set<FileId> closing = busy;
        busy = ConcurrentHashMap.newKeySet();
        if (closing.isEmpty()) {
            return;
        }
        List<FileId> ahead = List.copyOf(closing);
        try {
            tracker.preRecord(ahead, Access.SCOPE);
            recordedAhead = ahead;
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.INFO, "checkpoint " + closingSnapshot + " could not record its "
                    + closing.size() + " busy directories ahead; their accesses will record them", e);
        }
    }

    /**
     * The checkpoint's flush of the pre-content group's marks: every mark comes off except those of
     * the directories recorded ahead, which keep theirs ({@link IgnoreMarks#flushExcept}); any of
     * them without its mark (not marked in the closing period, or a full flush was needed) is
     * marked again right after.
     */
    void flushMarksKeepingRecordedAhead() throws PosixException {
        // At the query's own priority: removing thousands of marks must not take writers' CPU time.
        Set<FileId> kept = marks.flushExcept(fs.mountFd(), Set.copyOf(recordedAhead));
        // A directory recorded ahead without its mark raises events until it is marked again: keep
        // that short, whatever the query thread's own priority.
        try (ThreadNice.Scope writersPriority = ThreadNice.at(ThreadNice.WRITERS_WAIT)) {
            markRecordedAheadAgain(kept);
        }
    }

    /**
     * Right after the flush: marks again the directories recorded ahead (their scopes are durable
     * in the new period, so their marks are as valid as a handler's). Under the same epoch rule as
     * a handler's mark, with the epoch read after the flush. Best effort: an unmarked directory just
     * raises one event, answered at once (already recorded).
     */
    private void markRecordedAheadAgain(Set<FileId> alreadyMarked) {
        List<FileId> ahead = recordedAhead;
        recordedAhead = List.of();
        long epoch = marks.epoch();
        for (FileId dir : ahead) {
            if (alreadyMarked.contains(dir)) {
                continue;
            }
            try {
                marks.ignoreByHandle(fs.mountFd(), dir, true, epoch);
            } catch (PosixException e) {
                LOG.log(Level.FINE, "could not mark " + dir + " again", e);
            }
            if (!EpochRule.mayMark(epoch, marks.epoch())) {
                return; // another flush came: these records belong to a period that is closing too
            }
        }
    }
}
