package org.modtrack.engine;

import java.io.IOException;

/**
 * A result would hold more records than {@link TrackerConfig#maxResultRecords()} lets a tracker make
 * one of. Thrown by a query before anything is issued: nothing was lost, and the same records come
 * in the first result that is allowed to hold them.
 */
public final class ResultTooLargeException extends IOException {
    private final long records;
    private final long weight;
    private final long bound;

    /**
     * @param records the records the result would hold
     * @param weight what they count for against the bound (see {@link TrackerConfig#maxResultRecords()})
     * @param bound the bound
     */
    public ResultTooLargeException(long records, long weight, long bound) {
        super("the result would hold " + records + " records" + (weight != records ? " (" + weight
                + ", a record with names counting twice)" : "") + ", more than the " + bound
                + " a result may hold; nothing was lost.");
        this.records = records;
        this.weight = weight;
        this.bound = bound;
    }

    /** The records the refused result would have held. */
    public long records() {
        return records;
    }

    /** What they count for against the bound: a record with names (a renamed file's) counts twice. */
    public long weight() {
        return weight;
    }

    /** The most a result may hold ({@link TrackerConfig#maxResultRecords()}). */
    public long bound() {
        return bound;
    }
}
