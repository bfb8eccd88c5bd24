package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.engine.ResultTooLargeException;
import org.modtrack.testing.Seeded;

/**
 * Many queries at once, each as a root's checkpoint thread runs it (admitted, or refused, then
 * waiting for room and asked again, at most 8 times), their results made (holding less or more
 * than they were admitted with) and sent: what results hold never goes below 0, and once every
 * query is done nothing is held and nobody waits.
 */
@ExtendWith(Seeded.class)
class ResultMemoryStressTest {
    private static final int THREADS = 6;
    private static final int QUERIES = 2_000;
    private static final long BOUND = 100;

    @Test
    void whatResultsHoldAddsUpWhateverTheyDoAtOnce(SplittableRandom random) throws Exception {
        ResultMemory m = new ResultMemory(BOUND, Duration.ofMillis(5));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread watcher = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                long held = m.held();
                if (held < 0) {
                    failure.compareAndSet(null, new AssertionError("results hold " + held));
                }
                Thread.onSpinWait();
            }
        });
        List<Thread> queries = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            SplittableRandom r = random.split();
            queries.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int q = 0; q < QUERIES; q++) {
                        query(m, r);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : queries) {
            t.join(TimeUnit.MINUTES.toMillis(2));
            assertTrue(!t.isAlive(), "a query thread still runs after two minutes: a wait that did not end");
        }
        done.set(true);
        watcher.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertEquals(0, m.held(), "every grant let go");
        assertEquals(0, m.waiting());
    }

    /** One query as {@code Root} makes it, then its result made and sent. */
    private static void query(ResultMemory m, SplittableRandom r) {
        long deadline = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(r.nextLong(0, 5_000));
        long weight = r.nextLong(0, BOUND * 6 / 5 + 1); // some too large alone
        ResultMemory.Grant g = null;
        for (int round = 1; g == null; round++) {
            try {
                m.admit(weight, weight);
                g = m.take();
            } catch (ResultTooLargeException e) {
                if (e.heldByOthers() > 0 && round < 8 && m.awaitRoom(e.weight(), deadline)) {
                    weight = Math.max(0, weight + r.nextLong(-10, 11)); // the next checkpoint counts what was written since
                    continue;
                }
                m.dropRoom();
                assertTrue(e.heldByOthers() > 0 || weight > BOUND, "refused alone only when too large alone: " + e.getMessage());
                return;
            }
        }
        m.dropRoom();
        assertEquals(weight, g.weight(), "admitted with what it counted");
        if (r.nextBoolean()) {
            g.made(r.nextLong(0, 2 * weight + 2)); // fewer entries than records, or many files a scan names
        }
        if (r.nextInt(4) == 0) {
            LockSupport.parkNanos(r.nextLong(0, 200_000)); // sent to a slow client
        }
        g.close();
    }
}
