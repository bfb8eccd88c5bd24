package org.modtrack.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.modtrack.daemon.client.DaemonClient;

/**
 * {@code modtrack demo}: the real thing on a scratch file system. A 128 MiB ext4 image is mounted
 * under {@code /tmp/modtrack-loop-demo-*} (where bin/lib/clean-stale-loops.sh finds it if the demo
 * is killed); {@code modtrack daemon} tracks it and {@code modtrack mirror --follow} keeps a copy,
 * each in a process of its own; a shell writes, renames and deletes; the daemon is killed with
 * SIGKILL in the middle of a writer's work and started again; at the end the copy's digest equals
 * the source's. Everything is removed afterwards.
 */
final class TrackingDemo {
    private static final long IMAGE_BYTES = 128L << 20;
    private static final long STEP_SECONDS = 60;
    private static final String WHAT_IT_NEEDS = "modtrack demo needs root (it mounts a scratch ext4 image) and Linux 6.1 or"
            + " later (fanotify permission events); bin/modtrack demo --engine shows the engine alone, anywhere.";

    private final List<Process> started = new ArrayList<>();
    private Path directory;
    private Path mount;
    private boolean mounted;

    /** Runs the demo; 0 if the copy equals the source at the end. */
    int run() throws Exception {
        if (!isRoot()) {
            System.err.println(WHAT_IT_NEEDS);
            return 3;
        }
        directory = Files.createTempDirectory(Path.of("/tmp"), "modtrack-loop-demo-");
        try {
            return steps();
        } finally {
            cleanUp();
        }
    }

    private int steps() throws Exception {
        mount = directory.resolve("mnt");
        Path copy = directory.resolve("copy");
        Path socket = directory.resolve("modtrack.sock");
        Path image = directory.resolve("image");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(IMAGE_BYTES); // sparse
        }
        run("mkfs.ext4", "-q", "-F", image.toString());
        Files.createDirectory(mount);
        run("mount", "-o", "loop", image.toString(), mount.toString());
        mounted = true;
        say("modtrack demo, in " + directory);
        say("1. a scratch ext4 mounted at " + mount + "; 300 files in 10 directories");
        shell("for d in $(seq 0 9); do mkdir d$d; for f in $(seq 0 29); do echo \"file $f of $d\" > d$d/f$f; done; done");

        List<String> daemonArgs = List.of("daemon", "--watch", mount.toString(), "--state", directory.resolve("state").toString(),
                "--socket", socket.toString(), "--durability", "power");
        Process daemon = startDaemon(daemonArgs, socket);
        say("2. modtrack daemon tracks it (pid " + daemon.pid() + "); modtrack mirror --follow 1 keeps " + copy + " equal to it");
        Process mirror = start(List.of("mirror", mount.toString(), copy.toString(), "--follow", "1", "--json", "--state",
                directory.resolve("mirror-state").toString(), "--socket", socket.toString()), "mirror");
        awaitQuietCycle(mirror);

        say("3. a shell appends, renames over a name in use, moves a directory, deletes a tree, makes new files");
        shell("echo more >> d0/f0; mv d1/f1 d1/f2; mv d2 d2-moved; rm -r d3; mkdir new; echo hello > new/file;"
                + " for f in $(seq 0 29); do echo again >> d4/f$f; done");
        awaitQuietCycle(mirror);

        say("4. SIGKILL of the daemon while a writer appends to 30 files and makes 100; then it starts again");
        Process writer = startShell("for i in $(seq 0 99); do echo \"line $i\" >> d5/f$((i % 30)); echo x > d6/w$i; done");
        daemon.destroyForcibly().waitFor();
        say("   killed " + daemon.pid());
        if (!writer.waitFor(STEP_SECONDS, TimeUnit.SECONDS) || writer.exitValue() != 0) {
            throw new IOException("the demo's writer did not finish.");
        }
        daemon = startDaemon(daemonArgs, socket);
        say("   started again (pid " + daemon.pid() + "): its first result is recovered and reconciled (a walk found by"
                + " ctime what changed while its queue was gone), so the mirror copies only that");
        awaitQuietCycle(mirror);

        mirror.destroy(); // SIGTERM: the cycle under way finishes
        mirror.waitFor(STEP_SECONDS, TimeUnit.SECONDS);
        try (DaemonClient c = DaemonClient.connect(socket)) {
            c.stop(true); // the demo ends here: no keeper stays behind
        }
        daemon.waitFor(STEP_SECONDS, TimeUnit.SECONDS);
        Map<String, String> source = tree(mount);
        Map<String, String> mirrored = tree(copy);
        String digest = digestOf(source);
        boolean equal = source.equals(mirrored);
        say("5. source: " + source.size() + " paths, digest " + digest + "; copy: " + mirrored.size() + " paths, digest "
                + digestOf(mirrored) + (equal ? ": equal" : ": DIFFERENT"));
        return equal ? 0 : 1;
    }

    private Process startDaemon(List<String> args, Path socket) throws Exception {
        return awaitHello(start(args, "daemon"), socket, STEP_SECONDS,
                "the daemon did not start (its last words are above). " + WHAT_IT_NEEDS);
    }

    /**
     * Returns {@code daemon} once it answers hello on {@code socket}; throws {@code notStarted} if
     * the process ends first, or a timeout after {@code seconds}.
     */
    static Process awaitHello(Process daemon, Path socket, long seconds, String notStarted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            try (DaemonClient c = DaemonClient.connect(socket)) {
                c.hello();
                return daemon;
            } catch (IOException notYet) {
                if (!daemon.isAlive()) {
                    throw new IOException(notStarted);
                }
                if (System.nanoTime() > deadline) {
                    daemon.destroyForcibly().waitFor();
                    throw new IOException("the daemon did not answer within " + seconds + " s.");
                }
                Thread.sleep(50);
            }
        }
    }

    /** The command line of {@code modtrack ARGS} in a child JVM running this JVM's classes. */
    static List<String> command(List<String> args) {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        return command;
    }

    /**
     * Waits for two cycles of the mirror in a row that had nothing to apply: the second began after
     * the first ended, so after everything done before this call, and the copy holds all of it.
     */
    private void awaitQuietCycle(Process mirror) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STEP_SECONDS);
        synchronized (quiet) {
            quiet[0] = 0;
            while (quiet[0] < 2) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !mirror.isAlive()) {
                    throw new IOException("the mirror did not catch up within " + STEP_SECONDS + " s.");
                }
                quiet.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
            }
        }
    }

    private final int[] quiet = new int[1]; // cycles in a row with nothing to apply

    /** Starts {@code modtrack ARGS} in a child JVM, its lines printed with a prefix as they come. */
    private Process start(List<String> args, String name) throws IOException {
        Process p = new ProcessBuilder(command(args)).redirectErrorStream(true).start();
        started.add(p);
        Thread.ofVirtual().start(() -> echo(p.getInputStream(), name));
        return p;
    }

    private void echo(InputStream in, String name) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                boolean cycle = name.equals("mirror") && line.startsWith("{");
                boolean nothing = cycle && line.contains("\"entries\":0,") && line.contains("\"fullCopy\":false");
                if ((cycle && !nothing) || (name.equals("mirror") && line.startsWith("modtrack"))) {
                    say("   mirror: " + line);
                } else if (name.equals("daemon") && (line.startsWith("SEVERE") || line.startsWith("WARNING"))) {
                    say("   daemon: " + line);
                }
                if (cycle) {
                    synchronized (quiet) {
                        quiet[0] = nothing ? quiet[0] + 1 : 0;
                        quiet.notifyAll();
                    }
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    private Process startShell(String script) throws IOException {
        Process p = new ProcessBuilder("sh", "-c", script).directory(mount.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        started.add(p);
        return p;
    }

    private void shell(String script) throws Exception {
        Process p = startShell(script);
        if (!p.waitFor(STEP_SECONDS, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("the demo's shell step failed: " + script);
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(STEP_SECONDS, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }

    private void cleanUp() {
        for (Process p : started) {
            p.destroyForcibly();
        }
        for (Process p : started) {
            try {
                p.waitFor(STEP_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (mounted) {
                run("umount", mount.toString()); // a loop mount: the device is detached with it
            }
            run("rm", "-rf", directory.toString());
            say("cleaned up " + directory);
        } catch (Exception e) {
            System.err.println("modtrack demo: could not clean up " + directory + " (" + e.getMessage()
                    + "); bin/lib/clean-stale-loops.sh removes it.");
        }
    }

    private static void say(String line) {
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }

    private static boolean isRoot() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return line.split("\\s+")[2].equals("0"); // the effective uid
            }
        }
        return false;
    }

    /** Every path below {@code top} (relative), with its kind, permissions, and contents' digest or link target. */
    static Map<String, String> tree(Path top) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(top)) {
            for (Path p : walk.toList()) {
                String rel = top.relativize(p).toString();
                if (rel.isEmpty()) {
                    continue;
                }
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "link " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.put(rel, "directory " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
                } else {
                    out.put(rel, "file " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p,
                            LinkOption.NOFOLLOW_LINKS)) + " " + digest(Files.readAllBytes(p)));
                }
            }
        }
        return out;
    }

    private static String digestOf(Map<String, String> tree) {
        return digest(tree.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String digest(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }
}
