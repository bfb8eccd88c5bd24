package org.modtrack.posix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_FID;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME;
import static org.modtrack.posix.Fanotify.FAN_EVENT_INFO_TYPE_RANGE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.testing.Seeded;

/** FanotifyEvents over hand-built buffers: what it reads, and that a malformed buffer is refused, never over-read. */
@ExtendWith(Seeded.class)
class FanotifyEventsTest {
    private static final byte[] HANDLE = {1, 2, 3, 4, 5, 6, 7, 8};
    private final FanotifyEvents events = new FanotifyEvents();

    /**
     * A buffer zeroed before a read that a process died inside of: its whole events are what the
     * read took, and a successor clears their descriptor numbers before handling them.
     */
    @Test
    void wholeEventsEndAtTheFirstZeroHeaderAndDescriptorsAreCleared() {
        EventBuffer b = new EventBuffer()
                .event(Fanotify.FAN_MODIFY, 7, 1).fid(FAN_EVENT_INFO_TYPE_FID, 1, 1, HANDLE, null).end()
                .event(Fanotify.FAN_CLOSE_WRITE, 8, 2).fid(FAN_EVENT_INFO_TYPE_FID, 1, 1, HANDLE, null).end();
        int whole = b.length();
        b.raw(0, 0, 64); // zeros after the events: the rest of the zeroed buffer
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = b.segment(arena);
            assertEquals(whole, FanotifyEvents.wholeEvents(buffer, b.length()));
            assertEquals(0, FanotifyEvents.wholeEvents(buffer.asSlice(whole), b.length() - whole), "nothing in zeros");
            FanotifyEvents.clearDescriptors(buffer, whole);
            events.reset(buffer, whole);
            assertTrue(events.next());
            assertEquals(Fanotify.FAN_NOFD, events.fd());
            assertTrue(events.next());
            assertEquals(Fanotify.FAN_NOFD, events.fd());
            assertEquals(2, events.pid(), "only the descriptor changed");
            assertFalse(events.next());
        }
    }

    @Test
    void readsMetadataRangeAndNamedFileIds() {
        EventBuffer b = new EventBuffer()
                .event(Fanotify.FAN_PRE_ACCESS, 7, 1234).range(4096, 8192).end()
                .event(Fanotify.FAN_RENAME, Fanotify.FAN_NOFD, 99)
                .fid(FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, 0x1122334455667788L, 1, HANDLE, "old")
                .fid(FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, 0x1122334455667788L, 1, HANDLE, "nëw")
                .fid(FAN_EVENT_INFO_TYPE_FID, 0x1122334455667788L, 0x81, new byte[] {9, 9}, null).end();
        try (Arena arena = Arena.ofConfined()) {
            events.reset(b.segment(arena), b.length());

            assertTrue(events.next());
            assertEquals(Fanotify.FAN_PRE_ACCESS, events.mask());
            assertEquals(7, events.fd());
            assertEquals(1234, events.pid());
            assertEquals(48, events.eventLength());
            assertTrue(events.nextInfo());
            assertEquals(FAN_EVENT_INFO_TYPE_RANGE, events.infoType());
            assertEquals(4096, events.rangeOffset());
            assertEquals(8192, events.rangeCount());
            assertFalse(events.isFid());
            assertFalse(events.nextInfo());

            assertTrue(events.next());
            assertEquals(Fanotify.FAN_RENAME, events.mask());
            assertEquals(Fanotify.FAN_NOFD, events.fd());
            assertTrue(events.nextInfo());
            assertEquals(FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, events.infoType());
            assertEquals(0x1122334455667788L, events.fsid());
            assertEquals(1, events.handleType());
            assertArrayEquals(HANDLE, events.handleBytes());
            assertEquals("old", events.name());
            assertTrue(events.nextInfo());
            assertEquals("nëw", events.name());
            assertEquals(4, events.nameSegment().byteSize());
            assertTrue(events.nextInfo());
            assertEquals(FAN_EVENT_INFO_TYPE_FID, events.infoType());
            assertEquals(0x81, events.handleType());
            assertEquals(2, events.handleLength());
            assertFalse(events.hasName());
            assertFalse(events.nextInfo());
            assertFalse(events.next());
        }
    }

    @Test
    void infoRecordsMayBeSkippedAndUnknownTypesAreStepped() {
        EventBuffer b = new EventBuffer()
                .event(Fanotify.FAN_CREATE, -1, 1).raw(99, 8, 4).fid(FAN_EVENT_INFO_TYPE_DFID_NAME, 1, 1, HANDLE, "a").end()
                .event(Fanotify.FAN_DELETE, -1, 2).fid(FAN_EVENT_INFO_TYPE_DFID_NAME, 1, 1, HANDLE, "b").end();
        try (Arena arena = Arena.ofConfined()) {
            events.reset(b.segment(arena), b.length());
            assertTrue(events.next());
            assertTrue(events.nextInfo());
            assertEquals(99, events.infoType());
            IllegalStateException e = assertThrows(IllegalStateException.class, events::fsid);
            assertEquals("fsid() needs a file-id info record, and this one has type 99.", e.getMessage());
            assertTrue(events.next()); // the rest of the first event's records are skipped
            assertEquals(2, events.pid());
            assertTrue(events.nextInfo());
            assertEquals("b", events.name());
            assertFalse(events.next());
        }
    }

    @Test
    void accessorsOutsideAnEventOrRecordSaySo() {
        IllegalStateException e = assertThrows(IllegalStateException.class, events::mask);
        assertEquals("no current fanotify event: call next() first and use it only while it returns true.", e.getMessage());
        EventBuffer b = new EventBuffer().event(Fanotify.FAN_CREATE, -1, 1).range(0, 1).end();
        try (Arena arena = Arena.ofConfined()) {
            events.reset(b.segment(arena), b.length());
            assertTrue(events.next());
            assertThrows(IllegalStateException.class, events::infoType);
            assertTrue(events.nextInfo());
            assertThrows(IllegalStateException.class, events::name);
            assertThrows(IllegalStateException.class, events::pidfd);
        }
        assertThrows(IllegalArgumentException.class, () -> events.reset(MemorySegment.ofArray(new byte[4]), 5));
    }

    @Test
    void eventLengthBeyondTheBuffer() {
        assertMalformed(b -> b.event(1, 3, 4).end().putIntAt(0, 300),
                "fanotify event at offset 0: event_len 300 is outside 24..24 (the bytes left).");
    }

    @Test
    void eventLengthBelowTheMetadata() {
        assertMalformed(b -> b.event(1, 3, 4).end().putIntAt(0, 8),
                "fanotify event at offset 0: event_len 8 is outside 24..24 (the bytes left).");
    }

    @Test
    void eventLengthWithTheTopBitSet() {
        assertMalformed(b -> b.event(1, 3, 4).end().putIntAt(0, 0x80000018),
                "fanotify event at offset 0: event_len 2147483672 is outside 24..24 (the bytes left).");
    }

    @Test
    void unknownMetadataVersion() {
        assertMalformed(b -> b.event(1, 3, 4).end().putByteAt(4, (byte) 2),
                "fanotify event at offset 0: metadata version 2, expected 3.");
    }

    @Test
    void metadataLengthBeyondTheEvent() {
        assertMalformed(b -> b.event(1, 3, 4).end().putShortAt(6, (short) 40),
                "fanotify event at offset 0: metadata_len 40 is outside 24..24 (event_len).");
    }

    @Test
    void aTruncatedSecondEvent() {
        EventBuffer b = new EventBuffer().event(1, 3, 4).end().event(1, 5, 6).end();
        try (Arena arena = Arena.ofConfined()) {
            events.reset(b.segment(arena), 40);
            assertTrue(events.next());
            MalformedEventException e = assertThrows(MalformedEventException.class, events::next);
            assertEquals("fanotify event at offset 24: only 16 bytes left, less than the 24-byte metadata.", e.getMessage());
        }
    }

    @Test
    void infoLengthBeyondTheEvent() {
        assertMalformedInfo(b -> b.event(1, -1, 1).range(0, 0).end().putShortAt(26, (short) 28),
                "fanotify info record at offset 24 (type 6): len 28 is outside 4..24 (the bytes left in the event).");
    }

    @Test
    void infoLengthBelowItsHeader() {
        assertMalformedInfo(b -> b.event(1, -1, 1).range(0, 0).end().putShortAt(26, (short) 2),
                "fanotify info record at offset 24 (type 6): len 2 is outside 4..24 (the bytes left in the event).");
    }

    @Test
    void aHeaderCutByTheEventEnd() {
        assertMalformedInfo(b -> b.event(1, -1, 1).raw(6, 4, 0).end().putIntAt(0, 26),
                null); // event_len 26 with 28 bytes written: the record header at 24 has 2 bytes
    }

    @Test
    void aRangeRecordTooShort() {
        assertMalformedInfo(b -> b.event(1, -1, 1).raw(FAN_EVENT_INFO_TYPE_RANGE, 16, 12).end(),
                "fanotify info record at offset 24 (type 6): len 16 is shorter than the 24 bytes this type needs.");
    }

    @Test
    void aHandleLongerThanItsRecord() {
        assertMalformedInfo(b -> b.event(1, -1, 1).fid(FAN_EVENT_INFO_TYPE_FID, 1, 1, HANDLE, null).end()
                        .putIntAt(24 + 12, 200),
                "fanotify info record at offset 24 (type 1): handle_bytes 200 exceeds the 8 bytes the record has for it.");
    }

    @Test
    void aNameWithoutItsNul() {
        assertMalformedInfo(b -> b.event(1, -1, 1).fid(FAN_EVENT_INFO_TYPE_DFID_NAME, 1, 1, HANDLE, "abc").end()
                        .putByteAt(24 + 20 + 8 + 3, (byte) 'd'),
                "fanotify info record at offset 24 (type 2): its name has no terminating NUL within the record.");
    }

    /** Random damage to a valid buffer: the parser either parses or says the buffer is malformed, nothing else. */
    @Test
    void randomDamageIsRefusedNeverOverRead(SplittableRandom random) {
        EventBuffer valid = new EventBuffer()
                .event(Fanotify.FAN_PRE_ACCESS, 7, 1234).range(4096, 8192).end()
                .event(Fanotify.FAN_RENAME, -1, 99)
                .fid(FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, 5, 1, HANDLE, "old")
                .fid(FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, 5, 1, HANDLE, "new").end();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment original = valid.segment(arena);
            MemorySegment damaged = arena.allocate(original.byteSize());
            for (int round = 0; round < 20_000; round++) {
                damaged.copyFrom(original);
                for (int hits = random.nextInt(1, 4); hits > 0; hits--) {
                    damaged.set(ValueLayout.JAVA_BYTE, random.nextLong(damaged.byteSize()), (byte) random.nextInt(256));
                }
                long length = random.nextInt(4) == 0 ? random.nextLong(damaged.byteSize() + 1) : damaged.byteSize();
                try {
                    walkEverything(events.reset(damaged, length));
                } catch (MalformedEventException expected) {
                    // refused: fine
                }
            }
        }
    }

    private static void walkEverything(FanotifyEvents e) {
        while (e.next()) {
            e.mask();
            e.fd();
            while (e.nextInfo()) {
                if (e.isFid()) {
                    e.fsid();
                    e.handleBytes();
                    if (e.hasName()) {
                        e.name();
                    }
                } else if (e.infoType() == FAN_EVENT_INFO_TYPE_RANGE) {
                    e.rangeOffset();
                    e.rangeCount();
                }
            }
        }
    }

    private void assertMalformed(Consumer<EventBuffer> build, String message) {
        EventBuffer b = new EventBuffer();
        build.accept(b);
        try (Arena arena = Arena.ofConfined()) {
            events.reset(b.segment(arena), b.length());
            MalformedEventException e = assertThrows(MalformedEventException.class, events::next);
            assertEquals(message, e.getMessage());
        }
    }

    private void assertMalformedInfo(Consumer<EventBuffer> build, String message) {
        EventBuffer b = new EventBuffer();
        build.accept(b);
        try (Arena arena = Arena.ofConfined()) {
            events.reset(b.segment(arena), b.length());
            if (!events.next()) {
                throw new AssertionError("expected an event");
            }
            MalformedEventException e = assertThrows(MalformedEventException.class, events::nextInfo);
            if (message != null) {
                assertEquals(message, e.getMessage());
            }
        }
    }
}
