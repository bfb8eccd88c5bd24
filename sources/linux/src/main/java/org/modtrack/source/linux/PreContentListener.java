package org.modtrack.source.linux;

import static org.modtrack.posix.Fanotify.FAN_ALLOW;
import static org.modtrack.posix.Fanotify.FAN_MARK_ADD;
import static org.modtrack.posix.Fanotify.FAN_OPEN_PERM;
import static org.modtrack.posix.Fanotify.FAN_PRE_ACCESS;
import static org.modtrack.posix.Fanotify.FAN_Q_OVERFLOW;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.Access;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.StatStamp;
import org.modtrack.engine.WriteTicket;
import org.modtrack.posix.Errno;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FanotifyEvents;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * The PRE_WRITE hook of the design (docs/correctness.md): a pre-content group whose events are answered {@code FAN_ALLOW} only
 * once the engine has recorded the file as durably as configured.
 *
 * <p>One thread reads the events in batches; a bounded pool answers them, so that one event waiting
 * for a sync does not hold up others (and concurrent events share a sync through the engine's group
 * commit). After recording a file, the handler puts an ignore mark on it so that later accesses in
 * the period raise no event; {@link IgnoreMarks} keeps such a mark from outliving its period.
 *
 * <p>Every event is answered within the deadline, whatever happens: a deadline thread answers any
 * event still waiting past it by the {@link LinuxSourceOptions.FailurePolicy} (a stalled journal
 * disk, a full pool), and a handler that fails answers by the policy at once. Fail-open allows the
 * access and marks continuity lost (through {@link LossRecorder}, which never blocks the caller even
 * when the journal's disk does); fail-closed denies it with EIO.
 */
final class PreContentListener implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PreContentListener.class.getName());
    /** What the filesystem mark asks for with pre-content events: every content access, and opens (for O_TRUNC). */
    static final long MASK = FAN_PRE_ACCESS | FAN_OPEN_PERM;
    /** What it asks for where opens are the only hook ({@link LinuxSourceOptions.Hook#OPEN_PERM}). */
    static final long OPENS_ONLY_MASK = FAN_OPEN_PERM;
    static final int INIT_FLAGS = Fanotify.FAN_CLASS_PRE_CONTENT | Fanotify.FAN_CLOEXEC | Fanotify.FAN_NONBLOCK
            | Fanotify.FAN_REPORT_TID | Fanotify.FAN_UNLIMITED_MARKS | Fanotify.FAN_UNLIMITED_QUEUE;
    static final int EVENT_F_FLAGS = Posix.O_RDONLY | Posix.O_LARGEFILE | Posix.O_CLOEXEC;
    private static final int BUFFER_BYTES = 64 * 1024;
    private static final int QUEUED_PER_THREAD = 64;
    private static final int STAMP_MASK = Statx.STATX_INO | Statx.STATX_SIZE | Statx.STATX_MTIME | Statx.STATX_CTIME
            | Statx.STATX_TYPE;

    /** Counters, for stats and the false-positive measurement ({@link EventCounts}). */
    static final class Counters {
        final LongAdder events = new LongAdder();
        final LongAdder reads = new LongAdder();
        final LongAdder writes = new LongAdder();
        final LongAdder directoryRecords = new LongAdder();
        final LongAdder alreadyRecorded = new LongAdder();
        final LongAdder failures = new LongAdder();
        final LongAdder answeredAtDeadline = new LongAdder();
        final LongAdder denied = new LongAdder();
    }

    /** One permission event until it is answered; answered exactly once, by whoever claims it first. */
    private static final class Pending {
        final int fd;
        final long deadlineNanos;
        final long readNanos = System.nanoTime();
        final AtomicBoolean answered = new AtomicBoolean();
        /** A parent whose subdirectories the handler records ahead once it has answered (SiblingScopes). */
        String parentToExpand;

        Pending(int fd, long deadlineNanos) {
            this.fd = fd;
            this.deadlineNanos = deadlineNanos;
        }
    }

    private final int group;
    private final TrackedFilesystem fs;
    private final ChangeTracker tracker;
    private final AccessClassifier classifier;
    private final LinuxSourceOptions options;
    private final ThreadPoolExecutor handlers;
    private final EventReader reader;
    private final Thread deadlineThread;
    private volatile boolean deadlineIdle; // the deadline thread sleeps its long, idle tick: wake it for an event
    private final IgnoreMarks marks;
    private final LossRecorder losses;
    private final Set<Pending> pending = ConcurrentHashMap.newKeySet();
    private final Counters counters = new Counters();
    private final BusyDirectories busy; // null with file records
    private final LatencyHistogram answerLatency = new LatencyHistogram();
    private final long deadlineNanos;
    /**
     * Directory records with process durability: a record costs no sync, so recording before any
     * answer costs a read nothing it would notice (see {@link #record}).
     */
    private final boolean directoryRecordsWaitForNoSync;
    private final SiblingScopes siblings;
    private volatile boolean running = true;
    private volatile Runnable heartbeat = () -> { };

    private PreContentListener(int group, IgnoreMarks marks, TrackedFilesystem fs, ChangeTracker tracker,
                               AccessClassifier classifier, LinuxSourceOptions options, LossRecorder losses,
                               BusyDirectories busy, int handlerThreads) throws PosixException {
        // First: the only step that can fail, before the threads exist.
        this.reader = new EventReader("pre-content", group, BUFFER_BYTES, losses, this::dispatch, ThreadNice.WRITERS_WAIT);
        this.group = group;
        this.marks = marks;
        this.fs = fs;
        this.tracker = tracker;
        this.classifier = classifier;
        this.options = options;
        this.losses = losses;
        this.busy = busy;
        this.deadlineNanos = options.answerDeadline().toNanos();
        boolean directoryRecords = options.granularity() == LinuxSourceOptions.Granularity.DIRECTORY;
        this.directoryRecordsWaitForNoSync = directoryRecords && tracker.config().durability() == Durability.PROCESS;
        this.siblings = new SiblingScopes(fs, tracker, marks, directoryRecords ? options.siblingScopes() : 0);
        this.handlers = new ThreadPoolExecutor(handlerThreads, handlerThreads, 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(handlerThreads * QUEUED_PER_THREAD),
                niceDaemonThreads("modtrack-pre-content", ThreadNice.WRITERS_WAIT));
        this.handlers.prestartAllCoreThreads(); // so that offering to the queue directly always reaches a thread
        this.deadlineThread = Thread.ofPlatform().daemon().name("modtrack-answer-deadline").unstarted(this::enforceDeadlines);
    }

    /** Creates the group (not yet marked: see {@link #markFilesystem}). */
    static int createGroup() throws PosixException {
        return Fanotify.init(INIT_FLAGS, EVENT_F_FLAGS);
    }

    /**
     * Starts answering the events of {@code group}, which the listener owns from now on. {@code busy}:
     * where directory records note the directories they record (null with file records).
     */
    static PreContentListener start(int group, IgnoreMarks marks, TrackedFilesystem fs, ChangeTracker tracker,
                                    AccessClassifier classifier, LinuxSourceOptions options, LossRecorder losses,
                                    BusyDirectories busy, int handlerThreads) throws PosixException {
        PreContentListener l = new PreContentListener(group, marks, fs, tracker, classifier, options, losses, busy,
                handlerThreads);
        l.deadlineThread.start();
        l.reader.start();
        return l;
    }

    /** The filesystem mark's events (and the ignore marks') for the options' resolved hook. */
    static long mask(LinuxSourceOptions options) {
        if (options.hook() == null) {
            throw new IllegalArgumentException("the hook is resolved before the group is marked");
        }
        return options.opensOnly() ? OPENS_ONLY_MASK : MASK;
    }

    /** Puts the filesystem mark: from now on every access on the file system waits for us. */
    void markFilesystem() throws PosixException {
        Fanotify.mark(group, FAN_MARK_ADD | Fanotify.FAN_MARK_FILESYSTEM, mask(options), Statx.AT_FDCWD,
                fs.mountPoint().toString());
    }

    /** Called on every tick of the deadline thread (about 8 per deadline): proof that answers can still be given. */
    void onHeartbeat(Runnable beat) {
        this.heartbeat = beat;
    }

    Counters counters() {
        return counters;
    }

    /** How long permission events waited for their answer, from when the reader read them. */
    LatencyHistogram answerLatency() {
        return answerLatency;
    }

    private void dispatch(FanotifyEvents event) {
        long mask = event.mask();
        int fd = event.fd();
        int tid = event.pid();
        counters.events.increment();
        if ((mask & FAN_Q_OVERFLOW) != 0 || fd < 0) {
            losses.report("the kernel dropped pre-content events on " + fs + " (queue overflow)");
            return;
        }
        Pending p = new Pending(fd, System.nanoTime() + deadlineNanos);
        pending.add(p);
        if (deadlineIdle) {
            LockSupport.unpark(deadlineThread); // it sleeps long while nothing waits
        }
        boolean queued = false;
        if (running) {
            try {
                queued = handlers.getQueue().offer(() -> handle(p, mask, tid), deadlineNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!queued) {
            fail(p, running ? "every handler stayed busy until the deadline" : "the tracker is stopping", null);
            finish(p);
        }
    }

    /**
     * Records the file behind the event, then answers; always answers (unless the deadline did) and
     * closes the fd. Then, with nobody waiting for it, records ahead the siblings of a directory
     * walk the event revealed.
     */
    private void handle(Pending p, long mask, int tid) {
        try {
            if (p.answered.get()) {
                return; // answered at the deadline while queued: recording now would come after the access
            }
            record(p, mask, tid);
            answer(p, FAN_ALLOW);
        } catch (IOException | RuntimeException e) {
            fail(p, "an access on " + fs + " could not be recorded (" + e.getMessage() + ")", e);
        } finally {
            finish(p);
        }
        if (p.parentToExpand != null) {
            try {
                siblings.expand(p.parentToExpand);
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "recording the subdirectories of " + p.parentToExpand + " ahead failed", e);
            }
        }
    }

    /** Subdirectories recorded ahead of a walk so far ({@link SiblingScopes}). */
    long siblingScopes() {
        return siblings.recorded();
    }

    private void record(Pending p, long mask, int tid) throws IOException {
        long epoch = marks.epoch();
        boolean open = (mask & FAN_PRE_ACCESS) == 0;
        Statx st = Statx.statx(p.fd, "", Statx.AT_EMPTY_PATH, STAMP_MASK);
        if (!st.isRegularFile()) {
            return; // only regular files have contents that pre-content events guard
        }
        if (directoryRecordsWaitForNoSync && recordedDirectoryFirst(p, st, epoch)) {
            return; // counted as neither read nor write (LinuxSource.eventCounts)
        }
        Access access = open ? classifyOpen(tid) : classifier.classify(tid,
                new FileKey(TrackedFilesystem.deviceNumber(st.devMajor(), st.devMinor()), st.ino())).access();
        (access == Access.READ ? counters.reads : counters.writes).increment();
        if (access == Access.READ) {
            // A read changes nothing, so it need not wait for its record: only the ignore mark must,
            // because the mark would hide a later write. Later accesses raise events until then.
            answer(p, FAN_ALLOW);
        }
        if (options.granularity() == LinuxSourceOptions.Granularity.DIRECTORY && recordDirectory(p, st, epoch)) {
            return;
        }
        if (open && access == Access.READ) {
            // A read-only or read-write open of a file on its own: with pre-content events its first
            // access is classified. With opens alone it is read-only (a read-write open counts as a
            // write), so nothing is recorded and no mark set: a later writer's open raises its own event.
            return;
        }
        recordFile(p.fd, st, access, epoch);
    }

    /**
     * With process durability: records and marks the event's directory before the answer, read or
     * write alike. Telling them apart (from /proc) would only let a read go before a record that
     * costs no sync, and the read's own first call would then raise a second event before the mark.
     * False if the directory could not be recorded: the caller then classifies the access, so that
     * a read still goes on when the journal refuses records, whatever the failure policy.
     */
    private boolean recordedDirectoryFirst(Pending p, Statx st, long epoch) {
        try {
            return recordDirectory(p, st, epoch);
        } catch (IOException | RuntimeException e) {
            return false; // the classified path tries again, and answers by the policy only a write
        }
    }

    private Access classifyOpen(int tid) {
        if (classifier.recordsOnOpen(tid, options.opensOnly())) {
            return Access.WRITE;
        }
        return Access.READ;
    }

    /**
     * Records the directory the event's file was reached through as a {@link Access#SCOPE} and puts
     * one ignore mark on it for all its children: their later accesses in the period raise no
     * permission event, and their changes come from the notification group ({@link NamespaceListener}).
     * False, with nothing recorded, if that directory cannot be pinned down (the file was renamed or
     * removed meanwhile, or its directory is elsewhere): the caller then records the file itself.
     */
    private boolean recordDirectory(Pending p, Statx st, long epoch) throws IOException {
        String path = Posix.readlink("/proc/self/fd/" + p.fd);
        int slash = path.lastIndexOf('/');
        if (slash < 0 || path.endsWith(" (deleted)")) {
            return false;
        }
        String directory = slash == 0 ? "/" : path.substring(0, slash);
        int dirFd;
        try {
            dirFd = Posix.open(directory, TrackedFilesystem.DIRECTORY_OPEN_FLAGS, 0);
        } catch (PosixException e) {
            return false;
        }
        try {
            if (!holds(dirFd, path.substring(slash + 1), st)) {
                return false;
            }
            FileId dirId = fs.identify(dirFd, directory, null);
            WriteTicket ticket = tracker.preWrite(dirId, Access.SCOPE);
            tracker.postWrite(ticket.token());
            busy.note(dirId);
            counters.directoryRecords.increment();
            marks.ignoreChildren(dirFd, dirId, epoch); // not marked: a checkpoint came, and the mark would outlive its period
            countAlreadyRecorded(ticket);
            if (!ticket.alreadyRecorded()) {
                p.parentToExpand = siblings.parentToExpand(directory, epoch);
            }
            return true;
        } finally {
            Posix.close(dirFd, directory);
        }
    }

    /** Whether {@code name} in the directory {@code dirFd} (on the tracked file system) is the file {@code st}. */
    private boolean holds(int dirFd, String name, Statx st) throws PosixException {
        if (!fs.contains(dirFd)) {
            return false;
        }
        try {
            Statx child = Statx.statx(dirFd, name, Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_INO);
            return child.ino() == st.ino() && child.devMajor() == st.devMajor() && child.devMinor() == st.devMinor();
        } catch (PosixException e) {
            return false; // renamed or removed since the event: the name no longer leads to it
        }
    }

    private void recordFile(int fd, Statx st, Access access, long epoch) throws IOException {
        FileId file = identify(fd, st);
        WriteTicket ticket = tracker.preWrite(file, access);
        // The engine's own in-progress accounting adds nothing here: the barrier waits for the
        // writing thread to leave its system call, which it cannot do before we answer.
        tracker.postWrite(ticket.token());
        marks.ignore(fd, file, epoch); // not marked: a checkpoint came, and the mark would outlive its period
        countAlreadyRecorded(ticket);
    }

    private void countAlreadyRecorded(WriteTicket ticket) {
        if (ticket.alreadyRecorded()) {
            counters.alreadyRecorded.increment();
        }
    }

    private FileId identify(int fd, Statx st) throws PosixException {
        String path = Posix.readlink("/proc/self/fd/" + fd);
        return fs.identify(fd, path, new StatStamp(st.ino(), st.size(), st.mtimeNanos(), st.ctimeNanos()));
    }

    /** Answers an event whose access could not be recorded, by the failure policy. */
    private void fail(Pending p, String reason, Throwable cause) {
        counters.failures.increment();
        if (options.failurePolicy() == LinuxSourceOptions.FailurePolicy.FAIL_CLOSED) {
            if (answer(p, Fanotify.FAN_DENY_ERRNO(Errno.EIO))) {
                counters.denied.increment();
                LOG.log(Level.WARNING, "denied an access (fail-closed): " + reason, cause);
            }
        } else if (answer(p, FAN_ALLOW)) {
            losses.report("allowed an access unrecorded (fail-open): " + reason, cause);
        }
    }

    /** Answers once; false if the event was already answered. */
    private boolean answer(Pending p, int response) {
        if (!p.answered.compareAndSet(false, true)) {
            return false;
        }
        answerLatency.record(System.nanoTime() - p.readNanos);
        try {
            Fanotify.respond(group, p.fd, response);
        } catch (PosixException e) {
            if (e.errno() == Errno.EINVAL && response != Fanotify.FAN_DENY && (response & 0xff) == Fanotify.FAN_DENY) {
                denyWithoutErrno(p); // a kernel before 6.14 knows no FAN_DENY_ERRNO: the call fails with EPERM instead
            } else {
                // ENOENT: the group is closing and the kernel already let the access go.
                LOG.log(Level.FINE, "answering a pre-content event failed", e);
            }
        }
        return true;
    }

    private void denyWithoutErrno(Pending p) {
        try {
            Fanotify.respond(group, p.fd, Fanotify.FAN_DENY);
        } catch (PosixException e) {
            LOG.log(Level.FINE, "denying a permission event failed", e);
        }
    }

    /** Closes the event's fd: only its handler (or the reader, if no handler got it) does, after every use. */
    private void finish(Pending p) {
        pending.remove(p);
        try {
            Posix.close(p.fd, "a pre-content event's file");
        } catch (PosixException e) {
            LOG.log(Level.FINE, "closing an event fd failed", e);
        }
    }

    /**
     * Answers at the deadline what waited too long, and beats the watchdog's heart. It looks every
     * eighth of a deadline while an event waits; with none waiting it only needs to beat the heart
     * (every quarter of the watchdog's timeout), and the reader wakes it when an event comes (an
     * idle daemon's wake-ups are its CPU cost: docs/benchmarks.md, *Idle*).
     */
    private void enforceDeadlines() {
        long tick = Math.max(TimeUnit.MILLISECONDS.toNanos(2), deadlineNanos / 8);
        long idleTick = Math.max(tick, LinuxSource.watchdogTimeout(options).toNanos() / 4);
        while (running) {
            // Idle first, then look: an event added meanwhile is either seen here, or its reader
            // sees the flag and unparks this thread.
            deadlineIdle = true;
            boolean idle = pending.isEmpty();
            if (!idle) {
                deadlineIdle = false;
            }
            LockSupport.parkNanos(idle ? idleTick : tick);
            deadlineIdle = false;
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            long now = System.nanoTime();
            for (Pending p : pending) {
                if (now - p.deadlineNanos > 0 && !p.answered.get()) {
                    counters.answeredAtDeadline.increment();
                    fail(p, "an access on " + fs + " waited longer than the " + options.answerDeadline().toMillis()
                            + " ms deadline for its record", null);
                }
            }
            if (reader.alive()) {
                heartbeat.run(); // no heartbeat without a reader: the watchdog then ends the tracker, and the kernel lets every access go
            }
        }
    }

    static ThreadFactory daemonThreads(String name) {
        return Thread.ofPlatform().daemon().name(name + "-", 0).factory();
    }

    private static ThreadFactory niceDaemonThreads(String name, int nice) {
        ThreadFactory plain = daemonThreads(name);
        return task -> plain.newThread(() -> {
            ThreadNice.set(nice);
            task.run();
        });
    }

    /**
     * Stops reading and answering, then closes the group: the kernel lets every access still
     * waiting go on (there is nobody left to record it, so the tracker must not be trusted after
     * this; a restart reports continuity lost).
     */
    /** This listener's group descriptor. */
    int group() {
        return group;
    }

    @Override
    public void close() throws IOException {
        running = false;
        reader.stop();
        handlers.shutdown();
        try {
            handlers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deadlineThread.interrupt();
        Posix.close(group, "the pre-content group");
    }
}
