package org.modtrack.engine.journal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.modtrack.engine.FileId;
import org.modtrack.engine.StatStamp;

/** Builds snapshot file images in memory, as the journal would write them, for damage tests. */
final class SnapshotImages {
    /** An image and where each of its records starts and ends. */
    record Image(byte[] bytes, List<FileId> files, int[] starts, int[] ends) {
        int recordsEnd() {
            return ends.length == 0 ? SnapshotFormat.HEADER_BYTES : ends[ends.length - 1];
        }

        ByteBuffer buffer() {
            return ByteBuffer.wrap(bytes.clone());
        }
    }

    private SnapshotImages() {}

    /**
     * {@code n} records of mixed identity kinds; each record's watermark says everything before it
     * was durable (as if each was synced alone), followed by {@code zeros} preallocated zeros.
     */
    static Image image(SplittableRandom random, int n, int zeros) {
        RecordCodec codec = new RecordCodec();
        MemorySegment buf = Arena.ofAuto().allocate(RecordCodec.MAX_RECORD);
        List<byte[]> parts = new ArrayList<>();
        List<FileId> files = new ArrayList<>();
        int[] starts = new int[n];
        int[] ends = new int[n];
        int at = SnapshotFormat.HEADER_BYTES;
        for (int i = 0; i < n; i++) {
            FileId f = randomFile(random, i);
            RecordType type = RecordType.values()[random.nextInt(RecordType.values().length)];
            JournalRecord record = new JournalRecord(type, f, type == RecordType.RENAMED ? "/old/place-" + i : null,
                    random.nextInt(4) == 0);
            int len = codec.encode(record, at, buf);
            parts.add(buf.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE));
            files.add(f);
            starts[i] = at;
            at += len;
            ends[i] = at;
        }
        ByteBuffer out = ByteBuffer.allocate(at + zeros);
        out.put(SnapshotFormat.header(7, 1_700_000_000_000L));
        parts.forEach(out::put);
        return new Image(out.array(), files, starts, ends);
    }

    static FileId randomFile(SplittableRandom random, int i) {
        if (random.nextBoolean()) {
            return FileId.ofPath("/data/dir" + random.nextInt(10) + "/file-" + i + "-é");
        }
        byte[] handle = new byte[8 + random.nextInt(24)];
        random.nextBytes(handle);
        StatStamp stamp = random.nextBoolean() ? null
                : new StatStamp(random.nextLong(), random.nextLong(1 << 30), random.nextLong(), random.nextLong());
        return FileId.ofHandle(random.nextLong(), 1 + random.nextInt(255), handle,
                random.nextBoolean() ? "/mnt/x/" + i : null, stamp);
    }
}
