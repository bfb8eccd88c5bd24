package org.modtrack.engine.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.storage.DirectoryStorage;
import org.modtrack.testing.Seeded;

/**
 * Recovery of damaged journals on real files: truncation at every offset, bit flips, garbage
 * appended, a damaged or missing control file. Recovery never throws, keeps every record before the
 * damage, repairs the file so the next open finds no damage, and reports lost continuity exactly
 * when acknowledged records were destroyed.
 */
@ExtendWith(Seeded.class)
class JournalRecoveryTest {
    private static final long ID = 1;
    private static final String NAME = SnapshotFormat.fileName(ID);

    @TempDir
    Path tmp;

    /** A journal with one snapshot of {@code n} records, each synced on its own (as a lone writer would). */
    private List<FileId> writePristine(Path dir, SplittableRandom random, int n) throws IOException {
        List<FileId> files = new ArrayList<>();
        try (DirectoryStorage storage = DirectoryStorage.open(dir)) {
            Journal journal = Journal.open(storage, Durability.POWER, 4096, 1 << 20).journal();
            SnapshotWriter w = journal.createSnapshot(ID);
            journal.adopt(w);
            for (int i = 0; i < n; i++) {
                FileId f = SnapshotImages.randomFile(random, i);
                journal.append(RecordType.INTENT, f, w, null);
                SyncPlan plan = journal.prepareSync();
                plan.execute();
                journal.completeSync(plan);
                files.add(f);
            }
            journal.closeAll(true);
        }
        return files;
    }

    private record Reopened(List<FileId> files, String lostReason) {}

    private static Reopened reopen(Path dir) throws IOException {
        try (DirectoryStorage storage = DirectoryStorage.open(dir)) {
            Journal.Opened opened = Journal.open(storage, Durability.POWER, 4096, 1 << 20);
            List<JournalRecord> records = opened.snapshots().getOrDefault(ID, List.of());
            return new Reopened(records.stream().map(JournalRecord::file).toList(), opened.control().consumer("default").orElseThrow().lostReason());
        }
    }

    private Path copyOf(Path pristine, String label) throws IOException {
        Path copy = Files.createDirectories(tmp.resolve(label));
        for (String name : List.of(NAME, ControlState.FILE)) {
            Files.copy(pristine.resolve(name), copy.resolve(name));
        }
        return copy;
    }

    private static int recordsEnd(Path dir) throws IOException {
        return SnapshotScan.of(ByteBuffer.wrap(Files.readAllBytes(dir.resolve(NAME)))).validPrefixEnd();
    }

    @Test
    void truncationAtEveryOffsetKeepsEveryWholeRecordBeforeItAndIsRepaired(SplittableRandom random) throws IOException {
        Path pristine = tmp.resolve("pristine");
        List<FileId> files = writePristine(pristine, random, 10);
        int end = recordsEnd(pristine);
        int[] ends = recordEnds(pristine);
        for (int length = 0; length <= end + 8; length++) {
            Path dir = copyOf(pristine, "cut-" + length);
            try (RandomAccessFile f = new RandomAccessFile(dir.resolve(NAME).toFile(), "rw")) {
                f.setLength(length);
            }
            Reopened first = reopen(dir);
            int whole = length < SnapshotFormat.HEADER_BYTES ? 0 : countEndingBy(ends, length);
            assertEquals(files.subList(0, whole), first.files(), "truncated at " + length);
            if (length < SnapshotFormat.HEADER_BYTES) {
                assertFalse(Files.exists(dir.resolve(NAME)), "a file without a header is dropped");
            }
            Reopened second = reopen(dir);
            assertEquals(first.files(), second.files(), "repair is stable at " + length);
            assertEquals(first.lostReason(), second.lostReason());
        }
    }

    @Test
    void bitFlipsLoseNoRecordBeforeThemAndReportLostAcknowledgedRecords(SplittableRandom random) throws IOException {
        Path pristine = tmp.resolve("pristine");
        List<FileId> files = writePristine(pristine, random, 10);
        int end = recordsEnd(pristine);
        int[] ends = recordEnds(pristine);
        for (int trial = 0; trial < 150; trial++) {
            int offset = SnapshotFormat.HEADER_BYTES + random.nextInt(end - SnapshotFormat.HEADER_BYTES);
            int bit = random.nextInt(8);
            Path dir = copyOf(pristine, "flip-" + trial);
            flip(dir.resolve(NAME), offset, bit);
            Reopened first = reopen(dir);
            int whole = countEndingBy(ends, offset);
            assertEquals(files.subList(0, whole), first.files().subList(0, whole), "flip at " + offset);
            boolean lastRecordDamaged = offset >= ends[ends.length - 2];
            assertEquals(!lastRecordDamaged, !first.lostReason().isEmpty(),
                    "flip at " + offset + " (" + first.lostReason() + ")");
            assertEquals(files.size() - 1, first.files().size(), "only the damaged record is gone: flip at " + offset);
            Reopened second = reopen(dir);
            assertEquals(first.files(), second.files(), "repair is stable: flip at " + offset);
        }
    }

    @Test
    void garbageAppendedIsCut(SplittableRandom random) throws IOException {
        Path pristine = tmp.resolve("pristine");
        List<FileId> files = writePristine(pristine, random, 10);
        for (int trial = 0; trial < 20; trial++) {
            Path dir = copyOf(pristine, "garbage-" + trial);
            byte[] garbage = new byte[1 + random.nextInt(5000)];
            random.nextBytes(garbage);
            Files.write(dir.resolve(NAME), garbage, StandardOpenOption.APPEND);
            Reopened first = reopen(dir);
            assertEquals(files, first.files());
            assertTrue(first.lostReason().isEmpty(), first.lostReason());
        }
    }

    @Test
    void aDamagedControlFileKeepsEverySnapshotAndSaysContinuityIsLost(SplittableRandom random) throws IOException {
        Path pristine = tmp.resolve("pristine");
        List<FileId> files = writePristine(pristine, random, 5);
        Path dir = copyOf(pristine, "control");
        flip(dir.resolve(ControlState.FILE), 20, 3);
        Reopened r = reopen(dir);
        assertEquals(files, r.files());
        assertTrue(r.lostReason().contains("control file"), r.lostReason());

        Path missing = copyOf(pristine, "missing-control");
        Files.delete(missing.resolve(ControlState.FILE));
        Reopened m = reopen(missing);
        assertEquals(files, m.files());
        assertTrue(m.lostReason().contains("missing"), m.lostReason());
    }

    private static void flip(Path file, int offset, int bit) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ (1 << bit));
        }
    }

    private static int[] recordEnds(Path dir) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(NAME)));
        RecordCodec codec = new RecordCodec();
        List<Integer> ends = new ArrayList<>();
        int at = SnapshotFormat.HEADER_BYTES;
        for (RecordCodec.Decoded d; (d = codec.decode(b, at)) != null; ) {
            at += d.length();
            ends.add(at);
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int countEndingBy(int[] ends, int offset) {
        int n = 0;
        while (n < ends.length && ends[n] <= offset) {
            n++;
        }
        return n;
    }
}
