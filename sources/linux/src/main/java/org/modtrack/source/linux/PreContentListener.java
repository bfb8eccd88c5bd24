package org.modtrack.source.linux;

import static org.modtrack.posix.Fanotify.FAN_ALLOW;
import static org.modtrack.posix.Fanotify.FAN_MARK_ADD;
import static org.modtrack.posix.Fanotify.FAN_OPEN_PERM;
import static org.modtrack.posix.Fanotify.FAN_PRE_ACCESS;
import static org.modtrack.posix.Fanotify.FAN_Q_OVERFLOW;

import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.Access;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.FileId;
import org.modtrack.engine.StatStamp;
import org.modtrack.engine.WriteTicket;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FanotifyEvents;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * The seed's PRE_WRITE hook: a pre-content group whose events are answered {@code FAN_ALLOW} only
 * once the engine has recorded the file as durably as configured.
 *
 * <p>One thread reads the events in batches; a bounded pool answers them, so that one event waiting
 * for a sync does not hold up others (and concurrent events share a sync through the engine's group
 * commit). When the pool and its queue are full the reader answers the event itself, which slows
 * the reading down instead of letting memory grow; the kernel keeps the rest queued, and every
 * queued event holds a blocked thread, so the queue is bounded by the writers themselves.
 *
 * <p>After recording a file, the handler puts an ignore mark on it so that later accesses in the
 * period raise no event; {@link IgnoreMarks} keeps such a mark from outliving its period.
 *
 * <p>Errors never block a writer: whatever goes wrong, the event is answered {@code FAN_ALLOW}
 * (fail-open) and continuity is marked lost, so the next result says the change may be missing.
 */
final class PreContentListener implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PreContentListener.class.getName());
    /** What the filesystem mark asks for: every content access, and opens (for O_TRUNC). */
    static final long MASK = FAN_PRE_ACCESS | FAN_OPEN_PERM;
    static final int INIT_FLAGS = Fanotify.FAN_CLASS_PRE_CONTENT | Fanotify.FAN_CLOEXEC | Fanotify.FAN_NONBLOCK
            | Fanotify.FAN_REPORT_TID | Fanotify.FAN_UNLIMITED_MARKS | Fanotify.FAN_UNLIMITED_QUEUE;
    static final int EVENT_F_FLAGS = Posix.O_RDONLY | Posix.O_LARGEFILE | Posix.O_CLOEXEC;
    private static final int BUFFER_BYTES = 64 * 1024;
    private static final int STAMP_MASK = Statx.STATX_INO | Statx.STATX_SIZE | Statx.STATX_MTIME | Statx.STATX_CTIME
            | Statx.STATX_TYPE;

    /** Counters, for stats and the false-positive measurement. */
    static final class Counters {
        final LongAdder events = new LongAdder();
        final LongAdder opens = new LongAdder();
        final LongAdder truncatingOpens = new LongAdder();
        final LongAdder reads = new LongAdder();
        final LongAdder writes = new LongAdder();
        final LongAdder alreadyRecorded = new LongAdder();
        final LongAdder ignoreMarks = new LongAdder();
        final LongAdder marksSkipped = new LongAdder();
        final LongAdder failures = new LongAdder();
    }

    private final int group;
    private final TrackedFilesystem fs;
    private final ChangeTracker tracker;
    private final AccessClassifier classifier;
    private final ThreadPoolExecutor handlers;
    private final EventReader reader;
    private final IgnoreMarks marks;
    private final Counters counters = new Counters();

    private PreContentListener(int group, IgnoreMarks marks, TrackedFilesystem fs, ChangeTracker tracker,
                               AccessClassifier classifier, int handlerThreads) {
        this.group = group;
        this.marks = marks;
        this.fs = fs;
        this.tracker = tracker;
        this.classifier = classifier;
        this.handlers = new ThreadPoolExecutor(handlerThreads, handlerThreads, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(handlerThreads * 64), daemonThreads("modtrack-pre-content"),
                new ThreadPoolExecutor.CallerRunsPolicy());
        this.reader = new EventReader("pre-content", group, BUFFER_BYTES, tracker, this::dispatch);
    }

    /** Creates the group (not yet marked: see {@link #markFilesystem}). */
    static int createGroup() throws PosixException {
        return Fanotify.init(INIT_FLAGS, EVENT_F_FLAGS);
    }

    /** Starts answering the events of {@code group}, which the listener owns from now on. */
    static PreContentListener start(int group, IgnoreMarks marks, TrackedFilesystem fs, ChangeTracker tracker,
                                    AccessClassifier classifier, int handlerThreads) {
        PreContentListener l = new PreContentListener(group, marks, fs, tracker, classifier, handlerThreads);
        l.reader.start();
        return l;
    }

    /** Puts the filesystem mark: from now on every access on the file system waits for us. */
    void markFilesystem() throws PosixException {
        Fanotify.mark(group, FAN_MARK_ADD | Fanotify.FAN_MARK_FILESYSTEM, MASK, Statx.AT_FDCWD, fs.mountPoint().toString());
    }

    Counters counters() {
        return counters;
    }

    private void dispatch(FanotifyEvents event) {
        long mask = event.mask();
        int fd = event.fd();
        int tid = event.pid();
        counters.events.increment();
        if ((mask & FAN_Q_OVERFLOW) != 0 || fd < 0) {
            lose("the kernel dropped pre-content events (queue overflow)", null);
            return;
        }
        if (!reader.running()) {
            answer(fd);
            return;
        }
        handlers.execute(() -> handle(mask, fd, tid));
    }

    /** Records the file behind {@code fd}, then answers; always answers and closes {@code fd}. */
    private void handle(long mask, int fd, int tid) {
        try {
            if ((mask & FAN_PRE_ACCESS) == 0) {
                counters.opens.increment();
                if (!classifier.mayTruncateOnOpen(tid)) {
                    return; // an open that cannot change the contents: nothing to record, no mark earned
                }
                counters.truncatingOpens.increment();
            }
            long epoch = marks.epoch();
            Statx st = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, STAMP_MASK);
            if (!st.isRegularFile()) {
                return; // only regular files have contents that pre-content events guard
            }
            Access access = (mask & FAN_PRE_ACCESS) == 0 ? Access.WRITE
                    : classifier.classify(tid, new FileKey(TrackedFilesystem.deviceNumber(st.devMajor(), st.devMinor()), st.ino())).access();
            FileId file = identify(fd, st);
            WriteTicket ticket = tracker.preWrite(file, access);
            // The engine's own in-progress accounting adds nothing here: the barrier waits for the
            // writing thread to leave its system call, which it cannot do before we answer.
            tracker.postWrite(ticket.token());
            (access == Access.READ ? counters.reads : counters.writes).increment();
            if (ticket.alreadyRecorded()) {
                counters.alreadyRecorded.increment();
            }
            ignoreLaterAccesses(fd, epoch);
        } catch (IOException | RuntimeException e) {
            counters.failures.increment();
            lose("an access on " + fs + " could not be recorded (" + e.getMessage() + ")", e);
        } finally {
            answer(fd);
        }
    }

    private FileId identify(int fd, Statx st) throws PosixException {
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(fd, "", Statx.AT_EMPTY_PATH);
        String path = Posix.readlink("/proc/self/fd/" + fd);
        StatStamp stamp = new StatStamp(st.ino(), st.size(), st.mtimeNanos(), st.ctimeNanos());
        return FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(), path, stamp);
    }

    private void ignoreLaterAccesses(int fd, long epoch) throws PosixException {
        if (marks.ignore(fd, epoch)) {
            counters.ignoreMarks.increment();
        } else {
            counters.marksSkipped.increment(); // a checkpoint started meanwhile: the mark would outlive its period
        }
    }

    private void answer(int fd) {
        try {
            Fanotify.respond(group, fd, FAN_ALLOW);
        } catch (PosixException e) {
            // ENOENT: the group is closing and the kernel already let the access go.
            LOG.log(Level.FINE, "answering a pre-content event failed", e);
        }
        try {
            Posix.close(fd, "a pre-content event's file");
        } catch (PosixException e) {
            LOG.log(Level.FINE, "closing an event fd failed", e);
        }
    }

    private void lose(String reason, Throwable cause) {
        EventReader.loseContinuity(tracker, reason, cause);
    }

    static java.util.concurrent.ThreadFactory daemonThreads(String name) {
        return Thread.ofPlatform().daemon().name(name + "-", 0).factory();
    }

    /**
     * Stops reading and answering, then closes the group: the kernel lets every access still
     * waiting go on (there is nobody left to record it, so the tracker must not be trusted after
     * this; a restart reports continuity lost).
     */
    @Override
    public void close() throws IOException {
        reader.stop();
        handlers.shutdown();
        try {
            handlers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Posix.close(group, "the pre-content group");
    }
}
