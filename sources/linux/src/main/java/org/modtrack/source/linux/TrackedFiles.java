package org.modtrack.source.linux;

import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * The files a checkpoint looks for among every process's descriptors and mappings: those of the
 * tracked file system ({@link TrackedFilesystem}), every btrfs subvolume of it included.
 */
interface TrackedFiles {
    /**
     * Whether the file behind {@code link} (a descriptor or a mapping under /proc, followed), whose
     * status is {@code st} (asked with {@link Statx#STATX_SUBVOL}), is one of them.
     */
    boolean holds(String link, Statx st) throws PosixException;

    /**
     * The device /proc/PID/maps names them by: their superblock's, mountinfo's "major:minor"
     * ({@link TrackedFilesystem#superblockDev}).
     */
    long superblockDev();

    /**
     * These files as seen by one look at every process's descriptors: a device found not to be
     * theirs is not asked about again within it. Where the machine's own root is another btrfs,
     * most descriptors (165 that name a path on this sandbox) are files of a few devices, each of
     * which would cost a {@code statfs} at every checkpoint. Not kept past the look: a device may
     * be a new subvolume's later.
     */
    default TrackedFiles forOneLook() {
        return this;
    }

    /** The files of device {@code dev}, named {@code superblockDev} in /proc/PID/maps: a file system without subvolumes. */
    static TrackedFiles ofDevice(long dev, long superblockDev) {
        return new TrackedFiles() {
            @Override
            public boolean holds(String link, Statx st) {
                return TrackedFilesystem.deviceNumber(st.devMajor(), st.devMinor()) == dev;
            }

            @Override
            public long superblockDev() {
                return superblockDev;
            }
        };
    }
}
