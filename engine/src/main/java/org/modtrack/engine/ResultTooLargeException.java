package org.modtrack.engine;

import java.io.IOException;

/**
 * A result would hold more records than {@link TrackerConfig#maxResultRecords()} lets a tracker make
 * one of. Thrown by a query before anything is issued: nothing was lost, and the same records come
 * in the first result that is allowed to hold them.
 */
public final class ResultTooLargeException extends IOException {
    private final long records;
    private final long bound;

    public ResultTooLargeException(long records, long bound) {
        super("the result would hold " + records + " records, more than the " + bound
                + " a result may hold; nothing was lost.");
        this.records = records;
        this.bound = bound;
    }

    /** The records the refused result would have held. */
    public long records() {
        return records;
    }

    /** The most a result may hold ({@link TrackerConfig#maxResultRecords()}). */
    public long bound() {
        return bound;
    }
}
