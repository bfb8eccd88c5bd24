package org.modtrack.benchmarks;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.modtrack.engine.BlessException;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.engine.TrackerStats;
import org.modtrack.engine.WriteTicket;
import org.modtrack.engine.storage.AppendFile;
import org.modtrack.engine.storage.DirectoryStorage;
import org.modtrack.engine.storage.Storage;

/**
 * A diagnostic, not a benchmark: where a writer's time goes between two records, to explain what
 * {@link PreWriteBenchmark#newFile} measures (records per fdatasync in power mode, records per
 * second in process mode).
 *
 * <p>For every run it reports the wall time per record, the writer threads' CPU time per record
 * split into user and kernel time, the GC pauses, and the journal's pwrites. A single writer
 * forgets what it recorded every 2 s (query and bless, not counted), as the benchmark does between
 * iterations, so that the tracker's memory is comparable.
 *
 * <p>It runs the loop of {@link PreWriteBenchmark#newFile} on N threads over the real
 * {@link DirectoryStorage}, wrapped so that every journal pwrite and fdatasync is timestamped
 * (System.nanoTime: tens of nanoseconds against microseconds), without touching the engine. In
 * power mode it reports from the timestamps, per group commit, the fdatasync itself, the
 * idle gap before the next one starts, and, per writer, how long it takes from the end of the
 * fdatasync that released it to its preWrite returning (wake-up) and from there to its next
 * record's pwrite (postWrite and the next preWrite). A writer is in the next batch only if it gets
 * through both before the next leader starts its sync.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * org.modtrack.benchmarks.GroupCommitProbe [threads=16] [seconds=5] [dir=java.io.tmpdir] [durability=POWER]}
 */
public final class GroupCommitProbe {
    private static final int MAX_EVENTS = 4_000_000;
    /** How often a single writer forgets what it recorded, like PreWriteBenchmark's iterations. */
    private static final long RESET_NANOS = 2_000_000_000L;

    // fdatasyncs of records (by the group-commit leader), in start order: [start, end].
    private static final long[] syncStart = new long[MAX_EVENTS];
    private static final long[] syncEnd = new long[MAX_EVENTS];
    private static final AtomicInteger syncs = new AtomicInteger();
    private static volatile boolean recording;
    private static volatile long deadline; // 0 until the measured window starts

    // The calling thread's last journal pwrite: preWrite appends under the tracker's lock in the
    // caller's thread, so after preWrite returns this is that record's pwrite.
    private static final ThreadLocal<long[]> lastWrite = ThreadLocal.withInitial(() -> new long[2]);

    private GroupCommitProbe() {}

    /** Runs the probe and prints its report; arguments as in the class comment. */
    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String dirArg = args.length > 2 ? args[2] : PreWriteBenchmark.TMPDIR;
        Durability durability = args.length > 3 ? Durability.valueOf(args[3]) : Durability.POWER;
        Path parent = Path.of(PreWriteBenchmark.TMPDIR.equals(dirArg) ? System.getProperty("java.io.tmpdir") : dirArg);
        Path stateDir = Files.createTempDirectory(Files.createDirectories(parent), "modtrack-probe-");
        try {
            run(threads, seconds, durability, stateDir);
        } finally {
            try (Stream<Path> files = Files.walk(stateDir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static void run(int threads, int seconds, Durability durability, Path stateDir) throws Exception {
        Storage storage = new TimedStorage(DirectoryStorage.open(stateDir));
        ChangeTracker tracker = ChangeTracker.open(storage, TrackerConfig.defaults().withDurability(durability));
        int perThread = MAX_EVENTS / threads;
        long[][] returned = new long[threads][perThread]; // preWrite return time per op
        long[][] writeStart = new long[threads][perThread]; // that op's pwrite
        long[][] writeEnd = new long[threads][perThread];
        int[] count = new int[threads];
        long[] cpu = new long[threads]; // the writer thread's CPU time in the window
        long[] user = new long[threads]; // of which in user mode (the rest is the kernel's)
        long[] excluded = new long[threads]; // time spent resetting (one writer only)
        long[] excludedGcMillis = new long[threads]; // GC pauses during those resets
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        CountDownLatch started = new CountDownLatch(threads);
        long warmupNanos = 2_000_000_000L;
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int me = t;
            workers.add(Thread.ofPlatform().name("writer-" + t).start(() -> {
                String prefix = "/probe/t" + me + "/f";
                long n = 0;
                boolean counting = false;
                long nextReset = System.nanoTime() + RESET_NANOS;
                started.countDown();
                try {
                    started.await();
                    while (true) {
                        long now = System.nanoTime();
                        if (deadline != 0 && now > deadline) {
                            break;
                        }
                        if (!counting && recording) {
                            counting = true;
                            cpu[me] = -mx.getCurrentThreadCpuTime();
                            user[me] = -mx.getCurrentThreadUserTime();
                        }
                        if (threads == 1 && now >= nextReset) {
                            long gcAtReset = gcPauseMillis();
                            long cpuAtReset = mx.getCurrentThreadCpuTime();
                            long userAtReset = mx.getCurrentThreadUserTime();
                            // As PreWriteBenchmark does between iterations, so that the tracker's
                            // memory (one entry per new file) stays as bounded as there.
                            for (int round = 0; round < 2; round++) {
                                tracker.bless(tracker.query().snapshot());
                            }
                            long done = System.nanoTime();
                            nextReset = done + RESET_NANOS;
                            if (recording) {
                                excluded[me] += done - now;
                                excludedGcMillis[me] += gcPauseMillis() - gcAtReset; // the query's own garbage
                                cpu[me] -= mx.getCurrentThreadCpuTime() - cpuAtReset;
                                user[me] -= mx.getCurrentThreadUserTime() - userAtReset;
                            }
                        }
                        WriteTicket ticket = tracker.preWrite(FileId.ofPath(prefix + n++));
                        long back = System.nanoTime();
                        tracker.postWrite(ticket.token());
                        if (recording && count[me] < perThread) {
                            long[] w = lastWrite.get();
                            int i = count[me]++;
                            returned[me][i] = back;
                            writeStart[me][i] = w[0];
                            writeEnd[me][i] = w[1];
                        }
                    }
                    cpu[me] += mx.getCurrentThreadCpuTime();
                    user[me] += mx.getCurrentThreadUserTime();
                } catch (IOException | InterruptedException | BlessException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        started.await();
        Thread.sleep(warmupNanos / 1_000_000); // let the JIT compile the path first
        TrackerStats before = tracker.stats();
        long gcBefore = gcPauseMillis();
        recording = true;
        long begin = System.nanoTime();
        deadline = begin + seconds * 1_000_000_000L;
        for (Thread w : workers) {
            w.join();
        }
        long wall = System.nanoTime() - begin - Arrays.stream(excluded).max().orElse(0);
        recording = false;
        long gcMillis = gcPauseMillis() - gcBefore - Arrays.stream(excludedGcMillis).sum();
        TrackerStats after = tracker.stats();
        tracker.close();

        long records = after.records() - before.records();
        System.out.printf("%d writers, %s, %.2f s measured (after 2 s of warm-up)%n", threads, durability, wall / 1e9);
        System.out.printf("records %d (%.0f/s): %.0f ns of wall time per record%n",
                records, records * 1e9 / wall, (double) wall / records);
        System.out.printf("writer threads' CPU per record: %.0f ns (user %.0f ns, kernel %.0f ns)%n",
                (double) Arrays.stream(cpu).sum() / records, (double) Arrays.stream(user).sum() / records,
                (double) (Arrays.stream(cpu).sum() - Arrays.stream(user).sum()) / records);
        System.out.printf("GC pauses (young and full collections): %d ms, %.0f%% of the wall time, %.0f ns per record%n",
                gcMillis, gcMillis * 1e8 / wall, gcMillis * 1e6 / records);
        report(threads, before, after, returned, writeStart, writeEnd, count);
    }

    /** Time the JVM spent in collections that stop the application (G1's young and full, or Parallel's). */
    private static long gcPauseMillis() {
        long sum = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (!gc.getName().contains("Concurrent")) { // G1's "G1 Concurrent GC" runs beside the application
                sum += gc.getCollectionTime();
            }
        }
        return sum;
    }

    private static void report(int threads, TrackerStats before, TrackerStats after,
                               long[][] returned, long[][] writeStart, long[][] writeEnd, int[] count) {
        long records = after.records() - before.records();
        long fsyncs = after.syncs() - before.syncs();
        int n = Math.min(syncs.get(), MAX_EVENTS);
        long[] pw = new long[Arrays.stream(count).sum()];
        int at = 0;
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < count[t]; i++) {
                pw[at++] = writeEnd[t][i] - writeStart[t][i];
            }
        }
        System.out.printf("pwrite of a record (under the tracker's lock): %s, %.0f ns per record on average%n",
                dist(pw), Arrays.stream(pw).average().orElse(0));
        System.out.printf("fdatasyncs %d, records per fdatasync %.2f%n", fsyncs,
                fsyncs == 0 ? 0 : records / (double) fsyncs);
        if (fsyncs == 0 || n < 2) {
            return; // process mode: the only fdatasyncs are the resets' own
        }
        long[] lat = new long[n];
        long[] gap = new long[n - 1];
        long busy = 0;
        for (int i = 0; i < n; i++) {
            lat[i] = syncEnd[i] - syncStart[i];
            busy += lat[i];
            if (i > 0) {
                gap[i - 1] = syncStart[i] - syncEnd[i - 1];
            }
        }
        System.out.printf("fdatasync: %s; the disk was syncing %.0f%% of the time%n", dist(lat),
                100.0 * busy / (syncEnd[n - 1] - syncStart[0]));
        System.out.printf("idle gap, end of one fdatasync to start of the next: %s%n", dist(gap));

        // Per record: which fdatasync made it durable (the first to start after its pwrite ended),
        // how long after that sync's end the writer's preWrite returned (wake-up), and how long the
        // writer then took to append its next record (postWrite + next preWrite up to the pwrite).
        List<Long> wake = new ArrayList<>();
        List<Long> turnaround = new ArrayList<>();
        int[] batch = new int[n];
        long missedNext = 0;
        long turns = 0;
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < count[t]; i++) {
                int k = firstSyncStartingAfter(writeEnd[t][i], n);
                if (k >= n) {
                    continue;
                }
                batch[k]++;
                if (returned[t][i] >= syncEnd[k]) {
                    wake.add(returned[t][i] - syncEnd[k]);
                }
                if (i + 1 < count[t] && writeStart[t][i + 1] > returned[t][i]) {
                    turnaround.add(writeStart[t][i + 1] - returned[t][i]);
                    turns++;
                    int k2 = firstSyncStartingAfter(writeEnd[t][i + 1], n);
                    if (k2 > k + 1) {
                        missedNext++;
                    }
                }
            }
        }
        long[] sizes = Arrays.stream(batch).filter(b -> b > 0).asLongStream().toArray();
        System.out.printf("records per fdatasync, per sync: %s%n", distPlain(sizes));
        System.out.printf("wake-up, end of the covering fdatasync to preWrite returning: %s%n", dist(toArray(wake)));
        System.out.printf("turnaround, preWrite return to the next record's pwrite: %s%n", dist(toArray(turnaround)));
        System.out.printf("writers whose next record missed the very next fdatasync: %.0f%%%n",
                turns == 0 ? 0 : 100.0 * missedNext / turns);
    }

    private static int firstSyncStartingAfter(long time, int n) {
        int lo = 0;
        int hi = n;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (syncStart[mid] < time) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static long[] toArray(List<Long> xs) {
        return xs.stream().mapToLong(Long::longValue).toArray();
    }

    private static String dist(long[] nanos) {
        if (nanos.length == 0) {
            return "none";
        }
        long[] s = nanos.clone();
        Arrays.sort(s);
        return String.format("median %.1f us, p10 %.1f us, p90 %.1f us, p99 %.1f us (n=%d)",
                s[s.length / 2] / 1e3, s[s.length / 10] / 1e3, s[s.length * 9 / 10] / 1e3, s[s.length * 99 / 100] / 1e3, s.length);
    }

    private static String distPlain(long[] xs) {
        if (xs.length == 0) {
            return "none";
        }
        long[] s = xs.clone();
        Arrays.sort(s);
        return String.format("median %d, p10 %d, p90 %d, max %d (n=%d)",
                s[s.length / 2], s[s.length / 10], s[s.length * 9 / 10], s[s.length - 1], s.length);
    }

    /** Storage that times the pwrites and fdatasyncs of the snapshot files it creates. */
    private static final class TimedStorage implements Storage {
        private final Storage inner;

        TimedStorage(Storage inner) {
            this.inner = inner;
        }

        @Override
        public AppendFile create(String name, long capacity, boolean preallocate) throws IOException {
            return new TimedFile(inner.create(name, capacity, preallocate));
        }

        @Override
        public List<String> list() throws IOException {
            return inner.list();
        }

        @Override
        public ByteBuffer read(String name) throws IOException {
            return inner.read(name);
        }

        @Override
        public void sync(String name) throws IOException {
            inner.sync(name);
        }

        @Override
        public void truncate(String name, long size) throws IOException {
            inner.truncate(name, size);
        }

        @Override
        public void writeDurably(String name, ByteBuffer contents) throws IOException {
            inner.writeDurably(name, contents);
        }

        @Override
        public void rename(String from, String to) throws IOException {
            inner.rename(from, to);
        }

        @Override
        public void delete(String name) throws IOException {
            inner.delete(name);
        }

        @Override
        public void syncDirectory() throws IOException {
            inner.syncDirectory();
        }

        @Override
        public String bootId() throws IOException {
            return inner.bootId();
        }

        @Override
        public String describe() {
            return inner.describe();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }

    /** A snapshot file whose pwrites and fdatasyncs are timestamped. */
    private static final class TimedFile implements AppendFile {
        private final AppendFile inner;

        TimedFile(AppendFile inner) {
            this.inner = inner;
        }

        @Override
        public void write(long position, MemorySegment src) throws IOException {
            long start = System.nanoTime();
            inner.write(position, src);
            long[] w = lastWrite.get();
            w[0] = start;
            w[1] = System.nanoTime();
        }

        @Override
        public void sync() throws IOException {
            long start = System.nanoTime();
            inner.sync();
            long end = System.nanoTime();
            // Only the group-commit leader syncs while writers run; one leader at a time, so the
            // starts are recorded in order.
            if (recording) {
                int i = syncs.getAndIncrement();
                if (i < MAX_EVENTS) {
                    syncStart[i] = start;
                    syncEnd[i] = end;
                }
            }
        }

        @Override
        public long capacity() {
            return inner.capacity();
        }

        @Override
        public void grow(long newCapacity, boolean preallocate) throws IOException {
            inner.grow(newCapacity, preallocate);
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }
}
