package org.modtrack.benchmarks;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.StatStamp;
import org.modtrack.engine.TrackerConfig;

/**
 * How long writers stall while a query runs over {@code N} kept files: a writer thread calls
 * preWrite + postWrite without pause on a small set of other files (each first call in a period
 * records), while the main thread queries (never blessing, so all {@code N} files stay kept). For
 * each query it takes the longest preWrite that overlapped it. Files are recorded as the Linux
 * source would (8-byte handle, ~30-character path hint, stamp); {@code process} durability, so
 * the stall is the engine's, not a disk's. Not JMH: the figure is a maximum per query.
 *
 * <p>Usage: {@code java -cp ... org.modtrack.benchmarks.QueryStall [queries] [N...]} (default
 * 15 queries, N = 1000 10000 100000). Prints one line per N: the median and max over queries of
 * the longest preWrite during a query, and the median query time.
 */
public final class QueryStall {
    private QueryStall() {}

    public static void main(String[] args) throws Exception {
        int queries = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int[] sizes = args.length > 1 ? Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {1_000, 10_000, 100_000};
        for (int n : sizes) {
            run(n, queries);
        }
    }

    private static FileId file(int i, String dir) {
        byte[] handle = ByteBuffer.allocate(8).putInt(i).putInt(i * 31).array();
        return FileId.ofHandle(42, 1, handle, "/mnt/data/" + dir + (i % 1000) + "/file-" + i, new StatStamp(i, 100, 1, 1));
    }

    private static void run(int n, int queries) throws Exception {
        Path state = Files.createTempDirectory("modtrack-stall");
        try (ChangeTracker t = ChangeTracker.open(state, TrackerConfig.defaults().withDurability(Durability.PROCESS))) {
            for (int i = 0; i < n; i++) {
                t.postWrite(t.preWrite(file(i, "kept")).token());
            }
            FileId[] others = new FileId[64];
            for (int i = 0; i < others.length; i++) {
                others[i] = file(n + i, "other");
            }
            AtomicBoolean stop = new AtomicBoolean();
            // The writer publishes each call's start and end; the main thread reads them around a query.
            long[] calls = new long[1 << 22]; // start, end pairs (ring)
            AtomicLong count = new AtomicLong();
            Thread writer = Thread.ofPlatform().name("writer").start(() -> {
                int k = 0;
                try {
                    while (!stop.get()) {
                        long s = System.nanoTime();
                        t.postWrite(t.preWrite(others[k++ & 63]).token());
                        long e = System.nanoTime();
                        long c = count.get();
                        int at = (int) ((c * 2) & (calls.length - 1));
                        calls[at] = s;
                        calls[at + 1] = e;
                        count.set(c + 1);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            for (int w = 0; w < 3; w++) {
                t.query(); // warm-up
            }
            long[] stalls = new long[queries];
            long[] took = new long[queries];
            for (int q = 0; q < queries; q++) {
                long from = count.get();
                long s = System.nanoTime();
                QueryResult r = t.query();
                long e = System.nanoTime();
                Thread.sleep(20); // let the call that straddles the end finish
                long to = count.get();
                if (r.changes().size() < n) {
                    throw new AssertionError("a result lost kept files: " + r.changes().size());
                }
                long longest = 0;
                for (long c = Math.max(from, to - calls.length / 2 + 1); c < to; c++) {
                    int at = (int) ((c * 2) & (calls.length - 1));
                    if (calls[at + 1] >= s && calls[at] <= e) {
                        longest = Math.max(longest, calls[at + 1] - calls[at]);
                    }
                }
                stalls[q] = longest;
                took[q] = e - s;
            }
            stop.set(true);
            writer.join();
            Arrays.sort(stalls);
            Arrays.sort(took);
            System.out.printf("kept=%d queries=%d longestPreWriteDuringQuery median=%.3f ms max=%.3f ms  query median=%.1f ms%n",
                    n, queries, stalls[queries / 2] / 1e6, stalls[queries - 1] / 1e6, took[queries / 2] / 1e6);
        } finally {
            try (var files = Files.walk(state)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
