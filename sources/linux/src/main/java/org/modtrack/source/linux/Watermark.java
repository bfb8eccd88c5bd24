package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.modtrack.posix.BtrfsFsInfo;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;

/**
 * How much had been written to the tracked file system, after flushing it: taken at a clean stop,
 * while the groups still record every access, and compared at the next start, after the filesystem
 * mark is in place. If nothing was written in between (same boot, same device, same count), nothing
 * changed while no tracker ran, and the restart is not a gap. Anything else (a reboot, a device
 * without a count, a single sector written, even by our own mark's bookkeeping or an atime update)
 * counts as a gap: the comparison can only err towards a walk.
 *
 * <p>The count is the block device's written sectors (field 7 of {@code /sys/dev/block/<device>/stat}),
 * its device "major:minor" with its disk sequence number ({@code diskseq}, Linux 5.15+), which every
 * attach renews: another image attached to the same loop device and mounted without a write (read
 * only, no log recovery) counts the same sectors, and is another device all the same. On btrfs,
 * whose subvolumes have anonymous devices that keep none, it is the file
 * system's generation, the number of its last committed transaction ({@link BtrfsFsInfo}), which
 * every synced change to any of its subvolumes moves and which is kept on disk; its device is the
 * fsid and its member devices, each with its disk sequence number (which a block device's every
 * attach renews), so that another device under the same fsid is a gap too.
 *
 * @param bootId the kernel's boot id (the sector counters restart at boot)
 * @param device what was counted: "major:minor#diskseq" of the block device ("major:minor" where the
 *     kernel gives no sequence number), or "btrfs FSID MEMBERS"
 * @param written the count: written sectors, or the btrfs generation
 */
record Watermark(String bootId, String device, long written) {
    private static final String BOOT_ID = "watermark.bootId";
    private static final String DEVICE = "watermark.device";
    // The key predates btrfs's generations; kept so that a state's watermark outlives an upgrade.
    private static final String WRITTEN = "watermark.sectorsWritten";
    private static final String BTRFS = "btrfs ";
    /** More devices than any btrfs file system has in practice: the walk of sysfs stays bounded. */
    private static final int MAX_MEMBERS = 4096;

    /** Flushes the file system, then reads its count; empty if there is none to read. */
    static Optional<Watermark> take(TrackedFilesystem fs) throws IOException {
        Path stat = Path.of("/sys/dev/block/" + fs.majorMinor() + "/stat");
        boolean blockDevice = Files.isReadable(stat);
        if (!blockDevice && !"btrfs".equals(fs.fsType())) {
            return Optional.empty();
        }
        Posix.syncfs(fs.mountFd(), fs.mountPoint().toString());
        String boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        if (blockDevice) {
            String[] fields = Files.readString(stat).strip().split("\\s+");
            Path sequence = stat.resolveSibling("diskseq");
            String device = Files.isReadable(sequence) ? fs.majorMinor() + "#" + Files.readString(sequence).strip()
                    : fs.majorMinor();
            return fields.length < 7 ? Optional.empty() : Optional.of(new Watermark(boot, device, Long.parseLong(fields[6])));
        }
        BtrfsFsInfo info;
        try {
            info = BtrfsFsInfo.of(fs.mountFd());
        } catch (PosixException e) {
            return Optional.empty(); // an older kernel gives no generation
        }
        Optional<String> members = btrfsMembers(Path.of("/sys/fs/btrfs", info.fsid(), "devices"));
        return members.map(m -> new Watermark(boot, BTRFS + info.fsid() + " " + m, info.generation()));
    }

    /**
     * The block devices of a btrfs file system, from its {@code devices} directory in sysfs (a link
     * to each), as "major:minor#diskseq" sorted; empty if a member's numbers cannot be read.
     */
    private static Optional<String> btrfsMembers(Path devices) throws IOException {
        List<String> members = new ArrayList<>();
        try (DirectoryStream<Path> links = Files.newDirectoryStream(devices)) {
            for (Path member : links) {
                Path sequence = member.resolve("diskseq");
                if (!Files.isReadable(sequence)) {
                    return Optional.empty(); // before Linux 5.15: a device attached again would look the same
                }
                members.add(Files.readString(member.resolve("dev")).strip() + "#" + Files.readString(sequence).strip());
                if (members.size() > MAX_MEMBERS) {
                    return Optional.empty();
                }
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        members.sort(null);
        return members.isEmpty() ? Optional.empty() : Optional.of(String.join(",", members));
    }

    /** Why the time between {@code then} and this watermark is a gap; null if nothing was written. */
    String gapSince(Watermark then) {
        if (!then.bootId.equals(bootId)) {
            return "the machine rebooted";
        }
        if (!then.device.equals(device)) {
            return "the file system is on another device now";
        }
        long more = written - then.written;
        if (more == 0) {
            return null;
        }
        return device.startsWith(BTRFS) ? more + " btrfs transactions were committed meanwhile"
                : more + " sectors were written to its device meanwhile";
    }

    void storeIn(Properties p) {
        p.setProperty(BOOT_ID, bootId);
        p.setProperty(DEVICE, device);
        p.setProperty(WRITTEN, Long.toString(written));
    }

    static Optional<Watermark> loadFrom(Properties p) {
        String boot = p.getProperty(BOOT_ID);
        String device = p.getProperty(DEVICE);
        String written = p.getProperty(WRITTEN);
        if (boot == null || device == null || written == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Watermark(boot, device, Long.parseLong(written)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
