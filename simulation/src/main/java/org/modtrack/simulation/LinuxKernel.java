package org.modtrack.simulation;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.modtrack.engine.Access;
import org.modtrack.engine.FileId;
import org.modtrack.engine.TrackerCore;
import org.modtrack.engine.WriteBarrier;
import org.modtrack.simulation.Variant.Granularity;
import org.modtrack.source.linux.rules.AnswerOrder;
import org.modtrack.source.linux.rules.CarryRule;
import org.modtrack.source.linux.rules.EpochRule;
import org.modtrack.source.linux.rules.SiblingRule;
import org.modtrack.source.linux.rules.WalkRule;

/**
 * The kernel side of the Linux source, modelled: writer threads (other processes than the tracker)
 * whose write-family calls raise a pre-content event unless their file has an ignore mark; the
 * handler that records the file, sets the mark by the epoch rule and answers
 * (then calls postWrite at once, as {@code PreContentListener} does); shared writable mappings
 * whose stores raise nothing; file descriptors opened before the tracker's mark (after a restart);
 * and the {@code srcu} barrier ({@code SyscallBarrier}, {@code AlwaysWritable}) as a real
 * {@link WriteBarrier} over these threads. Where the source decides something the model must decide
 * the same way (when an event is answered, when a mark may be set, when a walk's siblings are
 * recorded ahead, which open files a checkpoint carries, what a walk by ctime finds), both call the
 * same pure rule ({@link AnswerOrder}, {@link EpochRule}, {@link SiblingRule}, {@link CarryRule},
 * {@link WalkRule}); the rest of the model follows the listeners' code by the class names given.
 *
 * <p>With {@link Granularity#DIRECTORY} (the real source's default) the handler records the file's
 * directory as a {@link Access#SCOPE} and marks the directory for all its children; the children's
 * content changes are named after the fact by the notification group: a write's data queues a
 * MODIFY event, a close or munmap a CLOSE_WRITE, in a bounded {@link NotificationQueue} that a
 * reader step takes from ({@code NotificationListener}).
 *
 * <p>With {@link Granularity#DIRECTORY_RESULTS} (results that name directories) the reader records
 * the event's <em>directory</em> as written instead of the file, and when that record is new in the
 * open period it <em>mutes</em> the directory: an ignore mark in the notification group under the
 * epoch rule, after which the directory's children queue no MODIFY or CLOSE_WRITE until the
 * checkpoint's flush removes it ({@code NotificationListener.recordDirectory}). The reader is one
 * thread: between its record and its mute it takes no other event. With {@link
 * Granularity#DIRECTORY_SCAN} the reader records and mutes the same way ({@code
 * NotificationListener.recordForScan}); the result then names the files of a recorded directory
 * whose ctime is at or after a watermark ({@link #changedSince(int, long)}).
 *
 * <p>With opens as the only permission events ({@code LinuxSourceOptions.Hook.OPEN_PERM}), a call
 * raises an event only when it opens its descriptor (a call on another file than the thread's open
 * one); later calls through that descriptor raise nothing, in any period. Every file open for
 * writing is then carried into each new period ({@code AlwaysWritable}), as with directory records.
 *
 * <p>The tracker's crash does not stop the writers: its groups are released, which clears every
 * mark, lets every waiting access through unrecorded and drops the unread notifications, and open
 * descriptors stop raising events (the kernel decides at open time). A clean stop ({@link #stop})
 * releases the groups the same way, after its handlers finished. A power loss ends everything.
 */
final class LinuxKernel {
    /** Where a writer thread is. */
    enum CallState { IDLE, EVENT, HANDLING, ALLOWED }

    /** A writer thread, and its one open file descriptor. */
    static final class WriterThread {
        CallState state = CallState.IDLE;
        int fdFile = -1;
        boolean fdBeforeMark;
        boolean mmap;
        boolean wrote;
        int version;
        long epoch;
        long token;
        long lsn;
        long callSeq;
        int calls;
        int recorded = -1; // what the handler recorded: the file, or with directory records its directory
        AnswerOrder order; // when the handler answers with respect to its record
    }

    private final WriterThread[] threads;
    /**
     * Each file's ctime on a logical clock that ticks at every content change: a write's data and a
     * store through a mapping set it (the kernel stamps ctime before the data lands, and a store
     * faults on a clean page; a store on a page already dirty does not, but such a file is mapped,
     * so the barrier carries it into every period). What {@code Reconciliation} compares.
     */
    private final long[] ctime;
    /**
     * Each file's ctime as the disk has it: a write's new ctime joins the file system's journal,
     * which this model commits only when the tracked file system is synced (a bless, where a power
     * lease may stand); a power loss may keep a write's data and lose its ctime
     * ({@link #loseUncommittedCtimes}).
     */
    private final long[] committedCtime;
    private long clock;
    private final FileId[] ids;
    private final int[] truth;
    private final int[] completed;
    private final boolean[] marked;
    private final int[] mappings;
    private final LinuxMutant mutant;
    private final Granularity granularity;
    private final FileId[] directoryIds;
    private final boolean[] directoryMarked;
    /** Directories recorded or written in the current period ({@code BusyDirectories}). */
    private final boolean[] busy;
    /** Directories recorded ahead at the last checkpoint, to mark again once durable; the epoch after its flush. */
    private final boolean[] recordedAhead;
    private long recordedAheadLsn;
    private long recordedAheadEpoch = -1;
    /**
     * {@code SiblingScopes}: directories to record ahead of a walk (set when a handler makes a new
     * record of another directory), those recorded and not yet marked, and each one's epoch (read
     * before its record) and journal position.
     */
    private final boolean[] siblingPending;
    /** The parent's children newly recorded in the period, and whether it was expanded in the period ({@code SiblingScopes}). */
    private int newChildren;
    private boolean expanded;
    private long siblingPeriod = -1; // the epoch newChildren and expanded are counted in
    private final boolean[] siblingRecorded;
    private final long[] siblingEpoch;
    private final long[] siblingLsn;
    /** Results that name directories: the notification group's ignore marks on directories (their children raise no event). */
    private final boolean[] muted;
    /** The notification reader between the two halves of an event (results that name directories): its directory, or -1. */
    private int readerDirectory = -1;
    private long readerEpoch;
    private final int queueBound;
    /** Whether opens are the only permission events: a descriptor raises one at its open, and never again. */
    private final boolean opensOnly;
    private NotificationQueue queue; // null while no tracker runs (after a clean stop) or without directory records
    private boolean groups = true; // whether the tracker's fanotify groups exist
    private long epoch;
    private int stores;
    private long deviceWrites; // what the block device's count of written sectors stands for: every write that landed

    /**
     * {@code truth} and {@code completed} are the world's, updated in place; file {@code f} lives in
     * directory {@code f % directoryIds.length}.
     */
    LinuxKernel(int threads, FileId[] ids, int[] truth, int[] completed, LinuxMutant mutant, Granularity granularity,
                FileId[] directoryIds, int queueBound, boolean opensOnly) {
        this.opensOnly = opensOnly;
        this.threads = new WriterThread[threads];
        for (int i = 0; i < threads; i++) {
            this.threads[i] = new WriterThread();
        }
        this.ids = ids;
        this.truth = truth;
        this.ctime = new long[truth.length];
        this.committedCtime = new long[truth.length];
        this.completed = completed;
        this.marked = new boolean[ids.length];
        this.mappings = new int[ids.length];
        this.mutant = mutant;
        this.granularity = granularity;
        this.directoryIds = directoryIds;
        this.directoryMarked = new boolean[directoryIds.length];
        this.busy = new boolean[directoryIds.length];
        this.recordedAhead = new boolean[directoryIds.length];
        this.siblingPending = new boolean[directoryIds.length];
        this.siblingRecorded = new boolean[directoryIds.length];
        this.siblingEpoch = new long[directoryIds.length];
        this.siblingLsn = new long[directoryIds.length];
        this.muted = new boolean[directoryIds.length];
        this.queueBound = queueBound;
        this.queue = directories() ? new NotificationQueue(queueBound) : null;
    }

    /** Whether the handler records directories (and the notification queue names the children's changes). */
    boolean directories() {
        return granularity.directories();
    }

    /**
     * Whether the notification reader records and mutes directories: results name directories, or
     * name the files below a recorded directory by a scan.
     */
    boolean mutesDirectories() {
        return granularity.mutesDirectories();
    }

    /** Whether results name the files below a recorded directory by a scan of their ctimes ({@code DirectoryScan}). */
    boolean scansDirectories() {
        return granularity == Granularity.DIRECTORY_SCAN;
    }

    /** The directory file {@code file} lives in. */
    int directoryOf(int file) {
        return file % directoryIds.length;
    }

    int directoryCount() {
        return directoryIds.length;
    }

    /** The notification queue, or null if there is none (no tracker, or file records). */
    NotificationQueue queue() {
        return queue;
    }

    /** Whether the tracker's groups exist (false between a clean stop and the next start). */
    boolean running() {
        return groups;
    }

    /** The block device's count of written data: what a watermark compares. */
    long deviceWrites() {
        return deviceWrites;
    }

    WriterThread thread(int i) {
        return threads[i];
    }

    int threads() {
        return threads.length;
    }

    boolean mapped(int file) {
        return mappings[file] > 0;
    }

    int stores() {
        return stores;
    }

    // ---- a writer's call ---------------------------------------------------------------------------

    /** WriterThread {@code w} enters a write (or shared writable mmap) call on {@code file}. */
    String call(int w, int file, boolean mmap) {
        WriterThread t = threads[w];
        String closed = "";
        boolean opens = t.fdFile != file;
        if (opens) {
            if (t.fdFile >= 0) {
                closed = close(w); // a new descriptor for another file: the old one is closed (CLOSE_WRITE)
                closed = closed.isEmpty() ? "" : closed + "; ";
            }
            t.fdFile = file;
            t.fdBeforeMark = false;
        }
        t.mmap = mmap;
        t.wrote = false;
        t.calls++;
        t.callSeq++;
        if (!groups) {
            t.state = CallState.ALLOWED;
            return closed + "no tracker runs: no event";
        }
        if (opensOnly && !opens) {
            t.state = CallState.ALLOWED;
            return closed + "through its open descriptor: no open, no event";
        }
        if (marked[file] || directoryMarked[directoryOf(file)] || t.fdBeforeMark) {
            t.state = CallState.ALLOWED;
            return closed + (t.fdBeforeMark ? "opened before the mark: no event"
                    : marked[file] ? "ignore-marked: no event" : "its directory d" + directoryOf(file) + " is ignore-marked: no event");
        }
        t.state = CallState.EVENT;
        return closed + "pre-content event, the thread waits for the answer";
    }

    /**
     * The handler reads the epoch and records the event's file (preWrite), or with directory records
     * the file's directory as a scope ({@code AccessRecorder.recordDirectory}). Its {@link AnswerOrder}
     * is chosen as {@code AccessRecorder.record} chooses it: before any classification where the
     * source records the directory first, else for a write (the model's calls are writes; with
     * opens alone, each event is an open). The model's directories can always be pinned down (their
     * files are never renamed or removed), so the source's fall-back to classifying never runs.
     */
    String handle(int w, TrackerCore core) throws IOException {
        WriterThread t = threads[w];
        t.epoch = epoch;
        t.order = AnswerOrder.recordsDirectoryBeforeClassifying(granularity.source(), core.config().durability())
                ? AnswerOrder.RECORD_DIRECTORY_THEN_ANSWER : AnswerOrder.of(Access.WRITE, opensOnly);
        t.recorded = directories() ? directoryOf(t.fdFile) : t.fdFile;
        TrackerCore.Intent intent = directories() ? core.preWrite(directoryIds[t.recorded], Access.SCOPE)
                : core.preWrite(ids[t.recorded]);
        t.token = intent.token();
        t.lsn = intent.lsn();
        t.state = CallState.HANDLING;
        String what = directories() ? "d" + t.recorded + " (scope)" : "";
        if (directories()) {
            busy[t.recorded] = true;
            if (!intent.alreadyRecorded() && granularity == Granularity.DIRECTORY_WALKS) {
                // The model's directories are siblings under one parent (SiblingScopes.parentToExpand),
                // which has one more child outside the model, recorded first in every period: so the
                // model's first new record may already reveal a walk, and the siblings it records
                // ahead are not yet recorded by a handler of their own, the interleavings that matter.
                if (siblingPeriod != t.epoch) {
                    siblingPeriod = t.epoch;
                    newChildren = 1;
                    expanded = false;
                }
                newChildren++;
                // The model's expansion records every other directory: a walk never goes past it.
                if (SiblingRule.expands(newChildren, expanded, false, 0, Integer.MAX_VALUE)) {
                    expanded = true;
                    for (int d = 0; d < directoryIds.length; d++) {
                        siblingPending[d] |= d != t.recorded;
                    }
                }
            }
        }
        return (intent.alreadyRecorded() ? "already recorded " + what : "recorded " + what + "(lsn " + intent.lsn() + ")")
                + (core.journal().isAcknowledged(intent.lsn()) ? "" : ", waits for a sync");
    }

    /** Whether thread {@code w}'s handler may answer: by its {@link AnswerOrder}, a write once its record is acknowledged. */
    boolean answerable(int w, TrackerCore core) {
        WriterThread t = threads[w];
        return t.state == CallState.HANDLING && (t.order.answersFirst() || core.journal().isAcknowledged(t.lsn));
    }

    /**
     * The handler sets the mark (on the file, or on the directory for all its children) if no flush
     * came since it read the epoch, answers, and calls postWrite.
     */
    String answer(int w, TrackerCore core) {
        WriterThread t = threads[w];
        boolean mark = EpochRule.mayMark(t.epoch, epoch) || mutant == (directories() ? LinuxMutant.DIR_MARK_AFTER_FLUSH : LinuxMutant.MARK_AFTER_FLUSH);
        (directories() ? directoryMarked : marked)[t.recorded] |= mark;
        core.postWrite(t.token);
        t.state = CallState.ALLOWED;
        return mark ? "marked, allowed" : "allowed (a flush came since the record: no mark)";
    }

    /** The handler's sync failed: the access is denied. */
    void deny(int w, TrackerCore core) {
        core.postWrite(threads[w].token);
        threads[w].state = CallState.IDLE;
    }

    /** The data lands (or, for an mmap call, the mapping exists). */
    String data(int w) {
        WriterThread t = threads[w];
        t.wrote = true;
        if (t.mmap) {
            mappings[t.fdFile]++;
            return "f" + t.fdFile + " is mapped shared and writable";
        }
        t.version = ++truth[t.fdFile];
        ctime[t.fdFile] = ++clock;
        deviceWrites++;
        return "f" + t.fdFile + " is now version " + t.version + notify(t.fdFile, "MODIFY");
    }

    /** Queues a content event of {@code file} for the notification reader, with directory records, unless its directory is muted. */
    private String notify(int file, String event) {
        if (queue == null) {
            return "";
        }
        if (muted[directoryOf(file)]) {
            return "; d" + directoryOf(file) + " is muted: no " + event + " f" + file;
        }
        return queue.offer(file) ? "; " + event + " f" + file + " queued" : "; the queue is full: " + event + " f" + file
                + " dropped, overflow queued";
    }

    /** The thread leaves its call; a write is now complete. */
    String leave(int w) {
        WriterThread t = threads[w];
        if (t.wrote && !t.mmap) {
            completed[t.fdFile] = Math.max(completed[t.fdFile], t.version);
        }
        t.state = CallState.IDLE;
        return "";
    }

    /** The thread closes its descriptor (opened for writing: CLOSE_WRITE if that was the file's last reference). */
    String close(int w) {
        int file = threads[w].fdFile;
        threads[w].fdFile = -1;
        return lastReferenceGone(file);
    }

    /** CLOSE_WRITE comes with the last reference to a file opened for writing: no descriptor, no mapping left. */
    private String lastReferenceGone(int file) {
        boolean referenced = mappings[file] > 0;
        for (WriterThread t : threads) {
            referenced |= t.fdFile == file;
        }
        return referenced ? "" : notify(file, "CLOSE_WRITE").replaceFirst("^; ", "");
    }

    /** A store through a mapping of {@code file}: no call, no event. */
    String store(int file) {
        stores++;
        deviceWrites++;
        completed[file] = ++truth[file];
        ctime[file] = ++clock;
        return "f" + file + " is now version " + truth[file];
    }

    /** One mapping of {@code file} goes away (CLOSE_WRITE if that was the file's last reference). */
    String unmap(int file) {
        mappings[file]--;
        return lastReferenceGone(file);
    }

    /** Whether a writer thread is inside a call: its write may still come, and its event after it. */
    boolean callsInFlight() {
        for (WriterThread t : threads) {
            if (t.state != CallState.IDLE) {
                return true;
            }
        }
        return false;
    }

    /** {@code syncfs} of the tracked file system: every ctime is on disk. */
    void syncFs() {
        System.arraycopy(ctime, 0, committedCtime, 0, ctime.length);
    }

    /**
     * A power loss's effect on ctimes: a file written since its ctime was last committed may keep
     * the new data and lose the new ctime (an {@code fdatasync} writes data and skips a
     * timestamp-only inode update), at random. The data stays: the model's truth is what the disk
     * holds. Returns the files whose ctime went back.
     */
    List<Integer> loseUncommittedCtimes(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Integer> lost = new ArrayList<>();
        for (int f = 0; f < ctime.length; f++) {
            if (ctime[f] != committedCtime[f] && random.nextBoolean()) {
                ctime[f] = committedCtime[f];
                lost.add(f);
            }
        }
        return lost;
    }

    /** The logical clock now: every content change from here on gets a later ctime. */
    long clock() {
        return clock;
    }

    /**
     * What a walk by ctime finds ({@link WalkRule#changedSince}): the files changed at or after
     * {@code since}. A file never changed has no ctime on this clock.
     */
    List<Integer> changedSince(long since) {
        List<Integer> files = new ArrayList<>();
        for (int f = 0; f < ctime.length; f++) {
            if (ctime[f] > 0 && WalkRule.changedSince(ctime[f], since)) {
                files.add(f);
            }
        }
        return files;
    }

    /**
     * What a scan of directory {@code directory} names ({@code DirectoryScan}, by the same {@link
     * WalkRule#changedSince}): its files changed at or after {@code since}.
     */
    List<Integer> changedSince(int directory, long since) {
        List<Integer> files = new ArrayList<>();
        for (int f : changedSince(since)) {
            if (directoryOf(f) == directory) {
                files.add(f);
            }
        }
        return files;
    }

    // ---- the tracker's crash -----------------------------------------------------------------------

    /** The tracker died: its groups are gone, so marks vanish, waiting accesses are let through, unread notifications vanish. */
    void trackerDied() {
        releaseGroups();
    }

    /** The machine lost power: every process is gone. */
    void powerLost() {
        releaseGroups();
        for (int i = 0; i < threads.length; i++) {
            WriterThread t = new WriterThread();
            t.calls = threads[i].calls;
            threads[i] = t;
        }
        Arrays.fill(mappings, 0);
    }

    /**
     * A clean stop closes the groups: the handlers finish first (each ends its token: the engine then
     * stops cleanly), then every access still waiting is let through and the unread notifications vanish.
     */
    void stop(TrackerCore core) {
        finishHandlers(core);
        releaseGroups();
    }

    private void finishHandlers(TrackerCore core) {
        for (WriterThread t : threads) {
            if (t.state == CallState.HANDLING) {
                core.postWrite(t.token);
                t.state = CallState.ALLOWED;
            }
        }
    }

    /**
     * The tracker died while a queue keeper holds the notification group: the pre-content group
     * goes (its marks vanish, waiting accesses are let through), while the notification queue and
     * its mutes stay and go on filling.
     */
    void trackerDiedKeepingQueue() {
        releasePreContent();
    }

    /** A clean stop while a queue keeper holds the notification group: as {@link #stop}, keeping the queue. */
    void stopKeepingQueue(TrackerCore core) {
        finishHandlers(core);
        releasePreContent();
    }

    /** The keeper died while no tracker ran: the group it held, its queue and its mutes are gone. */
    void keptQueueLost() {
        queue = null;
        Arrays.fill(muted, false);
    }

    /** Whether a notification queue outlives the tracker (a keeper holds it) for the next start to take over. */
    boolean queueKept() {
        return !groups && queue != null;
    }

    /** The tracker that takes a kept queue over removes the mutes it inherits (it cannot vouch for them). */
    void flushInheritedMutes() {
        epoch++;
        Arrays.fill(muted, false);
    }

    private void releaseGroups() {
        releasePreContent();
        Arrays.fill(muted, false);
        queue = null;
    }

    private void releasePreContent() {
        epoch++;
        Arrays.fill(marked, false);
        Arrays.fill(directoryMarked, false);
        readerDirectory = -1; // the reader is gone
        Arrays.fill(busy, false); // the listener that kept them is gone
        Arrays.fill(recordedAhead, false);
        Arrays.fill(siblingPending, false); // their listener is gone
        Arrays.fill(siblingRecorded, false);
        for (WriterThread t : threads) {
            if (t.state == CallState.EVENT || t.state == CallState.HANDLING) {
                t.state = CallState.ALLOWED; // the kernel answers FAN_ALLOW when the group is released
            }
        }
        groups = false;
    }

    /**
     * A tracker starts: new groups and marks. Descriptors open now were opened before its mark and
     * raise no pre-content event; they and the files mapped shared and writable are what {@code
     * PreOpenedWriters} finds, returned for the tracker to record.
     */
    List<FileId> start() {
        return start(false);
    }

    /** Like {@link #start()}; with {@code takeOverQueue}, the kept notification queue is this tracker's. */
    List<FileId> start(boolean takeOverQueue) {
        groups = true;
        if (!takeOverQueue || queue == null) {
            queue = directories() ? new NotificationQueue(queueBound) : null;
        }
        Set<Integer> open = new LinkedHashSet<>();
        for (WriterThread t : threads) {
            t.fdBeforeMark = t.fdFile >= 0;
            if (t.fdFile >= 0) {
                open.add(t.fdFile);
            }
        }
        for (int f = 0; f < mappings.length; f++) {
            if (mappings[f] > 0) {
                open.add(f);
            }
        }
        return open.stream().map(f -> ids[f]).toList();
    }

    /**
     * {@code carry} and what {@code AlwaysWritable} names: the files mapped shared and writable,
     * and the files open on a descriptor opened before the mark, or on any descriptor where
     * {@link CarryRule#everyOpenWriter} says so (the mutant {@link LinuxMutant#NO_CARRY_OPEN_WRITERS}
     * takes opens alone out of its reasons).
     */
    List<FileId> alwaysWritable(Set<Integer> carry) {
        return alwaysWritable(carry, null);
    }

    /** {@link #alwaysWritable(Set)}, with the mapped files {@code mapped} instead of those mapped now (null: now). */
    private List<FileId> alwaysWritable(Set<Integer> carry, Set<Integer> mapped) {
        for (int f = 0; f < mappings.length; f++) {
            if ((mapped != null ? mapped.contains(f) : mappings[f] > 0) && mutant != LinuxMutant.NO_CARRY_MAPPINGS) {
                carry.add(f);
            }
        }
        boolean everyOpenWriter = CarryRule.everyOpenWriter(granularity.source(),
                opensOnly && mutant != LinuxMutant.NO_CARRY_OPEN_WRITERS);
        for (WriterThread t : threads) {
            if (t.fdFile >= 0 && (t.fdBeforeMark || everyOpenWriter)) {
                carry.add(t.fdFile);
            }
        }
        List<FileId> files = new ArrayList<>();
        carry.forEach(f -> files.add(ids[f]));
        return files;
    }

    /**
     * At a checkpoint, after the new period began and before the flush
     * ({@code BusyDirectories.recordAhead}): records the busy directories as scopes
     * of the new period. Their marks are set again ({@link #markAheadAgain}) once the records are
     * durable and if no later flush came.
     */
    /**
     * How many busy directories are recorded ahead (the real bound is 4,096): 1 of the model's 2, so
     * that a busy directory left out (beyond the bound, or when recording ahead fails) is simulated
     * too, and with it the epoch rule of the handlers' marks.
     */
    private static final int AHEAD_BOUND = 1;

    String recordAhead(TrackerCore core) throws IOException {
        StringBuilder out = new StringBuilder();
        Arrays.fill(recordedAhead, false);
        recordedAheadLsn = 0;
        int room = AHEAD_BOUND;
        for (int d = 0; d < busy.length && room > 0; d++) {
            if (busy[d]) {
                room--;
                TrackerCore.Intent intent = core.preWrite(directoryIds[d], Access.SCOPE);
                core.postWrite(intent.token());
                recordedAhead[d] = true;
                recordedAheadLsn = Math.max(recordedAheadLsn, intent.lsn());
                out.append(" d").append(d);
            }
        }
        Arrays.fill(busy, false);
        recordedAheadEpoch = epoch + 1; // the flush that follows
        return out.isEmpty() ? "" : "; recorded ahead:" + out;
    }

    /** Whether {@code SiblingScopes} may record directory {@code d} ahead of a walk now. */
    boolean maySiblingRecord(int d) {
        return groups && d < siblingPending.length && siblingPending[d];
    }

    /** {@code SiblingScopes.expand}: reads the epoch, records {@code d} as a scope. */
    String siblingRecord(int d, TrackerCore core) throws IOException {
        siblingPending[d] = false;
        siblingEpoch[d] = epoch;
        TrackerCore.Intent intent = core.preWrite(directoryIds[d], Access.SCOPE);
        core.postWrite(intent.token());
        siblingLsn[d] = intent.lsn();
        siblingRecorded[d] = true;
        return intent.alreadyRecorded() ? "already recorded" : "recorded (lsn " + intent.lsn() + ")";
    }

    /**
     * Whether a handler, a walk's sibling records or the checkpoint's records ahead wait for a
     * record to become durable ({@code ChangeTracker.preWrite} and {@code preRecord} wait in group
     * commit).
     */
    boolean awaitsDurability(TrackerCore core) {
        for (int w = 0; w < threads.length; w++) {
            if (threads[w].state == CallState.HANDLING && !answerable(w, core)) {
                return true;
            }
        }
        for (int d = 0; d < siblingRecorded.length; d++) {
            if (siblingRecorded[d] && !core.journal().isAcknowledged(siblingLsn[d])) {
                return true;
            }
        }
        boolean ahead = false;
        for (boolean d : recordedAhead) {
            ahead |= d;
        }
        return ahead && !core.journal().isAcknowledged(recordedAheadLsn);
    }

    /** Whether directory {@code d}, recorded ahead of a walk, may be marked: its record is durable. */
    boolean maySiblingMark(int d, TrackerCore core) {
        return groups && d < siblingRecorded.length && siblingRecorded[d]
                && core.journal().isAcknowledged(siblingLsn[d]);
    }

    /** Marks {@code d} for its children, under the epoch rule. */
    String siblingMark(int d) {
        siblingRecorded[d] = false;
        boolean mark = EpochRule.mayMark(siblingEpoch[d], epoch) || mutant == LinuxMutant.SIBLING_MARK_AFTER_FLUSH;
        directoryMarked[d] |= mark;
        return mark ? "marked" : "not marked (a flush came since its record)";
    }

    /** Whether the directories recorded ahead may be marked again now: durable, and no flush since the checkpoint's. */
    boolean mayMarkAheadAgain(TrackerCore core) {
        boolean any = false;
        for (boolean d : recordedAhead) {
            any |= d;
        }
        return any && core.journal().isAcknowledged(recordedAheadLsn) && EpochRule.mayMark(recordedAheadEpoch, epoch);
    }

    /** {@code BusyDirectories.markRecordedAheadAgain}: the directories recorded ahead get their marks back. */
    String markAheadAgain() {
        StringBuilder out = new StringBuilder("marked again:");
        for (int d = 0; d < recordedAhead.length; d++) {
            if (recordedAhead[d]) {
                directoryMarked[d] = true;
                recordedAhead[d] = false;
                out.append(" d").append(d);
            }
        }
        return out.toString();
    }

    /** A child of {@code directory} changed: the notification reader notes its directory as busy. */
    void noteBusy(int file) {
        if (directories()) {
            busy[directoryOf(file)] = true;
        }
    }

    /** Every mark goes: at a checkpoint's flush ({@code byFlush}), or with the groups. */
    private void clearMarks(boolean byFlush) {
        epoch++;
        Arrays.fill(marked, false);
        Arrays.fill(directoryMarked, false);
        if (!byFlush || mutant != LinuxMutant.FLUSH_KEEPS_MUTES) {
            Arrays.fill(muted, false);
        }
    }

    // ---- results that name directories: the notification reader's mutes --------------------------

    /** The marks' epoch: bumped by every flush (both groups are flushed together in the model). */
    long epoch() {
        return epoch;
    }

    /** Whether the pre-content handler's mark stands on {@code directory} (a scope of the open period). */
    boolean preContentMarked(int directory) {
        return directoryMarked[directory];
    }

    boolean muted(int directory) {
        return muted[directory];
    }

    /** Mutes {@code directory}: its children queue no notification event until the next flush. */
    void mute(int directory) {
        muted[directory] = true;
    }

    /** The reader has recorded {@code directory} after reading {@code epochBeforeRecord}; its mute is pending. */
    void readerBetween(int directory, long epochBeforeRecord) {
        readerDirectory = directory;
        readerEpoch = epochBeforeRecord;
    }

    /** The directory the reader is between the two halves of an event for, or -1. */
    int readerDirectory() {
        return readerDirectory;
    }

    /** The epoch the reader read before recording its pending directory. */
    long readerEpoch() {
        return readerEpoch;
    }

    /** The reader finished its event. */
    void readerDone() {
        readerDirectory = -1;
    }

    // ---- the srcu barrier --------------------------------------------------------------------------

    /** The {@code srcu} barrier over these threads. */
    WriteBarrier barrier() {
        return new WriteBarrier() {
            @Override
            public String name() {
                return "srcu";
            }

            @Override
            public Wait begin(long closingSnapshot) {
                clearMarks(true);
                Map<Integer, Long> inCall = new LinkedHashMap<>();
                for (int i = 0; i < threads.length; i++) {
                    if (threads[i].state != CallState.IDLE && mutant != LinuxMutant.BARRIER_IGNORES_IN_CALL) {
                        inCall.put(i, threads[i].callSeq);
                    }
                }
                Set<Integer> mappedAtFlush = null;
                if (mutant == LinuxMutant.MAPPINGS_AT_FLUSH) {
                    mappedAtFlush = new LinkedHashSet<>();
                    for (int f = 0; f < mappings.length; f++) {
                        if (mappings[f] > 0) {
                            mappedAtFlush.add(f);
                        }
                    }
                }
                return new SrcuWait(inCall, mappedAtFlush);
            }
        };
    }

    /**
     * One checkpoint's grace period: the threads inside a call at the flush, until each left it.
     * What it carries besides them is looked at when it ends, as {@code SyscallBarrier} does.
     */
    private final class SrcuWait implements WriteBarrier.Wait {
        private final Map<Integer, Long> pending;
        /** The mutant {@link LinuxMutant#MAPPINGS_AT_FLUSH}'s mapped files; null: those mapped when the wait ends. */
        private final Set<Integer> mappedAtFlush;

        SrcuWait(Map<Integer, Long> pending, Set<Integer> mappedAtFlush) {
            this.pending = pending;
            this.mappedAtFlush = mappedAtFlush;
        }

        @Override
        public boolean isDone() {
            pending.entrySet().removeIf(e -> left(threads[e.getKey()], e.getValue()));
            return pending.isEmpty();
        }

        private static boolean left(WriterThread t, long callSeq) {
            return t.state == CallState.IDLE || t.callSeq != callSeq;
        }

        @Override
        public void awaitProgress(long maxNanos) {}

        @Override
        public List<FileId> filesToCarry() {
            isDone();
            Set<Integer> carry = new LinkedHashSet<>();
            pending.keySet().forEach(w -> carry.add(threads[w].fdFile));
            return alwaysWritable(carry, mappedAtFlush);
        }
    }
}
