package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LatencyHistogramTest {
    @Test
    void countsAreCumulativeAndEveryDurationLandsSomewhere() {
        LatencyHistogram h = new LatencyHistogram();
        h.record(10_000); // 10 µs: first bucket
        h.record(50_000); // exactly the first bound: still the first bucket (le)
        h.record(3_000_000); // 3 ms
        h.record(60_000_000_000L); // a minute: only +Inf
        LatencyHistogram.Snapshot s = h.snapshot();
        assertEquals(4, s.count());
        assertEquals(13, s.cumulativeCounts().length, "12 bounds and +Inf");
        assertArrayEquals(new long[] {2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4}, s.cumulativeCounts());
        assertEquals(60.00306, s.sumSeconds(), 1e-9);
    }
}
