package org.modtrack.source.linux.rules;

/**
 * When the subdirectories of a parent are recorded ahead of a walk ({@code SiblingScopes}): once a
 * second directory under the same parent gets its first record in a period, the parent has not
 * been expanded yet in that period, and the period's bound on directories recorded ahead is not
 * reached; and again when the walk outran the last expansion (that expansion stopped at its limit
 * before the end of the parent's listing, and another child got its first record by an event since:
 * the walk reached a directory beyond what was recorded ahead). One directory's record says nothing
 * about a walk; a second one under the same parent is the cheapest sign of one. The Linux source
 * and the simulator's model of it both decide by {@link #expands}.
 */
public final class SiblingRule {
    /** New children of a parent in one period that reveal a walk through it. */
    public static final int SECOND_CHILD = 2;

    private SiblingRule() {}

    /**
     * Whether the parent's subdirectories (the next ones, after an expansion) are to be recorded ahead now.
     *
     * @param newChildren the parent's children that got their first record in the period, this one included
     * @param expanded whether the parent was expanded already in the period
     * @param outran whether the walk went past the parent's last expansion: it stopped at its limit
     *     before the end of the listing, and a child got its first record by an event after it
     * @param recordedAhead directories recorded ahead in the period so far
     * @param maxPerPeriod the most directories recorded ahead in one period
     */
    public static boolean expands(int newChildren, boolean expanded, boolean outran, int recordedAhead, int maxPerPeriod) {
        return newChildren >= SECOND_CHILD && (!expanded || outran) && recordedAhead < maxPerPeriod;
    }
}
