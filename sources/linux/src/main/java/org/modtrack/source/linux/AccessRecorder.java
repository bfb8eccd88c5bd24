package org.modtrack.source.linux;

import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.Access;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.FileId;
import org.modtrack.engine.StatStamp;
import org.modtrack.engine.WriteTicket;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;
import org.modtrack.source.linux.rules.AnswerOrder;

/**
 * Records what a permission event's access needs recorded, and sets the ignore mark that spares the
 * rest of the period its events: with directory records the directory the file was reached
 * through, as a scope for all its children (the file itself if that directory cannot be pinned
 * down); with file records the file. Whether the event is answered before or after that record is
 * its {@link AnswerOrder}, from the access's classification ({@link AccessClassifier}); the handler
 * answers whatever this did not answer first.
 *
 * <p>A mark is set under the epoch rule ({@link IgnoreMarks}: not at all if a checkpoint's flush
 * came after the epoch read before the record), so it never outlives the period of its record. A
 * directory newly recorded is noted busy ({@link BusyDirectories}) and may reveal a walk whose
 * next directories are recorded ahead after the answer ({@link SiblingScopes}).
 */
final class AccessRecorder {
    private static final Logger LOG = Logger.getLogger(AccessRecorder.class.getName());
    private static final int STAMP_MASK = Statx.STATX_INO | Statx.STATX_SIZE | Statx.STATX_MTIME | Statx.STATX_CTIME
            | Statx.STATX_TYPE;

    private final TrackedFilesystem fs;
    private final ChangeTracker tracker;
    private final IgnoreMarks marks;
    private final AccessClassifier classifier;
    private final boolean opensOnly;
    private final Answerer answerer;
    private final PermissionCounters counters;
    private final BusyDirectories busy; // null with file records
    private final SiblingScopes siblings;
    private final boolean directoryRecords;
    /** {@link AnswerOrder#RECORD_DIRECTORY_THEN_ANSWER} comes before any classification. */
    private final boolean directoryFirst;

    /** @param busy where directory records note the directories they record (null with file records) */
    AccessRecorder(TrackedFilesystem fs, ChangeTracker tracker, IgnoreMarks marks, AccessClassifier classifier,
                   LinuxSourceOptions options, Answerer answerer, PermissionCounters counters, BusyDirectories busy) {
        this.fs = fs;
        this.tracker = tracker;
        this.marks = marks;
        this.classifier = classifier;
        this.opensOnly = options.opensOnly();
        this.answerer = answerer;
        this.counters = counters;
        this.busy = busy;
        this.directoryRecords = options.granularity() == LinuxSourceOptions.Granularity.DIRECTORY;
        this.directoryFirst = AnswerOrder.recordsDirectoryBeforeClassifying(options.granularity(),
                tracker.config().durability());
        this.siblings = new SiblingScopes(fs, tracker, marks, directoryRecords ? options.siblingScopes() : 0);
    }

    /**
     * Records what the event's access needs and marks it, answering first where its order says so;
     * throws if the record fails (the caller then answers by the failure policy).
     */
    void record(PermissionEvent event) throws IOException {
        long epoch = marks.epoch();
        Statx st = Statx.statx(event.fd, "", Statx.AT_EMPTY_PATH, STAMP_MASK);
        if (!st.isRegularFile()) {
            return; // only regular files have contents that pre-content events guard
        }
        if (directoryFirst && recordedDirectoryFirst(event, st, epoch)) {
            return; // counted as neither read nor write (EventCounts)
        }
        Access access = classify(event, st);
        (access == Access.READ ? counters.reads : counters.writes).increment();
        AnswerOrder order = AnswerOrder.of(access, event.isOpen());
        if (order.answersFirst()) {
            answerer.allow(event);
        }
        if (directoryRecords && recordDirectory(event, st, epoch)) {
            return;
        }
        if (order.recordsTheFile()) {
            recordFile(event.fd, st, access, epoch);
        }
    }

    /**
     * {@link AnswerOrder#RECORD_DIRECTORY_THEN_ANSWER}. False if the directory could not be
     * recorded: the caller then classifies the access, so that a read still goes on when the
     * journal refuses records, whatever the failure policy.
     */
    private boolean recordedDirectoryFirst(PermissionEvent event, Statx st, long epoch) {
        try {
            return recordDirectory(event, st, epoch);
        } catch (IOException | RuntimeException e) {
            return false; // the classified path tries again, and answers by the policy only a write
        }
    }

    private Access classify(PermissionEvent event, Statx st) {
        if (event.isOpen()) {
            return classifier.recordsOnOpen(event.tid, opensOnly) ? Access.WRITE : Access.READ;
        }
        return classifier.classify(event.tid,
                new FileKey(TrackedFilesystem.deviceNumber(st.devMajor(), st.devMinor()), st.ino())).access();
    }

    /**
     * Records the directory the event's file was reached through as a {@link Access#SCOPE} and puts
     * one ignore mark on it for all its children: their later accesses in the period raise no
     * permission event, and their changes come from the notification group ({@link NotificationListener}).
     * False, with nothing recorded, if that directory cannot be pinned down (the file was renamed or
     * removed meanwhile, or its directory is elsewhere): the caller then records the file itself.
     */
    private boolean recordDirectory(PermissionEvent event, Statx st, long epoch) throws IOException {
        String path = Posix.readlink("/proc/self/fd/" + event.fd);
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
                event.parentToExpand = siblings.parentToExpand(directory, epoch);
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

    /**
     * After the event's answer, with nobody waiting for it: records ahead the siblings of the
     * directory walk the event revealed, if it revealed one. Best effort.
     */
    void recordSiblingsAhead(PermissionEvent event) {
        if (event.parentToExpand == null) {
            return;
        }
        try {
            siblings.expand(event.parentToExpand);
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "recording the subdirectories of " + event.parentToExpand + " ahead failed", e);
        }
    }

    /** Subdirectories recorded ahead of a walk so far ({@link SiblingScopes}). */
    long siblingScopes() {
        return siblings.recorded();
    }
}
