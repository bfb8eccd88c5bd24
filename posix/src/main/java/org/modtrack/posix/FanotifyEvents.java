package org.modtrack.posix;

import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_DFID;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_ERROR;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_FID;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_PIDFD;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_RANGE;
import static org.modtrack.posix.Fanotify.FAN_EVENT_METADATA_LEN;
import static org.modtrack.posix.Fanotify.FANOTIFY_METADATA_VERSION;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.function.LongConsumer;

/**
 * A cursor over the fanotify events that one {@code read(2)} of a group put into a buffer: no copy,
 * no allocation per event (only {@link #handleBytes()} and {@link #name()} allocate, on request).
 * One instance is reused for every read:
 *
 * <pre>{@code
 * long n = Posix.read(group, buffer);
 * events.reset(buffer, n);
 * while (events.next()) {
 *     ... events.mask(), events.fd(), events.pid()
 *     while (events.nextInfo()) {
 *         switch (events.infoType()) { case FAN_EVENT_INFO_TYPE_RANGE -> events.rangeOffset() ... }
 *     }
 * }
 * }</pre>
 *
 * <p>Every length is checked against the event and the buffer before it is used: a malformed
 * buffer raises {@link MalformedEventException} (saying where), never a read outside it. Values
 * are read as native (little-endian) and unaligned, since info records are only 4-byte aligned.
 * Not thread-safe; what it returns is valid until the buffer is reused.
 */
public final class FanotifyEvents {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final int INFO_HEADER_LEN = 4;
    /** Header, fsid (8), then struct file_handle's handle_bytes (4) and handle_type (4). */
    private static final int FID_FIXED_LEN = INFO_HEADER_LEN + 8 + 8;
    private static final int RANGE_LEN = INFO_HEADER_LEN + 4 + 8 + 8;
    private static final int PIDFD_LEN = INFO_HEADER_LEN + 4;
    private static final int ERROR_LEN = INFO_HEADER_LEN + 8;

    private MemorySegment buffer = MemorySegment.NULL;
    private long limit;
    private long nextEvent;
    // the current event
    private long event = -1;
    private long eventEnd;
    private long nextInfo;
    // the current info record
    private long info = -1;
    private int infoType;
    private int infoLength;
    private int handleLength;
    private int nameLength = -1;

    /** The size of an event's metadata: what {@code FIONREAD} counts per queued event. */
    public static final int METADATA_LENGTH = 24;
    /** Where an event's {@code fd} field is, from the start of its metadata. */
    private static final int FD_OFFSET = 16;

    /**
     * How many events the first {@code length} bytes of {@code buffer} hold, by their lengths alone
     * (stopping at the first malformed one, which {@link #next} would reject).
     */
    public static long count(MemorySegment buffer, long length) {
        return walk(buffer, length, false, null)[0];
    }

    /**
     * Walks the events at the start of {@code buffer} by their lengths (and, with {@code checkVersion},
     * their metadata versions), calling {@code visit} with each one's offset, up to the first that
     * is malformed or does not fit; returns how many and the bytes they take.
     */
    private static long[] walk(MemorySegment buffer, long length, boolean checkVersion, LongConsumer visit) {
        long events = 0;
        long at = 0;
        while (length - at >= METADATA_LENGTH) {
            long eventLength = Integer.toUnsignedLong(buffer.get(U32, at));
            if (eventLength < METADATA_LENGTH || eventLength > length - at
                    || checkVersion && Byte.toUnsignedInt(buffer.get(ValueLayout.JAVA_BYTE, at + 4)) != FANOTIFY_METADATA_VERSION) {
                break;
            }
            if (visit != null) {
                visit.accept(at);
            }
            at += eventLength;
            events++;
        }
        return new long[] {events, at};
    }

    /**
     * How many bytes at the start of {@code buffer} (at most {@code length}) are whole events, by
     * their lengths and metadata versions: where a zeroed buffer that one read may have filled
     * ends. Stops at the first malformed or zero header.
     */
    public static long wholeEvents(MemorySegment buffer, long length) {
        return walk(buffer, length, true, null)[1];
    }

    /** Sets every event's {@code fd} field in the first {@code length} bytes of {@code buffer} to {@code FAN_NOFD} (-1). */
    public static void clearDescriptors(MemorySegment buffer, long length) {
        walk(buffer, length, false, at -> buffer.set(U32, at + FD_OFFSET, -1));
    }

    /** Starts over on the first {@code length} bytes of {@code buffer}, as filled by one read. */
    public FanotifyEvents reset(MemorySegment buffer, long length) {
        if (length < 0 || length > buffer.byteSize()) {
            throw new IllegalArgumentException("cannot parse " + length + " bytes of a " + buffer.byteSize() + "-byte buffer.");
        }
        this.buffer = buffer;
        this.limit = length;
        this.nextEvent = 0;
        this.event = -1;
        this.info = -1;
        return this;
    }

    /** Moves to the next event; false when the buffer has no more. Checks the event's metadata. */
    public boolean next() {
        info = -1;
        if (nextEvent == limit) {
            event = -1;
            return false;
        }
        long at = nextEvent;
        long left = limit - at;
        if (left < FAN_EVENT_METADATA_LEN) {
            throw malformed("fanotify event at offset " + at + ": only " + left + " bytes left, less than the "
                    + FAN_EVENT_METADATA_LEN + "-byte metadata");
        }
        long length = Integer.toUnsignedLong(buffer.get(U32, at));
        int version = Byte.toUnsignedInt(buffer.get(ValueLayout.JAVA_BYTE, at + 4));
        int metadataLength = Short.toUnsignedInt(buffer.get(U16, at + 6));
        if (version != FANOTIFY_METADATA_VERSION) {
            throw malformed("fanotify event at offset " + at + ": metadata version " + version + ", expected "
                    + FANOTIFY_METADATA_VERSION);
        }
        if (length < FAN_EVENT_METADATA_LEN || length > left) {
            throw malformed("fanotify event at offset " + at + ": event_len " + length + " is outside "
                    + FAN_EVENT_METADATA_LEN + ".." + left + " (the bytes left)");
        }
        if (metadataLength < FAN_EVENT_METADATA_LEN || metadataLength > length) {
            throw malformed("fanotify event at offset " + at + ": metadata_len " + metadataLength + " is outside "
                    + FAN_EVENT_METADATA_LEN + ".." + length + " (event_len)");
        }
        event = at;
        eventEnd = at + length;
        nextInfo = at + metadataLength;
        nextEvent = eventEnd;
        return true;
    }

    /** Where the current event ends, in bytes from the start of the buffer. */
    public long end() {
        requireEvent();
        return eventEnd;
    }

    /** The current event's {@code event_len}: metadata and info records, in bytes. */
    public int eventLength() {
        requireEvent();
        return (int) (eventEnd - event);
    }

    /** The event bits ({@link Fanotify#FAN_PRE_ACCESS}...). */
    public long mask() {
        requireEvent();
        return buffer.get(U64, event + 8);
    }

    /** The event's open file descriptor (the caller must close it), or {@link Fanotify#FAN_NOFD}. */
    public int fd() {
        requireEvent();
        return buffer.get(U32, event + FD_OFFSET);
    }

    /** The process id, or the thread id with {@link Fanotify#FAN_REPORT_TID}. */
    public int pid() {
        requireEvent();
        return buffer.get(U32, event + 20);
    }

    /** Moves to the current event's next info record; false when it has no more. Checks the record's lengths. */
    public boolean nextInfo() {
        requireEvent();
        if (nextInfo == eventEnd) {
            info = -1;
            return false;
        }
        long at = nextInfo;
        long left = eventEnd - at;
        if (left < INFO_HEADER_LEN) {
            throw malformed("fanotify info record at offset " + at + ": only " + left
                    + " bytes left in the event, less than its 4-byte header");
        }
        int type = Byte.toUnsignedInt(buffer.get(ValueLayout.JAVA_BYTE, at));
        int length = Short.toUnsignedInt(buffer.get(U16, at + 2));
        if (length < INFO_HEADER_LEN || length > left) {
            throw malformed("fanotify info record at offset " + at + " (type " + type + "): len " + length
                    + " is outside 4.." + left + " (the bytes left in the event)");
        }
        checkBody(at, type, length);
        info = at;
        infoType = type;
        infoLength = length;
        nextInfo = at + length;
        return true;
    }

    private void checkBody(long at, int type, int length) {
        handleLength = 0;
        nameLength = -1;
        switch (type) {
            case FAN_EVENT_INFO_TYPE_FID, FAN_EVENT_INFO_TYPE_DFID -> checkFid(at, type, length, false);
            case FAN_EVENT_INFO_TYPE_DFID_NAME, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME ->
                    checkFid(at, type, length, true);
            case FAN_EVENT_INFO_TYPE_RANGE -> requireLength(at, type, length, RANGE_LEN);
            case FAN_EVENT_INFO_TYPE_PIDFD -> requireLength(at, type, length, PIDFD_LEN);
            case FAN_EVENT_INFO_TYPE_ERROR -> requireLength(at, type, length, ERROR_LEN);
            default -> { } // a type this code does not know: skippable, its accessors refuse it
        }
    }

    private void checkFid(long at, int type, int length, boolean named) {
        requireLength(at, type, length, FID_FIXED_LEN);
        long handleBytes = Integer.toUnsignedLong(buffer.get(U32, at + 12));
        if (handleBytes > length - FID_FIXED_LEN) {
            throw malformed("fanotify info record at offset " + at + " (type " + type + "): handle_bytes "
                    + handleBytes + " exceeds the " + (length - FID_FIXED_LEN) + " bytes the record has for it");
        }
        handleLength = (int) handleBytes;
        if (named) {
            nameLength = nulTerminatedLength(at, type, at + FID_FIXED_LEN + handleBytes, at + length);
        }
    }

    private int nulTerminatedLength(long at, int type, long from, long end) {
        for (long i = from; i < end; i++) {
            if (buffer.get(ValueLayout.JAVA_BYTE, i) == 0) {
                return (int) (i - from);
            }
        }
        throw malformed("fanotify info record at offset " + at + " (type " + type
                + "): its name has no terminating NUL within the record");
    }

    private void requireLength(long at, int type, int length, int needed) {
        if (length < needed) {
            throw malformed("fanotify info record at offset " + at + " (type " + type + "): len " + length
                    + " is shorter than the " + needed + " bytes this type needs");
        }
    }

    /** The current info record's type ({@link Fanotify#FAN_EVENT_INFO_TYPE_FID}...). */
    public int infoType() {
        requireInfo();
        return infoType;
    }

    /** The current info record's length in bytes, header included. */
    public int infoLength() {
        requireInfo();
        return infoLength;
    }

    /** Whether the current record is a file id (FID, DFID, DFID_NAME, OLD_DFID_NAME or NEW_DFID_NAME). */
    public boolean isFid() {
        requireInfo();
        return isFid(infoType);
    }

    /**
     * The filesystem id of a file-id record: the kernel's two 32-bit words read as one little-endian
     * 64-bit value, the same number {@link StatFs#fsid()} gives for that filesystem.
     */
    public long fsid() {
        requireFid("fsid");
        return buffer.get(U64, info + 4);
    }

    /** The {@code handle_type} of a file-id record's file handle (for {@code open_by_handle_at}). */
    public int handleType() {
        requireFid("handleType");
        return buffer.get(U32, info + 16);
    }

    /** The length of a file-id record's handle ({@code handle_bytes}). */
    public int handleLength() {
        requireFid("handleLength");
        return handleLength;
    }

    /** A file-id record's handle bytes, without a copy; valid until the buffer is reused. */
    public MemorySegment handle() {
        requireFid("handle");
        return buffer.asSlice(info + FID_FIXED_LEN, handleLength);
    }

    /** A copy of a file-id record's handle bytes, for keeping. */
    public byte[] handleBytes() {
        return handle().toArray(ValueLayout.JAVA_BYTE);
    }

    /** Whether the current record carries a name (DFID_NAME, OLD_DFID_NAME, NEW_DFID_NAME). */
    public boolean hasName() {
        requireInfo();
        return nameLength >= 0;
    }

    /** The name after the handle, without its NUL, without a copy; valid until the buffer is reused. */
    public MemorySegment nameSegment() {
        requireName();
        return buffer.asSlice(info + FID_FIXED_LEN + handleLength, nameLength);
    }

    /** The name after the handle, decoded as UTF-8 ({@code "."} when the event is about the directory itself). */
    public String name() {
        return new String(nameSegment().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** A range record's offset: where the access starts. */
    public long rangeOffset() {
        requireType(FAN_EVENT_INFO_TYPE_RANGE, "rangeOffset");
        return buffer.get(U64, info + 8);
    }

    /** A range record's count: how many bytes the access covers (0: unknown or the whole file). */
    public long rangeCount() {
        requireType(FAN_EVENT_INFO_TYPE_RANGE, "rangeCount");
        return buffer.get(U64, info + 16);
    }

    /** A pidfd record's pidfd (the caller must close it), or a negative error. */
    public int pidfd() {
        requireType(FAN_EVENT_INFO_TYPE_PIDFD, "pidfd");
        return buffer.get(U32, info + 4);
    }

    /** An error record's error number (FAN_FS_ERROR events). */
    public int error() {
        requireType(FAN_EVENT_INFO_TYPE_ERROR, "error");
        return buffer.get(U32, info + 4);
    }

    /** An error record's count of errors since the last report. */
    public int errorCount() {
        requireType(FAN_EVENT_INFO_TYPE_ERROR, "errorCount");
        return buffer.get(U32, info + 8);
    }

    private static boolean isFid(int type) {
        return type == FAN_EVENT_INFO_TYPE_FID || type == FAN_EVENT_INFO_TYPE_DFID
                || type == FAN_EVENT_INFO_TYPE_DFID_NAME || type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
                || type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME;
    }

    private void requireEvent() {
        if (event < 0) {
            throw new IllegalStateException("no current fanotify event: call next() first and use it only while it returns true.");
        }
    }

    private void requireInfo() {
        requireEvent();
        if (info < 0) {
            throw new IllegalStateException("no current info record: call nextInfo() first and use it only while it returns true.");
        }
    }

    private void requireFid(String accessor) {
        requireInfo();
        if (!isFid(infoType)) {
            throw new IllegalStateException(accessor + "() needs a file-id info record, and this one has type " + infoType + ".");
        }
    }

    private void requireName() {
        requireInfo();
        if (nameLength < 0) {
            throw new IllegalStateException("name() needs a DFID_NAME, OLD_DFID_NAME or NEW_DFID_NAME record, and this one has type "
                    + infoType + ".");
        }
    }

    private void requireType(int type, String accessor) {
        requireInfo();
        if (infoType != type) {
            throw new IllegalStateException(accessor + "() needs an info record of type " + type + ", and this one has type "
                    + infoType + ".");
        }
    }

    private static MalformedEventException malformed(String what) {
        return new MalformedEventException(what + ".");
    }
}
