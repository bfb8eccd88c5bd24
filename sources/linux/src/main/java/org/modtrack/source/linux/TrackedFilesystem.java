package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
final class TrackedFilesystem implements TrackedFiles, AutoCloseable {
    private final Path mountPoint;
    private final String fsType;
    private final long dev;
    private final long superblockDev;
    private final long fsid;
    private final int mountFd;
    private final int devMajor;
    private final int devMinor;
    /**
     * btrfs: the file system's fsid with the subvolume mixed out ({@link #unmixedFsid}), the same for
     * every subvolume of it; {@link #NO_SUBVOLUMES} elsewhere, or where statx names no subvolume
     * (before Linux 6.10).
     */
    private final long subvolumeBase;
    private final boolean learnsSubvolumes;
    /** The tracked mount's id ({@code STATX_MNT_ID}), or -1 where statx does not say. */
    private final long mountId;
    /** The names in the watched tree of directories outside it that bind mounts inside it show. */
    private final MountAliases aliases;
    /** Devices of other subvolumes of this btrfs file system found so far, each with its subvolume; bounded. */
    private final Map<Long, Long> subvolumeDevices = new ConcurrentHashMap<>();

    /** How many subvolume devices are kept; past it, each further one is asked again every time. */
    static final int MAX_SUBVOLUME_DEVICES = 1 << 16;
    private static final long NO_SUBVOLUMES = 0;

    private TrackedFilesystem(Path mountPoint, String fsType, long dev, long superblockDev, long fsid, int mountFd, int devMajor,
                              int devMinor, boolean learnsSubvolumes, long subvolumeBase, long mountId, MountAliases aliases) {
        this.aliases = aliases;
        this.learnsSubvolumes = learnsSubvolumes;
        this.mountId = mountId;
        this.subvolumeBase = subvolumeBase;
        this.superblockDev = superblockDev;
        this.devMajor = devMajor;
        this.devMinor = devMinor;
        this.mountPoint = mountPoint;
        this.fsType = fsType;
        this.dev = dev;
        this.fsid = fsid;
        this.mountFd = mountFd;
    }

    /** The file system holding {@code watched} (which must exist), tracked for the tree {@code watched}. */
    static TrackedFilesystem holding(Path watched) throws IOException {
        Path real;
        try {
            real = watched.toRealPath();
        } catch (IOException e) {
            throw new UnsupportedSourceException("cannot track " + watched + ": it does not exist or cannot be reached ("
                    + e.getMessage() + ").", e);
        }
        MountInfo mount = mountOf(real, MountInfo.parseAll(Files.readAllLines(MountInfo.FILE)));
        Path point = Path.of(mount.point());
        int fd = Posix.open(mount.point(), Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
        try {
            StatFs fs = Posix.fstatfs(fd);
            Statx root = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_INO | Statx.STATX_SUBVOL | Statx.STATX_MNT_ID);
            boolean subvolumes = fs.type() == StatFs.BTRFS_SUPER_MAGIC && (root.mask() & Statx.STATX_SUBVOL) != 0;
            long mountId = (root.mask() & Statx.STATX_MNT_ID) != 0 ? root.mountId() : -1;
            MountAliases aliases = MountAliases.open(real.toString(), mount.superblockDev(), mountId, point);
            return new TrackedFilesystem(point, mount.type(), deviceNumber(root.devMajor(), root.devMinor()),
                    mount.superblockDev(), fs.fsid(), fd, root.devMajor(), root.devMinor(), subvolumes,
                    subvolumes ? unmixedFsid(fs.fsid(), root.subvolume()) : NO_SUBVOLUMES, mountId, aliases);
        } catch (IOException | RuntimeException e) {
            Posix.close(fd, mount.point());
            throw e;
        }
    }

    /** The mount whose mount point is the longest prefix of {@code real}; the last one wins when stacked. */
    static MountInfo mountOf(Path real, List<MountInfo> mounts) throws IOException {
        MountInfo best = null;
        int bestDepth = -1;
        for (MountInfo m : mounts) {
            Path point = Path.of(m.point());
            if (real.startsWith(point) && point.getNameCount() >= bestDepth) {
                best = m;
                bestDepth = point.getNameCount();
            }
        }
        if (best == null) {
            throw new IOException("no mount in " + MountInfo.FILE + " holds " + real + ".");
        }
        return best;
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

    /** The identity of the open file {@code fd} of this file system: its handle, with {@code path} and {@code stamp} as they are now. */
    FileId identify(int fd, String path, StatStamp stamp) throws PosixException {
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(fd, "", Statx.AT_EMPTY_PATH);
        return FileId.ofHandle(fsid, h.handleType(), h.handle(), hint(path, h), stamp);
    }

    /**
     * {@code path}, the kernel's name of the file of handle {@code h}, as a path hint: no name where
     * it is none the file ever had ({@link #nameable}), its name in the watched tree where a bind
     * mount inside the tree shows it ({@link MountAliases}).
     */
    String hint(String path, FileHandles.FileHandle h) {
        return aliases.inTree(nameable(path, h));
    }

    /** {@code path} named in the watched tree where a bind mount inside the tree shows it ({@link MountAliases}). */
    String inTree(String path) {
        return aliases.inTree(path);
    }

    /** A directory was renamed (or a rename may have been missed): the mounts are read again before their next use. */
    void directoryRenamed() {
        aliases.readAgain();
    }

    /** The mounts inside the watched tree, of this file system and of others, as the mount table has them now. */
    MountAliases.Table mountsInside() {
        return aliases.table();
    }

    /**
     * {@code path} as a path hint for the file of handle {@code h}, or null where it is no name the
     * file ever had: the kernel names a file made with {@code O_TMPFILE} {@code #} and its inode
     * number, and /proc adds " (deleted)" while no directory holds it. Kept as a hint, a removal
     * would be named there, where a file of that name may stand.
     */
    static String nameable(String path, FileHandles.FileHandle h) {
        String suffix = " (deleted)";
        if (path == null || !path.endsWith(suffix)) {
            return path;
        }
        long ino = FileHandles.inodeNumber(h.handleType(), h.handle());
        String tmpfileName = "/#" + ino + suffix;
        return ino >= 0 && path.endsWith(tmpfileName) ? null : path;
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
    @Override
    public long superblockDev() {
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

    /**
     * Whether {@code st} describes a file of this file system: its device is the mount root's, or
     * that of another subvolume of this btrfs file system found before ({@link #holds(int, String,
     * Statx)}); not one of a file system mounted below.
     */
    boolean holds(Statx st) {
        if (st.devMajor() == devMajor && st.devMinor() == devMinor) {
            return true;
        }
        Long subvolume = learnsSubvolumes ? subvolumeDevices.get(deviceNumber(st.devMajor(), st.devMinor())) : null;
        return subvolume != null && (st.mask() & Statx.STATX_SUBVOL) != 0 && subvolume == st.subvolume();
    }

    /**
     * Whether the object {@code name} in directory {@code dirfd} ({@link Statx#AT_FDCWD}: an
     * absolute path), whose status is {@code st} (asked with {@link Statx#STATX_SUBVOL}), is on
     * this file system. On btrfs each subvolume gives its files a device and an {@code f_fsid} of
     * their own: a directory or regular file with an unknown device is this file system's if its
     * {@code f_fsid} with its subvolume's id mixed out is the root's ({@link #unmixedFsid}); its
     * device is then known for {@link #holds(Statx)}. Any other object is this file system's only
     * by a known device: it is reached through its directory, which is asked first.
     */
    boolean holds(int dirfd, String name, Statx st) throws PosixException {
        if (holds(st)) {
            return true;
        }
        if (!learnsSubvolumes || (st.mask() & Statx.STATX_SUBVOL) == 0 || !(st.isDirectory() || st.isRegularFile())) {
            return false;
        }
        String path = dirfd == Statx.AT_FDCWD ? name : "/proc/self/fd/" + dirfd + "/" + name;
        return learned(st, Posix.statfs(path)); // statfs follows a symbolic link: only a directory or a file gets here
    }

    /**
     * Whether {@code st} (asked with {@link Statx#STATX_MNT_ID}) was reached through the tracked
     * mount, not through another mount of the file system (a bind mount); true where statx does not say.
     */
    boolean throughTheMount(Statx st) {
        return mountId < 0 || (st.mask() & Statx.STATX_MNT_ID) == 0 || st.mountId() == mountId;
    }

    /** Whether other btrfs subvolumes of this file system are known as its own ({@link #holds(int, String, Statx)}). */
    boolean knowsSubvolumes() {
        return learnsSubvolumes;
    }

    @Override
    public boolean holds(String link, Statx st) throws PosixException {
        return holds(Statx.AT_FDCWD, link, st);
    }

    @Override
    public TrackedFiles forOneLook() {
        if (!learnsSubvolumes) {
            return this; // a device compared, nothing asked
        }
        Set<Long> others = new HashSet<>();
        return new TrackedFiles() {
            @Override
            public boolean holds(String link, Statx st) throws PosixException {
                long device = deviceNumber(st.devMajor(), st.devMinor());
                if (others.contains(device)) {
                    return false;
                }
                boolean ours = TrackedFilesystem.this.holds(link, st);
                if (!ours && others.size() < MAX_SUBVOLUME_DEVICES) {
                    others.add(device);
                }
                return ours;
            }

            @Override
            public long superblockDev() {
                return superblockDev;
            }
        };
    }

    /** Whether the open file {@code fd} is on this file system (not on one mounted inside it), as {@link #holds(int, String, Statx)}. */
    boolean contains(int fd) throws PosixException {
        Statx st = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_INO | Statx.STATX_SUBVOL);
        return holds(st) || learnsSubvolumes && (st.mask() & Statx.STATX_SUBVOL) != 0 && learned(st, Posix.fstatfs(fd));
    }

    /** Whether {@code fs}, the statfs of the object of {@code st}, is this btrfs file system's; if so, keeps its device. */
    private boolean learned(Statx st, StatFs fs) {
        if (fs.type() != StatFs.BTRFS_SUPER_MAGIC || unmixedFsid(fs.fsid(), st.subvolume()) != subvolumeBase) {
            return false;
        }
        if (subvolumeDevices.size() < MAX_SUBVOLUME_DEVICES) {
            subvolumeDevices.put(deviceNumber(st.devMajor(), st.devMinor()), st.subvolume());
        }
        return true;
    }

    /**
     * A btrfs {@code f_fsid} (as {@link StatFs#fsid} reads it) with the id of the subvolume it was
     * asked in mixed out: btrfs XORs the id's high half into the fsid's first word and its low half
     * into the second (fs/btrfs/super.c, {@code btrfs_statfs}), so that each subvolume reports
     * another; this is the file system's own, the same in all of them ({@code KernelBehaviourTest}).
     */
    static long unmixedFsid(long fsid, long subvolume) {
        return fsid ^ Long.rotateLeft(subvolume, 32);
    }

    int mountFd() {
        return mountFd;
    }

    @Override
    public void close() throws IOException {
        aliases.close();
        Posix.close(mountFd, mountPoint.toString());
    }

    @Override
    public String toString() {
        return fsType + " at " + mountPoint;
    }
}
