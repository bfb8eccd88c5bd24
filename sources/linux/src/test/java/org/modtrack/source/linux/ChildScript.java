package org.modtrack.source.linux;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a Python script in a child process, one step at a time: the script calls {@code step(name)}
 * before each access and waits; the test labels what comes next, then lets it go. So every event
 * is attributed to exactly one access, and the accesses come from another process, as a real
 * writer's would. {@code info(key, value)} reports values back.
 */
final class ChildScript {
    static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    private static final long TIMEOUT_SECONDS = 60;
    private static final String PRELUDE = """
            import os, sys, mmap, threading
            def step(name):
                sys.stdout.write("STEP " + name + "\\n")
                sys.stdout.flush()
                if sys.stdin.readline() == "":
                    sys.exit(3)
            def info(key, value):
                sys.stdout.write("INFO " + key + " " + str(value) + "\\n")
                sys.stdout.flush()
            M = sys.argv[1]
            def P(name):
                return os.path.join(M, name)
            """;

    /** What the script reported, and its pid. */
    record Result(long pid, Map<String, String> info) {}

    /** Called before the child may take a step, with the step's name. */
    interface StepListener {
        void beforeStep(String name) throws Exception;
    }

    private ChildScript() {}

    /** Whether python3 can be run at all (the probes that need it are skipped otherwise). */
    static boolean available() {
        try {
            return new ProcessBuilder(PYTHON, "-c", "import mmap").start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code body} (after the prelude) with {@code mountPoint} as {@code M}; the script lives in {@code scratch}. */
    static Result run(Path scratch, Path mountPoint, String body, StepListener steps) throws Exception {
        Path script = Files.createTempFile(scratch, "probe-", ".py");
        Files.writeString(script, PRELUDE + body);
        Path stderr = Files.createTempFile(scratch, "probe-", ".err");
        Process child = new ProcessBuilder(PYTHON, "-u", script.toString(), mountPoint.toString())
                .directory(scratch.toFile()).redirectError(stderr.toFile()).start();
        Map<String, String> info = new LinkedHashMap<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                OutputStream in = child.getOutputStream()) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("STEP ")) {
                    steps.beforeStep(line.substring(5));
                    in.write('\n');
                    in.flush();
                } else if (line.startsWith("INFO ")) {
                    String[] kv = line.substring(5).split(" ", 2);
                    info.put(kv[0], kv.length > 1 ? kv[1] : "");
                }
            }
            if (!child.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("the probe script did not exit within " + TIMEOUT_SECONDS + " s");
            }
        } finally {
            if (child.isAlive()) {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (child.exitValue() != 0) {
            throw new AssertionError("the probe script failed (exit " + child.exitValue() + "): "
                    + Files.readString(stderr).strip());
        }
        return new Result(child.pid(), info);
    }

    /** Runs a command (sh, dd, truncate) to its end; fails the test if it fails. */
    static long command(Path scratch, String... command) throws Exception {
        Process child = new ProcessBuilder(command).directory(scratch.toFile()).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!child.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not exit within " + TIMEOUT_SECONDS + " s");
        }
        if (child.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed (exit " + child.exitValue() + "): " + output.strip());
        }
        return child.pid();
    }

    /** The steps of a script body, in order (for tables). */
    static List<String> steps(String body) {
        List<String> names = new ArrayList<>();
        for (String line : body.split("\n")) {
            int at = line.indexOf("step(\"");
            if (at >= 0) {
                names.add(line.substring(at + 6, line.indexOf('"', at + 6)));
            }
        }
        return names;
    }
}
