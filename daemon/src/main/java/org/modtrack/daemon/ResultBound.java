package org.modtrack.daemon;

/**
 * The most records a result may be made of in a daemon whose heap is bounded at a given size, and
 * the heap a result of so many records needs: a result too large for the heap is refused with one
 * line ({@code result-too-large}) instead of ending the daemon half way through it.
 *
 * <p>While a result is made, each record it is made of takes about 384 bytes more than the record
 * itself (its file's handle, its path, its place in the plan and in the order), and the collector
 * needs its reserve and the daemon's own objects besides (measured before there was a bound, as
 * benchmarks/peers/answer --workload deleted --files N --jvm "... -XmxM" makes and removes the
 * files: 300,000 removed files failed at 175 MiB and were answered at 200 MiB; 1,000,000 failed
 * at 400 MiB and were answered at 500 MiB; each point agrees with the rule below). A record with
 * names counts twice (the engine's rule): 300,000 renamed files ran out at 200 MiB, and were
 * answered at 320 MiB, what {@link #heapMibFor} names for them.
 * Near the bound the collector runs more, within the noise of one query (1,000,000 removed files,
 * one query of a new daemon: 9.5 s at 500 MiB, 8.8 s at 1 GiB, 10.1 s at 6 GiB). A result that
 * runs out all the same ends the daemon ({@code -XX:+ExitOnOutOfMemoryError} in jvm.options).
 */
final class ResultBound {
    /** What each record of a result takes while it is made, besides itself. */
    static final long BYTES_PER_RECORD = 384;
    /** The daemon's own objects. */
    static final long RESERVED_BYTES = 48L << 20;
    /** The share of the heap the collector lets the daemon fill (G1 keeps the rest in reserve). */
    static final double USABLE_SHARE = 0.85;

    private ResultBound() {}

    /** The most records a result may hold with a heap bounded at {@code maxHeapBytes}: at least 1,000. */
    static long records(long maxHeapBytes) {
        long usable = (long) (maxHeapBytes * USABLE_SHARE) - RESERVED_BYTES;
        return Math.max(1_000, usable / BYTES_PER_RECORD);
    }

    /** The heap bound, in MiB rounded up to a multiple of 64, under which {@code records} (as the bound counts them) are allowed. */
    static long heapMibFor(long records) {
        double bytes = (records * (double) BYTES_PER_RECORD + RESERVED_BYTES) / USABLE_SHARE;
        long mib = (long) Math.ceil(bytes / (1 << 20));
        return (mib + 63) / 64 * 64;
    }
}
