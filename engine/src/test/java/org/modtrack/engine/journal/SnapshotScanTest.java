package org.modtrack.engine.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.engine.FileId;
import org.modtrack.testing.Seeded;

/**
 * Scanning damaged snapshot images: every bit flip, every truncation, garbage after the records.
 * Never throws; never loses a valid record that precedes the damage; says when acknowledged
 * records were destroyed.
 */
@ExtendWith(Seeded.class)
class SnapshotScanTest {

    @Test
    void anIntactImageReadsBackExactly(SplittableRandom random) {
        SnapshotImages.Image image = SnapshotImages.image(random, 40, 512);
        SnapshotScan scan = SnapshotScan.of(image.buffer());
        assertTrue(scan.headerValid());
        assertEquals(7, scan.headerId());
        assertFalse(scan.damaged());
        assertFalse(scan.acknowledgedDataLost());
        assertEquals(image.files(), files(scan.records()));
        for (int i = 0; i < scan.records().size(); i++) {
            FileId expected = image.files().get(i);
            FileId read = scan.records().get(i).file();
            assertEquals(expected.path(), read.path());
            assertEquals(expected.stamp(), read.stamp());
        }
    }

    @Test
    void everyBitFlipKeepsEveryRecordBeforeItAndReportsLossWhenAcknowledgedRecordsFollow(SplittableRandom random) {
        SnapshotImages.Image image = SnapshotImages.image(random, 12, 64);
        int end = image.recordsEnd();
        for (int offset = 0; offset < end + 64; offset++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] damaged = image.bytes().clone();
                damaged[offset] ^= (byte) (1 << bit);
                SnapshotScan scan = scanOrFail(damaged, "bit " + bit + " of byte " + offset);
                assertPrefixKept(image, scan, offset, "bit " + bit + " of byte " + offset);
                assertTrue(scan.damaged(), "a flipped bit is damage: byte " + offset);
                int record = recordAt(image, offset);
                if (offset < SnapshotFormat.HEADER_BYTES) {
                    assertTrue(scan.acknowledgedDataLost(), "header damage before synced records is a loss");
                } else if (record >= 0 && record < image.files().size() - 1) {
                    // A later record's watermark covers the damaged one: that loss is certain.
                    assertTrue(scan.acknowledgedDataLost(), "byte " + offset + " in record " + record);
                    assertEquals(image.files().size() - 1, scan.records().size(),
                            "all but the damaged record are salvaged: byte " + offset);
                }
            }
        }
    }

    @Test
    void everyTruncationKeepsEveryWholeRecordBeforeIt(SplittableRandom random) {
        SnapshotImages.Image image = SnapshotImages.image(random, 12, 64);
        for (int length = 0; length <= image.bytes().length; length++) {
            byte[] cut = Arrays.copyOf(image.bytes(), length);
            SnapshotScan scan = scanOrFail(cut, "truncation at " + length);
            assertPrefixKept(image, scan, length, "truncation at " + length);
            assertFalse(scan.acknowledgedDataLost() && length >= SnapshotFormat.HEADER_BYTES,
                    "a torn tail is not a loss: length " + length);
        }
    }

    @Test
    void garbageAfterTheRecordsIsCutAndLosesNothing(SplittableRandom random) {
        SnapshotImages.Image image = SnapshotImages.image(random, 12, 0);
        for (int trial = 0; trial < 500; trial++) {
            byte[] garbage = new byte[1 + random.nextInt(300)];
            random.nextBytes(garbage);
            byte[] withGarbage = Arrays.copyOf(image.bytes(), image.bytes().length + garbage.length);
            System.arraycopy(garbage, 0, withGarbage, image.bytes().length, garbage.length);
            SnapshotScan scan = scanOrFail(withGarbage, "garbage trial " + trial);
            assertEquals(image.files(), files(scan.records().subList(0, image.files().size())));
            assertEquals(image.recordsEnd(), scan.validPrefixEnd());
            assertFalse(scan.acknowledgedDataLost());
        }
    }

    @Test
    void aHoleInTheUnsyncedTailIsNotALoss(SplittableRandom random) {
        // After a power loss, a later page may reach the disk while an earlier one did not. Records
        // after the hole were written before the hole's records were synced: nothing acknowledged is lost.
        SnapshotImages.Image image = SnapshotImages.image(random, 12, 64);
        byte[] bytes = image.bytes().clone();
        RecordCodec codec = new RecordCodec();
        var last = codec.decode(ByteBuffer.wrap(bytes), image.starts()[11]);
        assertTrue(last.watermark() > image.starts()[5], "fixture: watermarks cover earlier records");
        // Rewrite records 6..11 as if written with a watermark at record 6 (unsynced since then).
        MemorySegment seg = Arena.ofAuto().allocate(RecordCodec.MAX_RECORD);
        int at = image.starts()[6];
        for (int i = 6; i < 12; i++) {
            JournalRecord original = codec.decode(ByteBuffer.wrap(image.bytes()), image.starts()[i]).record();
            int n = codec.encode(original, image.starts()[6], seg); // same record, same length: only the watermark moves
            assertEquals(image.ends()[i] - image.starts()[i], n, "fixture: re-encoding keeps the record's length");
            byte[] rec = seg.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            System.arraycopy(rec, 0, bytes, at, n);
            at += n;
        }
        Arrays.fill(bytes, image.starts()[6], image.ends()[7], (byte) 0); // records 6 and 7 never landed
        SnapshotScan scan = SnapshotScan.of(ByteBuffer.wrap(bytes));
        assertFalse(scan.acknowledgedDataLost());
        assertEquals(10, scan.records().size(), "records 8..11 are salvaged");
    }

    @Test
    void zerosArePassedUpToTheFirstOtherByteAtEveryAlignment() {
        for (int from = 0; from < 9; from++) {
            for (int other = from; other <= 40; other++) {
                byte[] bytes = new byte[48];
                bytes[Math.min(other, 40)] = 7; // at 40: past the end the scan may look at
                assertEquals(other, SnapshotScan.afterZeros(ByteBuffer.wrap(bytes), from, 40), "from " + from + ", other " + other);
            }
        }
    }

    private static SnapshotScan scanOrFail(byte[] bytes, String what) {
        try {
            return SnapshotScan.of(ByteBuffer.wrap(bytes));
        } catch (RuntimeException e) {
            fail("scan threw on " + what, e);
            return null;
        }
    }

    /** Every record that ends at or before {@code damageAt} is among the scanned records, in order. */
    private static void assertPrefixKept(SnapshotImages.Image image, SnapshotScan scan, int damageAt, String what) {
        int whole = 0;
        while (whole < image.ends().length && image.ends()[whole] <= damageAt) {
            whole++;
        }
        if (damageAt < SnapshotFormat.HEADER_BYTES) {
            whole = 0; // the header itself is damaged; records may still be salvaged
        }
        List<FileId> scanned = files(scan.records());
        assertTrue(scanned.size() >= whole, what + ": kept " + scanned.size() + " of " + whole + " records before the damage");
        assertEquals(image.files().subList(0, whole), scanned.subList(0, whole), what);
    }

    private static int recordAt(SnapshotImages.Image image, int offset) {
        for (int i = 0; i < image.starts().length; i++) {
            if (offset >= image.starts()[i] && offset < image.ends()[i]) {
                return i;
            }
        }
        return -1;
    }

    private static List<FileId> files(List<JournalRecord> records) {
        return records.stream().map(JournalRecord::file).toList();
    }
}
