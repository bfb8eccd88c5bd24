package org.modtrack.posix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A shared mapping of a file ({@code MAP_SHARED}: an "s" in {@code /proc/PID/maps}) in another
 * process, as {@code PROCMAP_QUERY} reports it: the {@code ioctl} on an open {@code /proc/PID/maps}
 * (Linux 6.11+, {@code struct procmap_query} of {@code linux/fs.h}) that finds the next mapping
 * matching a filter inside the kernel. Why not the text of {@code maps}: the kernel formats every
 * mapping of the process for it, paths included, where the filter skips the private ones unread;
 * every checkpoint looks for every process's shared mappings.
 *
 * @param start the first address of the mapping
 * @param end the address after its last
 * @param writable whether it is writable now ({@code VM_WRITE}; one that is not may still be made
 *     writable by {@code mprotect} if its file was opened for writing)
 * @param deviceMajor the major number of the mapped file's device
 * @param deviceMinor its minor number
 * @param inode the mapped file's inode number
 */
public record SharedFileMapping(long start, long end, boolean writable, long deviceMajor, long deviceMinor, long inode) {
    /** {@code _IOWR('f', 17, struct procmap_query)}: the struct is 104 bytes. */
    private static final long PROCMAP_QUERY = 0xC0686611L;
    private static final long STRUCT_SIZE = 104;
    private static final long VMA_WRITABLE = 0x02;
    private static final long VMA_SHARED = 0x08;
    private static final long COVERING_OR_NEXT_VMA = 0x10;
    private static final long FILE_BACKED_VMA = 0x20;
    // Offsets in struct procmap_query (x86_64): eight __u64 fields, then __u32 dev_major, dev_minor.
    private static final long QUERY_FLAGS = 8;
    private static final long QUERY_ADDR = 16;
    private static final long VMA_START = 24;
    private static final long VMA_END = 32;
    private static final long VMA_FLAGS = 40;
    private static final long INODE = 64;
    private static final long DEV_MAJOR = 72;
    private static final long DEV_MINOR = 76;

    public SharedFileMapping {
        assert start < end : start + "-" + end;
    }

    /**
     * The first shared mapping of a file that ends above address {@code from}, in the process whose
     * {@code /proc/PID/maps} is open on {@code mapsFd}; null if there is none, or if the process has
     * no address space (a kernel thread, or a process that has exited: {@link Errno#ESRCH}). Neither
     * is thrown: every process's query ends so, at every checkpoint.
     *
     * @throws PosixException {@link Errno#ENOTTY} where the kernel has no {@code PROCMAP_QUERY}
     *     (before 6.11)
     */
    public static SharedFileMapping next(int mapsFd, long from) throws PosixException {
        MemorySegment q = CallScratch.get().head.asSlice(0, STRUCT_SIZE);
        q.fill((byte) 0);
        q.set(ValueLayout.JAVA_LONG, 0, STRUCT_SIZE);
        q.set(ValueLayout.JAVA_LONG, QUERY_FLAGS, VMA_SHARED | FILE_BACKED_VMA | COVERING_OR_NEXT_VMA);
        q.set(ValueLayout.JAVA_LONG, QUERY_ADDR, from);
        int rc = Posix.ioctlOrErrno(mapsFd, PROCMAP_QUERY, q.address());
        if (rc == -Errno.ENOENT || rc == -Errno.ESRCH) {
            return null;
        }
        if (rc < 0) {
            throw new PosixException("ioctl PROCMAP_QUERY on fd " + mapsFd, -rc);
        }
        return new SharedFileMapping(q.get(ValueLayout.JAVA_LONG, VMA_START), q.get(ValueLayout.JAVA_LONG, VMA_END),
                (q.get(ValueLayout.JAVA_LONG, VMA_FLAGS) & VMA_WRITABLE) != 0,
                Integer.toUnsignedLong(q.get(ValueLayout.JAVA_INT, DEV_MAJOR)),
                Integer.toUnsignedLong(q.get(ValueLayout.JAVA_INT, DEV_MINOR)), q.get(ValueLayout.JAVA_LONG, INODE));
    }

    /**
     * The name under {@code /proc/PID/map_files} of the mapping from {@code start} to {@code end}:
     * the range in hexadecimal without leading zeros, which the kernel refuses (maps pads to 8 digits).
     */
    public static String mapFilesName(long start, long end) {
        return Long.toHexString(start) + "-" + Long.toHexString(end);
    }
}
