package org.modtrack.source.linux.rules;

/**
 * The rule that keeps every ignore mark inside the period of the record that earned it: a mark is
 * set only if no checkpoint's flush came between the epoch read before the record and the moment
 * the mark would be set. A mark set after the flush would outlive its period and hide the next
 * period's first access (docs/correctness.md). Every mark obeys it: a pre-content handler's, a
 * sibling recorded ahead, a directory recorded ahead at a checkpoint, a muted directory. The Linux
 * source ({@code IgnoreMarks}) and the simulator's model of it both decide by this method.
 */
public final class EpochRule {
    private EpochRule() {}

    /**
     * Whether a mark earned by a record may be set now.
     *
     * @param epochBeforeRecord the marks' epoch read before the record was made
     * @param epochNow the marks' epoch now (every flush bumps it)
     */
    public static boolean mayMark(long epochBeforeRecord, long epochNow) {
        return epochBeforeRecord == epochNow;
    }
}
