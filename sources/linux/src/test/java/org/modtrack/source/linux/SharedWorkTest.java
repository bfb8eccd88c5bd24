package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;

class SharedWorkTest {
    /** What a thread keeps from piece to piece: the thread that made it, and whether a piece is using it. */
    private static final class Kept {
        final Thread owner = Thread.currentThread();
        final AtomicInteger inUse = new AtomicInteger();
    }

    /**
     * Each piece runs once, whatever thread takes it, and is handed the state its own thread made:
     * never another thread's, so state kept between pieces (a scan's lists of names) is never shared.
     */
    @Test
    void everyPieceRunsOnceWithItsThreadsOwnState() throws Exception {
        for (int batch : new int[] {1, 7, 1_000, 50_000}) {
            int count = 20_000;
            AtomicReferenceArray<Kept> ranWith = new AtomicReferenceArray<>(count);
            Set<Kept> made = ConcurrentHashMap.newKeySet();
            SharedWork.run(count, batch, () -> {
                Kept k = new Kept();
                made.add(k);
                return k;
            }, (kept, i) -> {
                assertSame(Thread.currentThread(), kept.owner, "piece " + i + " got another thread's state");
                assertEquals(1, kept.inUse.incrementAndGet(), "piece " + i + ": state used by two pieces at once");
                assertTrue(ranWith.compareAndSet(i, null, kept), "piece " + i + " ran twice");
                kept.inUse.decrementAndGet();
            });
            for (int i = 0; i < count; i++) {
                assertTrue(ranWith.get(i) != null, "batch " + batch + ": piece " + i + " never ran");
            }
            int threads = count > batch ? 1 + Math.min(SharedWork.HELPERS, Runtime.getRuntime().availableProcessors() - 1) : 1;
            assertEquals(threads, made.size(), "batch " + batch + ": one state a thread");
        }
    }

    /** The first failure stops the others taking more pieces, and is what the caller gets. */
    @Test
    void aFailureStopsTheWorkAndIsThrown() {
        int count = 100_000;
        AtomicInteger ran = new AtomicInteger();
        IOException thrown = assertThrows(IOException.class, () -> SharedWork.run(count, 1, i -> {
            ran.incrementAndGet();
            if (i == 500) {
                throw new IOException("piece 500");
            }
        }));
        assertEquals("piece 500", thrown.getMessage());
        assertTrue(ran.get() < count, "every piece ran after the failure: " + ran.get());
    }
}
