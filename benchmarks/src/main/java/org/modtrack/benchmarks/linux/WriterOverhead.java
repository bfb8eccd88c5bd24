package org.modtrack.benchmarks.linux;

import static org.modtrack.benchmarks.linux.BenchSupport.fmt;
import static org.modtrack.benchmarks.linux.BenchSupport.median;
import static org.modtrack.benchmarks.linux.BenchSupport.spread;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.modtrack.engine.Durability;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.engine.TrackerStats;
import org.modtrack.source.linux.EventCounts;
import org.modtrack.source.linux.LinuxSource;
import org.modtrack.source.linux.LinuxSourceOptions;
import org.modtrack.testing.LoopMount;

/**
 * The writer-overhead figure: the wall time of writer workloads on a tracked file system
 * against the same workload on a fresh identical untracked one, in one run. A benchmark, not a
 * test: it asserts nothing; {@code bin/bench-linux overhead} runs it and docs/benchmarks.md has
 * its figures.
 *
 * <p>Workloads (all writes by C child processes): {@code files1}, one process creating and writing
 * 20,000 files of 4 KiB; {@code files8}, 8 processes creating 2,500 each; {@code kbuild}, a
 * kernel-build-like mix over a tree made before the tracker starts (7,000 sources of 8 KiB, 500
 * headers of 4 KiB): two "compile" processes each read their units' sources and 12 headers per
 * unit and write a 16 KiB object per unit, then one "link" reads every object and writes their
 * concatenation (about 105,000 file reads and writes). Configurations: {@code untracked},
 * {@code process} and {@code power} durability (srcu barrier, results that name files), and
 * {@code process-dirs} and {@code power-dirs} (results that name directories,
 * {@link LinuxSourceOptions.Detail#DIRECTORIES}), {@code process-scan} and {@code power-scan} (files named
 * by a scan, {@link LinuxSourceOptions.Naming#SCAN}) and {@code process-events} and {@code power-events}
 * (by an event each, {@link LinuxSourceOptions.Naming#EVENTS}), and on request {@code process-dirs-warm} and
 * {@code power-dirs-warm}, the same in a period that starts warm ({@link #prepare}). Every run gets a fresh 1 GiB ext4
 * loop mount (populated and flushed with {@code sync -f} before the timing, and before the tracker
 * opens) and a fresh state directory in /tmp; the order of the configurations rotates each round,
 * after one untimed warm-up round (the JIT compiles the tracker's code during its first runs).
 * Wall time is from spawning the first child to the last one's exit. "Answer ms" sums, over the run's
 * permission events, the time from the tracker reading each to answering it (writers wait
 * longer: the kernel's wake-ups come on top).
 *
 * <p>Arguments: {@code [rounds (5)] [output dir (/tmp/modtrack-bench)] [workloads (files1,files8,kbuild)]
 * [configurations (untracked,process,power,process-dirs,power-dirs)]}; untracked is always run.
 */
public final class WriterOverhead {
    private static final long IMAGE_BYTES = 1L << 30;
    private static final int FILES = 20_000;
    private static final int FILE_BYTES = 4096;
    private static final int UNITS = 7_000;
    private static final int HEADERS = 500;
    private static final int HEADERS_PER_UNIT = 12;
    private static final int COMPILERS = 2;
    /** The kbuild tree's directories of sources and of objects (as in a kernel tree, not one flat directory). */
    private static final int SPREAD = 100;
    /** Where, in a run's state directory, the kbuild workload's lists of sources and headers are. */
    private static final String KBUILD_LISTS = "kbuild-lists";
    private static final int WARM_UP_ROUNDS = Integer.getInteger("modtrack.bench.warmups", 1);
    private static final String ALL_CONFIGS = "untracked,process,power,process-dirs,power-dirs,process-scan,power-scan,process-events,power-events";
    /** Asked for by name only: the directory-results configurations in a warm period (see {@link #prepare}). */
    private static final String WARM_CONFIGS = "process-dirs-warm,power-dirs-warm";

    private WriterOverhead() {
    }

    record Run(String workload, String config, int round, double wallMs, long syncs, long records, long events,
               long readEvents, long writeEvents, long eventFailures, double answerMs) {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path out = Path.of(args.length > 1 ? args[1] : "/tmp/modtrack-bench");
        List<String> workloads = List.of((args.length > 2 ? args[2] : "files1,files8,kbuild").split(","));
        List<String> configs = configs(args.length > 3 ? args[3] : ALL_CONFIGS);
        Files.createDirectories(out);
        System.out.println("writer overhead: " + rounds + " rounds of " + workloads + " x " + configs
                + "; load average " + BenchSupport.loadAverage());
        List<Run> runs = new ArrayList<>();
        List<String> csv = new ArrayList<>();
        csv.add("workload,config,round,wall_ms,fdatasyncs,records,preContentEvents,readEvents,writeEvents,eventFailures,answer_ms");
        // One untimed round first: the tracker's code is compiled by the JIT during its first runs
        // (its compiler threads took a third of both CPUs' samples in a profiled first kbuild run),
        // which a long-running daemon pays once, not per workload.
        for (int warmUp = 1; warmUp <= WARM_UP_ROUNDS; warmUp++) {
            for (String workload : workloads) {
                for (String config : configs) {
                    Run r = run(workload, config, 0);
                    System.out.println(fmt("warm-up %s,%s,%.1f (not counted)", r.workload, r.config, r.wallMs));
                }
            }
        }
        for (int round = 1; round <= rounds; round++) {
            for (String workload : workloads) {
                for (int i = 0; i < configs.size(); i++) {
                    String config = configs.get((i + round - 1) % configs.size());
                    Run r = run(workload, config, round);
                    runs.add(r);
                    String row = fmt("%s,%s,%d,%.1f,%d,%d,%d,%d,%d,%d,%.1f", r.workload, r.config, r.round, r.wallMs, r.syncs,
                            r.records, r.events, r.readEvents, r.writeEvents, r.eventFailures, r.answerMs);
                    csv.add(row);
                    System.out.println("run " + row + "  (load " + BenchSupport.loadAverage() + ")");
                }
            }
        }
        Files.write(out.resolve("overhead.csv"), csv);
        System.out.println();
        System.out.println("| Workload | Config | Wall ms, median (min–max) | Ratio of medians | Per-round ratio, median (min–max) "
                + "| fdatasyncs | Records | Pre-content events (reads) | Answer ms, summed over events |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (String workload : workloads) {
            List<Run> base = runs.stream().filter(r -> r.workload.equals(workload) && r.config.equals("untracked")).toList();
            double baseMedian = median(base.stream().map(Run::wallMs).toList());
            for (String config : configs) {
                List<Run> rs = runs.stream().filter(r -> r.workload.equals(workload) && r.config.equals(config)).toList();
                List<Double> walls = rs.stream().map(Run::wallMs).toList();
                List<Double> ratios = new ArrayList<>();
                for (Run r : rs) {
                    base.stream().filter(b -> b.round == r.round).findFirst().ifPresent(b -> ratios.add(r.wallMs / b.wallMs));
                }
                boolean tracked = !config.equals("untracked");
                System.out.println("| " + workload + " | " + config + " | " + spread(walls, "%.0f") + " | "
                        + (tracked ? fmt("**%.3f**", median(walls) / baseMedian) : "1") + " | "
                        + (tracked ? spread(ratios, "%.3f") : "–") + " | "
                        + (tracked ? spread(rs.stream().map(r -> (double) r.syncs).toList(), "%.0f") : "–") + " | "
                        + (tracked ? spread(rs.stream().map(r -> (double) r.records).toList(), "%.0f") : "–") + " | "
                        + (tracked ? fmt("%.0f (%.0f)", median(rs.stream().map(r -> (double) r.events).toList()),
                                median(rs.stream().map(r -> (double) r.readEvents).toList())) : "–") + " | "
                        + (tracked ? spread(rs.stream().map(Run::answerMs).toList(), "%.1f") : "–") + " |");
            }
        }
        System.out.println();
        System.out.println("per-run rows: " + out.resolve("overhead.csv") + "; load average " + BenchSupport.loadAverage());
    }

    /** The configurations asked for, untracked first (always: the ratios' base); an unknown one is refused. */
    private static List<String> configs(String list) {
        List<String> known = List.of((ALL_CONFIGS + "," + WARM_CONFIGS).split(","));
        List<String> out = new ArrayList<>(List.of("untracked"));
        for (String c : list.split(",")) {
            if (!known.contains(c)) {
                throw new IllegalArgumentException("unknown configuration '" + c + "'; the configurations are " + ALL_CONFIGS
                        + "," + WARM_CONFIGS + ".");
            }
            if (!out.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    private static Run run(String workload, String config, int round) throws Exception {
        Path state = BenchSupport.newStateDir();
        try (LoopMount mount = LoopMount.create("ext4", IMAGE_BYTES)) {
            Path root = mount.mountPoint();
            if (workload.equals("kbuild")) {
                populateKbuild(root, state);
            }
            BenchSupport.run("sync", "-f", root.toString());
            LinuxSource source = null;
            try {
                if (!config.equals("untracked")) {
                    Durability d = config.startsWith("power") ? Durability.POWER : Durability.PROCESS;
                    LinuxSourceOptions.Detail detail = config.contains("-dirs") ? LinuxSourceOptions.Detail.DIRECTORIES
                            : LinuxSourceOptions.Detail.FILES;
                    LinuxSourceOptions.Naming naming = config.contains("-scan") ? LinuxSourceOptions.Naming.SCAN
                            : config.contains("-events") ? LinuxSourceOptions.Naming.EVENTS : LinuxSourceOptions.defaults().naming();
                    source = LinuxSource.open(root, state, TrackerConfig.defaults().withDurability(d),
                            LinuxSourceOptions.defaults().withDetail(detail).withNaming(naming));
                }
                prepare(root, config, source);
                TrackerStats s0 = source == null ? null : source.stats();
                EventCounts e0 = source == null ? null : source.eventCounts();
                double a0 = source == null ? 0 : source.answerLatency().sumSeconds();
                long t0 = System.nanoTime();
                workload(workload, root, state);
                long t1 = System.nanoTime();
                if (source == null) {
                    return new Run(workload, config, round, (t1 - t0) / 1e6, 0, 0, 0, 0, 0, 0, 0);
                }
                TrackerStats s1 = source.stats();
                EventCounts e1 = source.eventCounts();
                return new Run(workload, config, round, (t1 - t0) / 1e6, s1.syncs() - s0.syncs(), s1.records() - s0.records(),
                        e1.preContent() - e0.preContent(), e1.reads() - e0.reads(), e1.writes() - e0.writes(),
                        e1.failures() - e0.failures(),
                        (source.answerLatency().sumSeconds() - a0) * 1e3);
            } finally {
                if (source != null) {
                    source.close();
                }
            }
        } finally {
            BenchSupport.deleteTree(state);
        }
    }

    /**
     * Before the timing, every configuration creates and removes an empty file in each directory of
     * the tree (so that all of them time the same file system). With a tracker, two checkpoints
     * follow, so that the timed period starts cold: no directory was busy in the period before it,
     * none is recorded ahead, and each first access in a directory waits for its record, as on a
     * tree nobody touched lately. A {@code -warm} configuration takes one checkpoint instead: every
     * directory was busy in the period before, so the checkpoint recorded it ahead and kept its
     * mark, as for a tree written continuously (a daemon's steady state).
     */
    private static void prepare(Path root, String config, LinuxSource source) throws Exception {
        BenchSupport.run("sh", "-c", "find \"$1\" -xdev -type d -name 'lost+found' -prune -o -type d -print"
                + " | while read -r d; do : > \"$d/.warm\"; rm \"$d/.warm\"; done", "sh", root.toString());
        if (source == null) {
            return;
        }
        int checkpoints = config.endsWith("-warm") ? 1 : 2;
        for (int i = 0; i < checkpoints; i++) {
            source.bless(source.query().snapshot());
        }
    }

    /**
     * The kbuild workload's tree, made before the tracker starts: {@link #UNITS} sources of 8 KiB in
     * {@link #SPREAD} directories, {@link #HEADERS} headers of 4 KiB, the empty object directories,
     * and (outside the mount, in the state directory) the lists {@code ops compile} reads them from.
     */
    private static void populateKbuild(Path root, Path state) throws IOException, InterruptedException {
        BenchSupport.run(BenchSupport.ops("mkfiles", root.resolve("src").toString(), "0", Integer.toString(SPREAD),
                Integer.toString(UNITS / SPREAD), "8192", "-"));
        BenchSupport.run(BenchSupport.ops("mkfiles", root.resolve("include").toString(), "0", "1", Integer.toString(HEADERS),
                "4096", "-"));
        List<String> sources = new ArrayList<>(UNITS);
        for (int u = 0; u < UNITS; u++) {
            sources.add(root.resolve(String.format("src/d%05d/f%04d", u % SPREAD, u / SPREAD)).toString());
        }
        List<String> headers = new ArrayList<>(HEADERS);
        for (int h = 0; h < HEADERS; h++) {
            headers.add(root.resolve(String.format("include/d00000/f%04d", h)).toString());
        }
        for (int d = 0; d < SPREAD; d++) {
            Files.createDirectories(root.resolve("out/d" + d));
        }
        Path lists = Files.createDirectories(state.resolve(KBUILD_LISTS));
        Files.write(lists.resolve("sources"), sources);
        Files.write(lists.resolve("headers"), headers);
    }

    private static void workload(String workload, Path root, Path state) throws IOException, InterruptedException {
        switch (workload) {
            case "files1" -> parallel(List.of(List.of(BenchSupport.ops("write", root.resolve("w0").toString(),
                    Integer.toString(FILES), Integer.toString(FILE_BYTES), "-", "0"))));
            case "files8" -> {
                List<List<String>> cmds = new ArrayList<>();
                for (int w = 0; w < 8; w++) {
                    cmds.add(List.of(BenchSupport.ops("write", root.resolve("w" + w).toString(),
                            Integer.toString(FILES / 8), Integer.toString(FILE_BYTES), "-", "0")));
                }
                parallel(cmds);
            }
            case "kbuild" -> {
                Path lists = state.resolve(KBUILD_LISTS);
                String out = root.resolve("out").toString();
                List<List<String>> cmds = new ArrayList<>();
                for (int c = 0; c < COMPILERS; c++) {
                    cmds.add(List.of(BenchSupport.ops("compile", lists.resolve("sources").toString(),
                            Integer.toString(UNITS * c / COMPILERS), Integer.toString(UNITS * (c + 1) / COMPILERS), "1",
                            lists.resolve("headers").toString(), Integer.toString(HEADERS), out, "-",
                            Integer.toString(HEADERS_PER_UNIT), Integer.toString(SPREAD))));
                }
                parallel(cmds);
                parallel(List.of(List.of(BenchSupport.ops("link", out, Integer.toString(UNITS),
                        root.resolve("out/vmlinux").toString(), "-", Integer.toString(SPREAD)))));
            }
            default -> throw new IllegalArgumentException("workloads: files1, files8, kbuild; not " + workload);
        }
    }

    /** Starts every command, then waits for all; fails if one fails. Children are killed if anything goes wrong. */
    private static void parallel(List<List<String>> commands) throws IOException, InterruptedException {
        List<Process> ps = new ArrayList<>();
        try {
            for (List<String> c : commands) {
                ps.add(new ProcessBuilder(c).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start());
            }
            for (Process p : ps) {
                if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IOException(p.info().commandLine().orElse("a writer") + " failed or hung");
                }
            }
        } finally {
            for (Process p : ps) {
                if (p.isAlive()) {
                    p.destroyForcibly();
                    p.waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
    }
}
