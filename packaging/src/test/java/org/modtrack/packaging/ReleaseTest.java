package org.modtrack.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.testing.LoopMount;

/**
 * bin/release's two artifacts, installed the way a user would and run with a bare environment (no
 * PATH, no JAVA_HOME, no JDK): the tarball unpacked, and the Debian package extracted with
 * {@code dpkg-deb -x}. Each runs {@code --version}, a usage error, and a daemon, query, bless,
 * query, stop cycle on a loop-mounted ext4 from where it was unpacked; the daemon, given a cache
 * directory as systemd's {@code CacheDirectory=} gives one, writes the archive of its classes there
 * as it stops, and its next start maps it.
 */
class ReleaseTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path REPOSITORY = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path JAR = REPOSITORY.resolve("cli/target/modtrack.jar");
    /** jlink, gzip and xz of about 70 MiB take about 30 s here; ten minutes means something hangs. */
    private static final long RELEASE_SECONDS = 600;
    private static final long COMMAND_SECONDS = 60;
    private static final long DAEMON_START_SECONDS = 30;
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @BeforeAll
    static void requirements() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "ReleaseTest skipped: " + LoopMount.unavailableReason("ext4").get());
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/dpkg-deb")), "ReleaseTest skipped: no dpkg-deb");
        assertTrue(Files.isRegularFile(JAR), JAR + " is built before this module's tests");
    }

    @Test
    void theTarballAndTheDebianPackageRunWithNoJdk() throws Exception {
        Path dist = dir.resolve("dist");
        Run release = run(List.of(REPOSITORY.resolve("bin/release").toString(), "--jar", JAR.toString(), "--output",
                dist.toString()), RELEASE_SECONDS, false);
        assertEquals(0, release.exit(), release.err());
        Path tarball = only(dist, "modtrack-", "-linux-x86_64.tar.gz");
        Path deb = only(dist, "modtrack_", "_amd64.deb");
        String tarVersion = name(tarball).substring("modtrack-".length(), name(tarball).length()
                - "-linux-x86_64.tar.gz".length());
        String debVersion = name(deb).substring("modtrack_".length(), name(deb).length() - "_amd64.deb".length());
        assertEquals(tarVersion.replace('-', '~'), debVersion, "the package's version is the tarball's");

        Path unpacked = dir.resolve("tar");
        Files.createDirectories(unpacked);
        check(run(List.of("tar", "-C", unpacked.toString(), "-xzf", tarball.toString()), COMMAND_SECONDS, false));
        Path tarHome = unpacked.resolve("modtrack-" + tarVersion);
        assertFalse(Files.exists(tarHome.resolve("runtime/bin/javac")), "a runtime, not a JDK");
        assertTrue(Files.isRegularFile(tarHome.resolve("share/man/man1/modtrack.1")));
        assertTrue(Files.readString(tarHome.resolve("share/modtrack/modtrack.service"))
                .contains("\nExecStart=/usr/local/bin/modtrack daemon --config /etc/modtrack.conf\n"));
        cycle(tarHome.resolve("bin/modtrack"), tarVersion, "tar");

        Path extracted = dir.resolve("deb");
        check(run(List.of("dpkg-deb", "-x", deb.toString(), extracted.toString()), COMMAND_SECONDS, false));
        Path control = dir.resolve("control");
        check(run(List.of("dpkg-deb", "-e", deb.toString(), control.toString()), COMMAND_SECONDS, false));
        checkPackage(extracted, control, debVersion);
        cycle(extracted.resolve("usr/bin/modtrack"), tarVersion, "deb");
    }

    /** What the Debian package installs besides the program, and how dpkg is told about it. */
    private static void checkPackage(Path root, Path control, String version) throws IOException, InterruptedException {
        String fields = Files.readString(control.resolve("control"));
        assertTrue(fields.contains("\nVersion: " + version + "\n"), fields);
        assertTrue(fields.startsWith("Package: modtrack\n"), fields);
        assertEquals("/etc/modtrack.conf\n", Files.readString(control.resolve("conffiles")), "the configuration is a conffile");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            assertTrue(Files.isExecutable(control.resolve(script)), script);
            check(run(List.of("sh", "-n", control.resolve(script).toString()), COMMAND_SECONDS, false));
        }
        Path link = root.resolve("usr/bin/modtrack");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals(Path.of("../lib/modtrack/bin/modtrack"), Files.readSymbolicLink(link),
                "relative, so that it works wherever the package is extracted");
        assertTrue(Files.readString(root.resolve("etc/modtrack.conf")).contains("\ngroup = modtrack\n"),
                "the socket belongs to the modtrack group");
        assertTrue(Files.readString(root.resolve("usr/lib/sysusers.d/modtrack.conf")).contains("\ng modtrack -\n"));
        String unit = Files.readString(root.resolve("usr/lib/systemd/system/modtrack.service"));
        assertTrue(unit.contains("\nExecStart=/usr/bin/modtrack daemon --config /etc/modtrack.conf\n"), unit);
        String man;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(root.resolve("usr/share/man/man1/modtrack.1.gz")))) {
            man = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (String command : List.of("daemon", "query", "bless", "status", "watch", "stop", "mirror", "simulate", "demo")) {
            assertTrue(man.contains("\n.SS modtrack " + command + "\n"), "the man page describes " + command);
        }
        assertTrue(Files.isRegularFile(root.resolve("usr/share/doc/modtrack/protocol.md")));
    }

    /**
     * {@code modtrack --version}, a usage error, and daemon, query, bless, query, stop on a fresh
     * loop ext4, every command run as {@code launcher} with an empty environment (the daemon's with
     * {@code CACHE_DIRECTORY}, as under systemd); then the daemon once more, from the archive of its
     * classes the first one wrote as it stopped.
     */
    private void cycle(Path launcher, String version, String label) throws Exception {
        Run v = run(List.of(launcher.toString(), "--version"), COMMAND_SECONDS, true);
        assertEquals(0, v.exit(), v.err());
        assertEquals("modtrack " + version + "\n", v.out());

        Run usage = run(List.of(launcher.toString(), "bless", "/", "many"), COMMAND_SECONDS, true);
        assertEquals(2, usage.exit());
        assertEquals(1, usage.err().lines().count(), "one line: " + usage.err());

        Path socket = dir.resolve(label + ".sock");
        Path log = dir.resolve(label + "-daemon.log");
        Path cache = Files.createDirectories(dir.resolve(label + "-cache"));
        try (LoopMount fs = LoopMount.create("ext4", 64 * MIB)) {
            Path root = fs.mountPoint();
            // The heap's bound from the config file, then from the command line, which wins: the
            // launcher starts the JVM with it.
            Path config = Files.writeString(dir.resolve(label + ".conf"), "heap = 300M  # the daemon's Java heap\n");
            ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "daemon", "--watch", root.toString(), "--state",
                    dir.resolve(label + "-state").toString(), "--socket", socket.toString(), "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().clear();
            pb.environment().put("CACHE_DIRECTORY", cache.toString());
            Process daemon = pb.start();
            try {
                awaitStatus(launcher, root, socket, daemon, log);
                assertEquals(300L << 20, heapMax(launcher, root, socket), "heap = 300M in the config file");
                Files.writeString(root.resolve("before"), "1");
                JsonNode first = query(launcher, root, socket);
                assertEquals("intact", first.path("continuity").asText(), first.toString());
                Run bless = client(launcher, socket, "bless", root.toString(), first.path("snapshot").asText());
                assertEquals(0, bless.exit(), bless.err());

                Files.writeString(root.resolve("after"), "2");
                JsonNode second = query(launcher, root, socket);
                assertEquals(Set.of(root.resolve("after").toString()), paths(second),
                        "only what changed since the blessed result: " + second);
                Run stop = client(launcher, socket, "stop");
                assertEquals(0, stop.exit(), stop.err());
                assertTrue(daemon.waitFor(DAEMON_START_SECONDS, TimeUnit.SECONDS), "the daemon stopped");
                assertEquals(0, daemon.exitValue(), Files.readString(log));
                Path archive = archiveIn(cache);
                Files.writeString(cache.resolve("daemon-1-2.jsa"), "an archive of another jar");

                pb.command().addAll(List.of("--heap", "200M"));
                daemon = pb.start();
                awaitStatus(launcher, root, socket, daemon, log);
                assertEquals(200L << 20, heapMax(launcher, root, socket), "--heap 200M over the config file's 300M");
                String maps = Files.readString(Path.of("/proc", Long.toString(daemon.pid()), "maps"));
                assertTrue(maps.contains(archive.toString()), "the next daemon maps " + archive + ": " + maps);
                assertEquals(List.of(archive), archives(cache), "an archive of another jar is removed");
                assertEquals(0, client(launcher, socket, "stop").exit());
                assertTrue(daemon.waitFor(DAEMON_START_SECONDS, TimeUnit.SECONDS), "the daemon stopped");
                assertEquals(0, daemon.exitValue(), Files.readString(log));
            } finally {
                if (daemon.isAlive()) {
                    daemon.destroy();
                    if (!daemon.waitFor(DAEMON_START_SECONDS, TimeUnit.SECONDS)) {
                        daemon.destroyForcibly().waitFor();
                    }
                }
            }
        }
    }

    /** The one archive of the daemon's classes in {@code cache}, which the daemon that stopped wrote. */
    private static Path archiveIn(Path cache) throws IOException {
        List<Path> archives = archives(cache);
        assertEquals(1, archives.size(), "the stopped daemon wrote the archive of its classes in " + cache + ": " + archives);
        assertTrue(Files.size(archives.getFirst()) > 0, archives.getFirst() + " is empty");
        return archives.getFirst();
    }

    private static List<Path> archives(Path cache) throws IOException {
        try (Stream<Path> files = Files.list(cache)) {
            return files.filter(f -> f.getFileName().toString().matches("daemon-.*\\.jsa")).sorted().toList();
        }
    }

    /** Polls {@code status} until the daemon answers; fails at once if it exited. */
    private static void awaitStatus(Path launcher, Path root, Path socket, Process daemon, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DAEMON_START_SECONDS);
        while (true) {
            assertTrue(daemon.isAlive(), () -> "the daemon exited: " + read(log));
            if (Files.exists(socket) && client(launcher, socket, "status", root.toString()).exit() == 0) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, () -> "the daemon did not answer: " + read(log));
            Thread.sleep(100);
        }
    }

    /** The bound of the daemon's heap, as its status says. */
    private static long heapMax(Path launcher, Path root, Path socket) throws IOException, InterruptedException {
        Run r = client(launcher, socket, "status", root.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        return JSON.readTree(r.out()).path("memory").path("heapMax").asLong();
    }

    private static JsonNode query(Path launcher, Path root, Path socket) throws IOException, InterruptedException {
        Run r = client(launcher, socket, "query", root.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        return JSON.readTree(r.out());
    }

    private static Run client(Path launcher, Path socket, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--socket", socket.toString()));
        return run(command, COMMAND_SECONDS, true);
    }

    private static Set<String> paths(JsonNode result) {
        Set<String> out = new TreeSet<>();
        result.path("changes").forEach(c -> out.add(c.path("path").asText()));
        return out;
    }

    private record Run(int exit, String out, String err) {}

    /** Runs {@code command} to its end; {@code bare}: with an empty environment. */
    private static Run run(List<String> command, long seconds, boolean bare) throws IOException, InterruptedException {
        Path out = Files.createTempFile("modtrack-release-out", ".txt");
        Path err = Files.createTempFile("modtrack-release-err", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            if (bare) {
                pb.environment().clear();
            }
            Process p = pb.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", command) + " did not finish within " + seconds + " s");
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static void check(Run r) {
        assertEquals(0, r.exit(), r.err());
    }

    private static Path only(Path dist, String prefix, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dist)) {
            List<Path> matching = files.filter(p -> name(p).startsWith(prefix) && name(p).endsWith(suffix)).toList();
            assertEquals(1, matching.size(), "one " + prefix + "*" + suffix + " in " + dist + ": " + matching);
            return matching.getFirst();
        }
    }

    private static String name(Path p) {
        return p.getFileName().toString();
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
