package org.modtrack.source.linux;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.time.Duration;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.testing.OutputLines;

/**
 * A {@link LinuxSource} in a JVM of its own, so a test can SIGKILL it: {@code main(watched, state)}
 * prints {@code ready} once tracking, then serves lines on stdin: {@code query} answers
 * {@code R snapshot recovered intact reason reconciled listsByName}, one {@code C kind directory path from changed links} line per change
 * (fields separated by tabs) and {@code end}; {@code bless N} answers {@code blessed}; {@code keeper}
 * answers the queue keeper's pid (-1 without one). {@link Client}
 * is the test's side.
 */
final class TrackerProcess {
    /** The system property (for the tracker's JVM) that sets {@link LinuxSourceOptions#keepQueue}, in seconds. */
    static final String KEEP_QUEUE_SECONDS = "modtrack.test.keepQueueSeconds";

    private TrackerProcess() {}

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        LinuxSourceOptions options = LinuxSourceOptions.defaults();
        if (args.length > 2) {
            options = options.withAnswerDeadline(Duration.ofMillis(Long.parseLong(args[2])));
        }
        if (args.length > 3) {
            options = options.withHook(LinuxSourceOptions.Hook.fromCliNameOrNull(args[3]));
        }
        options = options.withKeepQueue(Duration.ofSeconds(Integer.getInteger(KEEP_QUEUE_SECONDS, 0)));
        try (LinuxSource source = LinuxSource.open(Path.of(args[0]), Path.of(args[1]), TrackerConfig.defaults(), options)) {
            out.println("ready");
            out.flush();
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals("query")) {
                    LinuxResult r = source.query();
                    out.println(String.join("\t", "R", Long.toString(r.snapshot()), Boolean.toString(r.recovered()),
                            Boolean.toString(r.continuity().intact()), r.continuity().reason().replace('\n', ' '),
                            r.reconciled() == null ? "" : r.reconciled().toString(), Boolean.toString(r.listsByName())));
                    for (PathChange c : r.changes()) {
                        out.println(String.join("\t", "C", c.kind().name(), Boolean.toString(c.directory()), c.path(),
                                c.from() == null ? "" : c.from(), Boolean.toString(c.changed()), Integer.toString(c.links())));
                    }
                    out.println("end");
                } else if (line.equals("keeper")) {
                    out.println(source.keeperPid().orElse(-1));
                } else if (line.startsWith("bless ")) {
                    source.bless(Long.parseLong(line.substring(6)));
                    out.println("blessed");
                }
                out.flush();
            }
        }
    }

    /** A result as the client parsed it; {@code reconciled}: how a walk found what changed unseen (null if none did). */
    record Result(long snapshot, boolean recovered, boolean intact, String reason, String reconciled, boolean listsByName,
                  List<PathChange> changes) {}

    /** The test's side: starts the tracker JVM, sends commands, waits for answers (never forever). */
    static final class Client implements AutoCloseable {
        private static final long TIMEOUT_SECONDS = 60;
        private final Process process;
        private final Writer in;
        private final OutputLines lines;
        private final long ready;

        Client(Path watched, Path state, Path stderr) throws IOException, InterruptedException {
            this(watched, state, stderr, LinuxSourceOptions.defaults().answerDeadline());
        }

        /** With {@code hook} (null: the best the kernel offers). */
        Client(Path watched, Path state, Path stderr, LinuxSourceOptions.Hook hook) throws IOException, InterruptedException {
            this(watched, state, stderr, LinuxSourceOptions.defaults().answerDeadline(), List.of(), hook);
        }

        Client(Path watched, Path state, Path stderr, Duration deadline) throws IOException, InterruptedException {
            this(watched, state, stderr, deadline, List.of());
        }

        /** With {@code jvmOptions} (system properties, say) for the tracker's JVM. */
        Client(Path watched, Path state, Path stderr, Duration deadline, List<String> jvmOptions)
                throws IOException, InterruptedException {
            this(watched, state, stderr, deadline, jvmOptions, null);
        }

        /** With {@code hook} (null: the best the kernel offers) and {@code jvmOptions} for the tracker's JVM. */
        Client(Path watched, Path state, Path stderr, LinuxSourceOptions.Hook hook, List<String> jvmOptions)
                throws IOException, InterruptedException {
            this(watched, state, stderr, LinuxSourceOptions.defaults().answerDeadline(), jvmOptions, hook);
        }

        private Client(Path watched, Path state, Path stderr, Duration deadline, List<String> jvmOptions,
                       LinuxSourceOptions.Hook hook) throws IOException, InterruptedException {
            String java = ProcessHandle.current().info().command().orElse(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString());
            List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
            command.addAll(jvmOptions);
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), TrackerProcess.class.getName(),
                    watched.toString(), state.toString(), Long.toString(deadline.toMillis())));
            if (hook != null) {
                command.add(hook.cliName());
            }
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile())).start();
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            lines = new OutputLines(process, "tracker-process-reader");
            try {
                expect("ready");
            } catch (IOException | RuntimeException | Error e) {
                close();
                throw e;
            }
            ready = System.nanoTime();
        }

        /** System.nanoTime() when the tracker said it was tracking (its marks were in place before). */
        long ready() {
            return ready;
        }

        long pid() {
            return process.pid();
        }

        Result query() throws IOException, InterruptedException {
            send("query");
            String[] head = next().split("\t", -1);
            if (!head[0].equals("R")) {
                throw new IOException("the tracker answered " + String.join(" ", head));
            }
            List<PathChange> changes = new ArrayList<>();
            for (String line; !(line = next()).equals("end"); ) {
                String[] f = line.split("\t", -1);
                changes.add(new PathChange(f[3], PathChange.Kind.valueOf(f[1]), f[4].isEmpty() ? null : f[4],
                        Boolean.parseBoolean(f[2]), false, false, Integer.parseInt(f[6]), Boolean.parseBoolean(f[5])));
            }
            return new Result(Long.parseLong(head[1]), Boolean.parseBoolean(head[2]), Boolean.parseBoolean(head[3]),
                    head[4], head[5].isEmpty() ? null : head[5], Boolean.parseBoolean(head[6]), changes);
        }

        /** The pid of the queue keeper holding the tracker's group, or -1 if none does. */
        long keeperPid() throws IOException, InterruptedException {
            send("keeper");
            return Long.parseLong(next().strip());
        }

        void bless(long snapshot) throws IOException, InterruptedException {
            send("bless " + snapshot);
            expect("blessed");
        }

        /** Waits up to {@code seconds} for the process to end by itself (or be killed by its watchdog). */
        boolean awaitExit(long seconds) throws InterruptedException {
            return process.waitFor(seconds, TimeUnit.SECONDS);
        }

        /** SIGKILL, and waits for the process to be gone. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("the tracker process " + process.pid() + " outlived SIGKILL; its threads:\n"
                        + threadsInKernel(process.pid()));
            }
        }

        /**
         * Each thread's state, wait channel and kernel stack: a SIGKILLed process lingers only while a
         * thread sits in an uninterruptible wait, and this says which.
         */
        static String threadsInKernel(long pid) {
            StringBuilder out = new StringBuilder();
            try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : (Iterable<Path>) tasks::iterator) {
                    out.append(task.getFileName()).append(' ').append(readQuietly(task.resolve("comm")))
                            .append(" wchan=").append(readQuietly(task.resolve("wchan"))).append('\n')
                            .append(readQuietly(task.resolve("stack"))).append('\n');
                }
            } catch (IOException | RuntimeException e) {
                out.append("(could not list its threads: ").append(e).append(')');
            }
            return out.toString();
        }

        private static String readQuietly(Path file) {
            try {
                return Files.readString(file).strip();
            } catch (IOException | RuntimeException e) {
                return "?";
            }
        }

        private void send(String line) throws IOException {
            in.write(line + "\n");
            in.flush();
        }

        private void expect(String want) throws IOException, InterruptedException {
            String got = next();
            if (!got.equals(want)) {
                throw new IOException("the tracker process said " + got + ", not " + want + " (see its stderr)");
            }
        }

        private String next() throws IOException, InterruptedException {
            String line = lines.next(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (line == null) {
                throw new IOException("the tracker process said nothing for " + TIMEOUT_SECONDS + " s");
            }
            if (line.equals(OutputLines.END)) {
                throw new IOException("the tracker process ended (exit " + (process.isAlive() ? "?" : process.exitValue())
                        + "; see its stderr)");
            }
            return line;
        }

        /** Stops it cleanly if it still runs (stdin closed), else kills it. */
        @Override
        public void close() throws InterruptedException {
            if (!process.isAlive()) {
                return;
            }
            try {
                in.close();
            } catch (IOException e) {
                // already gone
            }
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
