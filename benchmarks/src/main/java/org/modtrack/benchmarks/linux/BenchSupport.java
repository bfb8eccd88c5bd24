package org.modtrack.benchmarks.linux;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the Linux benchmarks share: the writer programs (C, compiled by {@code bin/bench-linux} into
 * the directory named by {@code -Dmodtrack.bench.bin}), child processes, state directories outside
 * the tracked file system, and medians. Every write to a tracked file system is made by a child
 * process: the tracker's own threads are not waited for by its barrier (docs/linux-source.md).
 */
final class BenchSupport {
    private BenchSupport() {
    }

    /** A command line of the workloads tool (benchmarks/workloads/ops.c, compiled by bin/bench-linux): {@code ops SUBCOMMAND ARGS}. */
    static String[] ops(String subcommand, String... args) {
        String dir = System.getProperty("modtrack.bench.bin");
        if (dir == null) {
            throw new IllegalStateException("run through bin/bench-linux, which compiles the workloads and sets -Dmodtrack.bench.bin");
        }
        Path p = Path.of(dir, "ops");
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException(p + " is missing: bin/bench-linux compiles it");
        }
        String[] command = new String[args.length + 2];
        command[0] = p.toString();
        command[1] = subcommand;
        System.arraycopy(args, 0, command, 2, args.length);
        return command;
    }

    /** A child whose stdout is read line by line and whose stdin can be written to. */
    static final class Child implements AutoCloseable {
        final Process process;
        private final BufferedReader out;

        Child(String... command) throws IOException {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        /** The next line of the child's stdout; fails if it ends first. */
        String line() throws IOException {
            String l = out.readLine();
            if (l == null) {
                throw new IOException("child " + process.pid() + " ended its output (exit " + exitCodeOrRunning() + ")");
            }
            return l;
        }

        void expect(String what) throws IOException {
            String l = line();
            if (!l.equals(what)) {
                throw new IOException("child " + process.pid() + " said '" + l + "', expected '" + what + "'");
            }
        }

        void send(String line) throws IOException {
            process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
        }

        int waitFor(long seconds) throws IOException, InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                throw new IOException("child " + process.pid() + " " + process.info().commandLine().orElse("")
                        + " did not exit within " + seconds + " s");
            }
            return process.exitValue();
        }

        private String exitCodeOrRunning() {
            return process.isAlive() ? "still running" : Integer.toString(process.exitValue());
        }

        /** Kills the child if it still runs (SIGKILL), and waits for it: the mount must not stay busy. */
        @Override
        public void close() throws IOException {
            if (process.isAlive()) {
                process.destroyForcibly();
                try {
                    process.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                out.close();
                process.getOutputStream().close();
            } catch (IOException ignored) {
                // the pipes of a dead child
            }
        }
    }

    /** Runs {@code command} to its end, output discarded, errors shown; fails on a non-zero exit. */
    static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within 600 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + p.exitValue());
        }
    }

    /** A fresh state directory under /tmp (the root file system, never the tracked loop mount). */
    static Path newStateDir() throws IOException {
        return Files.createTempDirectory(Path.of("/tmp"), "modtrack-bench-state-");
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** "median (min–max)" with {@code format} for each number. */
    static String spread(List<Double> values, String format) {
        if (values.isEmpty()) {
            return "n/a";
        }
        double min = values.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = values.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return String.format(Locale.ROOT, format + " (" + format + "–" + format + ")", median(values), min, max);
    }

    static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
