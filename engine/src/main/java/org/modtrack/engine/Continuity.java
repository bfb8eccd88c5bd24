package org.modtrack.engine;

import java.util.Objects;

/**
 * Whether a result can be trusted to name every change since the last blessed one. When it is
 * lost, the consumer must rescan what the reason names (or everything) instead.
 *
 * @param intact true when nothing can have been missed
 * @param reason why continuity was lost (empty when intact)
 */
public record Continuity(boolean intact, String reason) {
    /** Nothing was missed. */
    public static final Continuity INTACT = new Continuity(true, "");

    public Continuity {
        Objects.requireNonNull(reason, "reason");
        if (intact != reason.isEmpty()) {
            throw new IllegalArgumentException("an intact continuity has no reason; a lost one needs one.");
        }
    }

    /** Continuity lost, for the given reason (one sentence). */
    public static Continuity lost(String reason) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a lost continuity needs a reason.");
        }
        return new Continuity(false, reason);
    }

    @Override
    public String toString() {
        return intact ? "intact" : "lost (" + reason + ")";
    }
}
