package org.modtrack.source.linux;

import static org.modtrack.posix.Fanotify.FAN_MARK_ADD;
import static org.modtrack.posix.Fanotify.FAN_OPEN_PERM;
import static org.modtrack.posix.Fanotify.FAN_PRE_ACCESS;
import static org.modtrack.posix.Fanotify.FAN_Q_OVERFLOW;

import java.io.IOException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FanotifyEvents;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * The PRE_WRITE hook of the design (docs/correctness.md): the pre-content group, whose permission
 * events are answered {@code FAN_ALLOW} only once the engine has recorded the access as durably as
 * configured. This class owns the group and hands its events on: the path of one event is in the
 * package's description.
 *
 * <p>One thread reads the events in batches ({@link EventReader}); a bounded pool of handlers
 * records and answers them ({@link AccessRecorder}, {@link Answerer}), so that one event waiting for
 * a sync does not hold up others (and concurrent events share a sync through the engine's group
 * commit). When every handler stays busy until the answer deadline, the reader answers the event
 * by the failure policy.
 */
final class PreContentListener implements AutoCloseable {
    /** What the filesystem mark asks for with pre-content events: every content access, and opens (for O_TRUNC). */
    static final long MASK = FAN_PRE_ACCESS | FAN_OPEN_PERM;
    /** What it asks for where opens are the only hook ({@link LinuxSourceOptions.Hook#OPEN_PERM}). */
    static final long OPENS_ONLY_MASK = FAN_OPEN_PERM;
    static final int INIT_FLAGS = Fanotify.FAN_CLASS_PRE_CONTENT | Fanotify.FAN_CLOEXEC | Fanotify.FAN_NONBLOCK
            | Fanotify.FAN_REPORT_TID | Fanotify.FAN_UNLIMITED_MARKS | Fanotify.FAN_UNLIMITED_QUEUE;
    static final int EVENT_F_FLAGS = Posix.O_RDONLY | Posix.O_LARGEFILE | Posix.O_CLOEXEC;
    static final int BUFFER_BYTES = 64 * 1024;
    static final int QUEUED_PER_THREAD = 64;

    private final int group;
    private final TrackedFilesystem fs;
    private final LinuxSourceOptions options;
    private final LossRecorder losses;
    private final EventReader reader;
    private final ThreadPoolExecutor handlers;
    private final PermissionCounters counters = new PermissionCounters();
    private final Answerer answerer;
    private final AccessRecorder recorder;
    private volatile boolean running = true;

    private PreContentListener(int group, IgnoreMarks marks, TrackedFilesystem fs, ChangeTracker tracker,
                               AccessClassifier classifier, LinuxSourceOptions options, LossRecorder losses,
                               BusyDirectories busy, int handlerThreads) throws PosixException {
        // First: the only step that can fail, before the threads exist.
        this.reader = new EventReader("pre-content", group, BUFFER_BYTES, losses, this::dispatch, ThreadNice.WRITERS_WAIT);
        this.group = group;
        this.fs = fs;
        this.options = options;
        this.losses = losses;
        this.answerer = new Answerer(group, fs, options, losses, counters);
        this.recorder = new AccessRecorder(fs, tracker, marks, classifier, options, answerer, counters, busy);
        this.handlers = new ThreadPoolExecutor(handlerThreads, handlerThreads, 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(handlerThreads * QUEUED_PER_THREAD),
                ThreadNice.daemonThreads("modtrack-pre-content", ThreadNice.WRITERS_WAIT));
        this.handlers.prestartAllCoreThreads(); // so that offering to the queue directly always reaches a thread
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
        l.answerer.start();
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

    /**
     * Called on every tick of the deadline thread (about 8 per deadline) while the reader runs:
     * proof that answers can still be given.
     */
    void onHeartbeat(Runnable beat) {
        // No heartbeat without a reader: an event nobody reads is never answered, so the watchdog
        // must end the tracker, and the kernel then lets every access go.
        answerer.onHeartbeat(() -> {
            if (reader.alive()) {
                beat.run();
            }
        });
    }

    PermissionCounters counters() {
        return counters;
    }

    /** How long permission events waited for their answer, from when the reader read them. */
    LatencyHistogram answerLatency() {
        return answerer.latency();
    }

    /** Subdirectories recorded ahead of a walk so far ({@link SiblingScopes}). */
    long siblingScopes() {
        return recorder.siblingScopes();
    }

    private void dispatch(FanotifyEvents read) {
        long mask = read.mask();
        int fd = read.fd();
        int tid = read.pid();
        counters.events.increment();
        if ((mask & FAN_Q_OVERFLOW) != 0 || fd < 0) {
            losses.report("the kernel dropped pre-content events on " + fs + " (queue overflow)");
            return;
        }
        PermissionEvent event = answerer.accept(fd, mask, tid);
        boolean queued = false;
        if (running) {
            try {
                queued = handlers.getQueue().offer(() -> handle(event), answerer.deadlineNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!queued) {
            answerer.fail(event, running ? "every handler stayed busy until the deadline" : "the tracker is stopping", null);
            answerer.finish(event);
        }
    }

    /**
     * Records the access behind the event, then answers; always answers (unless the deadline did)
     * and closes the fd. Then, with nobody waiting for it, records ahead the siblings of a directory
     * walk the event revealed.
     */
    private void handle(PermissionEvent event) {
        try {
            if (event.answered()) {
                return; // answered at the deadline while queued: recording now would come after the access
            }
            recorder.record(event);
            answerer.allow(event);
        } catch (IOException | RuntimeException e) {
            answerer.fail(event, "an access on " + fs + " could not be recorded (" + e.getMessage() + ")", e);
        } finally {
            answerer.finish(event);
        }
        recorder.recordSiblingsAhead(event);
    }

    /** This listener's group descriptor. */
    int group() {
        return group;
    }

    /**
     * Stops reading and answering, then closes the group: the kernel lets every access still
     * waiting go on (there is nobody left to record it, so the tracker must not be trusted after
     * this; a restart reports continuity lost).
     */
    @Override
    public void close() throws IOException {
        running = false;
        answerer.stopping();
        reader.stop();
        handlers.shutdown();
        try {
            handlers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        answerer.close();
        Posix.close(group, "the pre-content group");
    }
}
