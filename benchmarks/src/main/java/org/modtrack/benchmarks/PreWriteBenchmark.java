package org.modtrack.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.modtrack.engine.BlessException;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.engine.TrackerStats;
import org.modtrack.engine.WriteTicket;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * The cost of {@link ChangeTracker#preWrite} (plus the matching {@code postWrite}), in records per
 * second, and how well group commit batches: records per fdatasync.
 *
 * <p>Run it with {@code bin/jmh PreWriteBenchmark -t <writers>}; the results and the exact
 * commands are in docs/benchmarks.md. Two paths are measured:
 * <ul>
 *   <li>{@link #newFile}: every operation records a file never seen before, so every one appends a
 *       record and, in {@link Durability#POWER} mode, waits for an fdatasync (shared with the other
 *       writers by group commit). This is the expensive path.
 *   <li>{@link #recordedFile}: every operation names a file already recorded in the open period, so
 *       nothing is written; the cost is the tracker's lock and bookkeeping. This is the cheap path a
 *       busy file takes on every write after its first.
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// The journal's pwrite and fdatasync are FFM downcalls, which need native access in the forked
// JVM too. A fixed heap ceiling keeps a fast iteration's millions of tracked files from making the
// heap size (and so the GC cost) depend on the machine.
// ParallelGC, as bin/modtrack runs: every recorded file stays live until bless, and ParallelGC
// copies that live set faster than G1 (measured 1.61-1.98M vs 1.27-1.51M records/s, process, 1 writer).
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx4g", "-XX:+UseParallelGC"})
@Threads(1)
public class PreWriteBenchmark {

    /** The value of {@code dir} that means "the JVM's java.io.tmpdir". */
    public static final String TMPDIR = "java.io.tmpdir";

    /**
     * One tracker shared by all writer threads of a trial, in a fresh state directory, reset at
     * each iteration so that memory stays bounded however many iterations run.
     */
    @State(Scope.Benchmark)
    public static class Tracker {
        /** How durable a record is before preWrite returns. */
        @Param({"POWER", "PROCESS"})
        public Durability durability;

        /**
         * The directory under which each trial makes its state directory; {@value #TMPDIR} means
         * {@code System.getProperty("java.io.tmpdir")}. Its filesystem decides the fdatasync cost.
         */
        @Param({TMPDIR})
        public String dir;

        /** The tracker under test. */
        public ChangeTracker tracker;

        /** A file recorded in the open period at the start of every iteration (for {@link #recordedFile}). */
        public FileId recorded;

        private Path stateDir;

        /** Opens a tracker in a new, empty state directory: no trial sees another's files. */
        @Setup(Level.Trial)
        public void open() throws IOException {
            Path parent = Path.of(TMPDIR.equals(dir) ? System.getProperty("java.io.tmpdir") : dir);
            stateDir = Files.createTempDirectory(parent, "modtrack-bench-");
            // The defaults (1 MiB snapshots growing to 1 GiB) made explicit: a period of a fast
            // iteration holds tens of MiB of records, so the growth path is part of what is measured.
            TrackerConfig config = TrackerConfig.defaults()
                    .withDurability(durability)
                    .withSnapshotBytes(1 << 20, TrackerConfig.MAX_SNAPSHOT_BYTES);
            tracker = ChangeTracker.open(stateDir, config);
            recorded = FileId.ofPath("/bench/recorded");
        }

        /**
         * Forgets every file recorded so far, outside the measurement: without this the tracker
         * would keep every file of every iteration in memory and on disk. Two query-and-bless
         * rounds, because a bless keeps the blessed period's own files until the next one; after the
         * second, nothing recorded is kept and each iteration starts from the same empty state.
         */
        @Setup(Level.Iteration)
        public void reset() throws IOException, InterruptedException, BlessException {
            for (int round = 0; round < 2; round++) {
                QueryResult result = tracker.query();
                tracker.bless(result.snapshot());
            }
            // Record the cheap path's file in the new open period, so that every measured
            // preWrite of it finds it already recorded.
            WriteTicket ticket = tracker.preWrite(recorded);
            tracker.postWrite(ticket.token());
        }

        /** Closes the tracker and removes its state directory. */
        @TearDown(Level.Trial)
        public void close() throws IOException {
            tracker.close();
            try (Stream<Path> files = Files.walk(stateDir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** One writer thread: makes the file names no one has recorded before. */
    @State(Scope.Thread)
    public static class Writer {
        private String prefix;
        private long next;

        /** Gives each thread its own directory in the names, so names never collide across threads. */
        @Setup(Level.Trial)
        public void name(ThreadParams thread) {
            prefix = "/bench/t" + thread.getThreadIndex() + "/f";
        }

        /** A path never returned before by this writer (the count continues across iterations). */
        public FileId nextNewFile() {
            return FileId.ofPath(prefix + next++);
        }
    }

    /**
     * Records and fdatasyncs of the tracker over one iteration, as JMH secondary results
     * ({@code newFile:records}, {@code newFile:fdatasyncs}): their ratio is the records per fdatasync.
     *
     * <p>The counts are the tracker's, not a thread's, so only writer thread 0 reports them and the
     * others report zero: JMH sums event counters over threads (and over iterations), and the sums
     * are then exactly the tracker's totals. The window is thread 0's iteration, which includes the
     * few operations JMH runs outside the timed part while threads start and stop; it is the same
     * window for both counts, so their ratio is unaffected.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class SyncCounters {
        /** Journal records appended during the iteration (reported by thread 0 only). */
        public long records;

        /** fdatasyncs of group commit during the iteration (reported by thread 0 only). */
        public long fdatasyncs;

        private boolean reporter;
        private TrackerStats before;

        /** Takes the baseline after the tracker's reset (the parameter makes JMH set that up first). */
        @Setup(Level.Iteration)
        public void begin(Tracker t, ThreadParams thread) {
            reporter = thread.getThreadIndex() == 0;
            records = 0;
            fdatasyncs = 0;
            before = reporter ? t.tracker.stats() : null;
        }

        /** Computes the deltas and prints the iteration's ratio next to JMH's own line. */
        @TearDown(Level.Iteration)
        public void end(Tracker t) {
            if (!reporter) {
                return;
            }
            TrackerStats after = t.tracker.stats();
            records = after.records() - before.records();
            fdatasyncs = after.syncs() - before.syncs();
            String ratio = fdatasyncs == 0 ? "n/a (no fdatasync)" : String.format("%.2f", (double) records / fdatasyncs);
            System.out.printf("  [tracker] %s: %d records, %d fdatasyncs, records/fdatasync %s%n",
                    t.durability, records, fdatasyncs, ratio);
        }
    }

    /**
     * The expensive path: preWrite of a file never seen before (an append and, in power mode, a
     * wait for a shared fdatasync), then postWrite. The path string and its {@link FileId} are made
     * inside the operation, as any caller would have to.
     */
    @Benchmark
    public boolean newFile(Tracker t, Writer w, SyncCounters counters) throws IOException {
        WriteTicket ticket = t.tracker.preWrite(w.nextNewFile());
        return t.tracker.postWrite(ticket.token());
    }

    /**
     * The cheap path: preWrite of a file already recorded in the open period (no I/O), then
     * postWrite. Single-threaded by default; {@code -t} overrides it.
     */
    @Benchmark
    @Threads(1)
    public boolean recordedFile(Tracker t) throws IOException {
        WriteTicket ticket = t.tracker.preWrite(t.recorded);
        return t.tracker.postWrite(ticket.token());
    }
}
