package org.modtrack.simulation;

import java.util.ArrayDeque;

/**
 * The notification group's event queue, modelled: first in, first out, bounded. When it is full the
 * kernel drops the new event and queues one overflow marker instead (as {@code FAN_Q_OVERFLOW}),
 * which the reader turns into a continuity loss. Events are not merged: a tiny bound then makes
 * overflows frequent enough for random schedules to meet them.
 *
 * <p>{@link #queued} and {@link #taken} count since the group was created, so a drain can name its
 * target as the real reader does (events taken plus {@code FIONREAD}'s count of those still queued).
 */
final class NotificationQueue {
    /** What the reader takes for an overflow marker. */
    static final int OVERFLOW = -1;

    private final int bound;
    private final ArrayDeque<Integer> events = new ArrayDeque<>();
    private long queued;
    private long taken;

    NotificationQueue(int bound) {
        if (bound < 1) {
            throw new IllegalArgumentException("a queue bound of " + bound);
        }
        this.bound = bound;
    }

    /** Queues a content event of {@code file} (MODIFY or CLOSE_WRITE); false if it was dropped. */
    boolean offer(int file) {
        if (events.size() < bound) {
            events.addLast(file);
            queued++;
            return true;
        }
        if (!events.contains(OVERFLOW)) {
            events.addLast(OVERFLOW); // one marker, however many events are dropped behind it
            queued++;
        }
        return false;
    }

    boolean isEmpty() {
        return events.isEmpty();
    }

    /** The next event to take (a file, or {@link #OVERFLOW}); the queue must not be empty. */
    int head() {
        return events.getFirst();
    }

    /** Takes the next event: a file, or {@link #OVERFLOW}. */
    int take() {
        taken++;
        return events.removeFirst();
    }

    /** Events queued since the group was created (the drain's target is this count, read at its start). */
    long queued() {
        return queued;
    }

    /** Events taken since the group was created. */
    long taken() {
        return taken;
    }

    @Override
    public String toString() {
        return events.toString().replace("-1", "overflow");
    }
}
