package org.modtrack.source.linux;

import java.util.concurrent.atomic.LongAdder;

/**
 * Durations counted into fixed buckets, cheap enough for the permission-event answer path (one
 * bucket search over 12 bounds and two adds, no allocation, no lock); read as a Prometheus histogram.
 */
public final class LatencyHistogram {
    /** Upper bounds of the buckets, in seconds (the last bucket, +Inf, is implicit). */
    private static final double[] BOUNDS_SECONDS = {
        50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3, 1, 10
    };
    private static final long[] BOUNDS_NANOS = new long[BOUNDS_SECONDS.length];

    static {
        for (int i = 0; i < BOUNDS_SECONDS.length; i++) {
            BOUNDS_NANOS[i] = Math.round(BOUNDS_SECONDS[i] * 1e9);
        }
    }

    private final LongAdder[] buckets = new LongAdder[BOUNDS_NANOS.length + 1];
    private final LongAdder sumNanos = new LongAdder();

    public LatencyHistogram() {
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    /** Counts one duration. */
    public void record(long nanos) {
        int i = 0;
        while (i < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[i]) {
            i++;
        }
        buckets[i].increment();
        sumNanos.add(Math.max(0, nanos));
    }

    /**
     * The histogram now.
     *
     * @param boundsSeconds the buckets' upper bounds ({@code le}), without +Inf
     * @param cumulativeCounts for each bound, how many durations were at most it; the last element is the total (+Inf)
     * @param sumSeconds the sum of all durations
     */
    public record Snapshot(double[] boundsSeconds, long[] cumulativeCounts, double sumSeconds) {
        public long count() {
            return cumulativeCounts[cumulativeCounts.length - 1];
        }
    }

    public Snapshot snapshot() {
        long[] cumulative = new long[buckets.length];
        long running = 0;
        for (int i = 0; i < buckets.length; i++) {
            running += buckets[i].sum();
            cumulative[i] = running;
        }
        return new Snapshot(BOUNDS_SECONDS.clone(), cumulative, sumNanos.sum() / 1e9);
    }
}
