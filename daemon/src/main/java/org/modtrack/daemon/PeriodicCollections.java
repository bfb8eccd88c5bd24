package org.modtrack.daemon;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Keeps G1's periodic collection (bin/lib/jvm.options, {@code G1PeriodicGCInterval}) running only
 * while it still gives memory back, and starts it again at the next collection something else
 * caused.
 *
 * <p>Why: the periodic collection is what hands the heap an answer needed back to the system
 * within seconds of the daemon going idle (docs/benchmarks.md, <i>Collector</i>). But G1 runs it
 * whenever no collection came for an interval, so an idle daemon collected every 5 s for good: a
 * young pause and a marking cycle each time, which were most of an idle daemon's CPU
 * (docs/benchmarks.md, <i>Idle</i>), and gave nothing back once the heap had shrunk.
 *
 * <p>When it stops: G1 shrinks the heap at the end of a marking cycle (its remark pause), to what
 * the live heap needs. Each cycle's committed heap is compared with the smallest since the last
 * collection the daemon's own work caused (any cause but the periodic one: allocation, a humongous
 * object, a class metadata threshold); {@value #FRUITLESS_CYCLES} cycles in a row that gave nothing
 * back are the first condition. The second is that G1's own estimate of the allocation rate has
 * come down to what an idle interval shows: G1 estimates it only at a young pause, and its
 * concurrent refinement thread wakes the more often the sooner it expects the next collection
 * (every four times the square root of that time, in ms, at least every 50 ms), so stopping the
 * collections while the estimate still held the work's rate would freeze it there: 8 wake-ups a
 * second when they stopped 30 s after the start, and up to 20 after a large answer. So the
 * estimate is kept here as G1 keeps it ({@link Estimate}) and must be at most twice the rate of
 * the latest interval (at least one region per periodic interval): that takes about 15 periodic
 * pauses after the start (the collection stops some 80 s after it, the refinement thread then
 * wakes 4 to 5 times a second), and 35 to 45 after work that allocated a GB a second.
 *
 * <p>When it starts again: at the next collection with another cause, since only work that
 * allocates can leave memory to give back, and G1 grows the heap at a collection. (One exception:
 * a humongous object can grow it without one; past G1's occupancy threshold that starts a cycle,
 * which starts this again, and below it the object's regions stay committed until the next
 * collection.) The interval is then set back, and G1 reads this manageable flag again within a
 * second. Each start of work thus gets the same periodic collections as before, until the heap
 * shrinks no more and G1 expects no collection soon.
 *
 * <p>Anything unexpected (another collector, a JDK whose names differ, no management module)
 * leaves the periodic collection as configured: it then runs as before, never less.
 */
public final class PeriodicCollections {
    private static final Logger LOG = Logger.getLogger(PeriodicCollections.class.getName());
    static final String FLAG = "G1PeriodicGCInterval";
    /** {@code GCCause::_g1_periodic_collection}'s name, the cause G1 gives its periodic pauses. */
    static final String PERIODIC = "G1 Periodic Collection";
    /** The collector whose notifications are a marking cycle's remark and cleanup pauses. */
    static final String CONCURRENT = "G1 Concurrent GC";
    /** The collector of full collections (a periodic one, with {@code -XX:-G1PeriodicGCInvokesConcurrent}). */
    static final String FULL = "G1 Old Generation";
    static final String EDEN = "G1 Eden Space";
    /**
     * How many marking cycles in a row must give nothing back: more than one, since a cycle's remark
     * may leave garbage that the mixed collections after it take, which the next remark gives back.
     */
    static final int FRUITLESS_CYCLES = 2;

    /** One collection's notification, as this reads it. */
    record Pause(String collector, String cause, long startMillis, long endMillis, long edenRegions, long committedAfter) { }

    /** What a collection asks of the periodic collection. */
    enum Decision { NONE, START, STOP }

    /**
     * G1's estimate of the allocation rate, kept as G1Analytics keeps it (JDK 25): at each young
     * pause, the Eden regions allocated over the time since the previous pause ended; a decaying
     * average and variance that keep 70% of their history (HotSpot's AbsSeq).
     */
    static final class Estimate {
        private static final double HISTORY = 0.7;
        private boolean any;
        private double average;
        private double variance;

        void add(double rate) {
            if (!any) {
                any = true;
                average = rate;
                variance = 0;
                return;
            }
            average = (1 - HISTORY) * rate + HISTORY * average;
            double diff = rate - average;
            variance = (1 - HISTORY) * diff * diff + HISTORY * variance;
        }

        /** The average plus one deviation (more than G1's half of one: later, never sooner); -1 before any sample. */
        double high() {
            return any ? average + Math.sqrt(variance) : -1;
        }
    }

    private final double idleRate; // one region per periodic interval, in regions per ms
    private final Estimate estimate = new Estimate();
    private boolean running = true;
    private boolean cycleSeen = true; // the marking cycle after the last young or full collection was counted
    private long smallest = Long.MAX_VALUE; // the smallest committed heap after a cycle since the last work
    private int fruitless;
    private long previousEnd; // the previous pause's end; G1 counts the first interval from the JVM's start
    private double latest; // the latest young pause's allocation rate

    /** @param intervalMillis the periodic collection's interval when it runs */
    PeriodicCollections(long intervalMillis) {
        this.idleRate = 1.0 / intervalMillis;
    }

    /** One collection, in the order the JVM reports them. The periodic collection is running when this starts. */
    Decision collected(Pause p) {
        boolean concurrent = CONCURRENT.equals(p.collector());
        boolean full = FULL.equals(p.collector());
        if (!concurrent && !full) {
            latest = p.edenRegions() / (double) Math.max(1, p.startMillis() - previousEnd);
            estimate.add(latest);
        }
        previousEnd = Math.max(previousEnd, p.endMillis());
        if (concurrent) {
            // A cycle reports its remark and then its cleanup: count it once, at the remark.
            if (!cycleSeen) {
                cycleSeen = true;
                cycleEnded(p.committedAfter());
            }
        } else {
            cycleSeen = false;
            if (!PERIODIC.equals(p.cause())) {
                smallest = Long.MAX_VALUE;
                fruitless = 0;
                if (!running) {
                    running = true;
                    return Decision.START;
                }
                return Decision.NONE;
            }
            if (full) {
                cycleSeen = true; // a full collection shrinks the heap itself; no cycle follows
                cycleEnded(p.committedAfter());
            }
        }
        if (running && fruitless >= FRUITLESS_CYCLES && settled()) {
            running = false;
            return Decision.STOP;
        }
        return Decision.NONE;
    }

    private void cycleEnded(long committed) {
        if (committed < smallest) {
            smallest = committed;
            fruitless = 0;
        } else {
            fruitless++;
        }
    }

    private boolean settled() {
        double high = estimate.high();
        return high >= 0 && high <= 2 * Math.max(latest, idleRate);
    }

    /** Whether the periodic collection runs (as this decides; for tests). */
    synchronized boolean running() {
        return running;
    }

    /**
     * Starts deciding for this JVM, if it runs G1 with a periodic collection; returns the decider,
     * or null when there is nothing to decide. Once per JVM, before its first collection, so that
     * the estimate sees every pause G1's does: the daemon's process calls it first.
     */
    public static PeriodicCollections install() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            String interval = hotspot.getVMOption(FLAG).getValue();
            if (!"true".equals(hotspot.getVMOption("UseG1GC").getValue()) || Long.parseLong(interval) <= 0) {
                return null;
            }
            long region = Long.parseLong(hotspot.getVMOption("G1HeapRegionSize").getValue());
            Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName)
                    .collect(Collectors.toSet());
            PeriodicCollections decider = new PeriodicCollections(Long.parseLong(interval));
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                if (!(gc instanceof NotificationEmitter emitter)) {
                    continue;
                }
                emitter.addNotificationListener((n, handback) -> {
                    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
                        return;
                    }
                    GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                    GcInfo gcInfo = info.getGcInfo();
                    MemoryUsage eden = gcInfo.getMemoryUsageBeforeGc().get(EDEN);
                    long committed = committed(gcInfo.getMemoryUsageAfterGc(), heapPools);
                    Pause pause = new Pause(info.getGcName(), info.getGcCause(), gcInfo.getStartTime(), gcInfo.getEndTime(),
                            eden == null ? 0 : eden.getUsed() / region, committed);
                    Decision d;
                    synchronized (decider) {
                        d = decider.collected(pause);
                    }
                    switch (d) {
                        case STOP -> set(hotspot, "0", "stopped: the heap (" + (committed >> 20)
                                + " MB committed) no longer shrinks, and the allocation rate is an idle one");
                        case START -> set(hotspot, interval, "started again (" + info.getGcCause() + ")");
                        case NONE -> { }
                    }
                }, null, null);
            }
            return decider;
        } catch (RuntimeException | LinkageError e) {
            LOG.log(Level.FINE, "the periodic collection stays as configured", e);
            return null;
        }
    }

    private static long committed(Map<String, MemoryUsage> pools, Set<String> heapPools) {
        long sum = 0;
        for (Map.Entry<String, MemoryUsage> e : pools.entrySet()) {
            if (heapPools.contains(e.getKey())) {
                sum += e.getValue().getCommitted();
            }
        }
        return sum;
    }

    private static void set(HotSpotDiagnosticMXBean hotspot, String interval, String why) {
        try {
            hotspot.setVMOption(FLAG, interval);
            LOG.fine(() -> "periodic collection " + why);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not set " + FLAG + "=" + interval, e);
        }
    }
}
