package org.modtrack.source.linux.rules;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What a walk by ctime counts as changed since its start. */
class WalkRuleTest {

    @Test
    void aChangeInTheStartsOwnTickCounts() {
        assertTrue(WalkRule.changedSince(1_000, 1_000), "the same tick as the checkpoint's time");
        assertTrue(WalkRule.changedSince(1_001, 1_000));
        assertFalse(WalkRule.changedSince(999, 1_000));
    }
}
