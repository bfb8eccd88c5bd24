package org.modtrack.engine.journal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.modtrack.engine.FileId;
import org.modtrack.engine.StatStamp;

/**
 * Encodes and decodes journal records. The format is in docs/journal-format.md:
 *
 * <pre>
 * u16 magic 0x544D | u16 payload length | u32 CRC32C(magic, length, payload) | payload
 * payload: u8 type | u8 flags | u32 durable watermark
 *          [HANDLE: i64 fsid | i32 handle type | u8 length | bytes]
 *          [PATH: u16 length | UTF-8 bytes] [STAMP: i64 inode | i64 size | i64 mtime ns | i64 ctime ns]
 *          [FROM: u16 length | UTF-8 bytes]   (flag DIRECTORY has no payload)
 * </pre>
 *
 * All integers are little-endian. Not thread-safe: one instance per writer.
 */
final class RecordCodec {
    static final int MAGIC = 0x544D; // "MT" in little-endian byte order
    static final int FRAME_BYTES = 8;
    static final int FLAG_HANDLE = 1;
    static final int FLAG_PATH = 2;
    static final int FLAG_STAMP = 4;
    static final int FLAG_FROM = 8;
    static final int FLAG_DIRECTORY = 16;
    static final int KNOWN_FLAGS = FLAG_HANDLE | FLAG_PATH | FLAG_STAMP | FLAG_FROM | FLAG_DIRECTORY;
    static final int MAX_PAYLOAD = 1 + 1 + 4 + (8 + 4 + 1 + FileId.MAX_HANDLE_BYTES) + (2 + FileId.MAX_PATH_BYTES) + 32
            + (2 + FileId.MAX_PATH_BYTES);
    static final int MAX_RECORD = FRAME_BYTES + MAX_PAYLOAD;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final CRC32C crc = new CRC32C();
    private MemorySegment viewedSegment; // the segment {@link #view} was made for
    private ByteBuffer view; // one reusable view: a new one per record was 3 allocations per record

    /**
     * Encodes one record into {@code out} (native memory of at least {@link #MAX_RECORD} bytes).
     *
     * @return the record's length in bytes
     */
    int encode(RecordType type, FileId file, long watermark, MemorySegment out) {
        return encode(new JournalRecord(type, file), watermark, out);
    }

    /** Encodes {@code record}; see {@link #encode(RecordType, FileId, long, MemorySegment)}. */
    int encode(JournalRecord record, long watermark, MemorySegment out) {
        RecordType type = record.type();
        FileId file = record.file();
        if (watermark < 0 || watermark > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("watermark out of range: " + watermark);
        }
        long at = FRAME_BYTES;
        byte[] path = file.path() == null ? null : file.path().getBytes(StandardCharsets.UTF_8);
        byte[] from = record.from() == null ? null : record.from().getBytes(StandardCharsets.UTF_8);
        int flags = (file.hasHandle() ? FLAG_HANDLE : 0) | (path != null ? FLAG_PATH : 0)
                | (file.stamp() != null ? FLAG_STAMP : 0) | (from != null ? FLAG_FROM : 0)
                | (record.directory() ? FLAG_DIRECTORY : 0);
        out.set(ValueLayout.JAVA_BYTE, at++, (byte) type.code);
        out.set(ValueLayout.JAVA_BYTE, at++, (byte) flags);
        out.set(I32, at, (int) watermark);
        at += 4;
        if (file.hasHandle()) {
            byte[] handle = file.handle();
            out.set(I64, at, file.fsid());
            out.set(I32, at + 8, file.handleType());
            out.set(ValueLayout.JAVA_BYTE, at + 12, (byte) handle.length);
            MemorySegment.copy(handle, 0, out, ValueLayout.JAVA_BYTE, at + 13, handle.length);
            at += 13 + handle.length;
        }
        if (path != null) {
            out.set(U16, at, (short) path.length);
            MemorySegment.copy(path, 0, out, ValueLayout.JAVA_BYTE, at + 2, path.length);
            at += 2 + path.length;
        }
        StatStamp stamp = file.stamp();
        if (stamp != null) {
            out.set(I64, at, stamp.inode());
            out.set(I64, at + 8, stamp.size());
            out.set(I64, at + 16, stamp.mtimeNanos());
            out.set(I64, at + 24, stamp.ctimeNanos());
            at += 32;
        }
        if (from != null) {
            out.set(U16, at, (short) from.length);
            MemorySegment.copy(from, 0, out, ValueLayout.JAVA_BYTE, at + 2, from.length);
            at += 2 + from.length;
        }
        int payload = (int) (at - FRAME_BYTES);
        out.set(U16, 0, (short) MAGIC);
        out.set(U16, 2, (short) payload);
        out.set(I32, 4, checksum(viewOf(out), 0, payload));
        return (int) at;
    }

    private ByteBuffer viewOf(MemorySegment out) {
        if (out != viewedSegment) {
            viewedSegment = out;
            view = out.asByteBuffer();
        }
        return view;
    }

    /** CRC32C over the first 4 bytes of the frame at {@code start} and its payload; leaves {@code buf} as it found it. */
    private int checksum(ByteBuffer buf, int start, int payload) {
        int position = buf.position();
        int limit = buf.limit();
        crc.reset();
        buf.limit(start + 4).position(start);
        crc.update(buf);
        buf.limit(start + FRAME_BYTES + payload).position(start + FRAME_BYTES);
        crc.update(buf);
        buf.limit(limit).position(position);
        return (int) crc.getValue();
    }

    /** A record decoded at some offset, with where it ends. */
    record Decoded(JournalRecord record, long watermark, int length) {}

    /**
     * Decodes the record at {@code at}, or returns null if there is no valid record there (bad magic,
     * length, checksum or contents). Never throws on bad input.
     */
    Decoded decode(ByteBuffer buf, int at) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (at < 0 || at + FRAME_BYTES > b.limit()) {
            return null;
        }
        int magic = Short.toUnsignedInt(b.getShort(at));
        int payload = Short.toUnsignedInt(b.getShort(at + 2));
        if (magic != MAGIC || payload < 6 || payload > MAX_PAYLOAD || at + FRAME_BYTES + payload > b.limit()) {
            return null;
        }
        if (b.getInt(at + 4) != checksum(b.duplicate(), at, payload)) {
            return null;
        }
        try {
            return parsePayload(b.slice(at + FRAME_BYTES, payload).order(ByteOrder.LITTLE_ENDIAN), FRAME_BYTES + payload);
        } catch (RuntimeException | CharacterCodingException e) {
            return null; // checksum matched but the contents are not a record this version writes
        }
    }

    private static Decoded parsePayload(ByteBuffer p, int length) throws CharacterCodingException {
        RecordType type = RecordType.ofCode(p.get());
        int flags = p.get();
        long watermark = Integer.toUnsignedLong(p.getInt());
        if (type == null || (flags & ~KNOWN_FLAGS) != 0) {
            return null;
        }
        boolean hasHandle = (flags & FLAG_HANDLE) != 0;
        long fsid = 0;
        int handleType = 0;
        byte[] handle = null;
        if (hasHandle) {
            fsid = p.getLong();
            handleType = p.getInt();
            handle = new byte[Byte.toUnsignedInt(p.get())];
            p.get(handle);
        }
        String path = (flags & FLAG_PATH) != 0 ? utf8(p) : null;
        StatStamp stamp = null;
        if ((flags & FLAG_STAMP) != 0) {
            stamp = new StatStamp(p.getLong(), p.getLong(), p.getLong(), p.getLong());
        }
        String from = (flags & FLAG_FROM) != 0 ? utf8(p) : null;
        if (p.hasRemaining() || (!hasHandle && (path == null || stamp != null)) || (from != null) != (type == RecordType.RENAMED)
                || (from != null && !from.startsWith("/"))) {
            return null;
        }
        FileId file = hasHandle ? FileId.ofHandle(fsid, handleType, handle, path, stamp) : FileId.ofPath(path);
        return new Decoded(new JournalRecord(type, file, from, (flags & FLAG_DIRECTORY) != 0), watermark, length);
    }

    private static String utf8(ByteBuffer p) throws CharacterCodingException {
        byte[] bytes = new byte[Short.toUnsignedInt(p.getShort())];
        p.get(bytes);
        String lenient = new String(bytes, StandardCharsets.UTF_8);
        if (lenient.indexOf('\uFFFD') < 0) {
            // No replacement character: the bytes were valid UTF-8, and the strict decoder would say
            // the same. A strict decoder made for each of a million records was a fifth of a
            // restart's journal scan.
            return lenient;
        }
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes)).toString();
    }
}
