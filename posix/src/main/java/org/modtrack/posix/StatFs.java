package org.modtrack.posix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What {@code statfs(2)} says about a filesystem: its type ({@code f_type}, a magic number such as
 * {@link #EXT4_SUPER_MAGIC}), its id ({@code f_fsid}), and its size in blocks.
 *
 * <p>The fsid is the kernel's two 32-bit words read as one little-endian 64-bit value, exactly as
 * {@link FanotifyEvents#fsid()} reads the fsid of an fanotify event, so the two compare equal for
 * the same filesystem.
 *
 * @param type            {@code f_type}
 * @param blockSize       {@code f_bsize}, bytes
 * @param blocks          {@code f_blocks}, total, in units of {@code blockSize}
 * @param freeBlocks      {@code f_bfree}
 * @param availableBlocks {@code f_bavail}, free for unprivileged users
 * @param fsid            {@code f_fsid} as described above
 */
public record StatFs(long type, long blockSize, long blocks, long freeBlocks, long availableBlocks, long fsid) {
    public static final long EXT4_SUPER_MAGIC = 0xEF53L;
    public static final long XFS_SUPER_MAGIC = 0x58465342L;
    public static final long BTRFS_SUPER_MAGIC = 0x9123683EL;
    public static final long TMPFS_MAGIC = 0x01021994L;

    /** {@code sizeof(struct statfs)} on x86_64. */
    static final long STRUCT_SIZE = 120;

    /** Reads the x86_64 {@code struct statfs}: eight-byte fields, {@code f_fsid} at offset 56. */
    static StatFs from(MemorySegment buf) {
        return new StatFs(buf.get(ValueLayout.JAVA_LONG, 0), buf.get(ValueLayout.JAVA_LONG, 8),
                buf.get(ValueLayout.JAVA_LONG, 16), buf.get(ValueLayout.JAVA_LONG, 24),
                buf.get(ValueLayout.JAVA_LONG, 32), buf.get(ValueLayout.JAVA_LONG, 56));
    }
}
