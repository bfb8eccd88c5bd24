package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.posix.Posix;

class CheckpointTimesTest {
    private static final long MARGIN = Reconciliation.MARGIN_NANOS;

    @TempDir
    Path state;

    /**
     * A checkpoint's time is the coarse clock's, at or before the fine clock's, and the watermark is
     * that time less the margin; a time kept from the fine clock (a line of four fields) gets the
     * margin its clock's lag needs as well.
     */
    @Test
    void aTimeFromTheCoarseClockGetsTheMarginAndOneFromTheFineClockMore() throws Exception {
        long fineBefore = Instant.now().toEpochMilli() * 1_000_000L;
        CheckpointTimes.Entry now = CheckpointTimes.now(0);
        assertTrue(now.coarse() && now.wallNanos() <= Posix.clockNanos(0), "read from the coarse clock");
        assertTrue(now.wallNanos() >= fineBefore - 1_000_000_000L, "a wall-clock time");
        String boot = Boot.currentId();
        long offset = CheckpointTimes.offsetMillis();
        long wall = now.wallNanos() - 5_000_000_000L;
        write(wall, boot, offset, "1 %d %s %d\n2 %d %s %d coarse\n");
        CheckpointTimes times = CheckpointTimes.load(state, false);
        assertEquals(wall - MARGIN - CheckpointTimes.FINE_CLOCK_EXTRA_MARGIN_NANOS, since(times, 1).orElseThrow().nanos());
        assertEquals(wall - MARGIN, since(times, 2).orElseThrow().nanos());

        times.record(3, now);
        CheckpointTimes again = CheckpointTimes.load(state, false);
        assertEquals(now.wallNanos() - MARGIN, since(again, 3).orElseThrow().nanos(), "kept as read from the coarse clock");
        assertEquals(wall - MARGIN - CheckpointTimes.FINE_CLOCK_EXTRA_MARGIN_NANOS, since(again, 1).orElseThrow().nanos(),
                "kept as read from the fine clock");
    }

    /**
     * The wall clock set back by more than {@link CheckpointTimes#STEP_TOLERANCE_MILLIS} since a
     * checkpoint (its offset from the monotonic clock fell) makes its time untrusted; within it,
     * the time stands, and the margin covers it.
     */
    @Test
    void aStepBackBeyondTheToleranceIsRefusedAndOneWithinItIsCoveredByTheMargin() throws Exception {
        String boot = Boot.currentId();
        long offset = CheckpointTimes.offsetMillis();
        long wall = CheckpointTimes.now(0).wallNanos() - 5_000_000_000L;
        long tolerance = CheckpointTimes.STEP_TOLERANCE_MILLIS;
        Files.writeString(state.resolve(CheckpointTimes.FILE),
                "1 " + wall + " " + boot + " " + (offset + tolerance + 3) + " coarse\n"
                        + "2 " + wall + " " + boot + " " + (offset + tolerance - 3) + " coarse\n", StandardCharsets.UTF_8);
        CheckpointTimes times = CheckpointTimes.load(state, false);
        StringBuilder whyNot = new StringBuilder();
        assertEquals(Optional.empty(), times.since(1, MARGIN, whyNot));
        assertTrue(whyNot.toString().startsWith("the wall clock was set back by"), whyNot.toString());
        assertEquals(wall - MARGIN, since(times, 2).orElseThrow().nanos());
        assertTrue((tolerance + 2) * 1_000_000L + CheckpointTimes.OFFSET_READ_BOUND_NANOS <= MARGIN,
                "the margin covers a step the offsets cannot see: the tolerance, and each offset's rounding and reading");
    }

    /**
     * Two offsets read a moment apart, with no step between them, agree to the rounding of their
     * two clocks to the millisecond: within 2 ms, which the margin covers.
     */
    @Test
    void offsetsReadAMomentApartAgree() {
        for (int i = 0; i < 1_000; i++) {
            long a = CheckpointTimes.offsetMillis();
            long b = CheckpointTimes.offsetMillis();
            assertTrue(Math.abs(a - b) <= 2, a + " and " + b);
        }
    }

    private void write(long wall, String boot, long offset, String format) throws Exception {
        Files.writeString(state.resolve(CheckpointTimes.FILE), format.formatted(wall, boot, offset, wall, boot, offset),
                StandardCharsets.UTF_8);
    }

    private static Optional<CheckpointTimes.Since> since(CheckpointTimes times, long snapshot) throws Exception {
        StringBuilder whyNot = new StringBuilder();
        Optional<CheckpointTimes.Since> since = times.since(snapshot, MARGIN, whyNot);
        assertTrue(since.isPresent() || !whyNot.isEmpty(), "a reason when there is no time");
        return since;
    }
}
