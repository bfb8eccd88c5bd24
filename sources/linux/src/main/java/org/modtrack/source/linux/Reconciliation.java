package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.FileId;
import org.modtrack.posix.DirectoryReader;
import org.modtrack.posix.Errno;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;
import org.modtrack.source.linux.rules.WalkRule;

/**
 * What changed while no tracker watched, found by one walk of the watched tree instead of "rescan
 * everything": after an unclean stop in the same boot, every change since the last blessed result's
 * checkpoint has a ctime at or after that checkpoint's wall-clock time less a margin (the
 * watermark, {@link CheckpointTimes}; "at or after" is {@link WalkRule#changedSince}, which the
 * simulator's model of this walk calls too). A directory whose ctime is at or after it had entries
 * made, removed or renamed: it is recorded as written, and the result lists it ({@code list}: the
 * consumer compares its names). Anything else (a file, a symbolic link, a special file) whose ctime
 * is at or after it is recorded as written, or as created if it was born at or after the watermark
 * (its birth time, where the file system keeps one), so the listing's names are all the consumer
 * compares. Nothing else can have changed: a write changes its file's ctime (multigrain timestamps
 * make it visible, docs/kernel-facts.md, 5), a namespace change its directory's.
 *
 * <p>The walk reads each directory's entries and stats every entry (one {@code statx} each; no
 * contents); it stays on the tracked file system, and it stops at {@link #MAX_ENTRIES}, after which
 * the source falls back to "continuity lost" for the whole tree. What it records goes to the
 * journal, so a result that names it survives further restarts until it is blessed.
 */
final class Reconciliation {
    /** The most entries one walk stats before it gives up (about a minute at a few microseconds each). */
    static final long MAX_ENTRIES = 20_000_000;
    /**
     * Subtracted from the checkpoint's time, which is read from the coarse clock that ctimes are
     * stamped from ({@link CheckpointTimes#now}): the wall clock may have been set back since by up
     * to {@link CheckpointTimes#STEP_TOLERANCE_MILLIS} unseen, and each offset that would show it is
     * read to the millisecond, within {@link CheckpointTimes#OFFSET_READ_BOUND_NANOS} (7.1 ms in
     * all). Too much only costs false positives: files changed within it before that checkpoint
     * are named again by the next result (about 1% of a consumer's reads under steady writing
     * with 100 ms: notes/decisions.md).
     */
    static final long MARGIN_NANOS = 10_000_000L;

    /** {@link #MARGIN_NANOS}, widened by how coarse the timestamps {@code fs} keeps on disk are. */
    static long marginNanos(TrackedFilesystem fs) {
        return MARGIN_NANOS + fs.timestampGranularityNanos() - 1;
    }
    private static final int MASK = Statx.STATX_TYPE | Statx.STATX_CTIME | Statx.STATX_INO | Statx.STATX_BTIME
            | Statx.STATX_SUBVOL;

    private Reconciliation() {}

    /**
     * Walks {@code watched} and records what changed at or after {@code watermarkNanos}.
     *
     * @throws IOException if the walk could not finish (a directory that cannot be read, the entry
     *     bound reached): the caller marks continuity lost instead
     */
    static Reconciled run(String reason, Path watched, TrackedFilesystem fs, ChangeTracker tracker, long watermarkNanos)
            throws IOException {
        long start = System.nanoTime();
        Statx top = Statx.statx(Statx.AT_FDCWD, watched.toString(), Statx.AT_SYMLINK_NOFOLLOW, MASK);
        Deque<String> pending = new ArrayDeque<>();
        pending.push(watched.toString());
        long directories = 0;
        long entries = 0;
        long listed = 0;
        long files = 0;
        if (WalkRule.changedSince(top.ctimeNanos(), watermarkNanos)) {
            record(tracker, fs, watched.toString(), Change.WRITTEN, true);
            listed++;
        }
        while (!pending.isEmpty()) {
            String dir = pending.pop();
            directories++;
            DirectoryReader opened;
            try {
                opened = DirectoryReader.open(dir);
            } catch (PosixException e) {
                if (!DirectoryScan.vanishedDirectory(e.errno())) {
                    throw e;
                }
                continue; // removed or replaced since its parent was read: the parent's ctime moved, and the new groups saw it go
            }
            try (DirectoryReader list = opened) {
                while (list.next()) {
                    if (++entries > MAX_ENTRIES) {
                        throw new IOException("more than " + MAX_ENTRIES + " entries below " + watched);
                    }
                    Statx st;
                    try {
                        st = list.statx(Statx.AT_SYMLINK_NOFOLLOW, MASK);
                    } catch (PosixException e) {
                        if (e.errno() != Errno.ENOENT) {
                            throw e;
                        }
                        continue; // gone since it was listed: its directory's ctime moved, and the new groups saw it go
                    }
                    String path = list.childPath();
                    try {
                        if (!fs.holds(Statx.AT_FDCWD, path, st)) {
                            continue; // another file system mounted below: not tracked (another btrfs subvolume of it is)
                        }
                    } catch (PosixException e) {
                        if (e.errno() != Errno.ENOENT && e.errno() != Errno.ENOTDIR) {
                            throw e;
                        }
                        continue; // gone since it was listed, as above
                    }
                    boolean changed = WalkRule.changedSince(st.ctimeNanos(), watermarkNanos);
                    if (st.isDirectory()) {
                        pending.push(path);
                        if (changed && record(tracker, fs, path, Change.WRITTEN, true)) {
                            listed++;
                        }
                    } else if (changed && record(tracker, fs, path, bornSince(st, watermarkNanos)
                            ? Change.CREATED : Change.WRITTEN, false)) {
                        // A file, a symbolic link or a special file: an entry of its own, so a consumer
                        // compares a listed directory's names only.
                        files++;
                    }
                }
            }
        }
        return new Reconciled(reason, watermarkNanos, directories, entries, listed, files, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * Whether the file was made at or after the watermark, so the consumer cannot have it anywhere:
     * a creation, not a change (false where the file system keeps no birth time).
     */
    private static boolean bornSince(Statx st, long watermarkNanos) {
        return (st.mask() & Statx.STATX_BTIME) != 0 && WalkRule.changedSince(st.btimeNanos(), watermarkNanos);
    }

    /** Records {@code path} as {@code change}; false if it went away before it could be named. */
    private static boolean record(ChangeTracker tracker, TrackedFilesystem fs, String path, Change change,
                                  boolean directory) throws IOException {
        FileHandles.FileHandle h;
        try {
            h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, path, 0);
        } catch (PosixException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
            return false; // gone: its directory's ctime moved, and the new groups saw it go
        }
        tracker.recordChange(FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(), path, null), change, null, directory);
        return true;
    }
}
