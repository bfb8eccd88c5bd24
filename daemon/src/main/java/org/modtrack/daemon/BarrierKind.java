package org.modtrack.daemon;

import java.util.Locale;
import org.modtrack.source.linux.LinuxSourceOptions;

/** The write barrier a root's checkpoints use (docs/linux-source.md). */
public enum BarrierKind {
    /** Waits for threads inside write calls on the tracked file system ({@code SyscallBarrier}). */
    SRCU(LinuxSourceOptions.Barrier.SRCU),
    /** Freezes the file system at a checkpoint (FIFREEZE + FITHAW): always correct, stalls every writer. */
    FREEZE(LinuxSourceOptions.Barrier.FREEZE);

    private final LinuxSourceOptions.Barrier source;

    BarrierKind(LinuxSourceOptions.Barrier source) {
        this.source = source;
    }

    /** The Linux source's barrier of the same name. */
    public LinuxSourceOptions.Barrier sourceBarrier() {
        return source;
    }

    /** The option's and the protocol's name. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code srcu} or {@code freeze}; anything else is refused in one sentence. */
    public static BarrierKind parse(String s) {
        for (BarrierKind b : values()) {
            if (b.wireName().equals(s)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown barrier '" + s + "'; the barriers are srcu and freeze.");
    }
}
