package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modtrack.daemon.PeriodicCollections.CONCURRENT;
import static org.modtrack.daemon.PeriodicCollections.Decision.NONE;
import static org.modtrack.daemon.PeriodicCollections.Decision.START;
import static org.modtrack.daemon.PeriodicCollections.Decision.STOP;
import static org.modtrack.daemon.PeriodicCollections.FULL;
import static org.modtrack.daemon.PeriodicCollections.PERIODIC;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.modtrack.daemon.PeriodicCollections.Decision;
import org.modtrack.daemon.PeriodicCollections.Pause;

/**
 * The periodic collection stops once marking cycles give nothing back and G1's allocation estimate
 * is an idle one, and starts again at the next collection the program's own allocation causes. The
 * sequences follow JDK 25's G1 notifications (collector, cause, committed heap after, in MB) as an
 * idle daemon and a burst of garbage gave them; Eden regions and times are an idle daemon's (one
 * region of 4 MB per 5 s interval).
 */
class PeriodicCollectionsTest {
    private static final String YOUNG = "G1 Young Generation";
    private static final String EVACUATION = "G1 Evacuation Pause";
    private static final String NO_GC = "No GC";
    private static final long INTERVAL = 5_000;

    private final PeriodicCollections decider = new PeriodicCollections(INTERVAL);
    private long now = 10_000; // ms since the JVM started

    /** A young pause {@code afterMillis} after the previous pause, with {@code eden} regions allocated since. */
    private Decision young(String cause, long afterMillis, long eden, long mb) {
        now += afterMillis;
        Decision d = decider.collected(new Pause(YOUNG, cause, now, now + 5, eden, mb << 20));
        now += 5;
        return d;
    }

    /** An idle periodic pause, one interval after the previous one, one Eden region allocated. */
    private Decision periodic(long mb) {
        return young(PERIODIC, INTERVAL, 1, mb);
    }

    /** A marking cycle's remark and cleanup pauses; the decision at the remark (the cleanup's is NONE). */
    private Decision cycle(long mb) {
        Decision remark = decider.collected(new Pause(CONCURRENT, NO_GC, now + 5, now + 8, 0, mb << 20));
        assertEquals(NONE, decider.collected(new Pause(CONCURRENT, NO_GC, now + 9, now + 10, 0, mb << 20)), "a cycle counts once");
        now += 10;
        return remark;
    }

    /** Idle periodic pauses of a heap of {@code mb}, with a cycle every third, until one stops it; how many it took (at most 100). */
    private int idleUntilStopped(long mb) {
        for (int i = 1; i <= 100; i++) {
            Decision d = periodic(mb);
            if (d == NONE && i % 3 == 0) {
                d = cycle(mb);
            }
            if (d == STOP) {
                return i;
            }
            assertEquals(NONE, d);
        }
        return 100;
    }

    @Test
    void anIdleHeapStopsThePeriodicCollectionOnceCyclesGiveNothingBackAndG1ExpectsNoCollectionSoon() {
        // The daemon's start as JDK 25's G1 reported it: a first pause after 0.7 s of start-up
        // (4 regions of 4 MB), then the periodic ones; the first cycle shrinks the initial heap, and
        // young-gen sizing then makes it breathe (28 MB after a young pause, 20 or 24 after a
        // remark), which is not giving back.
        now = 0;
        assertEquals(NONE, young(EVACUATION, 700, 4, 384));
        assertEquals(NONE, young(PERIODIC, 9_300, 14, 384));
        assertEquals(NONE, cycle(20));
        assertEquals(NONE, periodic(28));
        assertEquals(NONE, periodic(28));
        assertEquals(NONE, periodic(28));
        assertEquals(NONE, cycle(20));
        assertEquals(NONE, periodic(28));
        assertEquals(NONE, cycle(24), "two cycles gave nothing back, but G1 still expects start-up's allocation rate");
        assertTrue(decider.running());
        int pauses = idleUntilStopped(28);
        assertFalse(decider.running());
        assertTrue(pauses > 5 && pauses < 40, "stopped after " + pauses + " more idle pauses");
    }

    @Test
    void mixedCollectionsBetweenCyclesKeepItRunningWhileTheNextRemarkGivesBack() {
        // A burst of 600 MB of garbage: the first cycle gives back a fifth, the mixed pauses after it
        // none, the next cycle nearly all of it. Stopping after the mixed pauses would have kept 1.2 GB.
        for (int i = 0; i < 40; i++) {
            assertEquals(NONE, periodic(1500));
        }
        assertEquals(NONE, young(EVACUATION, 50, 150, 1500));
        assertEquals(NONE, periodic(1500));
        assertEquals(NONE, cycle(1192));
        for (int i = 0; i < 60; i++) {
            assertEquals(NONE, periodic(1192));
        }
        assertEquals(NONE, cycle(72));
        assertEquals(NONE, periodic(72));
        assertEquals(NONE, cycle(64));
        assertEquals(NONE, periodic(64));
        assertEquals(NONE, cycle(64), "one cycle that gives nothing back is not enough");
        assertEquals(NONE, periodic(64));
        assertEquals(STOP, cycle(64));
    }

    @Test
    void allocationStartsItAgainAndStartsTheCountOver() {
        idleUntilStopped(28);
        assertFalse(decider.running());
        assertEquals(NONE, periodic(28), "a periodic pause G1 had already begun is not work");
        assertEquals(START, young(EVACUATION, 1_000, 50, 200));
        assertTrue(decider.running());
        assertEquals(NONE, young(EVACUATION, 200, 50, 300), "started once");
        // The heap before the work is forgotten: 200 MB is the smallest since.
        assertEquals(NONE, periodic(300));
        assertEquals(NONE, cycle(200));
        assertEquals(NONE, periodic(200));
        assertEquals(NONE, cycle(40));
        int pauses = idleUntilStopped(40);
        assertFalse(decider.running());
        assertTrue(pauses > 5, "stopped only once G1's estimate forgot the work: " + pauses);
    }

    @Test
    void workBetweenCyclesStartsTheCountOver() {
        for (int i = 0; i < 40; i++) {
            periodic(28);
        }
        cycle(20);
        periodic(28);
        assertEquals(NONE, cycle(20));
        assertEquals(NONE, young("G1 Humongous Allocation", INTERVAL, 1, 28));
        assertEquals(NONE, cycle(20));
        assertEquals(NONE, periodic(28));
        assertEquals(NONE, cycle(20));
        assertEquals(NONE, periodic(28));
        assertEquals(STOP, cycle(20));
    }

    @Test
    void periodicFullCollectionsCountAsCycles() {
        for (int i = 0; i < 40; i++) {
            periodic(100);
        }
        assertEquals(NONE, decider.collected(new Pause(FULL, PERIODIC, now + 5_000, now + 5_010, 1, 100L << 20)));
        assertEquals(NONE, decider.collected(new Pause(FULL, PERIODIC, now + 10_000, now + 10_010, 1, 60L << 20)));
        assertEquals(NONE, decider.collected(new Pause(FULL, PERIODIC, now + 15_000, now + 15_010, 1, 60L << 20)));
        assertEquals(STOP, decider.collected(new Pause(FULL, PERIODIC, now + 20_000, now + 20_010, 1, 60L << 20)));
        assertEquals(START, decider.collected(new Pause(FULL, "System.gc()", now + 25_000, now + 25_010, 1, 60L << 20)));
    }

    @Test
    void unknownNamesNeverStopIt() {
        // A JDK that named the cause or the cycle's collector otherwise: every pause counts as work.
        for (int i = 0; i < 100; i++) {
            assertEquals(NONE, decider.collected(new Pause(YOUNG, "Periodic", now, now + 5, 1, 28L << 20)));
            assertEquals(NONE, decider.collected(new Pause("G1 Concurrent Cycle", NO_GC, now + 6, now + 7, 0, 20L << 20)));
            now += INTERVAL;
        }
        assertTrue(decider.running());
    }

    @Test
    void theEstimateForgetsAsG1sDoes() {
        // HotSpot's AbsSeq: the first sample is the average; then 30% of each new one.
        PeriodicCollections.Estimate e = new PeriodicCollections.Estimate();
        assertEquals(-1, e.high());
        e.add(10);
        assertEquals(10, e.high(), 1e-9);
        e.add(0);
        // average 7, variance 0.3 * 49
        assertEquals(7 + Math.sqrt(0.3 * 49), e.high(), 1e-9);
        // After a burst of a GB a second (250 regions of 4 MB per s) with idle intervals of one
        // region per 5 s after it, the deviation is what forgets slowest (its variance keeps 70%).
        PeriodicCollections.Estimate burst = new PeriodicCollections.Estimate();
        for (int i = 0; i < 10; i++) {
            burst.add(0.0002);
        }
        burst.add(0.25);
        int n = 0;
        while (burst.high() > 2 * 0.0002) {
            burst.add(0.0002);
            n++;
        }
        assertTrue(n > 20 && n < 60, n + " idle intervals");
    }

    /**
     * In a JVM of its own with G1 and a periodic collection every 200 ms: the collections stop
     * once the heap no longer shrinks, stay stopped, start again after a burst of garbage, give the
     * burst's heap back, and stop again.
     */
    @Test
    void inAJvmTheCollectionsStopStayStoppedAndComeBackForABurst() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-XX:+UseG1GC", "-XX:G1PeriodicGCInterval=200",
                "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30", "-Xmx1g", "-cp",
                System.getProperty("java.class.path"), Child.class.getName()));
        Path out = Files.createTempFile("periodic-collections", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try {
                assertTrue(p.waitFor(200, TimeUnit.SECONDS), "the child JVM ended within 200 s");
            } finally {
                p.destroyForcibly();
            }
            assertEquals(0, p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** The child JVM: exits 0 if everything the test expects happened, 1 with the reason otherwise. */
    static final class Child {
        static volatile Object sink;

        public static void main(String[] args) throws Exception {
            PeriodicCollections decider = PeriodicCollections.install();
            check(decider != null, "installed");
            check(await(decider, false), "stopped within 60 s at the start");
            Thread.sleep(500); // a periodic check G1 had begun before the flag changed may still collect
            long collections = collections();
            Thread.sleep(2_000);
            check(collections() == collections, "no collection in 2 s once stopped: "
                    + collections + " then " + collections());
            List<byte[]> burst = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                burst.add(new byte[1 << 20]);
            }
            sink = burst;
            long peak = Runtime.getRuntime().totalMemory();
            burst = null;
            sink = null;
            check(peak > 300L << 20, "the burst grew the heap: " + (peak >> 20) + " MB");
            check(await(decider, true), "the burst's collections started it again (within 60 s)");
            check(await(decider, false), "stopped within 60 s after the burst");
            long after = Runtime.getRuntime().totalMemory();
            check(after < peak / 2, "gave the burst's heap back: " + (peak >> 20) + " MB at the burst, "
                    + (after >> 20) + " MB once stopped");
            System.out.println("ok: " + (peak >> 20) + " MB at the burst, " + (after >> 20) + " MB once stopped");
        }

        /** Notifications come on a thread of their own, after the collection: waits for their decision. */
        private static boolean await(PeriodicCollections decider, boolean running) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (decider.running() != running) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.sleep(50);
            }
            return true;
        }

        private static long collections() {
            long n = 0;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                n += gc.getCollectionCount();
            }
            return n;
        }

        private static void check(boolean ok, String what) {
            if (!ok) {
                System.out.println("failed: " + what);
                System.exit(1);
            }
        }
    }
}
