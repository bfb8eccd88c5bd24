package org.modtrack.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A filesystem of a chosen type on a sparse image, attached to a loop device and mounted under a
 * fresh {@code /tmp/modtrack-loop-NNNN/mnt}: the only kind of filesystem on which a test may put
 * fanotify permission or pre-content marks, because a stuck listener then blocks nobody but the
 * test.
 *
 * <p>{@link #close()} unmounts (retrying while busy, lazily as a last resort), detaches the loop
 * device and deletes the directory. A JVM shutdown hook closes any a test forgot; a JVM that was
 * killed leaves them for {@code bin/lib/clean-stale-loops.sh}. Needs root and the filesystem's
 * {@code mkfs} tool ({@link #unavailableReason}). Sizes: xfs needs at least 300 MiB, btrfs about
 * 110 MiB; the image is sparse, so only what the filesystem writes takes disk space.
 */
public final class LoopMount implements AutoCloseable {
    private static final List<Path> TOOL_DIRECTORIES = List.of(Path.of("/usr/sbin"), Path.of("/sbin"),
            Path.of("/usr/bin"), Path.of("/bin"));

    private final String fsType;
    private final Path directory;
    private final Path mountPoint;
    private String device;
    private boolean mounted;
    private boolean closed;

    private LoopMount(String fsType, Path directory) {
        this.fsType = fsType;
        this.directory = directory;
        this.mountPoint = directory.resolve("mnt");
    }

    /**
     * Makes a {@code bytes}-byte sparse image, attaches it ({@code losetup --find --show}), makes a
     * {@code fsType} filesystem on it (ext4, xfs or btrfs) and mounts it. On failure, undoes what it did.
     */
    public static LoopMount create(String fsType, long bytes) throws IOException {
        return create(fsType, bytes, List.of());
    }

    /** Like {@link #create(String, long)}, with {@code mkfsOptions} given to mkfs before the device (such as {@code -I 128}). */
    public static LoopMount create(String fsType, long bytes, List<String> mkfsOptions) throws IOException {
        TempMounts.requireRoot("create a " + fsType + " loop mount");
        List<String> mkfs = new ArrayList<>(mkfsCommand(fsType));
        mkfs.addAll(mkfsOptions);
        LoopMount m = new LoopMount(fsType, TempMounts.newDirectory());
        TempMounts.register(m);
        try {
            m.build(mkfs, bytes);
            return m;
        } catch (IOException | RuntimeException e) {
            try {
                m.close();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Whether {@code mkfs.<fsType>} is installed (root is a separate question: {@link #unavailableReason}). */
    public static boolean available(String fsType) {
        return TOOL_DIRECTORIES.stream().anyMatch(d -> Files.isExecutable(d.resolve("mkfs." + fsType)));
    }

    /** Why {@link #create} cannot work here (not root, or no mkfs tool), for a test's skip message; empty if it can. */
    public static Optional<String> unavailableReason(String fsType) {
        if (!TempMounts.isRoot()) {
            return Optional.of("a " + fsType + " loop mount needs root (effective uid 0), and this test does not run as root");
        }
        if (!available(fsType)) {
            return Optional.of("mkfs." + fsType + " is not installed (Debian: " + packageOf(fsType) + "; .ci/run installs it)");
        }
        return Optional.empty();
    }

    /** Whether this process runs as root, which loop devices and mounts need. */
    public static boolean isRoot() {
        return TempMounts.isRoot();
    }

    /** Where the filesystem is mounted: {@code /tmp/modtrack-loop-NNNN/mnt}. */
    public Path mountPoint() {
        return mountPoint;
    }

    /** The loop device, for example {@code /dev/loop3}. */
    public String device() {
        return device;
    }

    /**
     * Makes the device fail: cuts the image to {@code bytes} and tells the loop driver
     * ({@code losetup --set-capacity}), so that every read or write beyond the new end fails with
     * EIO, for real, in the block layer (device-mapper's error target is not in every kernel).
     * Whatever the file system had put there is lost; unmounting still works.
     */
    public void shrinkDevice(long bytes) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(directory.resolve("image").toFile(), "rw")) {
            file.setLength(bytes);
        }
        Command.run("losetup", "--set-capacity", device);
    }

    /** The filesystem type given to {@link #create}. */
    public String fsType() {
        return fsType;
    }

    private void build(List<String> mkfs, long bytes) throws IOException {
        Path image = directory.resolve("image");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(bytes); // sparse: no blocks are written
        }
        device = Command.run("losetup", "--find", "--show", image.toString()).lines().reduce((a, b) -> b).orElse("");
        if (!device.startsWith("/dev/loop")) {
            String said = device;
            device = null;
            throw new IOException("losetup --find --show " + image + " printed no loop device (it said: " + said + ").");
        }
        Command.run(append(mkfs, device));
        Files.createDirectory(mountPoint);
        Command.run("mount", "-t", fsType, device, mountPoint.toString());
        mounted = true;
    }

    /**
     * Unmounts, detaches the loop device and deletes the directory; safe to call twice. Each step is
     * tried even if an earlier one failed, except that nothing is deleted while still mounted.
     */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        TempMounts.unregister(this);
        IOException failure = null;
        if (mounted) {
            try {
                TempMounts.unmount(mountPoint);
                mounted = false;
            } catch (IOException e) {
                failure = e;
            }
        }
        if (device != null) {
            try {
                detach();
            } catch (IOException e) {
                failure = TempMounts.combine(failure, e);
            }
        }
        if (!mounted) {
            try {
                TempMounts.deleteTree(directory);
            } catch (IOException e) {
                failure = TempMounts.combine(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Detaches the loop device; after a lazy unmount the kernel detaches it once the last user lets go (autoclear). */
    private void detach() throws IOException {
        IOException last = null;
        for (int attempt = 1; attempt <= 5; attempt++) {
            try {
                Command.run("losetup", "-d", device);
                device = null;
                return;
            } catch (IOException e) {
                last = e;
                TempMounts.sleep(200);
            }
        }
        throw last;
    }

    static List<String> mkfsCommand(String fsType) throws IOException {
        List<String> command = switch (fsType) {
            // No lazy initialisation: a kernel thread zeroing inode tables after the mount would write
            // to the device for a while, and tests that compare its write counters need it quiet.
            case "ext4" -> List.of("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0");
            case "xfs" -> List.of("mkfs.xfs", "-q", "-f");
            case "btrfs" -> List.of("mkfs.btrfs", "-q", "-f");
            default -> throw new IllegalArgumentException("LoopMount knows ext4, xfs and btrfs, not " + fsType + ".");
        };
        if (!available(fsType)) {
            throw new IOException("cannot create a " + fsType + " loop mount: mkfs." + fsType
                    + " is not installed (Debian package " + packageOf(fsType) + ").");
        }
        return command;
    }

    private static String packageOf(String fsType) {
        return switch (fsType) {
            case "ext4" -> "e2fsprogs";
            case "xfs" -> "xfsprogs";
            case "btrfs" -> "btrfs-progs";
            default -> "unknown";
        };
    }

    private static List<String> append(List<String> command, String last) {
        return Stream.concat(command.stream(), Stream.of(last)).toList();
    }

    @Override
    public String toString() {
        return fsType + " on " + (device == null ? "no loop device" : device) + " at " + mountPoint;
    }
}
