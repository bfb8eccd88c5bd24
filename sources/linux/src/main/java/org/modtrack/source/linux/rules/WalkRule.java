package org.modtrack.source.linux.rules;

/**
 * What a walk by ctime ({@code Reconciliation}) counts as changed since the last blessed result's
 * checkpoint: a file or directory whose ctime is at or after the walk's start (and a file born at
 * or after it as created). At, not only after: a change made in the very clock tick the checkpoint's
 * time was taken in has that time as its ctime, and may have come after the checkpoint began. The
 * source's start is that time less a margin (its ctimes come from a coarse clock); the simulator's
 * logical clock needs none. The Linux source and the simulator's model of it both decide by
 * {@link #changedSince}.
 */
public final class WalkRule {
    private WalkRule() {}

    /**
     * Whether a file whose ctime (or birth time) is {@code time} changed (or was born) since {@code since}.
     *
     * @param time the file's ctime, or birth time, on the clock {@code since} was taken on
     * @param since where the walk starts from
     */
    public static boolean changedSince(long time, long since) {
        return time >= since;
    }
}
