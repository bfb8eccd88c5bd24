package org.modtrack.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The recording disk logs what the loop device writes and flushes, and a cut of its log gives what
 * a disk may hold after a power cut there: all that was flushed before it, and the unflushed writes
 * as chosen.
 */
class RecordingDiskTest {
    private static final long MIB = 1 << 20;

    @BeforeAll
    static void requireTheRecordingDisk() {
        assumeTrue(RecordingDisk.unavailableReason().isEmpty(),
                () -> "RecordingDiskTest skipped: " + RecordingDisk.unavailableReason().get());
    }

    @Test
    void aCutHoldsWhatWasFlushedBeforeItAndTheEndOfTheLogIsTheImage() throws Exception {
        try (RecordingDisk disk = RecordingDisk.create()) {
            disk.addImage("fs.img", "ext4", 32 * MIB);
            disk.start();
            ImageMount m = disk.mount("fs.img");
            Files.writeString(m.mountPoint().resolve("synced"), "before the mark");
            Command.run("sync", "-f", m.mountPoint().toString());
            disk.mark("synced");
            Files.writeString(m.mountPoint().resolve("unsynced"), "after the mark, never synced");
            disk.mark("end");
            assertTrue(disk.running());
            Path logFile = disk.stop();
            Path image = disk.directory().resolve("backing/fs.img");
            try (WriteLog log = WriteLog.read(logFile)) {
                int synced = log.findMark("synced", 0);
                int end = log.findMark("end", synced);
                assertTrue(synced > 0 && end > synced, "both marks are in the log: " + synced + ", " + end);
                assertEquals("synced", log.lastMarkBefore(end));
                assertFalse(log.flushes().isEmpty(), "a sync flushes the loop device, which fsyncs its image");
                assertTrue(log.flushes().getFirst() < synced, "the sync's flush comes before the mark");

                CrashImages images = new CrashImages(log, disk.bases(), disk.directory().resolve("durable"));
                SplittableRandom random = new SplittableRandom(1);
                Path whole = disk.directory().resolve("whole");
                List<CrashImages.FileState> all = images.build(log.size(), CrashImages.Subset.ALL, random, whole);
                assertEquals(1, all.size());
                assertArrayEquals(Files.readAllBytes(image), Files.readAllBytes(whole.resolve("fs.img")),
                        "every write kept: the image as the disk left it");

                Path cut = disk.directory().resolve("cut");
                CrashImages.FileState state = images.build(synced, CrashImages.Subset.NONE, random, cut).getFirst();
                assertTrue(state.kept().isEmpty(), state.toString());
                try (ImageMount after = ImageMount.attach(cut.resolve("fs.img"), "ext4", disk.directory().resolve("cut.mnt"), null)) {
                    assertEquals("before the mark", Files.readString(after.mountPoint().resolve("synced")),
                            "ext4 replays its journal: what was synced before the cut is there");
                    assertFalse(Files.exists(after.mountPoint().resolve("unsynced")));
                }
            }
        }
    }
}
