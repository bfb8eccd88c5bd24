package org.modtrack.source.linux.rules;

/**
 * Whether what changed across a reboot (a power loss, a kernel crash) can be found by a walk by
 * ctime, and how a recorded directory is read after one. The Linux source ({@code PowerLease},
 * {@code CheckpointTimes}, {@code DirectoryScan}) and the simulator's model of it both decide by
 * these functions.
 *
 * <p>Within a boot, every change since a checkpoint has a ctime at or after that checkpoint's time
 * ({@link WalkRule}). Across a reboot two things can break that. An overwrite in place can reach
 * the disk while its inode's new ctime does not (an {@code fdatasync} skips a timestamp-only inode
 * update), so after the power loss that file looks unchanged by its ctime: only a durable record
 * made before the write proceeded names it, and a recorded directory must be read whole, never
 * filtered by ctime. And a write made while no tracker recorded (after the tracking process died,
 * before the next start) has only its ctime to show for it. So a walk is trusted across a reboot
 * only if a <em>power lease</em> stood at the loss: a file written durably once every write was
 * recorded durably before it proceeded, and removed durably before any write could again proceed
 * unrecorded (a clean stop; the tracking process's death, by the keeper holding a copy of the
 * pre-content group, which releases writers only after the removal). Namespace changes and attribute
 * changes need no lease: a directory's entries and its ctime, a file's size or mode and its ctime,
 * reach the disk in one journal transaction.
 */
public final class RebootRule {
    private RebootRule() {}

    /**
     * Whether a walk since the checkpoint time a consumer last blessed can find what changed, once
     * the machine rebooted since that checkpoint.
     *
     * @param leaseBoot the boot in which the power lease that stood at the reboot was written, or
     *     null if none stood (never written, or removed before the reboot)
     * @param checkpointBoot the boot the checkpoint's time was taken in
     * @param checkpointWallNanos the checkpoint's time on the wall clock
     * @param bootStartedWallNanos when the current boot began, on the current wall clock: every
     *     change made in this boot before tracking began has a ctime at or after it, unless the
     *     clock was stepped back meanwhile
     */
    public static boolean walkAcrossReboot(String leaseBoot, String checkpointBoot, long checkpointWallNanos,
                                           long bootStartedWallNanos) {
        return leaseBoot != null && leaseBoot.equals(checkpointBoot) && bootStartedWallNanos >= checkpointWallNanos;
    }

    /**
     * Whether a scan of a recorded directory may leave out an entry whose ctime is before the
     * watermark: only if the watermark was taken in this boot. Across a reboot every entry of it
     * is named (an overwrite in place may have kept its old ctime on disk).
     */
    public static boolean scanFiltersByCtime(boolean watermarkAcrossReboot) {
        return !watermarkAcrossReboot;
    }
}
