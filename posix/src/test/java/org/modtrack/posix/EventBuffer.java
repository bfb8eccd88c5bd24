package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds fanotify event buffers byte by byte, as the kernel lays them out, for parser tests. */
final class EventBuffer {
    private final ByteBuffer bytes = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private int eventStart = -1;

    /** Starts an event; {@link #end()} fills in its event_len. */
    EventBuffer event(long mask, int fd, int pid) {
        eventStart = bytes.position();
        bytes.putInt(0).put((byte) Fanotify.FANOTIFY_METADATA_VERSION).put((byte) 0)
                .putShort((short) Fanotify.FAN_EVENT_METADATA_LEN).putLong(mask).putInt(fd).putInt(pid);
        return this;
    }

    /** A file-id record; {@code name} null for FID/DFID, padded to 4 bytes like the kernel does. */
    EventBuffer fid(int type, long fsid, int handleType, byte[] handle, String name) {
        byte[] encoded = name == null ? new byte[0] : (name + "\0").getBytes(StandardCharsets.UTF_8);
        int length = roundUp(4 + 8 + 8 + handle.length + encoded.length);
        int start = header(type, length);
        bytes.putLong(fsid).putInt(handle.length).putInt(handleType).put(handle).put(encoded);
        return pad(start, length);
    }

    EventBuffer range(long offset, long count) {
        header(Fanotify.FAN_EVENT_INFO_TYPE_RANGE, 24);
        bytes.putInt(0).putLong(offset).putLong(count);
        return this;
    }

    /** An info record of any type and length, with zeros as body: for malformed cases. */
    EventBuffer raw(int type, int length, int bodyBytes) {
        header(type, length);
        bytes.put(new byte[bodyBytes]);
        return this;
    }

    EventBuffer end() {
        bytes.putInt(eventStart, bytes.position() - eventStart);
        return this;
    }

    /** Overwrites bytes at an absolute offset (to break a valid buffer). */
    EventBuffer putIntAt(int offset, int value) {
        bytes.putInt(offset, value);
        return this;
    }

    EventBuffer putShortAt(int offset, short value) {
        bytes.putShort(offset, value);
        return this;
    }

    EventBuffer putByteAt(int offset, byte value) {
        bytes.put(offset, value);
        return this;
    }

    int length() {
        return bytes.position();
    }

    /** The bytes so far in a native segment exactly as long (so any over-read would fail loudly). */
    MemorySegment segment(Arena arena) {
        MemorySegment segment = arena.allocate(Math.max(1, length()), 8);
        MemorySegment.copy(bytes.array(), 0, segment, ValueLayout.JAVA_BYTE, 0, length());
        return segment.asSlice(0, length());
    }

    private int header(int type, int length) {
        int start = bytes.position();
        bytes.put((byte) type).put((byte) 0).putShort((short) length);
        return start;
    }

    private EventBuffer pad(int start, int length) {
        while (bytes.position() < start + length) {
            bytes.put((byte) 0);
        }
        return this;
    }

    private static int roundUp(int n) {
        return (n + 3) & ~3;
    }
}
