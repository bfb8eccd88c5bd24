package org.modtrack.source.linux.rules;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** When a walk's next directories are recorded ahead, and when a mark may be set. */
class SiblingRuleTest {

    @Test
    void aParentsSecondNewChildRevealsAWalkAndAWalkPastAnExpansionTheNextOneWithinTheBound() {
        assertFalse(SiblingRule.expands(1, false, false, 0, 16), "one directory says nothing of a walk");
        assertTrue(SiblingRule.expands(2, false, false, 0, 16));
        assertTrue(SiblingRule.expands(5, false, false, 0, 16), "any later child, until it is expanded");
        assertFalse(SiblingRule.expands(3, true, false, 0, 16), "once per parent and period, while the walk stays within it");
        assertTrue(SiblingRule.expands(300, true, true, 256, 16_384), "again once the walk went past the last expansion");
        assertFalse(SiblingRule.expands(300, true, true, 16_384, 16_384), "never past the period's bound");
        assertFalse(SiblingRule.expands(2, false, false, 16, 16), "not past the period's bound");
    }

    @Test
    void aMarkIsSetOnlyIfNoFlushCameSinceTheEpochWasRead() {
        assertTrue(EpochRule.mayMark(7, 7));
        assertFalse(EpochRule.mayMark(7, 8));
    }
}
