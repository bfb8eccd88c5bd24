package org.modtrack.benchmarks;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.StatStamp;
import org.modtrack.engine.TrackerConfig;

/**
 * Heap per changed file in one period: records {@code N} files as the Linux source would (an
 * 8-byte ext4 handle, a path hint of about 30 characters, a stamp), then measures the live heap
 * after full collections, and times one query over them. Not a JMH benchmark: it measures space,
 * and the times it prints are single runs.
 *
 * <p>Usage: {@code java -cp ... org.modtrack.benchmarks.MemoryPerFile [files]} (default 1,000,000).
 */
public final class MemoryPerFile {
    private MemoryPerFile() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        Path state = Files.createTempDirectory("modtrack-memory");
        try (ChangeTracker t = ChangeTracker.open(state, TrackerConfig.defaults().withDurability(Durability.PROCESS))) {
            long before = liveHeap();
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                byte[] handle = ByteBuffer.allocate(8).putInt(i).putInt(i * 31).array();
                FileId f = FileId.ofHandle(42, 1, handle, "/mnt/data/dir" + (i % 1000) + "/file-" + i,
                        new StatStamp(i, 100, 1, 1));
                t.postWrite(t.preWrite(f).token());
            }
            long recordNanos = System.nanoTime() - start;
            long after = liveHeap();
            long q = System.nanoTime();
            QueryResult r = t.query();
            long queryNanos = System.nanoTime() - q;
            System.out.printf("files=%d heapBytesPerFile=%.1f recordMs=%d queryMs=%d changes=%d journalBytes=%d%n", n,
                    (after - before) / (double) n, recordNanos / 1_000_000, queryNanos / 1_000_000, r.changes().size(),
                    t.stats().journalBytes());
        } finally {
            try (var files = Files.walk(state)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static long liveHeap() throws InterruptedException {
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
