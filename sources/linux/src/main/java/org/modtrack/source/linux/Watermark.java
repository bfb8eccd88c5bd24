package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import org.modtrack.posix.Posix;

/**
 * How much the kernel had written to the tracked file system's block device, after flushing it:
 * taken at a clean stop, while the groups still record every access, and compared at the next
 * start, after the filesystem mark is in place. If nothing was written in between (same boot, same
 * device, same count of written sectors), nothing changed while no tracker ran, and the restart is
 * not a gap. Anything else (a reboot, a device without statistics such as a btrfs subvolume's
 * anonymous one, a single sector written, even by our own mark's bookkeeping or an atime update)
 * counts as a gap: the comparison can only err towards "continuity lost".
 *
 * @param bootId the kernel's boot id (the counters restart at boot)
 * @param device "major:minor" of the block device
 * @param sectorsWritten field 7 of /sys/dev/block/&lt;device&gt;/stat
 */
record Watermark(String bootId, String device, long sectorsWritten) {
    private static final String BOOT_ID = "watermark.bootId";
    private static final String DEVICE = "watermark.device";
    private static final String SECTORS = "watermark.sectorsWritten";

    /** Flushes the file system, then reads its device's counter; empty if the device keeps none. */
    static Optional<Watermark> take(TrackedFilesystem fs) throws IOException {
        Path stat = Path.of("/sys/dev/block/" + fs.majorMinor() + "/stat");
        if (!Files.isReadable(stat)) {
            return Optional.empty();
        }
        Posix.syncfs(fs.mountFd(), fs.mountPoint().toString());
        String[] fields = Files.readString(stat).strip().split("\\s+");
        if (fields.length < 7) {
            return Optional.empty();
        }
        String boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        return Optional.of(new Watermark(boot, fs.majorMinor(), Long.parseLong(fields[6])));
    }

    void storeIn(Properties p) {
        p.setProperty(BOOT_ID, bootId);
        p.setProperty(DEVICE, device);
        p.setProperty(SECTORS, Long.toString(sectorsWritten));
    }

    static Optional<Watermark> loadFrom(Properties p) {
        String boot = p.getProperty(BOOT_ID);
        String device = p.getProperty(DEVICE);
        String sectors = p.getProperty(SECTORS);
        if (boot == null || device == null || sectors == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Watermark(boot, device, Long.parseLong(sectors)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
