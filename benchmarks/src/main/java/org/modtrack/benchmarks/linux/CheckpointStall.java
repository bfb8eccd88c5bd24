package org.modtrack.benchmarks.linux;

import static org.modtrack.benchmarks.linux.BenchSupport.fmt;
import static org.modtrack.benchmarks.linux.BenchSupport.spread;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.modtrack.benchmarks.linux.BenchSupport.Child;
import org.modtrack.engine.Durability;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.source.linux.LinuxResult;
import org.modtrack.source.linux.LinuxSource;
import org.modtrack.source.linux.LinuxSourceOptions;
import org.modtrack.testing.LoopMount;

/**
 * The checkpoint-stall figure: how long a checkpoint stalls a writer of small writes to
 * other files, (a) with no large write in flight and (b) while another process is inside one
 * 1 GiB {@code write} call, for the {@code srcu} and {@code freeze} barriers side by side. A
 * benchmark, not a test: it asserts nothing; {@code bin/bench-linux checkpoint} runs it and
 * docs/benchmarks.md has its figures.
 *
 * <p>One trial = a fresh 3 GiB sparse ext4 loop mount, a fresh state directory in /tmp, a
 * {@link LinuxSource} with the trial's barrier and power durability, and two children:
 * {@code ops pwrites} (4 KiB pwrites round-robin over 16 files, one every 200 µs, each call's
 * start, end and wait for a CPU logged) and {@code ops bigwrite} (one 1 GiB write call). Sequence: a warm-up query +
 * bless; (a) query + bless; (b) start the big write, 50 ms later query + bless; (c) a second big
 * write with no checkpoint (the control: what the big write alone does to the small writer). The
 * stall of a window is the longest small write that overlaps it; its "blocked" part leaves out the
 * time the writer was runnable but waiting for a CPU (schedstat's run_delay: on 2 CPUs, one taken
 * by the big write, that is the machine's contention, not something the checkpoint makes it wait
 * for). Trials alternate the barriers.
 *
 * <p>Arguments: {@code [trials per barrier (5)] [output dir (/tmp/modtrack-bench)]}.
 */
public final class CheckpointStall {
    private static final long IMAGE_BYTES = 3L << 30;
    private static final long BIG_WRITE_BYTES = 1L << 30;
    private static final int SMALL_FILES = 16;
    private static final int SMALL_PERIOD_US = 200;

    private CheckpointStall() {
    }

    /** One trial's figures, all in milliseconds. */
    record Trial(String barrier, int round, double stallA, double stallB, double stallC, double waitA, double waitB,
                 double queryA, double queryB, double bigWriteB, double bigWriteC, boolean inFlightB,
                 double beforeA, double beforeB, long smallWrites, String barrierUsedB, double stallBAt,
                 long eventsA, long eventsB, double stallAAt, double blockedA, double blockedB, double cpuWaitOfStallB,
                 double answeredA) {
        double ratio() {
            return stallB / stallA;
        }

        double blockedRatio() {
            return blockedB / blockedA;
        }
    }

    /** The acceptance's figure is with {@code power}; {@code -Dmodtrack.bench.durability=PROCESS} tells the sync's share. */
    private static final Durability DURABILITY =
            Durability.valueOf(System.getProperty("modtrack.bench.durability", "POWER").toUpperCase(Locale.ROOT));

    public static void main(String[] args) throws Exception {
        int trials = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path out = Path.of(args.length > 1 ? args[1] : "/tmp/modtrack-bench");
        Files.createDirectories(out);
        System.out.println("checkpoint stall: " + trials + " trials per barrier; load average " + BenchSupport.loadAverage());
        List<Trial> all = new ArrayList<>();
        List<String> csv = new ArrayList<>();
        csv.add("barrier,round,stallA_ms,stallB_ms,stallC_ms,ratioBA,waitA_ms,waitB_ms,queryA_ms,queryB_ms,"
                + "bigWriteB_ms,bigWriteC_ms,inFlightB,beforeA_ms,beforeB_ms,smallWrites,barrierUsedB,stallB_at_ms,"
                + "eventsA,eventsB,stallA_at_ms,blockedA_ms,blockedB_ms,blockedRatioBA,cpuWaitOfStallB_ms,"
                + "answerTimeA_ms");
        for (int round = 1; round <= trials; round++) {
            LinuxSourceOptions.Barrier[] order = round % 2 == 1
                    ? new LinuxSourceOptions.Barrier[] {LinuxSourceOptions.Barrier.SRCU, LinuxSourceOptions.Barrier.FREEZE}
                    : new LinuxSourceOptions.Barrier[] {LinuxSourceOptions.Barrier.FREEZE, LinuxSourceOptions.Barrier.SRCU};
            for (LinuxSourceOptions.Barrier barrier : order) {
                Trial t = trial(barrier, round, out);
                all.add(t);
                String row = fmt("%s,%d,%.3f,%.3f,%.3f,%.2f,%.3f,%.3f,%.3f,%.3f,%.1f,%.1f,%s,%.3f,%.3f,%d,%s,%.1f,%d,%d,%.1f,"
                                + "%.3f,%.3f,%.2f,%.3f,%.3f",
                        t.barrier, t.round, t.stallA, t.stallB, t.stallC, t.ratio(), t.waitA, t.waitB, t.queryA, t.queryB,
                        t.bigWriteB, t.bigWriteC, t.inFlightB, t.beforeA, t.beforeB, t.smallWrites, t.barrierUsedB, t.stallBAt,
                        t.eventsA, t.eventsB, t.stallAAt, t.blockedA, t.blockedB, t.blockedRatio(), t.cpuWaitOfStallB,
                        t.answeredA);
                csv.add(row);
                System.out.println("trial " + row + "  (load " + BenchSupport.loadAverage() + ")");
            }
        }
        Files.write(out.resolve("checkpoint.csv"), csv);
        System.out.println();
        System.out.println("| Barrier | Stall (a), no large write, ms | Stall (b), 1 GiB write in flight, ms | Ratio (b)/(a) "
                + "| Query waited (a), ms | Query waited (b), ms | Stall (c), 1 GiB write, no checkpoint, ms | Big write took, ms |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (String b : List.of("srcu", "freeze")) {
            List<Trial> ts = all.stream().filter(t -> t.barrier.equals(b)).toList();
            System.out.println("| " + b + " | " + spread(map(ts, Trial::stallA), "%.2f") + " | " + spread(map(ts, Trial::stallB), "%.2f")
                    + " | **" + spread(map(ts, Trial::ratio), "%.2f") + "** | " + spread(map(ts, Trial::waitA), "%.2f")
                    + " | " + spread(map(ts, Trial::waitB), "%.1f") + " | " + spread(map(ts, Trial::stallC), "%.2f")
                    + " | " + spread(map(ts, Trial::bigWriteB), "%.0f") + " |");
        }
        System.out.println();
        System.out.println("| Barrier | Blocked (a), ms | Blocked (b), ms | Blocked ratio (b)/(a) | Wait for a CPU within stall (b), ms |");
        System.out.println("|---|---|---|---|---|");
        for (String b : List.of("srcu", "freeze")) {
            List<Trial> ts = all.stream().filter(t -> t.barrier.equals(b)).toList();
            System.out.println("| " + b + " | " + spread(map(ts, Trial::blockedA), "%.2f") + " | "
                    + spread(map(ts, Trial::blockedB), "%.2f") + " | **" + spread(map(ts, Trial::blockedRatio), "%.2f")
                    + "** | " + spread(map(ts, Trial::cpuWaitOfStallB), "%.2f") + " |");
        }
        System.out.println();
        System.out.println("per-trial rows: " + out.resolve("checkpoint.csv") + "; load average " + BenchSupport.loadAverage());
    }

    private static List<Double> map(List<Trial> ts, ToDoubleFunction<Trial> f) {
        return ts.stream().map(t -> f.applyAsDouble(t)).toList();
    }

    private static Trial trial(LinuxSourceOptions.Barrier barrier, int round, Path out) throws Exception {
        String name = barrier.name().toLowerCase(Locale.ROOT);
        Path log = out.resolve("small-" + name + "-" + round + ".bin");
        Path state = BenchSupport.newStateDir();
        try (LoopMount mount = LoopMount.create("ext4", IMAGE_BYTES)) {
            Path small = mount.mountPoint().resolve("small");
            Files.createDirectory(small); // before the source opens: the tracker's JVM never writes a tracked file system
            // Warm-up, untracked: the first 1 GiB write on a fresh image (and fresh guest memory) is several
            // times slower than the next ones (3.6 s against 0.5-1.8 s here); (b) and (c) should be alike.
            bigWrite(mount.mountPoint().resolve("big"));
            TrackerConfig config = TrackerConfig.defaults().withDurability(DURABILITY);
            try (LinuxSource source = LinuxSource.open(mount.mountPoint(), state, config,
                    LinuxSourceOptions.defaults().withBarrier(barrier));
                 Child writer = new Child(BenchSupport.ops("pwrites", small.toString(),
                         Integer.toString(SMALL_FILES), Integer.toString(SMALL_PERIOD_US), log.toString()))) {
                writer.expect("ready");
                Thread.sleep(300);
                source.bless(source.query().snapshot()); // warm-up: the small files are recorded; marks flushed
                Thread.sleep(500);

                // (a) no large write in flight
                long eventsA0 = source.eventCounts().preContent();
                double answeredA0 = source.answerLatency().sumSeconds();
                long a0 = System.nanoTime();
                LinuxResult ra = source.query();
                long a1 = System.nanoTime();
                long eventsA = source.eventCounts().preContent() - eventsA0;
                double answeredA = (source.answerLatency().sumSeconds() - answeredA0) * 1e3;
                source.bless(ra.snapshot());
                Thread.sleep(500);

                // (b) one 1 GiB write call in flight
                long b0;
                long b1;
                long eventsB0;
                long eventsB;
                LinuxResult rb;
                long bigStartB;
                long bigEndB;
                try (Child big = startBigWrite(mount.mountPoint().resolve("big"))) {
                    bigStartB = Long.parseLong(big.line().split(" ")[1]);
                    Thread.sleep(50);
                    eventsB0 = source.eventCounts().preContent();
                    b0 = System.nanoTime();
                    rb = source.query();
                    b1 = System.nanoTime();
                    eventsB = source.eventCounts().preContent() - eventsB0;
                    source.bless(rb.snapshot());
                    String[] end = big.line().split(" ");
                    bigEndB = Long.parseLong(end[1]);
                    if (big.waitFor(120) != 0) {
                        throw new IOException("ops bigwrite failed: " + String.join(" ", end));
                    }
                }
                Thread.sleep(500);

                // (c) the control: the same big write, no checkpoint
                long[] control = bigWrite(mount.mountPoint().resolve("big"));
                long bigStartC = control[0];
                long bigEndC = control[1];
                Thread.sleep(300);
                writer.process.destroy(); // SIGTERM: it writes its log and exits
                if (writer.waitFor(60) != 0) {
                    throw new IOException("ops pwrites failed");
                }
                long[] calls = readLog(log);
                Files.delete(log);
                double ms = 1e6;
                return new Trial(name, round,
                        maxOverlapping(calls, a0, a1) / ms,
                        maxOverlapping(calls, b0, b1) / ms,
                        maxOverlapping(calls, bigStartC + 50_000_000L, bigEndC) / ms,
                        ra.barrierWait().toNanos() / ms, rb.barrierWait().toNanos() / ms,
                        (a1 - a0) / ms, (b1 - b0) / ms,
                        (bigEndB - bigStartB) / ms, (bigEndC - bigStartC) / ms,
                        bigStartB < b0 && bigEndB > b0,
                        maxOverlapping(calls, a0 - 400_000_000L, a0) / ms,
                        maxOverlapping(calls, b0 - 45_000_000L, b0) / ms,
                        calls.length / CALL_LONGS, rb.barrier(), (longestStart(calls, b0, b1) - b0) / ms,
                        eventsA, eventsB, (longestStart(calls, a0, a1) - a0) / ms,
                        maxBlocked(calls, a0, a1) / ms, maxBlocked(calls, b0, b1) / ms,
                        cpuWaitOfLongest(calls, b0, b1) / ms, answeredA);
            }
        } finally {
            BenchSupport.deleteTree(state);
        }
    }

    /** Starts a child {@code ops bigwrite} of {@link #BIG_WRITE_BYTES} into {@code file}: its next line is "start NS". */
    private static Child startBigWrite(Path file) throws IOException {
        Child big = new Child(BenchSupport.ops("bigwrite", file.toString(), Long.toString(BIG_WRITE_BYTES)));
        try {
            big.expect("ready");
            big.send("go");
            return big;
        } catch (IOException e) {
            big.close();
            throw e;
        }
    }

    /** One whole big write by a child; returns its start and end (System.nanoTime clock). */
    private static long[] bigWrite(Path file) throws IOException, InterruptedException {
        try (Child big = startBigWrite(file)) {
            long start = Long.parseLong(big.line().split(" ")[1]);
            long end = Long.parseLong(big.line().split(" ")[1]);
            if (big.waitFor(120) != 0) {
                throw new IOException("ops bigwrite into " + file + " failed");
            }
            return new long[] {start, end};
        }
    }

    private static long[] readLog(Path log) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(log)).order(ByteOrder.LITTLE_ENDIAN);
        long[] v = new long[b.remaining() / 8];
        b.asLongBuffer().get(v);
        return v;
    }

    /** ops pwrites logs each call as start, end, wait for a CPU (ns). */
    static final int CALL_LONGS = 3;

    /** The index of the longest call overlapping [from, to]; -1 if none. */
    static int longest(long[] calls, long from, long to) {
        long max = -1;
        int at = -1;
        for (int i = 0; i + CALL_LONGS <= calls.length; i += CALL_LONGS) {
            if (calls[i + 1] >= from && calls[i] <= to && calls[i + 1] - calls[i] > max) {
                max = calls[i + 1] - calls[i];
                at = i;
            }
        }
        return at;
    }

    /** The start of the longest call overlapping [from, to]; {@code from} if none. */
    static long longestStart(long[] calls, long from, long to) {
        int i = longest(calls, from, to);
        return i < 0 ? from : calls[i];
    }

    /** The longest call (end - start, ns) among those overlapping [from, to]; 0 if none. */
    static long maxOverlapping(long[] calls, long from, long to) {
        int i = longest(calls, from, to);
        return i < 0 ? 0 : calls[i + 1] - calls[i];
    }

    /** The longest call among those overlapping [from, to] less its wait for a CPU (ns); 0 if none. */
    static long maxBlocked(long[] calls, long from, long to) {
        long max = 0;
        for (int i = 0; i + CALL_LONGS <= calls.length; i += CALL_LONGS) {
            if (calls[i + 1] >= from && calls[i] <= to) {
                max = Math.max(max, Math.max(0, calls[i + 1] - calls[i] - calls[i + 2]));
            }
        }
        return max;
    }

    /** How much of the longest call overlapping [from, to] was a wait for a CPU (ns); 0 if none. */
    static long cpuWaitOfLongest(long[] calls, long from, long to) {
        int i = longest(calls, from, to);
        return i < 0 ? 0 : Math.min(calls[i + 2], calls[i + 1] - calls[i]);
    }
}
