package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.source.linux.WorkloadChecker.Observation;
import org.modtrack.source.linux.WorkloadChecker.Report;
import org.modtrack.source.linux.WorkloadChecker.Span;
import org.modtrack.testing.LoopMount;
import org.modtrack.testing.Seeded;

/**
 * Many real writer processes against the Linux source, checked against the writers' own logs: no
 * change is missed across query/bless cycles, reads of untouched files are never reported, and
 * SIGKILLed trackers lose nothing they recorded and never claim continuity across a restart.
 */
@ExtendWith(Seeded.class)
class WorkloadTest {
    private static final long MIB = 1 << 20;
    private static final int WRITERS = 8;
    private static final int READ_ONLY_FILES = 5;
    private static final long WRITER_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(120);
    /** How long writers asked to stop may take: one operation each, on a busy machine. */
    private static final long STOP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** About how many bytes one log line takes: progress is read from the logs' sizes. */
    private static final int LOG_LINE_BYTES = 55;

    @TempDir
    Path scratch;

    @BeforeAll
    static void requireLoopMountsAndPython() throws Exception {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "WorkloadTest skipped: " + LoopMount.unavailableReason("ext4").get());
        assumeTrue(ChildScript.available(), "WorkloadTest skipped: python3 (with mmap) is not installed");
        requireSameMonotonicClock();
    }

    /** The writers' time.monotonic_ns() and our System.nanoTime() must be one clock (CLOCK_MONOTONIC). */
    private static void requireSameMonotonicClock() throws Exception {
        long before = System.nanoTime();
        Process p = new ProcessBuilder(ChildScript.PYTHON, "-c", "import time; print(time.monotonic_ns())").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        long after = System.nanoTime();
        long python = Long.parseLong(out);
        assertTrue(before <= python && python <= after, () -> "System.nanoTime() is not CLOCK_MONOTONIC here: "
                + before + " <= " + python + " <= " + after + " does not hold");
    }

    @Test
    void crashFreeExt4(SplittableRandom random) throws Exception {
        crashFree("ext4", 512 * MIB, 50_000, 20, random.nextLong());
    }

    @Test
    void crashFreeExt4WithResultsThatNameDirectories(SplittableRandom random) throws Exception {
        crashFree("ext4", 512 * MIB, 20_000, 10, random.nextLong(),
                LinuxSourceOptions.defaults().withDetail(LinuxSourceOptions.Detail.DIRECTORIES));
    }

    @Test
    void crashFreeExt4WithFilesNamedByAScan(SplittableRandom random) throws Exception {
        crashFree("ext4", 512 * MIB, 50_000, 20, random.nextLong(),
                LinuxSourceOptions.defaults().withNaming(LinuxSourceOptions.Naming.SCAN));
    }

    /**
     * The writers pace themselves, so that changes keep coming through all 20 results and their
     * checkpoints, as on a busy server, rather than mostly before the first.
     */
    @Test
    void crashFreeExt4UnderSteadyWriting(SplittableRandom random) throws Exception {
        crashFree("ext4", 512 * MIB, 50_000, 20, random.nextLong(), LinuxSourceOptions.defaults(), Layout.DIRECTORIES,
                SPREAD_PAUSE_MICROS);
    }

    /** Opens as the only hook (kernels 6.1 to 6.13), with directory records (the default). */
    @Test
    void crashFreeExt4WithOpenPermissionEvents(SplittableRandom random) throws Exception {
        crashFree("ext4", 512 * MIB, 50_000, 20, random.nextLong(),
                LinuxSourceOptions.defaults().withHook(LinuxSourceOptions.Hook.OPEN_PERM));
    }

    @Test
    void crashFreeXfs(SplittableRandom random) throws Exception {
        assumeTrue(LoopMount.unavailableReason("xfs").isEmpty(), () -> "skipped: " + LoopMount.unavailableReason("xfs").get());
        crashFree("xfs", 320 * MIB, 5_000, 3, random.nextLong());
    }

    @Test
    void crashFreeBtrfs(SplittableRandom random) throws Exception {
        assumeTrue(LoopMount.unavailableReason("btrfs").isEmpty(),
                () -> "skipped: " + LoopMount.unavailableReason("btrfs").get());
        crashFree("btrfs", 128 * MIB, 5_000, 3, random.nextLong());
    }

    /**
     * Each writer's directory a btrfs subvolume below the tracked root: its files have a device and
     * an fsid of their own, and are still the tracked file system's.
     */
    @Test
    void crashFreeBtrfsWithEachWriterInASubvolume(SplittableRandom random) throws Exception {
        assumeTrue(LoopMount.unavailableReason("btrfs").isEmpty(),
                () -> "skipped: " + LoopMount.unavailableReason("btrfs").get());
        crashFree("btrfs", 128 * MIB, 10_000, 6, random.nextLong(), LinuxSourceOptions.defaults(), Layout.SUBVOLUMES, 0);
    }

    /**
     * Each writer's directory a bind mount inside the tracked tree of a directory outside it: the
     * kernel names what the writers change by its path outside the tree, and results must name it
     * below the mounts.
     */
    @Test
    void crashFreeExt4WithEachWriterInABindMountOfADirectoryOutsideTheTree(SplittableRandom random) throws Exception {
        crashFree("ext4", 512 * MIB, 20_000, 8, random.nextLong(), LinuxSourceOptions.defaults(), Layout.BIND_MOUNTS,
                SPREAD_PAUSE_MICROS);
    }

    /**
     * A writer's pause between operations where its operations must spread over every result:
     * unpaused, 8 writers finish 20,000 operations before a first result that reads their
     * directories whole has been applied, and the later results have nothing left to name.
     */
    private static final int SPREAD_PAUSE_MICROS = 500;

    /** Where the writers' directories are. */
    private enum Layout {
        /** Directories of the tracked root. */
        DIRECTORIES,
        /** btrfs subvolumes below the tracked root. */
        SUBVOLUMES,
        /** Directories outside the tracked tree ({@code other/wN}), each bind-mounted inside it ({@code r/wN}). */
        BIND_MOUNTS
    }

    private static long wallNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** {@code cycles} query/bless cycles spread over {@code ops} operations of 8 writers; the last after they exited. */
    private void crashFree(String fsType, long bytes, int ops, int cycles, long seed) throws Exception {
        crashFree(fsType, bytes, ops, cycles, seed, LinuxSourceOptions.defaults());
    }

    private void crashFree(String fsType, long bytes, int ops, int cycles, long seed, LinuxSourceOptions options)
            throws Exception {
        crashFree(fsType, bytes, ops, cycles, seed, options, Layout.DIRECTORIES, 0);
    }

    private void crashFree(String fsType, long bytes, int ops, int cycles, long seed, LinuxSourceOptions options,
                           Layout layout, int pauseMicros) throws Exception {
        Path state = Files.createDirectory(scratch.resolve("state"));
        List<Observation> results = new ArrayList<>();
        int dropped = 0;
        int readOnlyReported = 0;
        long began;
        long ended;
        MirrorConsumer mirror;
        String difference;
        long quietReads = 0;
        long quietUnchanged = 0;
        ScanLog scanLog = new ScanLog();
        try (scanLog; LoopMount m = LoopMount.create(fsType, bytes)) {
            Path root = layout == Layout.BIND_MOUNTS ? m.mountPoint().resolve("r") : m.mountPoint();
            try (AutoCloseable mounts = prepare(root, layout);
                 LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), options)) {
                mirror = MirrorConsumer.copyOf(root); // the consumer's first copy, once tracking has begun
                try (Writers writers = Writers.start(root, scratch, seed, ops, pauseMicros)) {
                began = System.nanoTime();
                for (int cycle = 1; cycle <= cycles; cycle++) {
                    if (cycle < cycles) {
                        writers.awaitProgress((long) ops * cycle / cycles);
                    } else {
                        writers.awaitExit();
                    }
                    long start = System.nanoTime();
                    long startWall = wallNanos();
                    LinuxResult r = source.query();
                    long returned = System.nanoTime();
                    long returnedWall = wallNanos();
                    results.add(new Observation(start, returned, true, r.continuity().intact(), r.recovered(),
                            r.changes()));
                    dropped += r.readOnlyDropped();
                    readOnlyReported += r.readOnlyReported();
                    assertTrue(r.continuity().intact(), () -> "result " + results.size() + ": " + r.continuity());
                    assertFalse(r.recovered(), "result " + results.size() + " says recovered without a crash");
                    long readsBefore = mirror.reads();
                    long unchangedBefore = mirror.unchangedReads();
                    mirror.apply(r.changes(), r.listsByName(), startWall, returnedWall);
                    if (cycle == cycles) { // made with every writer gone: nothing changed while it was made and applied
                        quietReads += mirror.reads() - readsBefore;
                        quietUnchanged += mirror.unchangedReads() - unchangedBefore;
                    }
                    source.bless(r.snapshot());
                }
                ended = System.nanoTime();
                }
                difference = mirror.differenceFromFileSystem();
            }
        }
        Report report = WorkloadChecker.check(WorkloadChecker.readLogs(Writers.logs(scratch)), results,
                List.of(new Span(Long.MIN_VALUE, Long.MAX_VALUE)));
        System.out.printf("WorkloadTest %s crash-free (%s, %s records, hook %s), seed %d: %d ops in %d ms, %d results; %s;"
                + " readOnlyDropped %d, readOnlyReported %d%n", fsType + (layout == Layout.DIRECTORIES ? "" : " (writers in " + layout + ")"), options.detail() + " named by " + options.naming(), options.granularity(),
                options.hook() == null ? "best" : options.hook().cliName(), seed, report.changes() + report.reads(),
                TimeUnit.NANOSECONDS.toMillis(ended - began), results.size(), report.summary(), dropped, readOnlyReported);
        report.firstFalsePositives().forEach(f -> System.out.println("  false positive: " + f));
        System.out.printf("  a consumer applying each result in order: %d reads, %d of them of a file it had as it was"
                + " (%.2f%%; of those, %d a carried write's second report, %d a version written after the query of the"
                + " result that read it returned, %d one written while that query ran); in the last result, made once the"
                + " writers exited: %d reads, %d unchanged%n", mirror.reads(), mirror.unchangedReads(),
                100.0 * mirror.unchangedReads() / Math.max(1, mirror.reads()), mirror.unchangedAfterCarry(),
                mirror.unchangedReadEarly(), mirror.unchangedWrittenDuringQuery(), quietReads, quietUnchanged);
        System.out.println("  unchanged reads by entry: " + mirror.unchangedByEntry() + "; avoidable: "
                + (mirror.unchangedReads() - mirror.unchangedReadsInevitable()) + ", of them written in the scan's margin before"
                + " their query: " + mirror.unchangedWrittenInMargin());
        if (report.missed() > 0) {
            printEntriesTouchingMisses(report, results, scanLog);
        }
        assertEquals(0, report.missed(), () -> "missed changes (seed " + seed + "):\n" + String.join("\n",
                report.firstMisses()));
        assertEquals(0, report.readFilesReported(), () -> "files that were only read were reported (seed " + seed + ")");
        assertEquals(0, mirror.repeatedPaths(), "entries that repeated a path of their result (seed " + seed + ")");
        explainDifference(difference, results);
        assertEquals(null, difference, "the consumer's mirror after the last result (seed " + seed + ")");
        if (fsType.equals("ext4") && layout == Layout.DIRECTORIES
                && options.withNaming(LinuxSourceOptions.defaults().naming()).equals(LinuxSourceOptions.defaults())) {
            // Precision with the defaults: of the files the consumer re-reads, at most 1% are ones it
            // had as they are, not counting the versions written after a checkpoint (inevitable).
            // Those written within the watermark's margin before a checkpoint count: the next
            // result's scan names them again (Reconciliation.MARGIN_NANOS).
            long avoidable = mirror.unchangedReads() - mirror.unchangedReadsInevitable();
            assertTrue(avoidable * 100 <= mirror.reads(), () -> avoidable + " of " + mirror.reads()
                    + " reads were of a file the consumer had as it is (seed " + seed + "): more than 1%");
        }
    }

    /**
     * For a miss: every entry of every result at or below the missed operation's paths, with each
     * result's times, and every scan of their directories ({@code scans}: null where the tracker ran
     * in another process).
     */
    private void printEntriesTouchingMisses(Report report, List<Observation> results, ScanLog scans) throws IOException {
        List<WorkloadChecker.Op> ops = WorkloadChecker.readLogs(Writers.logs(scratch));
        // When each query ran, to place the operations of a miss between the checkpoints.
        for (int j = 0; j < results.size(); j++) {
            System.out.println("  result " + j + " [" + results.get(j).start() + ".." + results.get(j).returned() + "]: "
                    + results.get(j).changes().size() + " entries");
        }
        for (String miss : report.firstMisses()) {
            Matcher m = Pattern.compile("kind=(\\w+), a=([^,]+), b=([^\\]]+)\\]").matcher(miss);
            if (!m.find()) {
                continue;
            }
            System.out.println("  missed " + m.group(1) + " " + m.group(2) + (m.group(3).equals("null") ? "" : " " + m.group(3))
                    + " at " + miss.substring(miss.indexOf("end=") + 4, miss.indexOf(", kind")));
            for (WorkloadChecker.Op op : ops) {
                if (m.group(2).equals(op.a()) || m.group(2).equals(op.b())) {
                    System.out.println("    operation on it: " + op);
                }
            }
            for (String path : List.of(m.group(2), m.group(3))) {
                Path directory = path.equals("null") ? null : Path.of(path).getParent();
                for (String line : scans == null || directory == null ? List.<String>of() : scans.of(directory.toString())) {
                    System.out.println("    " + line);
                }
            }
            for (int j = 0; j < results.size(); j++) {
                Observation r = results.get(j);
                for (PathChange c : r.changes()) {
                    for (String path : List.of(m.group(2), m.group(3))) {
                        if (ResultPlanner.isAtOrBelow(path, c.path()) || c.from() != null && ResultPlanner.isAtOrBelow(path, c.from())) {
                            System.out.println("    result " + j + " [" + r.start() + ".." + r.returned() + "]: " + c);
                        }
                    }
                }
            }
        }
    }

    /**
     * What the result scans did, as {@link DirectoryScan} logs it at FINE (each directory, when it
     * was listed, what it named, which names left it since the checkpoint), kept for a miss's
     * report: when each scan read the missed file's directory. The last {@link #KEPT} lines.
     */
    private static final class ScanLog extends Handler implements AutoCloseable {
        private static final int KEPT = 100_000;
        private final Logger logger = Logger.getLogger(DirectoryScan.class.getName());
        private final Level levelBefore = logger.getLevel();
        private final Deque<String> lines = new ArrayDeque<>();

        ScanLog() {
            setLevel(Level.FINE);
            logger.setLevel(Level.FINE);
            logger.addHandler(this);
        }

        @Override
        public synchronized void publish(LogRecord record) {
            if (record.getLevel() == Level.FINE) {
                lines.addLast(record.getMessage());
                if (lines.size() > KEPT) {
                    lines.removeFirst();
                }
            }
        }

        /** The lines about the scans of {@code directory}. */
        synchronized List<String> of(String directory) {
            String scanned = "scanned " + directory + " [";
            return lines.stream().filter(line -> line.startsWith(scanned)).toList();
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
            logger.setLevel(levelBefore);
        }
    }

    @Test
    void sigkilledTrackersLoseNothingTheyRecordedAndReportEveryGap(SplittableRandom random) throws Exception {
        sigkilled(random.nextLong(), null);
    }

    @Test
    void sigkilledTrackersWithOpenPermissionEventsLoseNothing(SplittableRandom random) throws Exception {
        sigkilled(random.nextLong(), LinuxSourceOptions.Hook.OPEN_PERM);
    }

    /**
     * The same, with a queue keeper: each new tracker takes the notification group over, so every
     * first result after a kill is intact without a walk (no reconciliation), and nothing is missed.
     */
    @Test
    void sigkilledTrackersWithAKeptQueueTakeOverWithoutAGap(SplittableRandom random) throws Exception {
        sigkilled(random.nextLong(), null, true);
    }

    /**
     * A tracker SIGKILLed in the middle of a directory workload (half the directories renamed, the
     * others emptied file by file and removed), with a kept queue: the next one names every
     * directory exactly, and rescans nothing, though the reader read many deletions after their
     * directory was gone (they are first recorded without a path, and named when the directory's
     * own deletion comes: that name must be in the journal, or the restart has none).
     */
    @Test
    void aTrackerKilledDuringADirectoryWorkloadIsTakenOverWithoutARescan() throws Exception {
        // A death while the reader saves its orphaned deletions (after each batch of events) makes
        // the takeover a gap, walked instead, by design (docs/linux-source.md, Restarts without a
        // gap): such a run says nothing about the seamless path, so it is run again, at most twice.
        for (int attempt = 1; !takenOverWithoutARescan(attempt); attempt++) {
            assertTrue(attempt < 3, "every kill landed while the orphaned deletions were being saved");
            KeptQueue.releaseIfRunning(scratch.resolve(KEPT_STATE));
            deleteTree(scratch.resolve(KEPT_STATE));
            Files.deleteIfExists(scratch.resolve("tracker.err"));
        }
    }

    /** One run of {@link #aTrackerKilledDuringADirectoryWorkloadIsTakenOverWithoutARescan}; false if the kill made a gap. */
    private boolean takenOverWithoutARescan(int attempt) throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 256 * MIB)) {
            Path root = m.mountPoint();
            ChildScript.command(root, ChildScript.PYTHON, "-c", """
                    import os, sys
                    r = sys.argv[1] + "/churn"
                    os.mkdir(r)
                    for d in range(100):
                        os.mkdir("%s/d%d" % (r, d))
                        for f in range(100):
                            open("%s/d%d/f%d" % (r, d, f), "w").close()
                    os.sync()
                    """, root.toString());
            TrackerProcess.Client tracker = keptQueueTracker(root);
            try {
                tracker.bless(tracker.query().snapshot());
                Process churn = new ProcessBuilder(ChildScript.PYTHON, "-c", """
                        import os, sys, time
                        r = sys.argv[1] + "/churn"
                        for d in range(100):
                            if d % 2 == 0:
                                os.rename("%s/d%d" % (r, d), "%s/r%d" % (r, d))
                            else:
                                for f in range(100):
                                    os.unlink("%s/d%d/f%d" % (r, d, f))
                                os.rmdir("%s/d%d" % (r, d))
                            time.sleep(0.03)
                        """, root.toString()).redirectErrorStream(true).redirectOutput(scratch.resolve("churn.out").toFile())
                        .start();
                Thread.sleep(1_000);
                tracker.kill();
                tracker = keptQueueTracker(root);
                assertTrue(churn.waitFor(60, TimeUnit.SECONDS) && churn.exitValue() == 0, "the directory workload ran");
                TrackerProcess.Result r = tracker.query();
                if (r.reconciled() != null && Files.readString(scratch.resolve("tracker.err")).contains("were not all saved")) {
                    System.err.println("attempt " + attempt + ": the kill landed while orphaned deletions were saved: a gap");
                    return false;
                }
                assertTrue(r.intact() && r.recovered() && r.reconciled() == null, r.reason() + " " + r.reconciled());
                Map<String, String> said = new TreeMap<>();
                for (PathChange c : r.changes()) {
                    said.put(root.relativize(Path.of(c.path())).toString(), c.kind() + (c.from() == null ? ""
                            : " from " + root.relativize(Path.of(c.from()))));
                }
                Map<String, String> expected = new TreeMap<>();
                for (int d = 0; d < 100; d++) {
                    expected.put(d % 2 == 0 ? "churn/r" + d : "churn/d" + d,
                            d % 2 == 0 ? "RENAMED from churn/d" + d : "DELETED");
                }
                assertEquals(expected, said);
                return true;
            } finally {
                tracker.close();
                KeptQueue.releaseIfRunning(scratch.resolve(KEPT_STATE));
            }
        }
    }

    private static void deleteTree(Path top) throws IOException {
        if (!Files.exists(top)) {
            return;
        }
        try (var all = Files.walk(top)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The state directory of {@link #keptQueueTracker}'s trackers, in the scratch directory. */
    private static final String KEPT_STATE = "state";

    /**
     * A tracker in its own JVM whose notification queue a keeper holds for 60 s after it dies, with
     * its state and its stderr in the scratch directory: the next one takes the queue over.
     */
    private TrackerProcess.Client keptQueueTracker(Path root) throws IOException, InterruptedException {
        return new TrackerProcess.Client(root, scratch.resolve(KEPT_STATE), scratch.resolve("tracker.err"),
                (LinuxSourceOptions.Hook) null, List.of("-D" + TrackerProcess.KEEP_QUEUE_SECONDS + "=60"));
    }

    /**
     * Files made and removed at once (as watchman's cookies are) before a SIGKILL, with a kept
     * queue, twice in a row: each restart names what changed and rescans nothing. The removal's
     * nameless record (the link count falling) is journaled after the file's named ones, and a
     * restart that let it erase the name had no path to remove the file at but the whole root.
     */
    @Test
    void filesMadeAndRemovedBeforeASigkillAreNamedAfterEachTakeover() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            TrackerProcess.Client tracker = keptQueueTracker(root);
            try {
                tracker.bless(tracker.query().snapshot());
                for (int i = 0; i < 3; i++) {
                    Path cookie = root.resolve(".cookie-" + i);
                    Files.writeString(cookie, "x");
                    Files.delete(cookie);
                    Files.writeString(root.resolve("kept-" + i), "y");
                }
                tracker.query(); // not blessed: every result below holds the same changes
                for (int kill = 1; kill <= 2; kill++) {
                    tracker.kill();
                    tracker = keptQueueTracker(root);
                    TrackerProcess.Result r = tracker.query();
                    Set<String> named = new TreeSet<>();
                    for (PathChange c : r.changes()) {
                        assertNotEquals(PathChange.Kind.RESCAN, c.kind(), "after kill " + kill + ": " + r.changes());
                        named.add(root.relativize(Path.of(c.path())).toString());
                    }
                    assertTrue(r.intact() && r.recovered(), r.reason());
                    assertTrue(named.containsAll(Set.of("kept-0", "kept-1", "kept-2")), "after kill " + kill + ": " + named);
                }
            } finally {
                tracker.close();
                KeptQueue.releaseIfRunning(scratch.resolve(KEPT_STATE));
            }
        }
    }

    /**
     * Prints what the results said about the path where the consumer's mirror differs from the file
     * system, and about every path an operation on it renamed to or from.
     */
    private void explainDifference(String difference, List<Observation> results) throws IOException {
        if (difference == null) {
            return;
        }
            String path = difference.substring(0, difference.indexOf(':'));
            // The paths of every operation on it, so that the objects renamed to or from it are followed too.
            List<String> related = new ArrayList<>(List.of(path));
            for (WorkloadChecker.Op op : WorkloadChecker.readLogs(Writers.logs(scratch))) {
                if (path.equals(op.a()) || path.equals(op.b())) {
                    System.out.println("  operation on " + path + ": " + op);
                    for (String p : new String[] {op.a(), op.b()}) {
                        if (p != null && !related.contains(p)) {
                            related.add(p);
                        }
                    }
                }
            }
            String dir = path.substring(0, path.lastIndexOf('/'));
            List<PathChange> last = results.getLast().changes();
            last.stream().filter(c -> c.path().startsWith(dir + "/")).forEach(c -> System.out.println("  last result in " + dir + ": " + c));
            for (int j = 0; j < results.size(); j++) {
                Observation r = results.get(j);
                for (PathChange c : r.changes()) {
                    for (String p : related) {
                        if (ResultPlanner.isAtOrBelow(p, c.path()) || c.path().startsWith(p + "/") && c.kind() != PathChange.Kind.MODIFIED
                                || (c.from() != null && ResultPlanner.isAtOrBelow(p, c.from()))) {
                            System.out.println("  result " + j + " [" + r.start() + ".." + r.returned() + "] touching " + p + ": " + c);
                            break;
                        }
                    }
                }
            }
    }

    /** Five SIGKILLs of a tracker in its own JVM ({@code hook} null: the best the kernel offers). */
    private void sigkilled(long seed, LinuxSourceOptions.Hook hook) throws Exception {
        sigkilled(seed, hook, false);
    }

    private void sigkilled(long seed, LinuxSourceOptions.Hook hook, boolean keeper) throws Exception {
        List<String> jvm = keeper ? List.of("-D" + TrackerProcess.KEEP_QUEUE_SECONDS + "=60") : List.of();
        int restarts = 5;
        Path state = Files.createDirectory(scratch.resolve("state"));
        Path stderr = scratch.resolve("tracker.err");
        List<Observation> results = new ArrayList<>();
        List<Span> spans = new ArrayList<>();
        List<String> afterRestart = new ArrayList<>();
        MirrorConsumer[] mirror = new MirrorConsumer[1];
        String difference;
        long began;
        try (LoopMount m = LoopMount.create("ext4", 512 * MIB)) {
            Path root = m.mountPoint();
            fill(root);
            TrackerProcess.Client tracker = new TrackerProcess.Client(root, state, stderr, hook, jvm);
            mirror[0] = MirrorConsumer.copyOf(root); // the consumer's first copy, once tracking has begun
            // Writers that would outlast any run of the test, stopped once the last tracker has
            // answered twice: on a slow or busy machine each restart takes seconds (a new JVM), and
            // a fixed number of operations ended before the later kills, which then found nothing
            // written while the tracker was down.
            try (Writers writers = Writers.start(root, scratch, seed, 8_000_000, 4000)) {
                began = System.nanoTime();
                for (int run = 0; ; run++) {
                    for (int cycle = 0; cycle < 2; cycle++) {
                        Thread.sleep(300);
                        TrackerProcess.Result r = observe(tracker, results, true, mirror);
                        if (run > 0 && cycle == 0) {
                            afterRestart.add(r.recovered() + " " + r.intact() + " " + r.reason() + " " + r.reconciled());
                            // A result was blessed before the kill, in this boot: a walk finds what
                            // changed unseen, and the result names it, with continuity intact. With a
                            // keeper, the kept queue holds every change: no walk at all.
                            if (keeper) {
                                assertTrue(r.intact() && r.reconciled() == null,
                                        "the first result after restart " + run + " took the kept queue over: "
                                                + r.reason() + " " + r.reconciled());
                            } else {
                                assertTrue(r.intact() && r.reconciled() != null,
                                        "the first result after restart " + run + " is reconciled: " + r.reason());
                            }
                            assertTrue(r.recovered(), "the first result after SIGKILL " + run + " is not recovered");
                        }
                    }
                    if (run == restarts) {
                        break;
                    }
                    Thread.sleep(200);
                    observe(tracker, results, false, mirror); // recorded, not blessed: must come again
                    Thread.sleep(200);
                    long killed = System.nanoTime();
                    tracker.kill();
                    spans.add(new Span(tracker.ready(), killed));
                    Thread.sleep(300); // writes no tracker sees
                    tracker = new TrackerProcess.Client(root, state, stderr, hook, jvm);
                }
                writers.stop();
                observe(tracker, results, true, mirror);
                spans.add(new Span(tracker.ready(), Long.MAX_VALUE));
                difference = mirror[0].differenceFromFileSystem();
            } finally {
                tracker.close();
                KeptQueue.releaseIfRunning(state); // the keeper would hold the group for its keep time
            }
        } catch (IOException | AssertionError e) {
            if (Files.exists(stderr)) {
                System.out.println("tracker stderr:\n" + Files.readString(stderr));
            }
            throw e;
        }
        long took = System.nanoTime() - began;
        List<WorkloadChecker.Op> ops = WorkloadChecker.readLogs(Writers.logs(scratch));
        for (int k = 0; k + 1 < spans.size(); k++) {
            long down = spans.get(k).to();
            long up = spans.get(k + 1).from();
            // What the test is about: changes made while no tracker ran.
            long unseen = ops.stream().filter(op -> op.start() > down && op.end() < up && !WorkloadChecker.READS.contains(op.kind())).count();
            assertTrue(unseen > 0, "no writer changed anything while no tracker ran, after kill " + (k + 1) + " (seed " + seed + ")");
        }
        Report report = WorkloadChecker.check(ops, results, spans);
        System.out.printf("WorkloadTest SIGKILL (hook %s%s), seed %d: %d ops in %d ms, %d restarts, %d results; %s%n",
                hook == null ? "best" : hook.cliName(), keeper ? ", kept queue" : "", seed, report.changes() + report.reads(), TimeUnit.NANOSECONDS.toMillis(took), restarts, results.size(),
                report.summary());
        afterRestart.forEach(a -> System.out.println("  after a restart: recovered intact reason reconciled = " + a));
        System.out.printf("  a consumer applying each result in order: %d reads, %d of them of a file it had as it was%n",
                mirror[0].reads(), mirror[0].unchangedReads());
        if (report.missed() > 0) {
            spans.forEach(span -> System.out.println("  a tracker ran from " + span.from() + " to " + span.to()));
            printEntriesTouchingMisses(report, results, null); // the tracker's scans ran in its own process
        }
        assertEquals(0, report.missed(), () -> "missed changes (seed " + seed + "):\n" + String.join("\n",
                report.firstMisses()));
        assertEquals(0, mirror[0].repeatedPaths(), "entries that repeated a path of their result (seed " + seed + ")");
        explainDifference(difference, results);
        assertEquals(null, difference, "the consumer's mirror after the last result (seed " + seed + ")");
    }

    /**
     * Queries; the consumer applies the result in order (and, when continuity was lost, reads the
     * whole root again), then blesses it, or, with {@code bless} false, loses what it applied.
     */
    private static TrackerProcess.Result observe(TrackerProcess.Client tracker, List<Observation> results, boolean bless,
                                                 MirrorConsumer[] mirror) throws IOException, InterruptedException {
        long start = System.nanoTime();
        long startWall = wallNanos();
        TrackerProcess.Result r = tracker.query();
        long returned = System.nanoTime();
        long returnedWall = wallNanos();
        results.add(new Observation(start, returned, bless, r.intact(), r.recovered(), r.changes()));
        MirrorConsumer before = mirror[0].copy();
        mirror[0].apply(r.changes(), r.listsByName(), startWall, returnedWall);
        if (!r.intact()) {
            mirror[0].rescanRoot();
        }
        if (bless) {
            tracker.bless(r.snapshot());
        } else {
            mirror[0] = before;
        }
        return r;
    }

    /**
     * One directory per writer, with files it will only read; written and synced by a child process,
     * and older than the margin ({@link LinuxSourceTest#PAST_THE_MARGIN_MILLIS}) when this returns: a scan (or a walk) names
     * every file changed within that margin before the consumer's first copy, and these would count
     * as files only read that a result reported.
     */
    /**
     * The writers' directories, laid out as {@code layout} says, with their read-only files; closing
     * what it returns unmounts what it mounted.
     */
    private static AutoCloseable prepare(Path root, Layout layout) throws Exception {
        Files.createDirectories(root);
        List<Path> mounted = new ArrayList<>();
        AutoCloseable unmount = () -> {
            for (Path dir : mounted) {
                ChildScript.command(root, "umount", dir.toString());
            }
        };
        try {
            for (int w = 0; w < WRITERS; w++) {
                Path dir = root.resolve("w" + w);
                switch (layout) {
                    case DIRECTORIES -> { }
                    case SUBVOLUMES -> ChildScript.command(root, "btrfs", "subvolume", "create", dir.toString());
                    case BIND_MOUNTS -> {
                        Path outside = Files.createDirectories(root.resolveSibling("other").resolve("w" + w));
                        Files.createDirectory(dir);
                        ChildScript.command(root, "mount", "--bind", outside.toString(), dir.toString());
                        mounted.add(dir);
                    }
                }
            }
            fill(root);
        } catch (Exception e) {
            try {
                unmount.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return unmount;
    }

    /** Each writer's read-only files. */
    private static void fill(Path root) throws Exception {
        ChildScript.command(root, ChildScript.PYTHON, "-c", """
                import os, sys
                for w in range(%d):
                    d = os.path.join(sys.argv[1], "w%%d" %% w)
                    os.makedirs(d, exist_ok=True)
                    for i in range(%d):
                        with open(os.path.join(d, "ro_%%d" %% i), "w") as f:
                            f.write("read me %%d\\n" %% i * 100)
                os.sync()
                """.formatted(WRITERS, READ_ONLY_FILES), root.toString());
        Thread.sleep(LinuxSourceTest.PAST_THE_MARGIN_MILLIS);
    }

    /** The writer processes; closing kills any still running. */
    static final class Writers implements AutoCloseable {
        private final List<Process> processes;
        private final List<Path> logs;
        private final long deadline;

        private Writers(List<Process> processes, List<Path> logs) {
            this.processes = processes;
            this.logs = logs;
            this.deadline = System.nanoTime() + WRITER_TIMEOUT_NANOS;
        }

        /** Starts {@link #WRITERS} writers sharing {@code ops} operations, each pausing {@code pauseMicros} between them. */
        static Writers start(Path root, Path scratch, long seed, int ops, int pauseMicros) throws IOException {
            Path script = scratch.resolve("writer.py");
            try (InputStream in = WorkloadTest.class.getResourceAsStream("writer.py")) {
                Files.copy(in, script);
            }
            List<Process> processes = new ArrayList<>();
            List<Path> logs = new ArrayList<>();
            Writers writers = new Writers(processes, logs);
            SplittableRandom seeds = new SplittableRandom(seed);
            try {
                for (int w = 0; w < WRITERS; w++) {
                    Path log = scratch.resolve("writer-" + w + ".log");
                    logs.add(log);
                    processes.add(new ProcessBuilder(ChildScript.PYTHON, script.toString(),
                            root.resolve("w" + w).toString(), Long.toString(seeds.nextLong() & Long.MAX_VALUE),
                            Integer.toString(ops / WRITERS), log.toString(), Integer.toString(pauseMicros))
                            .redirectErrorStream(true).redirectOutput(scratch.resolve("writer-" + w + ".out").toFile())
                            .start());
                }
            } catch (IOException | RuntimeException e) {
                writers.close();
                throw e;
            }
            return writers;
        }

        static List<Path> logs(Path scratch) {
            List<Path> logs = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                logs.add(scratch.resolve("writer-" + w + ".log"));
            }
            return logs;
        }

        /** Waits until the logs hold about {@code ops} operations, or every writer exited. */
        void awaitProgress(long ops) throws Exception {
            await(() -> {
                long bytes = 0;
                for (Path log : logs) {
                    try {
                        bytes += Files.exists(log) ? Files.size(log) : 0;
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return bytes / LOG_LINE_BYTES >= ops || processes.stream().noneMatch(Process::isAlive);
            });
        }

        /**
         * Asks every writer to end after its operation in progress (SIGTERM), waits for them (each
         * has one operation to finish, so the bound is {@link #STOP_TIMEOUT_NANOS} from now, not
         * the writers' whole time), and fails if one failed.
         */
        void stop() throws Exception {
            processes.forEach(Process::destroy);
            awaitExit(System.nanoTime() + STOP_TIMEOUT_NANOS);
        }

        /** Waits for every writer to exit, and fails if one failed. */
        void awaitExit() throws Exception {
            awaitExit(deadline);
        }

        private void awaitExit(long until) throws Exception {
            await(() -> processes.stream().noneMatch(Process::isAlive), until);
            for (int w = 0; w < processes.size(); w++) {
                int code = processes.get(w).exitValue();
                Path out = logs.get(w).resolveSibling("writer-" + w + ".out");
                assertEquals(0, code, "writer " + w + " failed: " + Files.readString(out));
            }
        }

        private void await(Supplier<Boolean> done) throws InterruptedException {
            await(done, deadline);
        }

        private void await(Supplier<Boolean> done, long until) throws InterruptedException {
            while (!done.get()) {
                if (System.nanoTime() > until) {
                    throw new AssertionError("the writers did not finish in time (a writer may be blocked)");
                }
                Thread.sleep(10);
            }
        }

        @Override
        public void close() {
            for (Process p : processes) {
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            for (Process p : processes) {
                try {
                    p.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
