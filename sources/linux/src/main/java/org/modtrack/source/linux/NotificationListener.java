package org.modtrack.source.linux;

import static org.modtrack.posix.Fanotify.FAN_ATTRIB;
import static org.modtrack.posix.Fanotify.FAN_CREATE;
import static org.modtrack.posix.Fanotify.FAN_DELETE;
import static org.modtrack.posix.Fanotify.FAN_DELETE_SELF;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_FID;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME;
import static org.modtrack.posix.Fanotify.FAN_ONDIR;
import static org.modtrack.posix.Fanotify.FAN_Q_OVERFLOW;
import static org.modtrack.posix.Fanotify.FAN_RENAME;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.FileId;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FanotifyEvents;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * Records creations, deletions, renames and attribute changes, of files and directories, after the
 * fact: a notification group that reports file handles and names ({@code FAN_REPORT_DFID_NAME_TARGET}),
 * and notes the records of objects the kernel freed ({@code FAN_DELETE_SELF}, {@link #freed}).
 * These records are not awaited (the change has already happened); docs/correctness.md says what an
 * unclean stop means for them.
 *
 * <p>With {@link LinuxSourceOptions.Granularity#DIRECTORY} it also records content changes after
 * the fact ({@code FAN_MODIFY}: write, truncate, fallocate, copy; {@code FAN_CLOSE_WRITE}: the
 * last close of a file opened for writing, which covers stores through a shared mapping): the
 * children of a recorded directory raise no permission event, so this is where their changes are
 * named. A checkpoint's barrier waits for the writes in progress to leave their system call, after
 * which their {@code FAN_MODIFY} is queued, and a query drains this queue first.
 *
 * <p>The kernel's queue is bounded ({@link NotificationQueueBound}): if this reader falls behind,
 * the kernel drops events and queues {@code FAN_Q_OVERFLOW}, which costs a walk of the whole tree
 * before the next result ({@link Reconciler}), or a rescan when that cannot run. So the reader does
 * little per event: directory paths come from a small cache ({@link DirectoryPaths}), and a file already
 * recorded as written in the period costs the engine a lookup.
 */
final class NotificationListener implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NotificationListener.class.getName());
    /**
     * What files named by their records ask for. {@code FAN_DELETE_SELF} comes when an inode's last
     * name goes: its record is then noted freed, and a result removes it without opening its handle
     * ({@link #freed}).
     */
    static final long MASK = FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_ATTRIB | FAN_DELETE_SELF | FAN_ONDIR;
    /** What a directory-granularity source also asks for: content changes of the recorded directories' children. */
    static final long CONTENT_MASK = Fanotify.FAN_MODIFY | Fanotify.FAN_CLOSE_WRITE;
    /**
     * What results that name directories ask for, and what a directory's ignore mark then silences
     * for the rest of its period. Renames as {@code FAN_MOVED_FROM} and {@code FAN_MOVED_TO}, one
     * event per directory, not {@code FAN_RENAME}: the kernel drops an event if any mark it consults
     * ignores it, so a muted source directory would hide a rename's arrival in an unmuted one.
     */
    static final long DIRECTORY_RESULTS_MASK = FAN_CREATE | FAN_DELETE | Fanotify.FAN_MOVED_FROM | Fanotify.FAN_MOVED_TO
            | FAN_ATTRIB | FAN_ONDIR | CONTENT_MASK;
    /**
     * With {@link LinuxSourceOptions.Naming#SCAN}, what a directory's ignore mark silences for the
     * rest of its period once it is recorded: its children's creations, content changes and
     * attribute changes, which the result names by a scan ({@link DirectoryScan}). Not
     * {@code FAN_ONDIR}, so a subdirectory's creation and its own attribute changes stay events (the
     * scan skips subdirectories); not deletions or renames, whose names a scan cannot see.
     */
    static final long SCANNED_MASK = FAN_CREATE | FAN_ATTRIB | CONTENT_MASK;
    private static final int INIT_FLAGS = Fanotify.FAN_CLASS_NOTIF | Fanotify.FAN_CLOEXEC | Fanotify.FAN_NONBLOCK
            | Fanotify.FAN_REPORT_DFID_NAME_TARGET;
    static final int BUFFER_BYTES = 256 * 1024;

    private final int group;
    private final TrackedFilesystem fs;
    private final ChangeTracker tracker;
    private final DirectoryPaths directories;
    private final OrphanedDeletions orphans = new OrphanedDeletions();
    private final Handover handover; // null without a kept group: the orphans then die with this process
    private long savedOrphans; // the orphans' version last saved to the handover (reader thread only)
    private final IgnoreMarks modifyMarks; // null unless directory records: see #muteModify, #recordDirectory
    private final boolean directoryResults;
    private final boolean scans; // Naming.SCAN: see #recordForScan
    /** Naming.SCAN: the names that left their directories, for a scan that lists one after they left. */
    private final Departures departures = new Departures();
    /** Directories above {@link DirectoryScan#LINE_BYTES} that keep an event per child, with the epoch that was decided in. Reader thread only. */
    private final Map<FileId, Long> perChildIn = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FileId, Long> eldest) {
            return size() > MUTED_REMEMBERED;
        }
    };
    /**
     * Objects freed before their deletion was recorded, for the deletion's record to take the note
     * ({@link #freed}); the oldest are forgotten past {@link #FREED_WAITING}. Reader thread only.
     */
    private final Map<FileId, Boolean> freedBeforeRecorded = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FileId, Boolean> eldest) {
            return size() > FREED_WAITING;
        }
    };
    /**
     * How many freed objects wait for their deletion's record: an unlink queues its
     * {@code FAN_DELETE_SELF} just before its {@code FAN_DELETE}, so one waits at a time unless
     * other events come between; one forgotten only costs a look at its handle.
     */
    private static final int FREED_WAITING = 4096;
    private final LongAdder mutedDirectories = new LongAdder();
    /** Results that name directories: the directories muted lately, with the marks' epoch they were muted in. Reader thread only. */
    private final Map<FileId, Long> mutedIn = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FileId, Long> eldest) {
            return size() > MUTED_REMEMBERED;
        }
    };
    private static final int MUTED_REMEMBERED = 4096;
    private final LongAdder muted = new LongAdder();
    /** With directory records, told the directory of every child changed; null with file records. */
    private final BusyDirectories busy;
    private final EventReader reader;
    private final LossRecorder losses;
    private final Reconciler reconciler;
    private final LongAdder events = new LongAdder();
    private final LongAdder overflows = new LongAdder();

    private NotificationListener(int group, TrackedFilesystem fs, ChangeTracker tracker, LossRecorder losses,
                                 Reconciler reconciler, IgnoreMarks modifyMarks, boolean directoryResults, boolean scans,
                                 EventReader.Batches batches, BusyDirectories busy) throws PosixException {
        this.scans = scans;
        this.reconciler = reconciler;
        this.busy = busy;
        this.group = group;
        this.modifyMarks = modifyMarks;
        this.directoryResults = directoryResults;
        this.fs = fs;
        this.tracker = tracker;
        this.directories = new DirectoryPaths(new HandleResolver(fs));
        this.handover = batches instanceof Handover h ? h : null;
        if (handover != null) {
            boolean restored = orphans.restore(handover.previousOrphans());
            assert restored : "the handover's orphans were checked (whyNotSeamless) and cannot be read back";
        }
        this.savedOrphans = orphans.version();
        EventReader.Handler handler = new EventReader.Handler() {
            @Override
            public void handle(FanotifyEvents event) throws IOException {
                NotificationListener.this.handle(event);
            }

            @Override
            public void batchEnded() {
                saveOrphansIfChanged();
            }
        };
        // At the writers' priority: if it falls behind, the bounded kernel queue overflows and the
        // next query walks the whole tree. 8 writers creating 32,000 files overflowed it
        // at nice 0 (benchmarks/peers/run's 8-writer workload, docs/benchmarks.md).
        this.reader = new EventReader("notification", group, BUFFER_BYTES, batches, losses, handler,
                ThreadNice.WRITERS_WAIT);
        this.losses = losses;
    }

    /**
     * The notification group, not yet marked: the checkpoint's barrier flushes its ignore marks. Its
     * queue holds {@link NotificationQueueBound#EVENTS} events where the system lets it.
     */
    static int createGroup() throws PosixException {
        return NotificationQueueBound.whileRaised(() -> Fanotify.init(INIT_FLAGS, Posix.O_RDONLY | Posix.O_CLOEXEC));
    }

    /**
     * Marks the file system for {@code group} (from {@link #createGroup}; the listener owns it once
     * this returns, the caller still does if this throws) and starts reading. {@code marks} are the group's ignore
     * marks where it names content ({@link #namesContent}; null otherwise): for {@link #ignoreMask} of {@code options}.
     * {@code batches}: where it reads to ({@link Handover} for a kept group; null: memory of its own).
     * {@code busy}: where the directories of changed children are noted (null with file records).
     */
    static NotificationListener start(int group, TrackedFilesystem fs, ChangeTracker tracker, LossRecorder losses,
                                      Reconciler reconciler, LinuxSourceOptions options, IgnoreMarks marks,
                                      EventReader.Batches batches, BusyDirectories busy) throws PosixException {
        boolean directoryResults = options.detail() == LinuxSourceOptions.Detail.DIRECTORIES;
        if (namesContent(options) != (marks != null)) {
            throw new IllegalArgumentException("the notification group's ignore marks go with content events, and only with them");
        }
        Fanotify.mark(group, Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_FILESYSTEM, markMask(options), Statx.AT_FDCWD,
                fs.mountPoint().toString());
        NotificationListener l = new NotificationListener(group, fs, tracker, losses, reconciler, marks, directoryResults,
                options.scansDirectories(), batches, busy);
        l.reader.start();
        return l;
    }

    /** The events the file system's mark asks for with {@code options}. */
    static long markMask(LinuxSourceOptions options) {
        return options.detail() == LinuxSourceOptions.Detail.DIRECTORIES ? DIRECTORY_RESULTS_MASK
                : namesContent(options) ? MASK | CONTENT_MASK : MASK;
    }

    /**
     * Whether this group names content changes after the fact ({@link #CONTENT_MASK}): with directory
     * records, whose children raise no permission event; and where opens are the only hook, for what
     * no open precedes (a {@code truncate(2)} by path, a write through a descriptor the kernel holds).
     */
    static boolean namesContent(LinuxSourceOptions options) {
        return options.granularity() == LinuxSourceOptions.Granularity.DIRECTORY || options.opensOnly();
    }

    /**
     * Waits until the notification events queued before this call are recorded, so that a result made
     * after it names the creations, deletions and renames that happened before the query. False if
     * the reader could not catch up within {@code timeoutMillis} (they then come in the next result).
     */
    boolean awaitDrained(long timeoutMillis) throws InterruptedException {
        return reader.awaitDrained(timeoutMillis);
    }

    /**
     * What the notification group's ignore marks silence: a file's writes, or (results naming
     * directories) every event of a directory, its entries and its children. A directory's own
     * attribute change is reported as the directory's own event (named ".", not as an entry of its
     * parent), so it is the directory's own {@code list} entry that covers it, whether muted or not.
     */
    static long ignoreMask(LinuxSourceOptions options) {
        return options.detail() == LinuxSourceOptions.Detail.DIRECTORIES ? DIRECTORY_RESULTS_MASK
                : options.scansDirectories() ? SCANNED_MASK : Fanotify.FAN_MODIFY;
    }

    long events() {
        return events.sum();
    }

    long overflows() {
        return overflows.sum();
    }

    /** What one event's info records say. */
    private static final class Parsed {
        FileId child;
        String dirName; // DFID_NAME: the directory's path and the name
        FileId parent; // DFID_NAME: the directory's handle
        String name; // DFID_NAME: the name alone
        String oldName;
        FileId oldParent; // OLD_DFID_NAME: the directory a renamed entry left
        String oldEntry; // OLD_DFID_NAME: the name alone
        String newName;
    }

    private void handle(FanotifyEvents cursor) throws IOException {
        try {
            handleOne(cursor);
        } finally {
            if (handover != null && orphans.version() != savedOrphans && !orphansUnsaved) {
                handover.orphansChanging(); // before the event counts as recorded: a death now is a gap
                orphansUnsaved = true;
            }
        }
    }

    /**
     * With a kept group, saves the orphaned deletions to the handover at the end of a batch in which
     * they changed: a successor then resolves them as this reader would have (else their records
     * keep no path, and a result can only rescan the whole tree). Once a batch, not once an event:
     * a save copies every orphan, and a reader behind a recursive delete makes thousands of them.
     * More than {@link #ORPHANS_SAVED} are not saved at all (a takeover is then a gap, walked).
     */
    private void saveOrphansIfChanged() {
        if (handover != null && orphans.version() != savedOrphans) {
            handover.saveOrphans(orphans.waiting() > ORPHANS_SAVED ? null : orphans.encode(Handover.ORPHANS_BYTES));
            savedOrphans = orphans.version();
            orphansUnsaved = false;
        }
    }

    /** The most orphaned deletions saved for a successor: about 10,000 fit the handover's room with short names. */
    static final int ORPHANS_SAVED = 10_000;
    private boolean orphansUnsaved; // the handover says its orphans are being written (reader thread only)

    private void handleOne(FanotifyEvents cursor) throws IOException {
        events.increment();
        long mask = cursor.mask();
        if (cursor.fd() >= 0) {
            Posix.close(cursor.fd(), "a notification event's fd"); // not expected with FID reporting
        }
        if ((mask & FAN_Q_OVERFLOW) != 0) {
            overflows.increment();
            // What the dropped events would have recorded is found by a walk before the next result.
            reconciler.ask("the kernel dropped notification events on " + fs + " (queue overflow): creations, deletions"
                    + " and renames since the last result were not all seen");
            orphans.clear(); // the directory deletions that would name them may be among the dropped events
            directories.forget(); // a directory's rename may be among them: every cached path may be stale
            fs.directoryRenamed();
            return;
        }
        Parsed p = parse(cursor);
        try {
            record(mask, p);
            if ((mask & FAN_ONDIR) != 0 && (mask & (FAN_RENAME | Fanotify.FAN_MOVED_FROM)) != 0) {
                directories.forget(); // every path below a moved directory changed
                fs.directoryRenamed(); // and where a mount is, or what it shows
            } else if ((mask & FAN_ONDIR) != 0 && (mask & FAN_DELETE) != 0 && p.child != null) {
                directories.forget(p.child); // a removed directory was empty: no other path changed
            }
        } catch (IOException | RuntimeException e) {
            // Already happened, so it cannot be denied, even fail-closed: the result must say it may be missing.
            lose("a creation, deletion, rename or attribute change on " + fs + " could not be recorded ("
                    + e.getMessage() + "); rescan it", e);
        }
    }

    private void record(long mask, Parsed p) throws IOException {
        boolean directory = (mask & FAN_ONDIR) != 0;
        if (p.parent != null && busy != null) {
            busy.note(p.parent);
        }
        if (directoryResults) {
            recordDirectory(p);
            return;
        }
        if (scans && !directory) {
            if ((mask & FAN_DELETE) != 0) {
                departures.left(p.parent, p.name);
            }
            if ((mask & FAN_RENAME) != 0) {
                departures.left(p.oldParent, p.oldEntry);
            }
            if (p.parent != null && (mask & SCANNED_MASK) != 0 && recordForScan(p.parent)) {
                mask &= ~SCANNED_MASK; // the result's scan of the directory names the child
            }
        }
        if ((mask & FAN_RENAME) != 0 && p.child != null && p.oldName != null) {
            tracker.recordChange(withPath(p.child, p.newName), Change.RENAMED, p.oldName, directory);
        }
        if ((mask & FAN_CREATE) != 0 && p.child != null) {
            tracker.recordChange(withPath(p.child, p.dirName), Change.CREATED, null, directory);
        }
        if ((mask & FAN_DELETE) != 0 && p.child != null) {
            recordDeleted(p, directory);
        }
        if ((mask & FAN_ATTRIB) != 0 && p.child != null) {
            tracker.recordChange(withPath(p.child, p.dirName), Change.ATTRIBUTES, null, directory);
        }
        if ((mask & CONTENT_MASK) != 0 && !directory && p.child != null) {
            long epoch = modifyMarks == null ? 0 : modifyMarks.epoch();
            long lsn = tracker.recordChange(withPath(p.child, p.dirName), Change.WRITTEN, null, false);
            if (lsn == 0 && (mask & Fanotify.FAN_MODIFY) != 0 && modifyMarks != null) {
                muteModify(p.child, epoch);
            }
        }
        if ((mask & FAN_DELETE_SELF) != 0 && p.child != null) {
            freed(p.child);
        }
    }

    /**
     * The kernel freed {@code object}: {@code FAN_DELETE_SELF} comes once its link count is zero and
     * its last dentry goes, and an inode with no link gets none again (only an {@code O_TMPFILE}
     * one may be linked, and it is freed only after its last descriptor closed). Its record, now or
     * when its deletion is recorded, is noted freed (docs/linux-source.md, *Results*).
     */
    private void freed(FileId object) {
        if (!tracker.recordFreed(object)) {
            freedBeforeRecorded.put(object, Boolean.TRUE); // an unlink's DELETE_SELF comes before its DELETE
        }
    }

    /**
     * A file written again in a period it is already recorded in: an ignore mark spares its writers
     * the rest of the period's {@code FAN_MODIFY} events (an append of 100,000 4 KiB writes: 1.4x to
     * 1.8x the writer's time with the events, 1.0x with the mark; docs/benchmarks.md). Only on a
     * repeat, so that a file written once costs no extra system calls. Safe for the same reason as
     * the pre-content marks: the file is recorded in the current period, the mark is set only if no
     * checkpoint flushed the marks since {@code epochBeforeRecord} was read, and the next
     * checkpoint's flush removes it. The mark is set by handle, so it can only land on this inode.
     */
    private void muteModify(FileId file, long epochBeforeRecord) {
        try {
            if (modifyMarks.ignoreByHandle(fs.mountFd(), file, false, epochBeforeRecord)) {
                muted.increment();
            }
        } catch (PosixException e) {
            // The record is made; without the mark the events keep coming, which costs time, not records.
            LOG.log(Level.FINE, "could not mute FAN_MODIFY of " + file, e);
        }
    }

    /**
     * Results that name directories: the directory the event happened in (the parent of the entry
     * or child it names, or the directory itself for its own event, which the kernel names ".") is
     * recorded as written, and, the first time in the period, muted: an ignore mark with {@code FAN_EVENT_ON_CHILD} silences its entries'
     * and children's events until the checkpoint's flush. Safe for the reason {@link #muteModify}
     * is: the directory is recorded in the period its mark belongs to (recorded now, or found
     * recorded already), and its listing, done after the result, shows every later change of the
     * period. Muted at most once per epoch (the events queued before the mark landed find it
     * muted); a mark the kernel evicted only costs events until the next epoch.
     */
    private void recordDirectory(Parsed p) throws IOException {
        FileId directory = p.parent != null ? p.parent : p.child;
        if (directory == null) {
            throw new IOException("an event named neither a directory nor a file");
        }
        long epoch = modifyMarks.epoch();
        recordAndMute(directory, directories.pathOf(directory), epoch);
    }

    /**
     * Records {@code directory} (at {@code path}) as written, then mutes it unless it was muted in
     * {@code epoch} (read before the record) already: the rule {@link #recordDirectory} explains.
     */
    private void recordAndMute(FileId directory, String path, long epoch) throws IOException {
        tracker.recordChange(withPath(directory, path), Change.WRITTEN, null, true);
        if (mutedIn(directory, epoch)) {
            return;
        }
        try {
            if (modifyMarks.ignoreByHandle(fs.mountFd(), directory, true, epoch)) {
                mutedIn.put(directory, epoch);
                mutedDirectories.increment();
            }
        } catch (PosixException e) {
            // The record is made; without the mark the events keep coming, which costs time, not records.
            LOG.log(Level.FINE, "could not mute the directory " + path, e);
        }
    }

    /** Whether {@code directory} was muted in {@code epoch}. */
    private boolean mutedIn(FileId directory, long epoch) {
        Long muted = mutedIn.get(directory);
        return muted != null && muted == epoch;
    }

    /**
     * {@link LinuxSourceOptions.Naming#SCAN}: a child of {@code directory} was made, written or
     * changed its attributes. The directory is recorded as written (the result scans it,
     * {@link DirectoryScan}) and, the first time in the epoch, muted for {@link #SCANNED_MASK}, under
     * the rule {@link #recordDirectory} follows. False, recording nothing, for a directory above
     * {@link DirectoryScan#LINE_BYTES} (or one gone): the event names the child, as without a scan.
     */
    private boolean recordForScan(FileId directory) throws IOException {
        long epoch = modifyMarks.epoch();
        Long perChild = perChildIn.get(directory);
        if (perChild != null && perChild == epoch) {
            return false;
        }
        String path = directories.pathOf(directory);
        if (path == null || !mutedIn(directory, epoch) && aboveTheLine(path)) {
            perChildIn.put(directory, epoch);
            return false;
        }
        recordAndMute(directory, path, epoch);
        return true;
    }

    /** Whether the directory at {@code path} is too large to scan for one changed child ({@link DirectoryScan#LINE_BYTES}). */
    private static boolean aboveTheLine(String path) {
        try {
            return Statx.statx(Statx.AT_FDCWD, path, Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_SIZE).size()
                    > DirectoryScan.LINE_BYTES;
        } catch (PosixException e) {
            return true; // gone or unreadable: the event names the child
        }
    }

    /** The names that left their directories (with files named by a scan; empty otherwise). */
    Departures departures() {
        return departures;
    }

    /** Directories muted for the rest of their period (results that name directories). */
    long mutedDirectories() {
        return mutedDirectories.sum();
    }

    /** Files whose FAN_MODIFY events were muted for the rest of their period. */
    long muted() {
        return muted.sum();
    }

    /**
     * Records a deletion under its path, or without one (for now) if its directory is already gone:
     * its path then comes with the directory's own deletion ({@link OrphanedDeletions}).
     */
    private void recordDeleted(Parsed p, boolean directory) throws IOException {
        tracker.recordChange(withPath(p.child, p.dirName), Change.DELETED, null, directory);
        if (freedBeforeRecorded.remove(p.child) != null) {
            boolean noted = tracker.recordFreed(p.child);
            assert noted : "a deletion was just recorded for " + p.child;
        }
        if (p.dirName == null && p.parent != null && p.name != null) {
            orphans.add(p.parent, new OrphanedDeletions.Orphan(p.child, p.name, directory));
        } else if (directory && p.dirName != null) {
            orphans.resolve(p.child, p.dirName,
                    (child, path, isDirectory) -> tracker.recordChange(withPath(child, path), Change.DELETED, null, isDirectory));
        }
    }

    private Parsed parse(FanotifyEvents cursor) throws PosixException {
        Parsed p = new Parsed();
        FileId selfDir = null;
        while (cursor.nextInfo()) {
            switch (cursor.infoType()) {
                case FAN_EVENT_INFO_TYPE_FID -> p.child = handleOf(cursor);
                case FAN_EVENT_INFO_TYPE_DFID_NAME -> {
                    String name = cursor.name();
                    if (".".equals(name)) {
                        selfDir = handleOf(cursor); // a directory's own event names itself "."
                    } else {
                        p.parent = handleOf(cursor);
                        p.name = name;
                    }
                    p.dirName = pathOf(cursor, name);
                }
                case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME -> {
                    p.oldParent = handleOf(cursor);
                    p.oldEntry = cursor.name();
                    p.oldName = pathOf(cursor, p.oldEntry);
                }
                case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME -> p.newName = pathOf(cursor, cursor.name());
                default -> { }
            }
        }
        if (p.child == null) {
            p.child = selfDir;
        }
        return p;
    }

    /**
     * The identity of the event's object. Every event comes from a mark on the tracked file system,
     * so its fsid is that file system's: a btrfs subvolume below the root reports one of its own,
     * while the other paths that identify a file (the permission events, the scans, the carries) give
     * the root's, and one file must have one identity.
     */
    private FileId handleOf(FanotifyEvents cursor) {
        return FileId.ofHandle(fs.fsid(), cursor.handleType(), cursor.handleBytes(), null, null);
    }

    /** The directory's current path joined with {@code name}; null when the directory is gone. */
    private String pathOf(FanotifyEvents cursor, String name) throws PosixException {
        String dir = directories.pathOf(handleOf(cursor));
        if (dir == null) {
            return null;
        }
        return ".".equals(name) ? dir : (dir.endsWith("/") ? dir + name : dir + "/" + name);
    }

    private static FileId withPath(FileId id, String path) {
        return id.withHint(path, null);
    }

    private void lose(String reason, Throwable cause) {
        losses.report(reason, cause);
    }

    /** This listener's group descriptor. */
    int group() {
        return group;
    }

    @Override
    public void close() throws IOException {
        reader.stop();
        Posix.close(group, "the notification group");
    }
}
