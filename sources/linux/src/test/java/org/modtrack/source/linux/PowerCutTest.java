package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.posix.PosixException;
import org.modtrack.testing.Command;
import org.modtrack.testing.CrashImages;
import org.modtrack.testing.ImageMount;
import org.modtrack.testing.LoopMount;
import org.modtrack.testing.RecordingDisk;
import org.modtrack.testing.Seeded;
import org.modtrack.testing.WriteLog;

/**
 * Real power cuts under a real ext4 (or xfs) and the real source, the way xfstests' dm-log-writes
 * tests and CrashMonkey cut them: the tracked file system and the one holding the tracker's state
 * directory (its journal) are images on one {@link RecordingDisk}, which logs every block either
 * writes and every flush, in one order. Writers create, append, overwrite in place (some with an
 * fdatasync), rename, delete and reuse names while the source tracks with {@code power} durability
 * and a queue keeper (so a power lease stands), and a consumer keeps a mirror ({@link
 * MirrorConsumer}, written as docs/protocol.md tells a client writer) and blesses, keeping a copy
 * of its mirror at each bless. Then the log is cut at seeded random points: for each, both images
 * are built as a disk may hold them ({@link CrashImages}: what was flushed, and none, all, a prefix
 * or a random subset of the rest), mounted (ext4 replays its journal), and tracked again as the
 * first start of a new boot ({@link Boot#SIMULATED}); its first result is applied to the copy of
 * the mirror at the bless that result says was the last ({@code lastBlessed}), with a rescan of the
 * root if it says continuity was lost. The mirror must then equal the crashed file system: nothing
 * missed. What the result names beyond what changed since that bless (a read of a file the mirror
 * had as it is) is counted: the false positives of a power cut.
 *
 * <p>A failure names the seed ({@code -Dmodtrack.seed} gives the same writers' operations and cut
 * points; the schedule, and so the log, differs from run to run) and each missing cut's index, its
 * place in the log and the writers' operations on the paths it missed. Longer runs:
 * {@code -Dmodtrack.powerCuts.cuts=N -Dmodtrack.powerCuts.ops=N -Dmodtrack.powerCuts.fs=xfs
 * -Dmodtrack.powerCuts.verbose=true}.
 */
@ExtendWith(Seeded.class)
class PowerCutTest {
    private static final long MIB = 1 << 20;
    /** How many cut points (seeded, random); the short version in the normal suite takes a few. */
    static final String CUTS = "modtrack.powerCuts.cuts";
    /** How many operations each writer makes. */
    static final String OPS = "modtrack.powerCuts.ops";
    /** The tracked file system's type (ext4 by default; xfs, btrfs). */
    static final String FS = "modtrack.powerCuts.fs";
    /** Print every cut's outcome, not only the lost ones. */
    static final String VERBOSE = "modtrack.powerCuts.verbose";
    private static final int WRITERS = 2;
    private static final String TRACKED = "tracked.img";
    private static final String STATE = "state.img";
    private static final LinuxSourceOptions KEEPING = LinuxSourceOptions.defaults().withKeepQueue(Duration.ofSeconds(60));

    @TempDir
    Path scratch;

    @BeforeAll
    static void requireTheRecordingDisk() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "PowerCutTest skipped: " + LoopMount.unavailableReason("ext4").get());
        assumeTrue(RecordingDisk.unavailableReason().isEmpty(),
                () -> "PowerCutTest skipped: " + RecordingDisk.unavailableReason().get());
    }

    /**
     * The consumer docs/protocol.md describes, which blesses once it has applied a result: after a
     * power cut at any point, the first result makes its mirror what the crashed file system holds.
     * (Before a bless synced the tracked file system, a cut could undo a change the consumer had
     * mirrored and blessed, and nothing named it: {@link #changesMirroredAndBlessedBeforeTheFileSystemCommittedThem}.)
     */
    @Test
    void nothingIsMissedAfterAPowerCutAtRandomPoints(SplittableRandom random) throws Exception {
        String fsType = System.getProperty(FS, "ext4");
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> "skipped: " + LoopMount.unavailableReason(fsType).get());
        long seed = random.nextLong();
        Summary s = run(fsType, seed, Integer.getInteger(OPS, 150), Integer.getInteger(CUTS, 12));
        s.print();
        s.assertNothingMissed();
    }

    /**
     * Changes the consumer mirrored and blessed before the tracked file system committed them (ext4
     * commits its journal every 5 s, and writes back data after 30 s): a rename, and an overwrite
     * in place, then a query, the consumer's apply and its bless, and the power cut right after.
     */
    @Test
    void changesMirroredAndBlessedBeforeTheFileSystemCommittedThem() throws Exception {
        try (RecordingDisk disk = RecordingDisk.create()) {
            disk.addImage(TRACKED, "ext4", 64 * MIB);
            disk.addImage(STATE, "ext4", 64 * MIB);
            disk.start();
            Recorded recorded = record(disk, (root, d, cycle) -> {
                Command.sh(root, "mv a0/f0 a0/moved; dd if=/dev/urandom of=a1/f1 bs=100 count=1 conv=notrunc status=none");
                cycle.blessOne();
                cycle.blessOne(); // nothing changed: a1, busy in the period before, is no longer recorded ahead
                d.mark("after the bless");
            }, 2);
            try (WriteLog log = WriteLog.read(recorded.log())) {
                int cut = log.findMark("after the bless", 0);
                List<Outcome> outcomes = new ArrayList<>();
                for (CrashImages.Subset subset : List.of(CrashImages.Subset.NONE, CrashImages.Subset.ALL)) {
                    outcomes.addAll(cutEach(disk, log, recorded, List.of(cut), subset, new SplittableRandom(1)));
                }
                Summary s = new Summary("ext4", 0, 2, recorded.mirrors().size() - 1, log.size(), log.flushes().size(), 0, 0,
                        outcomes, recorded.opsByPath());
                outcomes.forEach(o -> System.out.println("  " + o.describe(0) + "; the result: " + o.changes()));
                s.assertNothingMissed();
            }
        }
    }

    /** What one cut showed. */
    record Outcome(int index, int cut, String lastMark, List<CrashImages.FileState> states, String continuity,
                   long lastBlessed, int entries, long falsePositives, List<String> differences, List<PathChange> changes,
                   long millis) {
        boolean lost() {
            return continuity.startsWith("lost");
        }

        String describe(long seed) {
            return "seed " + seed + ", cut " + index + " (after record " + cut + ", the last mark: '" + lastMark + "'; "
                    + states + "): " + continuity + ", lastBlessed " + lastBlessed + ", " + entries + " entries, "
                    + falsePositives + " false positives" + (differences.isEmpty() ? "" : "; MISSED: " + differences);
        }
    }

    /** A whole run: its seed, the recording's figures, and every cut's outcome. */
    record Summary(String fsType, long seed, int ops, int results, int records, int flushes, long recordMillis,
                   long cutMillis, List<Outcome> outcomes, Map<String, List<String>> opsByPath) {
        List<Outcome> misses() {
            return outcomes.stream().filter(o -> !o.differences().isEmpty()).toList();
        }

        void print() {
            List<Long> fp = outcomes.stream().filter(o -> !o.lost()).map(Outcome::falsePositives).sorted().toList();
            long lost = outcomes.stream().filter(Outcome::lost).count();
            long reconciled = outcomes.stream().filter(o -> o.continuity().startsWith("reconciled")).count();
            System.out.printf("PowerCutTest %s, seed %d: %d writer operations, %d results blessed, a log of %d records"
                            + " (%d flushes) in %d ms; %d cuts in %d ms: %d missed, %d lost (rescan), %d reconciled,"
                            + " %d intact; false positives per cut (not lost): median %d, max %d%n",
                    fsType, seed, ops, results, records, flushes, recordMillis, outcomes.size(), cutMillis, misses().size(),
                    lost, reconciled, outcomes.size() - lost - reconciled, fp.isEmpty() ? 0 : fp.get(fp.size() / 2),
                    fp.isEmpty() ? 0 : fp.getLast());
            for (Outcome o : outcomes) {
                if (o.lost() || Boolean.getBoolean(VERBOSE)) {
                    System.out.println("  " + o.describe(seed));
                }
            }
        }

        void assertNothingMissed() {
            List<Outcome> m = misses();
            if (m.isEmpty()) {
                return;
            }
            StringBuilder b = new StringBuilder(m.size() + " of " + outcomes.size() + " cuts missed changes (" + fsType
                    + ", seed " + seed + "):\n");
            for (Outcome o : m.subList(0, Math.min(5, m.size()))) {
                b.append(o.describe(seed)).append('\n');
                b.append("  the result: ").append(o.changes().size() > 40 ? o.changes().subList(0, 40) + " ..." : o.changes())
                        .append('\n');
                for (String d : o.differences()) {
                    String path = d.substring(0, d.indexOf(':'));
                    b.append("  operations on ").append(path).append(": ").append(opsByPath.getOrDefault(path, List.of()))
                            .append('\n');
                }
            }
            fail(b.toString());
        }
    }

    /** Records a run on a recording disk, then cuts its log at {@code cuts} random points and checks each. */
    private Summary run(String fsType, long seed, int ops, int cuts) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (RecordingDisk disk = RecordingDisk.create()) {
            // xfs needs 300 MiB, btrfs about 110 (LoopMount); ext4 is smaller and faster to cut.
            disk.addImage(TRACKED, fsType, switch (fsType) {
                case "xfs" -> 320 * MIB;
                case "btrfs" -> 256 * MIB;
                default -> 64 * MIB;
            });
            disk.addImage(STATE, "ext4", 64 * MIB);
            disk.start();
            long began = System.nanoTime();
            Recorded recorded = record(disk, writers(seed, ops, rnd), ops * WRITERS);
            long recordMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
            try (WriteLog log = WriteLog.read(recorded.log())) {
                int from = log.findMark("seeded", 0);
                int to = log.findMark("end", from);
                assertTrue(from >= 0 && to > from, "the log holds the run's marks");
                List<Integer> points = new ArrayList<>();
                for (int i = 0; i < cuts; i++) {
                    points.add(from + 1 + rnd.nextInt(to - from));
                }
                points.sort(null);
                began = System.nanoTime();
                List<Outcome> outcomes = cutEach(disk, log, recorded, points, null, rnd);
                long cutMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
                return new Summary(fsType, seed, recorded.ops(), recorded.mirrors().size() - 1, log.size(), log.flushes().size(),
                        recordMillis, cutMillis, outcomes, recorded.opsByPath());
            }
        }
    }

    /** What a recording left: the log, the tracked root's path then, and the mirror at each bless (0: before any). */
    record Recorded(Path log, Path root, String trackedDevice, Map<Long, MirrorConsumer> mirrors, int ops,
                    Map<String, List<String>> opsByPath) {}

    /** What runs on the tracked root while the source tracks it and the consumer blesses. */
    interface Workload {
        /** Runs to its end; {@code cycle} makes the consumer query, apply and bless once. */
        void run(Path root, RecordingDisk disk, Cycle cycle) throws Exception;
    }

    interface Cycle {
        void blessOne() throws Exception;
    }

    /** {@link #WRITERS} writer processes ({@code power_cut_writer.py}), {@code ops} operations each, the consumer blessing meanwhile. */
    private Workload writers(long seed, int ops, SplittableRandom rnd) {
        return (root, disk, cycle) -> {
            Path script = scratch.resolve("power_cut_writer.py");
            try (InputStream in = PowerCutTest.class.getResourceAsStream("power_cut_writer.py")) {
                Files.copy(in, script);
            }
            List<Process> writers = new ArrayList<>();
            try {
                for (int w = 0; w < WRITERS; w++) {
                    String prefix = w == 0 ? "a" : "b";
                    writers.add(new ProcessBuilder(ChildScript.PYTHON, script.toString(), root.toString(), prefix,
                            Long.toString(seed + w & Long.MAX_VALUE), Integer.toString(ops),
                            scratch.resolve("writer-" + prefix + ".log").toString(),
                            disk.directory().resolve("disk/.marks").toString(), "30000")
                            .redirectErrorStream(true).redirectOutput(scratch.resolve("writer-" + prefix + ".out").toFile()).start());
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
                while (writers.stream().anyMatch(Process::isAlive)) {
                    assertTrue(System.nanoTime() < deadline, "the writers did not finish");
                    Thread.sleep(50 + rnd.nextInt(400));
                    cycle.blessOne();
                }
                for (Process p : writers) {
                    assertEquals(0, p.exitValue(), () -> "a writer failed: see " + scratch);
                }
            } finally {
                writers.forEach(Process::destroyForcibly);
            }
        };
    }

    /** Records {@code workload}, the consumer applying and blessing as docs/protocol.md tells it to. */
    private Recorded record(RecordingDisk disk, Workload workload, int ops) throws Exception {
        ImageMount stateFs = disk.mount(STATE);
        ImageMount tracked = disk.mount(TRACKED);
        Path root = tracked.mountPoint();
        Path state = stateFs.mountPoint().resolve("state");
        Command.sh(root, "for w in a b; do for d in 0 1; do mkdir $w$d; for f in 0 1 2 3; do head -c 700 /dev/urandom > $w$d/f$f;"
                + " done; done; done; sync -f .");
        disk.mark("seeded");
        Map<Long, MirrorConsumer> mirrors = new HashMap<>();
        try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), KEEPING)) {
            disk.mark("tracking");
            MirrorConsumer mirror = MirrorConsumer.copyOf(root);
            mirrors.put(0L, mirror.copy());
            Cycle cycle = () -> blessOne(disk, source, mirror, mirrors);
            cycle.blessOne();
            workload.run(root, disk, cycle);
            cycle.blessOne();
            assertEquals(null, mirror.differenceFromFileSystem(), "the mirror before any cut");
            disk.mark("end");
        } finally {
            try {
                KeptQueue.releaseIfRunning(state);
            } catch (PosixException e) {
                // it exited meanwhile
            }
        }
        Path log = disk.stop();
        return new Recorded(log, root, tracked.device(), mirrors, ops, readWriterLogs());
    }

    private static void blessOne(RecordingDisk disk, LinuxSource source, MirrorConsumer mirror, Map<Long, MirrorConsumer> mirrors)
            throws Exception {
        disk.mark("query");
        LinuxResult r = source.query();
        assertTrue(r.continuity().intact(), () -> "while recording: " + r.continuity());
        mirror.apply(r.changes(), r.listsByName());
        mirrors.put(r.snapshot(), mirror.copy());
        disk.mark("bless " + r.snapshot());
        source.bless(r.snapshot());
        disk.mark("blessed " + r.snapshot());
    }

    /** path (relative to the root): the writers' operations on it, in order, as their logs say. */
    private Map<String, List<String>> readWriterLogs() throws IOException {
        Map<String, List<String>> out = new TreeMap<>();
        for (String prefix : List.of("a", "b")) {
            Path log = scratch.resolve("writer-" + prefix + ".log");
            for (String line : Files.exists(log) ? Files.readAllLines(log) : List.<String>of()) {
                String[] f = line.strip().split(" ");
                for (int i = 4; i < f.length; i++) {
                    if (f[i].contains("/")) {
                        out.computeIfAbsent(f[i], k -> new ArrayList<>()).add(prefix + ":" + line.strip());
                    }
                }
            }
        }
        return out;
    }

    /** Checks a cut at each of {@code points} (in increasing order), with {@code subset} (null: one at random for each). */
    private List<Outcome> cutEach(RecordingDisk disk, WriteLog log, Recorded recorded, List<Integer> points,
                                  CrashImages.Subset fixed, SplittableRandom rnd) throws Exception {
        CrashImages images = new CrashImages(log, disk.bases(), disk.directory().resolve("durable"));
        List<Outcome> outcomes = new ArrayList<>();
        for (int n = 0; n < points.size(); n++) {
            int cut = points.get(n);
            CrashImages.Subset subset = fixed != null ? fixed
                    : CrashImages.Subset.values()[rnd.nextInt(CrashImages.Subset.values().length)];
            Path dir = disk.directory().resolve("cut");
            List<CrashImages.FileState> states = images.build(cut, subset, rnd, dir);
            outcomes.add(check(n, cut, log.lastMarkBefore(cut), states, dir, disk.fsType(TRACKED), recorded));
        }
        return outcomes;
    }

    /** Mounts a cut's images, tracks them as the first start of a new boot, and applies its first result. */
    private Outcome check(int n, int cut, String lastMark, List<CrashImages.FileState> states, Path dir, String fsType,
                          Recorded recorded) throws Exception {
        long began = System.nanoTime();
        try (ImageMount stateFs = ImageMount.attach(dir.resolve(STATE), "ext4", dir.resolve("state.mnt"), null);
             ImageMount tracked = ImageMount.attach(dir.resolve(TRACKED), fsType, dir.resolve("tracked.mnt"),
                     fsType.equals("xfs") ? recorded.trackedDevice() : null)) {
            Path root = tracked.mountPoint();
            Path state = stateFs.mountPoint().resolve("state");
            Instant now = Instant.now();
            System.setProperty(Boot.SIMULATED, "power-cut-" + n + " " + (now.getEpochSecond() * 1_000_000_000L + now.getNano()));
            LinuxResult r;
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), KEEPING)) {
                r = source.query();
            } finally {
                System.clearProperty(Boot.SIMULATED);
                try {
                    KeptQueue.releaseIfRunning(state);
                } catch (IOException e) {
                    // it exited meanwhile
                }
            }
            String continuity = r.continuity().intact() ? (r.reconciled() != null ? "reconciled" : "intact")
                    : "lost: " + r.continuity().reason();
            MirrorConsumer had = recorded.mirrors().get(r.lastBlessed());
            if (had == null) {
                return new Outcome(n, cut, lastMark, states, continuity, r.lastBlessed(), r.changes().size(), 0,
                        List.of("the result's lastBlessed " + r.lastBlessed() + " was never blessed"), r.changes(),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
            }
            MirrorConsumer mirror = had.rebased(root);
            mirror.apply(r.changes(), r.listsByName());
            if (!r.continuity().intact()) {
                mirror.rescanRoot();
            }
            List<String> differences = new ArrayList<>();
            for (String d : mirror.differencesFromFileSystem(20)) {
                differences.add(d.startsWith(root.toString()) ? d.substring(root.toString().length() + 1) : d);
            }
            return new Outcome(n, cut, lastMark, states, continuity, r.lastBlessed(), r.changes().size(),
                    mirror.unchangedFileReads(), differences, r.changes(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
        }
    }
}
