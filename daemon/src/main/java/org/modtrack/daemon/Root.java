package org.modtrack.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.modtrack.engine.BlessException;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.source.linux.LinuxResult;
import org.modtrack.source.linux.LatencyHistogram;
import org.modtrack.source.linux.LinuxSource;
import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * One watched root: its source, and the lock that serializes its queries (two clients querying at
 * once each get a complete result, one after the other).
 */
final class Root implements AutoCloseable {
    private final Path path;
    private final BarrierKind barrier;
    private final LinuxSource source;
    private final ReentrantLock queryLock = new ReentrantLock(true);
    private final AtomicLong queries = new AtomicLong();
    private final AtomicLong queryNanos = new AtomicLong();
    private volatile long lastBarrierWaitNanos;
    private final LatencyHistogram queryDurations = new LatencyHistogram();

    private Root(Path path, BarrierKind barrier, LinuxSource source) {
        this.path = path;
        this.barrier = barrier;
        this.source = source;
    }

    /** Opens the source of {@code path} with its state in {@code state}. */
    static Root open(Path path, Path state, BarrierKind barrier, LinuxSourceOptions.Detail detail, TrackerConfig config)
            throws IOException {
        LinuxSource source = LinuxSource.open(path, state, config,
                LinuxSourceOptions.defaults().withBarrier(barrier.sourceBarrier()).withDetail(detail));
        return new Root(source.watched(), barrier, source);
    }

    Path path() {
        return path;
    }

    BarrierKind barrier() {
        return barrier;
    }

    LinuxSource source() {
        return source;
    }

    /** A checkpoint and its result; queries of this root run one at a time. */
    LinuxResult query() throws IOException, InterruptedException {
        queryLock.lockInterruptibly();
        try {
            long t0 = System.nanoTime();
            LinuxResult r = source.query();
            queryNanos.addAndGet(System.nanoTime() - t0);
            queryDurations.record(System.nanoTime() - t0);
            queries.incrementAndGet();
            lastBarrierWaitNanos = r.barrierWait().toNanos();
            return r;
        } finally {
            queryLock.unlock();
        }
    }

    void bless(long snapshot) throws BlessException, IOException {
        source.bless(snapshot);
    }

    long queries() {
        return queries.get();
    }

    LatencyHistogram queryDurations() {
        return queryDurations;
    }

    long queryNanos() {
        return queryNanos.get();
    }

    long lastBarrierWaitNanos() {
        return lastBarrierWaitNanos;
    }

    /** Records and events so far: when it has not moved, a watch need not query. */
    long activity() {
        long[] e = source.eventCounts();
        long sum = source.stats().records();
        for (long x : e) {
            sum += x;
        }
        return sum;
    }

    /** Waits for a query in progress, then closes the source (the kernel lets blocked writers go). */
    @Override
    public void close() throws IOException {
        queryLock.lock();
        try {
            source.close();
        } finally {
            queryLock.unlock();
        }
    }
}
