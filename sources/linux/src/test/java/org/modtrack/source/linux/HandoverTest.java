package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.modtrack.engine.FileId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What one holder of a notification group leaves in the handover file for the next, read back as a new process would. */
class HandoverTest {
    private static final int BYTES = 4096;

    @TempDir
    Path state;

    /** One event of {@code length} bytes at {@code at}, as the kernel lays out its metadata (version 3). */
    private static void event(MemorySegment buffer, long at, int length) {
        buffer.set(ValueLayout.JAVA_INT_UNALIGNED, at, length);
        buffer.set(ValueLayout.JAVA_BYTE, at + 4, (byte) 3);
        buffer.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 6, (short) 24);
    }

    @Test
    void theEventsAfterTheLastRecordedOneAreLeftToTheSameGroupsNextHolder() throws Exception {
        try (Handover h = Handover.open(state, BYTES)) {
            h.begin(42, false);
            h.reading();
            event(h.buffer(), 0, 32);
            event(h.buffer(), 32, 40);
            event(h.buffer(), 72, 24);
            h.read(96);
            h.recorded(32); // killed here: the second and third events were read, not recorded
        }
        try (Handover next = Handover.open(state, BYTES)) {
            assertNull(next.whyNotSeamless(42));
            assertTrue(next.whyNotSeamless(7).contains("another notification group"), next.whyNotSeamless(7));
            next.begin(42, true);
            assertArrayEquals(new long[] {32, 96}, next.leftover());
            assertArrayEquals(new long[] {0, 0}, next.leftover(), "handed out once");
        }
    }

    @Test
    void aReadThatADeathInterruptedIsMeasuredByItsWholeEvents() throws Exception {
        try (Handover h = Handover.open(state, BYTES)) {
            h.begin(5, false);
            h.reading();
            event(h.buffer(), 0, 48); // the kernel filled the buffer; the process died before noting how much
        }
        try (Handover next = Handover.open(state, BYTES)) {
            assertNull(next.whyNotSeamless(5));
            next.begin(5, true);
            assertArrayEquals(new long[] {0, 48}, next.leftover());
        }
    }

    @Test
    void savedOrphansComeBackToTheSameGroupsSeamlessSuccessorOnly() throws Exception {
        OrphanedDeletions o = new OrphanedDeletions();
        o.add(FileId.ofHandle(7, 1, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, null, null),
                new OrphanedDeletions.Orphan(FileId.ofHandle(7, 1, new byte[] {9, 9, 9, 9, 9, 9, 9, 9},
                        null, null), "f", false));
        byte[] saved = o.encode(Handover.ORPHANS_BYTES);
        try (Handover h = Handover.open(state, BYTES)) {
            h.begin(11, false);
            h.saveOrphans(saved);
        }
        try (Handover next = Handover.open(state, BYTES)) {
            assertNull(next.whyNotSeamless(11));
            next.begin(11, true);
            assertArrayEquals(saved, next.previousOrphans());
            next.saveOrphans(null); // more than fit
        }
        try (Handover third = Handover.open(state, BYTES)) {
            assertTrue(third.whyNotSeamless(11).contains("not all saved"), third.whyNotSeamless(11));
            third.begin(11, false);
            assertArrayEquals(new byte[0], third.previousOrphans(), "a gap's reader starts without them");
        }
    }

    @Test
    void aLossOrAWalkPromisedAndNotDoneMakesTheTakeoverAGap() throws Exception {
        try (Handover h = Handover.open(state, BYTES)) {
            h.begin(9, false);
            h.lossReported();
        }
        try (Handover next = Handover.open(state, BYTES)) {
            assertTrue(next.whyNotSeamless(9).contains("loss of continuity"), next.whyNotSeamless(9));
            next.begin(9, false);
            long ticket = next.walkAsked();
            next.walked(ticket - 1);
        }
        try (Handover third = Handover.open(state, BYTES)) {
            assertTrue(third.whyNotSeamless(9).contains("walk"), third.whyNotSeamless(9));
            third.begin(9, false);
            third.walked(third.walkAsked());
            assertEquals(1, third.walksAsked());
        }
        try (Handover fourth = Handover.open(state, BYTES)) {
            assertNull(fourth.whyNotSeamless(9), "every walk asked for ran");
        }
    }
}
