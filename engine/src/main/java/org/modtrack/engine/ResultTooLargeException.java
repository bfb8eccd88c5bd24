package org.modtrack.engine;

import java.io.IOException;

/**
 * A result would hold more records than {@link TrackerConfig#maxResultRecords()} lets a tracker make
 * one of, or more than its {@link TrackerConfig#resultAdmission()} leaves room for while other
 * results are made or sent ({@link #heldByOthers()} above 0). Thrown by a query before anything is
 * issued: nothing was lost, and the same records come in the first result that is allowed to hold
 * them.
 */
public final class ResultTooLargeException extends IOException {
    private final long records;
    private final long weight;
    private final long bound;
    private final long heldByOthers;

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
        this.heldByOthers = 0;
    }

    /**
     * A result that fits the bound alone, refused because other results being made or sent hold
     * {@code heldByOthers} of it: it fits once they are let go.
     *
     * @param records the records the result would hold
     * @param weight what they count for against the bound
     * @param bound what the results made and sent at once may count for together
     * @param heldByOthers what the others count for
     */
    public ResultTooLargeException(long records, long weight, long bound, long heldByOthers) {
        super("the result would hold " + records + " records" + (weight != records ? " (" + weight
                + ", a record with names counting twice)" : "") + ", and other results being made or sent hold "
                + heldByOthers + " of the " + bound + " that results may hold together; nothing was lost.");
        if (heldByOthers <= 0 || weight > bound) {
            throw new IllegalArgumentException("a result refused for others' results must fit the bound alone and others must hold"
                    + " some of it: weight " + weight + ", bound " + bound + ", held by others " + heldByOthers + ".");
        }
        this.records = records;
        this.weight = weight;
        this.bound = bound;
        this.heldByOthers = heldByOthers;
    }

    /** The records the refused result would have held. */
    public long records() {
        return records;
    }

    /** What they count for against the bound: a record with names (a renamed file's) counts twice. */
    public long weight() {
        return weight;
    }

    /** The most a result may hold ({@link TrackerConfig#maxResultRecords()}), or results together. */
    public long bound() {
        return bound;
    }

    /**
     * What other results being made or sent held when this one was refused: above 0, it fits alone
     * and would have been made once they were let go; 0, it is too large for the bound itself.
     */
    public long heldByOthers() {
        return heldByOthers;
    }
}
