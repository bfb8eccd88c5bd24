package org.modtrack.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.FileId;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.TrackerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code modtrack demo --engine}: a first look at the engine in a scratch directory ({@link TrackingDemo} is the
 * default). A writer records each
 * intent before it writes; queries return what changed; blessing discards it; then a writer
 * process is killed with SIGKILL mid-work and recovery still names every file it changed.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        description = {"Tracks a scratch ext4 file system (as root, Linux 6.1+): the daemon and modtrack mirror --follow, each in "
                + "its own process; writes, renames and deletes; a SIGKILL of the daemon and a restart; at the end the copy's "
                + "digest equals the source's. Everything is removed afterwards.",
                "--engine: the engine alone in a scratch directory: writes, queries, blesses, and recovery after a writer "
                + "process is killed with SIGKILL."})
final class DemoCommand implements Callable<Integer> {
    private static final int CHILD_FILES = 500;
    private static final String ORIGINAL = "original\n";

    @Option(names = "--engine", description = "Show the engine alone (no root, any kernel).")
    boolean engine;

    @Option(names = "--keep", description = "With --engine: keep the scratch directory and print where it is.")
    boolean keep;

    @Override
    public Integer call() throws Exception {
        if (!engine) {
            return new TrackingDemo().run();
        }
        Path root = Files.createTempDirectory("modtrack-demo-");
        Path data = Files.createDirectory(root.resolve("data"));
        Path state = root.resolve("state");
        try {
            System.out.println("modtrack demo: the engine tracking a scratch directory, " + root);
            System.out.println();
            firstCycles(data, state);
            return crashAndRecover(data, state);
        } finally {
            if (keep) {
                System.out.println("(kept " + root + ")");
            } else {
                deleteTree(root);
            }
        }
    }

    private static void firstCycles(Path data, Path state) throws Exception {
        try (ChangeTracker tracker = ChangeTracker.open(state, TrackerConfig.defaults())) {
            System.out.println("1. A writer records its intent (durably: fdatasync) before each write, then writes:"
                    + " a.txt b.txt c.txt");
            for (String name : List.of("a.txt", "b.txt", "c.txt")) {
                write(tracker, data.resolve(name), "hello from the demo\n");
            }
            QueryResult first = tracker.query();
            System.out.println("2. query  -> " + describe(first, data));
            tracker.bless(first.snapshot());
            System.out.println("3. bless " + first.snapshot() + ": the consumer has acted on it; those records are discarded");
            write(tracker, data.resolve("b.txt"), "changed again\n");
            write(tracker, data.resolve("d.txt"), "a new file\n");
            System.out.println("4. more writes: b.txt d.txt");
            QueryResult second = tracker.query();
            System.out.println("5. query  -> " + describe(second, data));
            tracker.bless(second.snapshot());
            System.out.println("6. bless " + second.snapshot() + "; clean stop");
        }
    }

    private static Integer crashAndRecover(Path data, Path state) throws Exception {
        for (int i = 0; i < CHILD_FILES; i++) {
            Files.writeString(data.resolve(childFile(i)), ORIGINAL);
        }
        System.out.println("7. A writer process modifies " + CHILD_FILES + " other files, recording each intent first;"
                + " it is killed with SIGKILL mid-way");
        long killedAfter = runAndKillChild(data, state);
        Set<String> changed = new TreeSet<>();
        for (int i = 0; i < CHILD_FILES; i++) {
            if (!Files.readString(data.resolve(childFile(i))).equals(ORIGINAL)) {
                changed.add(data.resolve(childFile(i)).toString());
            }
        }
        System.out.println("   killed after " + killedAfter + " ms; it had modified " + changed.size() + " files");
        try (ChangeTracker tracker = ChangeTracker.open(state, TrackerConfig.defaults())) {
            QueryResult r = tracker.query();
            Set<String> reported = r.changes().stream().map(c -> c.file().path()).collect(Collectors.toSet());
            List<String> missed = changed.stream().filter(p -> !reported.contains(p)).toList();
            System.out.println("8. reopen (recovery), query -> snapshot " + r.snapshot() + ", recovered: " + r.recovered()
                    + ", continuity: " + r.continuity() + ", " + r.changes().size() + " files reported; missed: "
                    + missed.size());
            tracker.bless(r.snapshot());
            System.out.println("9. bless " + r.snapshot() + "; clean stop");
            if (!missed.isEmpty()) {
                System.out.println("MISSED: " + missed);
                return Main.FOUND_PROBLEM;
            }
        }
        return 0;
    }

    private static long runAndKillChild(Path data, Path state) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "demo-child",
                state.toString(), data.toString()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line = out.readLine(); // the child says "ready" once it has started writing
            if (!"ready".equals(line)) {
                throw new IOException("the demo's writer process did not start: " + line);
            }
            long start = System.nanoTime();
            Thread.sleep(300);
            child.destroyForcibly(); // SIGKILL
            child.waitFor(10, TimeUnit.SECONDS);
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        } finally {
            child.destroyForcibly();
        }
    }

    private static String childFile(int i) {
        return String.format("file-%03d.txt", i);
    }

    private static void write(ChangeTracker tracker, Path file, String content) throws IOException {
        long token = tracker.preWrite(FileId.ofPath(file)).token();
        try {
            Files.writeString(file, content);
        } finally {
            tracker.postWrite(token);
        }
    }

    private static String describe(QueryResult r, Path data) {
        String names = r.changes().stream().map(ChangedFile::file)
                .map(f -> data.relativize(Path.of(f.path())).toString()).sorted().collect(Collectors.joining(" "));
        return "snapshot " + r.snapshot() + ", last blessed " + (r.lastBlessed() == 0 ? "none" : r.lastBlessed()) + ", "
                + r.changes().size() + " changed: " + names;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The demo's writer process: modifies files in a loop, recording each intent first, until killed. */
    @Command(name = "demo-child", hidden = true)
    static final class Child implements Callable<Integer> {
        @Parameters(index = "0")
        Path state;

        @Parameters(index = "1")
        Path data;

        @Override
        public Integer call() throws Exception {
            ChangeTracker tracker = ChangeTracker.open(state, TrackerConfig.defaults());
            long pid = ProcessHandle.current().pid();
            for (int round = 0; ; round++) {
                for (int i = 0; i < CHILD_FILES; i++) {
                    write(tracker, data.resolve(childFile(i)), "written by process " + pid + ", round " + round + "\n");
                    if (round == 0 && i == 0) {
                        System.out.println("ready");
                        System.out.flush();
                    }
                }
            }
        }
    }
}
