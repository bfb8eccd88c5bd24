package org.modtrack.source.linux.rules;

/**
 * When the subdirectories of a parent are recorded ahead of a walk ({@code SiblingScopes}): once a
 * second directory under the same parent gets its first record in a period, the parent has not
 * been expanded yet in that period, and the period's bound on directories recorded ahead is not
 * reached. One directory's record says nothing about a walk; a second one under the same parent
 * is the cheapest sign of one. The Linux source and the simulator's model of it both decide by
 * {@link #expands}.
 */
public final class SiblingRule {
    /** New children of a parent in one period that reveal a walk through it. */
    public static final int SECOND_CHILD = 2;

    private SiblingRule() {}

    /**
     * Whether the parent's subdirectories are to be recorded ahead now.
     *
     * @param newChildren the parent's children that got their first record in the period, this one included
     * @param expanded whether the parent was expanded already in the period
     * @param recordedAhead directories recorded ahead in the period so far
     * @param maxPerPeriod the most directories recorded ahead in one period
     */
    public static boolean expands(int newChildren, boolean expanded, int recordedAhead, int maxPerPeriod) {
        return newChildren >= SECOND_CHILD && !expanded && recordedAhead < maxPerPeriod;
    }
}
