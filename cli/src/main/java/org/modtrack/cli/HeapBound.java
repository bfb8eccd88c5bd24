package org.modtrack.cli;

import java.util.logging.Logger;
import org.modtrack.daemon.DaemonConfig;

/**
 * The daemon's {@code --heap} (or {@code heap =} in its config file): the bound of its Java heap.
 * The JVM fixes that bound before the daemon reads its options, so bin/modtrack's launcher reads the
 * option first and starts the JVM with {@code -Xmx} ({@code bin/lib/launch.sh}, {@code daemon_heap});
 * here the option is checked, and a daemon whose JVM was started some other way says that the bound
 * it runs with is not the one asked for.
 */
final class HeapBound {
    private static final Logger LOG = Logger.getLogger(HeapBound.class.getName());
    /** Below this the daemon's own classes and a small answer do not fit: a bound that low is a mistake. */
    static final long MIN_BYTES = 64L << 20;
    /** How far the JVM's bound may be from the one asked for: G1 rounds it to its regions (up to 32 MiB). */
    private static final long SLACK_BYTES = 32L << 20;

    private HeapBound() {}

    /** The bound {@code size} asks for, in bytes. */
    static long check(String size) {
        long bytes;
        try {
            bytes = DaemonConfig.parseSize(size);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--heap: " + e.getMessage(), e);
        }
        if (bytes < MIN_BYTES) {
            throw new IllegalArgumentException("--heap: at least 64M, not '" + size + "'.");
        }
        return bytes;
    }

    /** Logs a warning if {@code maxBytes}, the JVM's bound, is not about {@code asked}, the bytes {@code size} asks for. */
    static void warnIfNotApplied(String size, long asked, long maxBytes) {
        if (Math.abs(maxBytes - asked) > Math.max(SLACK_BYTES, asked / 100)) {
            LOG.warning("the heap's bound is " + (maxBytes >> 20) + " MiB, not the " + (asked >> 20) + " MiB --heap " + size
                    + " asks for: bin/modtrack applies it (-Xmx), a JVM started otherwise needs -Xmx" + size.strip()
                    + ", and an -Xmx in MODTRACK_JAVA_OPTIONS wins over it");
        }
    }
}
