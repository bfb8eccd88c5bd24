package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;

/**
 * What {@code BTRFS_IOC_FS_INFO} says about a mounted btrfs file system: its fsid (the name of its
 * directory under {@code /sys/fs/btrfs}) and its generation, the number of the last transaction
 * committed. Every change to any subvolume, once synced, has committed a transaction, and the
 * generation is kept on disk, so an equal generation after a sync means nothing was written
 * meanwhile: the write count that a btrfs subvolume's anonymous device does not keep.
 *
 * @param fsid the file system's UUID, as {@code /sys/fs/btrfs} names it
 * @param generation the last committed transaction's number
 */
public record BtrfsFsInfo(String fsid, long generation) {
    /** {@code _IOR(0x94, 31, struct btrfs_ioctl_fs_info_args)}: the struct is 1,024 bytes. */
    private static final long BTRFS_IOC_FS_INFO = 0x8400941FL;
    private static final long STRUCT_SIZE = 1024;
    // Offsets in struct btrfs_ioctl_fs_info_args (linux/btrfs.h): max_id, num_devices, fsid[16],
    // nodesize, sectorsize, clone_alignment, csum_type, csum_size, then flags (in and out), generation.
    private static final long FSID = 16;
    private static final int FSID_BYTES = 16;
    private static final long FLAGS = 48;
    private static final long GENERATION = 56;
    /** {@code BTRFS_FS_INFO_FLAG_GENERATION}: asks for the generation; the kernel sets it back if it gave one. */
    private static final long FLAG_GENERATION = 1L << 1;

    /**
     * The fsid and generation of the btrfs file system {@code fd} is on.
     *
     * @throws PosixException {@link Errno#ENOTTY} where {@code fd} is not on btrfs; {@link Errno#ENOSYS}
     *     where the call succeeds but an older kernel leaves the generation out
     */
    public static BtrfsFsInfo of(int fd) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(STRUCT_SIZE, 8); // zeroed
            args.set(ValueLayout.JAVA_LONG, FLAGS, FLAG_GENERATION);
            Posix.ioctl(fd, BTRFS_IOC_FS_INFO, args.address());
            if ((args.get(ValueLayout.JAVA_LONG, FLAGS) & FLAG_GENERATION) == 0) {
                throw new PosixException("BTRFS_IOC_FS_INFO on fd " + fd + " gave no generation", Errno.ENOSYS);
            }
            return new BtrfsFsInfo(uuid(args.asSlice(FSID, FSID_BYTES).toArray(ValueLayout.JAVA_BYTE)),
                    args.get(ValueLayout.JAVA_LONG, GENERATION));
        }
    }

    /** 16 bytes as a UUID's text: 8-4-4-4-12 lowercase hexadecimal digits. */
    private static String uuid(byte[] b) {
        String h = HexFormat.of().formatHex(b);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-"
                + h.substring(20);
    }
}
