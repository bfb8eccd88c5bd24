package org.modtrack.engine.journal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.zip.CRC32C;

/**
 * The snapshot file's name and 64-byte header (docs/journal-format.md):
 *
 * <pre>
 * 0  8  magic "MTSNAP01"      16 8 snapshot id       32 28 zero
 * 8  4  format version (1)    24 8 created, ms since the epoch
 * 12 4  header length (64)                           60 4  CRC32C of bytes 0..59
 * </pre>
 */
final class SnapshotFormat {
    static final int HEADER_BYTES = 64;
    static final int VERSION = 1;
    private static final byte[] MAGIC = "MTSNAP01".getBytes(StandardCharsets.US_ASCII);
    private static final String PREFIX = "snapshot-";
    private static final String DAMAGED_PREFIX = "damaged-";

    private SnapshotFormat() {}

    /** {@code snapshot-00000000000000000042}: sorts by id, readable by people. */
    static String fileName(long id) {
        return PREFIX + String.format("%020d", id);
    }

    /** Where a snapshot whose header could not be read is kept for inspection. */
    static String damagedName(long id) {
        return DAMAGED_PREFIX + fileName(id);
    }

    /** The id named by a snapshot (or damaged snapshot) file name, if it is one. */
    static OptionalLong idOf(String name) {
        String rest = name.startsWith(DAMAGED_PREFIX) ? name.substring(DAMAGED_PREFIX.length()) : name;
        if (!rest.startsWith(PREFIX) || rest.length() != PREFIX.length() + 20) {
            return OptionalLong.empty();
        }
        try {
            long id = Long.parseLong(rest.substring(PREFIX.length()));
            return id > 0 ? OptionalLong.of(id) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    static boolean isDamagedName(String name) {
        return name.startsWith(DAMAGED_PREFIX);
    }

    static ByteBuffer header(long id, long createdMillis) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(HEADER_BYTES).putLong(id).putLong(createdMillis);
        b.putInt(60, crc(b, 60));
        return b.rewind();
    }

    /** The id in a valid header at the start of {@code file}, or empty if the header is damaged. */
    static OptionalLong readHeader(ByteBuffer file) {
        ByteBuffer b = file.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.limit() < HEADER_BYTES) {
            return OptionalLong.empty();
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (b.get(i) != MAGIC[i]) {
                return OptionalLong.empty();
            }
        }
        if (b.getInt(8) != VERSION || b.getInt(12) != HEADER_BYTES || b.getInt(60) != crc(b, 60)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(b.getLong(16));
    }

    static int crc(ByteBuffer b, int length) {
        CRC32C c = new CRC32C();
        c.update(b.duplicate().position(0).limit(length));
        return (int) c.getValue();
    }
}
