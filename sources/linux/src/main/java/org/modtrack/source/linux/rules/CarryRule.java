package org.modtrack.source.linux.rules;

import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * Which files a checkpoint carries into the new period because they stay writable without a
 * permission event before the write ({@code AlwaysWritable}). Files mapped shared and writable
 * (a store through a mapping raises no event) and files opened for writing before the filesystem
 * mark are carried at every checkpoint, whatever the options. Every other file open for writing is
 * carried too where an open descriptor can write unrecorded: with directory records, a child of a
 * recorded directory raises no permission event, so nothing records its {@code mmap}, and a store
 * through a mapping gone by the checkpoint raises nothing until the descriptor's last close; with
 * opens as the only permission events, a write through a descriptor opened in an earlier period
 * raises none at all. The Linux source and the simulator's model of it both decide by
 * {@link #everyOpenWriter}.
 */
public final class CarryRule {
    private CarryRule() {}

    /**
     * Whether every file open for writing is carried at each checkpoint, not only the mapped and
     * pre-opened ones.
     *
     * @param granularity what a permission event records
     * @param opensOnly whether opens are the only permission events ({@code LinuxSourceOptions.Hook.OPEN_PERM})
     */
    public static boolean everyOpenWriter(LinuxSourceOptions.Granularity granularity, boolean opensOnly) {
        return granularity == LinuxSourceOptions.Granularity.DIRECTORY || opensOnly;
    }
}
