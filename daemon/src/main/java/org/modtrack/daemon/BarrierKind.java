package org.modtrack.daemon;

import java.util.Locale;

/** The write barrier a root's checkpoints use (docs/linux-source.md). */
public enum BarrierKind {
    /** Waits for threads inside write calls on the tracked file system ({@code SyscallBarrier}). */
    SRCU(true),
    /** Freezes the file system at a checkpoint: issue 4; refused until it exists. */
    FREEZE(false);

    private final boolean built;

    BarrierKind(boolean built) {
        this.built = built;
    }

    /** The option's and the protocol's name. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code srcu} or {@code freeze}; refuses a barrier that is not built yet, in one sentence. */
    public static BarrierKind parse(String s) {
        for (BarrierKind b : values()) {
            if (b.wireName().equals(s)) {
                if (!b.built) {
                    throw new IllegalArgumentException("the " + s + " barrier is not built yet (issue 4); use --barrier srcu.");
                }
                return b;
            }
        }
        throw new IllegalArgumentException("unknown barrier '" + s + "'; the barriers are srcu and freeze.");
    }
}
