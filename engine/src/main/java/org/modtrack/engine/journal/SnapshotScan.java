package org.modtrack.engine.journal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What a snapshot file holds, read defensively: its valid records, and what damage was found.
 *
 * <p>Records are read from the start. Where no valid record is, the scan moves on byte by byte
 * looking for the next one (a record starts with a two-byte magic and carries a CRC32C, so a false
 * match has odds of about 2^-48). Bytes that are neither records nor the zeros a snapshot file is
 * preallocated with are damage.
 *
 * <p>Damage is harmless where the file was not yet durable: after a power loss, any of the unsynced
 * pages may or may not have reached the disk, so holes and torn records are expected there, and
 * none of those records had been acknowledged. Each record carries the durable watermark of its
 * file when it was written. A gap that starts below a later record's watermark lies in a part that
 * had been acknowledged: records were lost, and {@link #acknowledgedDataLost} says so.
 *
 * @param headerValid whether the 64-byte header was intact
 * @param headerId the id in the header (-1 if damaged)
 * @param records every valid record, in file order
 * @param validPrefixEnd where the run of valid records from the start ends
 * @param validPrefixRecords how many records that run holds
 * @param damaged whether anything other than zeros follows that run, or the header is damaged
 * @param acknowledgedDataLost whether acknowledged records may have been destroyed
 */
record SnapshotScan(
        boolean headerValid,
        long headerId,
        List<JournalRecord> records,
        int validPrefixEnd,
        int validPrefixRecords,
        boolean damaged,
        boolean acknowledgedDataLost) {

    SnapshotScan {
        records = List.copyOf(records);
    }

    /** True if valid records follow the damage, so cutting the file there would drop them. */
    boolean recordsAfterDamage() {
        return records.size() > validPrefixRecords;
    }

    static SnapshotScan of(ByteBuffer file) {
        RecordCodec codec = new RecordCodec();
        var header = SnapshotFormat.readHeader(file);
        int limit = file.limit();
        List<JournalRecord> records = new ArrayList<>();
        int prefixEnd = -1;
        int prefixRecords = 0;
        int earliestGap = -1;
        boolean lost = false;
        int at = SnapshotFormat.HEADER_BYTES;
        while (at + RecordCodec.FRAME_BYTES <= limit) {
            RecordCodec.Decoded d = startsWithMagic(file, at) ? codec.decode(file, at) : null;
            if (d != null) {
                if (earliestGap >= 0 && earliestGap < d.watermark()) {
                    lost = true;
                }
                records.add(d.record());
                at += d.length();
                continue;
            }
            if (prefixEnd < 0) {
                prefixEnd = at;
                prefixRecords = records.size();
            }
            if (earliestGap < 0) {
                earliestGap = at;
            }
            // No record starts at a zero byte (its magic's first byte is 'M'): the preallocated tail,
            // most of a young snapshot file, is passed eight bytes at a time, not looked at byte by byte.
            at = file.get(at) == 0 ? afterZeros(file, at, limit) : at + 1;
        }
        if (prefixEnd < 0) {
            prefixEnd = Math.min(at, limit);
            prefixRecords = records.size();
        }
        boolean damaged = !header.isPresent() || !allZero(file, prefixEnd, limit);
        if (!header.isPresent() && !records.isEmpty()) {
            lost = true; // the header is synced before any record is written, so the disk lost synced bytes
        }
        return new SnapshotScan(header.isPresent(), header.orElse(-1), records, prefixEnd, prefixRecords, damaged, lost);
    }

    private static boolean startsWithMagic(ByteBuffer file, int at) {
        return file.get(at) == (byte) (RecordCodec.MAGIC & 0xFF) && file.get(at + 1) == (byte) (RecordCodec.MAGIC >>> 8);
    }

    private static boolean allZero(ByteBuffer file, int from, int to) {
        return afterZeros(file, from, to) >= to;
    }

    /** The first position at or after {@code from} (and before {@code to}) that is not zero, or {@code to}. */
    static int afterZeros(ByteBuffer file, int from, int to) {
        int i = from;
        while (i + Long.BYTES <= to && file.getLong(i) == 0) {
            i += Long.BYTES;
        }
        while (i < to && file.get(i) == 0) {
            i++;
        }
        return i;
    }
}
