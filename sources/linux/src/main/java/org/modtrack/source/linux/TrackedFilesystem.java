package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.modtrack.engine.FileId;
import org.modtrack.engine.StatStamp;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.StatFs;
import org.modtrack.posix.Statx;

/**
 * The file system a source tracks: where it is mounted, how the kernel names it (device and
 * fsid), and an open descriptor of its root for {@code open_by_handle_at}.
 *
 * <p>The descriptor is {@code O_RDONLY | O_DIRECTORY} (an {@code O_PATH} one makes
 * {@code open_by_handle_at} fail with EBADF) and never reads the directory, so it raises no event.
 */
final class TrackedFilesystem implements AutoCloseable {
    private final Path mountPoint;
    private final String fsType;
    private final long dev;
    private final long superblockDev;
    private final long fsid;
    private final int mountFd;
    private final int devMajor;
    private final int devMinor;

    private TrackedFilesystem(Path mountPoint, String fsType, long dev, long superblockDev, long fsid, int mountFd, int devMajor,
                              int devMinor) {
        this.superblockDev = superblockDev;
        this.devMajor = devMajor;
        this.devMinor = devMinor;
        this.mountPoint = mountPoint;
        this.fsType = fsType;
        this.dev = dev;
        this.fsid = fsid;
        this.mountFd = mountFd;
    }

    /** The file system holding {@code watched} (which must exist). */
    static TrackedFilesystem holding(Path watched) throws IOException {
        Path real;
        try {
            real = watched.toRealPath();
        } catch (IOException e) {
            throw new UnsupportedSourceException("cannot track " + watched + ": it does not exist or cannot be reached ("
                    + e.getMessage() + ").", e);
        }
        Mount mount = mountOf(real, Files.readAllLines(Path.of("/proc/self/mountinfo")));
        int fd = Posix.open(mount.point().toString(), Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
        try {
            StatFs fs = Posix.fstatfs(fd);
            Statx root = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_INO);
            return new TrackedFilesystem(mount.point(), mount.type(), deviceNumber(root.devMajor(), root.devMinor()),
                    mount.superblockDev(), fs.fsid(), fd, root.devMajor(), root.devMinor());
        } catch (PosixException | RuntimeException e) {
            Posix.close(fd, mount.point().toString());
            throw e;
        }
    }

    /**
     * A line of /proc/self/mountinfo that matters here.
     *
     * @param superblockDev its "major:minor": the superblock's device, as /proc/PID/maps names its
     *     files (stat gives a btrfs subvolume's files a device of their own)
     */
    record Mount(Path point, String type, long superblockDev) {}

    /** The mount whose mount point is the longest prefix of {@code real}; the last one wins when stacked. */
    static Mount mountOf(Path real, List<String> mountinfo) throws IOException {
        Mount best = null;
        for (String line : mountinfo) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 5 || dash < 0 || dash + 1 >= f.length) {
                continue;
            }
            Path point = Path.of(unescape(f[4]));
            if (real.startsWith(point) && (best == null || point.getNameCount() >= best.point().getNameCount())) {
                best = new Mount(point, f[dash + 1], majorMinor(f[2], line));
            }
        }
        if (best == null) {
            throw new IOException("no mount in /proc/self/mountinfo holds " + real + ".");
        }
        return best;
    }

    /** The device a mountinfo line's "major:minor" (decimal) names. */
    private static long majorMinor(String field, String line) throws IOException {
        int colon = field.indexOf(':');
        try {
            return deviceNumber(Long.parseLong(field.substring(0, colon)), Long.parseLong(field.substring(colon + 1)));
        } catch (RuntimeException e) {
            throw new IOException("no major:minor in this line of /proc/self/mountinfo: " + line, e);
        }
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    private static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** glibc's makedev, as Java's {@code unix:dev} reports a device. */
    static long deviceNumber(long major, long minor) {
        return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    }

    /**
     * How the source opens a directory of this file system: read-only, never through a symbolic
     * link; it raises no permission event, since the filesystem mark asks for no directory events
     * (no FAN_ONDIR, docs/kernel-facts.md 3b).
     */
    static final int DIRECTORY_OPEN_FLAGS = Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_NOFOLLOW | Posix.O_CLOEXEC;

    /** Whether the open file {@code fd} lives on this file system (not on one mounted inside it). */
    boolean contains(int fd) throws PosixException {
        Statx st = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_INO);
        return deviceNumber(st.devMajor(), st.devMinor()) == dev;
    }

    /** The identity of the open file {@code fd} of this file system: its handle, with {@code path} and {@code stamp} as they are now. */
    FileId identify(int fd, String path, StatStamp stamp) throws PosixException {
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(fd, "", Statx.AT_EMPTY_PATH);
        return FileId.ofHandle(fsid, h.handleType(), h.handle(), path, stamp);
    }

    Path mountPoint() {
        return mountPoint;
    }

    /**
     * How coarse the timestamps this file system keeps on disk may be, in nanoseconds: a ctime read
     * back after its inode left memory is rounded down to it, so a walk or a scan by ctime widens its
     * margin by as much. One nanosecond for xfs, btrfs, tmpfs and ext4 with inodes larger than 128
     * bytes (read from its superblock); a second for everything else, which costs false positives,
     * never a miss.
     */
    long timestampGranularityNanos() {
        long g = timestampGranularity;
        if (g == 0) {
            g = switch (fsType) {
                case "xfs", "btrfs", "tmpfs" -> 1;
                case "ext4" -> ext4InodeBytes() > EXT4_OLD_INODE_BYTES ? 1 : 1_000_000_000L;
                default -> 1_000_000_000L;
            };
            timestampGranularity = g; // the same every time: a race only reads the superblock twice
        }
        return g;
    }

    private volatile long timestampGranularity; // 0 until first asked

    /** ext4's inodes of this size keep whole seconds: their nanoseconds live in the extra space of larger ones. */
    private static final int EXT4_OLD_INODE_BYTES = 128;

    /** The inode size ext4's superblock gives (offset 1024 on the device; magic at 0x38, size at 0x58), or 0 if unknown. */
    private int ext4InodeBytes() {
        try {
            String uevent = Files.readString(Path.of("/sys/dev/block/" + devMajor + ":" + devMinor + "/uevent"));
            String name = uevent.lines().filter(l -> l.startsWith("DEVNAME=")).map(l -> l.substring(8)).findFirst().orElse(null);
            if (name == null) {
                return 0;
            }
            ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
            try (FileChannel device = FileChannel.open(Path.of("/dev", name), StandardOpenOption.READ)) {
                while (sb.hasRemaining() && device.read(sb, 1024 + sb.position()) > 0) {
                    // a block device reads whole; the loop only guards a short read
                }
            }
            return sb.hasRemaining() || (sb.getShort(0x38) & 0xFFFF) != 0xEF53 ? 0 : sb.getShort(0x58) & 0xFFFF;
        } catch (IOException | RuntimeException e) {
            return 0; // unknown: a second
        }
    }

    String fsType() {
        return fsType;
    }

    /** The device number of the mount's root ({@code st_dev}). */
    long dev() {
        return dev;
    }

    /**
     * The device of the mount's superblock (mountinfo's "major:minor"), by which /proc/PID/maps names
     * its files: {@link #dev} but on btrfs, whose stat gives each subvolume's files a device of their own.
     */
    long superblockDev() {
        return superblockDev;
    }

    /** The fsid fanotify reports in its info records ({@code statfs}'s {@code f_fsid}). */
    long fsid() {
        return fsid;
    }

    /** The device as "major:minor", as /sys/dev/block names it (a btrfs subvolume's is anonymous: major 0). */
    String majorMinor() {
        return devMajor + ":" + devMinor;
    }

    /** Whether {@code st} describes a file of this file system (its device, not one mounted below). */
    boolean holds(Statx st) {
        return st.devMajor() == devMajor && st.devMinor() == devMinor;
    }

    int mountFd() {
        return mountFd;
    }

    @Override
    public void close() throws IOException {
        Posix.close(mountFd, mountPoint.toString());
    }

    @Override
    public String toString() {
        return fsType + " at " + mountPoint;
    }
}
