package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.testing.LoopMount;

/** The count a clean stop leaves and the next start compares, on real file systems. */
class WatermarkTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void aBlockDevicesWatermarkIsItsCountOfWrittenSectors() throws Exception {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(), () -> LoopMount.unavailableReason("ext4").get());
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB);
             TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            Watermark before = Watermark.take(fs).orElseThrow();
            assertEquals(fs.majorMinor() + "#" + Files.readString(Path.of("/sys/dev/block/" + fs.majorMinor() + "/diskseq")).strip(),
                    before.device(), "its device, and which attach of it");
            assertNull(Watermark.take(fs).orElseThrow().gapSince(before), "nothing written");
            Files.writeString(m.mountPoint().resolve("f"), "x");
            String gap = Watermark.take(fs).orElseThrow().gapSince(before);
            assertTrue(gap != null && gap.endsWith("sectors were written to its device meanwhile"), gap);
        }
    }

    /**
     * A btrfs subvolume's device is anonymous and counts nothing: the file system's generation moves
     * with every synced change, in the tracked subvolume or any other.
     */
    @Test
    void aBtrfsWatermarkIsItsGenerationAndItsMemberDevices() throws Exception {
        assumeTrue(LoopMount.unavailableReason("btrfs").isEmpty(), () -> LoopMount.unavailableReason("btrfs").get());
        try (LoopMount m = LoopMount.create("btrfs", 128 * MIB);
             TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            Path root = m.mountPoint();
            assertTrue(Files.notExists(Path.of("/sys/dev/block/" + fs.majorMinor() + "/stat")), "an anonymous device");
            Watermark before = Watermark.take(fs).orElseThrow();
            assertTrue(before.device().matches("btrfs [0-9a-f-]{36} \\d+:\\d+#\\d+"), before.device());
            assertNull(Watermark.take(fs).orElseThrow().gapSince(before), "nothing written");

            Files.writeString(root.resolve("f"), "x");
            Watermark written = Watermark.take(fs).orElseThrow();
            assertTrue(written.written() > before.written(), written + " after " + before);
            String gap = written.gapSince(before);
            assertTrue(gap != null && gap.endsWith("btrfs transactions were committed meanwhile"), gap);

            assertEquals(0, new ProcessBuilder("btrfs", "subvolume", "create", root.resolve("sub").toString())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor());
            Watermark withSubvolume = Watermark.take(fs).orElseThrow();
            Files.writeString(root.resolve("sub/g"), "x"); // another subvolume: not tracked, but counted
            assertTrue(Watermark.take(fs).orElseThrow().gapSince(withSubvolume) != null, "a write below counts too");

            Properties stored = new Properties();
            written.storeIn(stored);
            assertEquals(written, Watermark.loadFrom(stored).orElseThrow());
        }
    }

    /**
     * The same loop device with another image attached counts the sectors of its own: mounted
     * without a write (read only, no log recovery), it can count as many as the image before it
     * did. Its disk sequence number tells them apart.
     */
    @Test
    void anImageAttachedAgainIsAnotherDeviceEvenWithTheSameCount(@TempDir Path scratch) throws Exception {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(), () -> LoopMount.unavailableReason("ext4").get());
        Path image = scratch.resolve("image");
        Path mnt = Files.createDirectory(scratch.resolve("mnt"));
        LinuxSourceTest.sh(scratch, "truncate -s 64M image && mkfs.ext4 -q -F image");
        Watermark first = readOnlyWatermark(image, mnt);
        Watermark second = readOnlyWatermark(image, mnt);
        assertEquals("the file system is on another device now", second.gapSince(first), first + " then " + second);
    }

    /** Attaches {@code image} to a free loop device, mounts it read only, takes its watermark, and undoes both. */
    private static Watermark readOnlyWatermark(Path image, Path mnt) throws Exception {
        Path dir = image.getParent();
        Process losetup = new ProcessBuilder("losetup", "--find", "--show", image.toString()).start();
        String device = new String(losetup.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, losetup.waitFor(), "losetup");
        try {
            LinuxSourceTest.sh(dir, "mount -o ro,noload " + device + " " + mnt);
            try (TrackedFilesystem fs = TrackedFilesystem.holding(mnt)) {
                return Watermark.take(fs).orElseThrow();
            } finally {
                LinuxSourceTest.sh(dir, "umount " + mnt);
            }
        } finally {
            LinuxSourceTest.sh(dir, "losetup -d " + device);
        }
    }

    @Test
    void anotherDeviceOrBootIsAGap() {
        Watermark then = new Watermark("boot-a", "7:0", 100);
        assertEquals("the machine rebooted", new Watermark("boot-b", "7:0", 100).gapSince(then));
        assertEquals("the file system is on another device now", new Watermark("boot-a", "7:1", 100).gapSince(then));
        assertEquals("the file system is on another device now",
                new Watermark("boot-a", "btrfs u 7:0#5", 100).gapSince(new Watermark("boot-a", "btrfs u 7:0#4", 100)));
    }
}
