package org.modtrack.source.linux;

import static org.modtrack.posix.Fanotify.FAN_PRE_ACCESS;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One permission event of the pre-content group, from its read until its fd is closed. It is
 * answered exactly once, by whoever claims it first ({@link Answerer}): its handler, or the
 * deadline thread.
 */
final class PermissionEvent {
    /** The event's descriptor of the file; closed only once nobody uses it ({@link Answerer#finish}). */
    final int fd;
    final long mask;
    /** The thread that made the access (the group reports thread ids): its system call tells reads from writes. */
    final int tid;
    final long deadlineNanos;
    final long readNanos = System.nanoTime();
    private final AtomicBoolean answered = new AtomicBoolean();
    /**
     * A parent whose subdirectories the handler records ahead once it has answered
     * ({@link SiblingScopes}); set by the recorder, on the handler's thread.
     */
    String parentToExpand;

    PermissionEvent(int fd, long mask, int tid, long deadlineNanos) {
        this.fd = fd;
        this.mask = mask;
        this.tid = tid;
        this.deadlineNanos = deadlineNanos;
    }

    /** An open ({@code FAN_OPEN_PERM}) rather than a first access to the contents ({@code FAN_PRE_ACCESS}). */
    boolean isOpen() {
        return (mask & FAN_PRE_ACCESS) == 0;
    }

    /** Whether it was answered already. */
    boolean answered() {
        return answered.get();
    }

    /** Claims the answer: true for the one caller that may give it, false for every later one. */
    boolean claimAnswer() {
        return answered.compareAndSet(false, true);
    }
}
