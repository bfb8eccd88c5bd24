package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
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
            assertEquals(fs.majorMinor(), before.device());
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

    @Test
    void anotherDeviceOrBootIsAGap() {
        Watermark then = new Watermark("boot-a", "7:0", 100);
        assertEquals("the machine rebooted", new Watermark("boot-b", "7:0", 100).gapSince(then));
        assertEquals("the file system is on another device now", new Watermark("boot-a", "7:1", 100).gapSince(then));
        assertEquals("the file system is on another device now",
                new Watermark("boot-a", "btrfs u 7:0#5", 100).gapSince(new Watermark("boot-a", "btrfs u 7:0#4", 100)));
    }
}
