package org.modtrack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.modtrack.daemon.Protocol;
import org.modtrack.testing.Command;
import org.modtrack.testing.LoopMount;
import org.modtrack.testing.NameReuseWorkload;
import org.modtrack.testing.Seeded;

/**
 * {@code modtrack mirror} end to end: the daemon and the mirror each in a process of its own, a
 * loop-mounted ext4 written by a Python child (name reuse: renames over existing names, swaps,
 * chains, directory moves and removals, hard links, symlinks, truncates, appends, a bulk rewrite
 * large enough that a kill lands in the middle of applying), and SIGKILLs of the mirror in the
 * middle of a cycle (with writers still running) and of the daemon. After every quiet cycle the
 * destination holds exactly what the source holds (every path's kind, permissions, contents and
 * link target). A cycle that resumes a killed mirror's result is followed by one more, since
 * that result was made while the writers ran. Once locally, once through rsync to a local destination.
 */
@ExtendWith(Seeded.class)
class MirrorCliTest {
    private static final long MIB = 1 << 20;
    private static final int ROUNDS = 6;
    private static final long MIRROR_SECONDS = 120;
    private static final boolean RSYNC = Files.isExecutable(Path.of("/usr/bin/rsync"));


    @TempDir
    Path dir;

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "MirrorCliTest skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    @Test
    void aLocalMirrorEqualsTheSourceThroughSigkillsOfBothSides(SplittableRandom random) throws Exception {
        mirrorThroughFaults(random.nextLong(), false);
    }

    @Test
    void anRsyncMirrorEqualsTheSourceThroughSigkillsOfBothSides(SplittableRandom random) throws Exception {
        assumeTrue(RSYNC, "skipped: rsync is not installed (.ci/run installs it)");
        mirrorThroughFaults(random.nextLong(), true);
    }

    /**
     * Named by their events, each file is one entry and the mirror finds its other names by inode;
     * named by a scan, every name in a changed directory is an entry of its own.
     */
    @ParameterizedTest
    @CsvSource({"false, events, 2", "true, events, 2", "false, scan, 0"})
    void aFileWrittenThroughOneOfItsLinksIsCopiedAtEachName(boolean rsync, String naming, long otherLinks) throws Exception {
        assumeTrue(!rsync || RSYNC, "skipped: rsync is not installed (.ci/run installs it)");
        Path socket = dir.resolve("sock");
        Path destination = Files.createDirectory(dir.resolve("dest"));
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            // b is the newest name, the one the kernel gives the file's handle: the result names b.
            Command.sh(root, "mkdir d; echo one > d/a; ln d/a b; echo x > c; ln c d/c2; sync");
            Process daemon = ModtrackProcess.daemon(root, dir.resolve("state"), socket, dir.resolve("daemon.log"),
                    "--naming", naming);
            try {
                List<String> mirror = mirrorCommand(root, destination, socket, rsync);
                runMirror(mirror, dir.resolve("mirror.log"), 0);
                Command.sh(root, "echo two >> b; chmod 600 d/c2");
                JsonNode cycle = runMirror(mirror, dir.resolve("mirror.log"), 0);
                assertSame(root, destination, "after writes through one name of each file: " + cycle, 0);
                assertEquals(otherLinks, cycle.path("otherLinks").asLong(), cycle.toString());
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * Names whose bytes are not UTF-8: the daemon names their directory for a rescan (no string
     * leads back to them), and the mirror copies and removes them by their bytes. Compared with
     * diff, which compares names as bytes.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void namesThatAreNotUtf8AreMirroredByTheirBytes(boolean rsync) throws Exception {
        assumeTrue(!rsync || RSYNC, "skipped: rsync is not installed (.ci/run installs it)");
        Path socket = dir.resolve("sock");
        Path destination = Files.createDirectory(dir.resolve("dest"));
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Command.sh(root, "mkdir d; echo a > d/a; printf first > d/\"$(printf 'old\\376')\"; sync");
            Process daemon = ModtrackProcess.daemon(root, dir.resolve("state"), socket, dir.resolve("daemon.log"));
            try {
                List<String> mirror = mirrorCommand(root, destination, socket, rsync);
                runMirror(mirror, dir.resolve("mirror.log"), 0);
                Command.sh(root, "diff -r . " + destination); // the first, whole copy
                Command.sh(root, "printf new > d/\"$(printf 'new\\377')\"; rm d/\"$(printf 'old\\376')\"; echo b > d/b");
                JsonNode cycle = runMirror(mirror, dir.resolve("mirror.log"), 0);
                Command.sh(root, "diff -r . " + destination); // a name created and one removed, both not UTF-8
                assertEquals("intact", cycle.path("continuity").asText(), cycle.toString());
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
    }

    /** The daemon's log lines above INFO (why a restart was not seamless, for one). */
    private static List<String> warnings(Path log) {
        try (var lines = Files.lines(log)) {
            return lines.filter(l -> l.contains("level=WARNING") || l.contains("level=SEVERE")).toList();
        } catch (IOException e) {
            return List.of("(the log could not be read: " + e.getMessage() + ")");
        }
    }

    private void mirrorThroughFaults(long seed, boolean rsync) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        Path socket = dir.resolve("sock");
        Path state = dir.resolve("state");
        Path daemonLog = dir.resolve("daemon.log");
        Path mirrorLog = dir.resolve("mirror.log");
        Path destination = Files.createDirectory(dir.resolve("dest"));
        try (LoopMount m = LoopMount.create("ext4", 128 * MIB)) {
            Path root = m.mountPoint();
            Command.run(NameReuseWorkload.command(root, seed, 300, 1500));
            Process daemon = ModtrackProcess.daemon(root, state, socket, daemonLog);
            try {
                List<String> mirror = mirrorCommand(root, destination, socket, rsync);
                JsonNode first = runMirror(mirror, mirrorLog, seed);
                assertTrue(first.path("fullCopy").asBoolean(), "the first cycle copies everything: " + first);
                assertSame(root, destination, "after the first copy", seed);
                int mirrorKills = 0;
                for (int round = 1; round <= ROUNDS; round++) {
                    List<String> work = NameReuseWorkload.command(root, seed + round, 300, 1000);
                    String fault = switch (round % 3) {
                        case 1 -> "mirror";
                        case 2 -> "daemon";
                        default -> "none";
                    };
                    if (fault.equals("mirror")) {
                        // The writers go on while a mirror is killed in the middle of its cycle.
                        Process writer = new ProcessBuilder(work).redirectErrorStream(true)
                                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("writer.log").toFile())).start();
                        Thread.sleep(random.nextInt(200));
                        Process killed = ModtrackProcess.start(mirrorLog, mirror);
                        Thread.sleep(700 + random.nextInt(1500));
                        if (killed.isAlive()) {
                            mirrorKills++;
                        }
                        killed.destroyForcibly().waitFor();
                        assertTrue(writer.waitFor(60, TimeUnit.SECONDS), "the writer finished");
                        assertEquals(0, writer.exitValue(), () -> "the writer failed (seed " + seed + ")");
                    } else {
                        Command.run(work);
                    }
                    // Every other daemon fault kills its queue keeper too (as `systemctl kill` would):
                    // then the restart walks; otherwise it takes the kept queue over.
                    boolean keeperKilled = fault.equals("daemon") && (round / 3) % 2 == 1;
                    if (fault.equals("daemon")) {
                        if (keeperKilled) {
                            JsonNode status = Protocol.MAPPER.readTree(CliTest.run("status", root.toString(), "--json",
                                    "--socket", socket.toString()).out());
                            ProcessHandle keeper = ProcessHandle.of(status.path("keeperPid").asLong()).orElseThrow();
                            keeper.destroyForcibly();
                            keeper.onExit().get(30, TimeUnit.SECONDS);
                        }
                        daemon.destroyForcibly().waitFor(); // SIGKILL
                        JsonNode refused = runMirrorExpecting(mirror, mirrorLog, 3);
                        assertTrue(refused.isMissingNode(), "no daemon: the mirror blesses nothing and says so");
                        daemon = ModtrackProcess.daemon(root, state, socket, daemonLog);
                    }
                    JsonNode cycle = runMirror(mirror, mirrorLog, seed);
                    if (cycle.path("resumed").asBoolean()) {
                        // The killed mirror's query was answered while the writers still ran: the
                        // resumed result does not hold their last changes, the next one does.
                        cycle = runMirror(mirror, mirrorLog, seed);
                        assertFalse(cycle.path("resumed").asBoolean(), cycle.toString());
                    }
                    if (fault.equals("daemon")) {
                        // A result was blessed before the kill: the restarted daemon names what changed,
                        // from the kept queue, or by a walk when the keeper died too.
                        JsonNode restarted = cycle;
                        assertEquals(keeperKilled ? "reconciled" : "intact", cycle.path("continuity").asText(),
                                () -> restarted + "; the daemon's warnings: " + warnings(daemonLog));
                        assertFalse(cycle.path("fullCopy").asBoolean(), cycle.toString());
                    }
                    assertSame(root, destination, "after round " + round + " (" + fault + " killed): " + cycle, seed);
                }
                // The first cycle after the writers stopped may look again at paths the one before
                // was unsure of (another object stood there while its result was made); the next has
                // nothing to do.
                JsonNode settling = runMirror(mirror, mirrorLog, seed);
                assertFalse(settling.path("fullCopy").asBoolean(), settling.toString());
                JsonNode quiet = runMirror(mirror, mirrorLog, seed);
                assertEquals(0, quiet.path("entries").asLong(), "nothing changed since the last cycles: " + quiet);
                assertSame(root, destination, "at the end", seed);
                System.out.printf("MirrorCliTest (%s), seed %d: %d rounds, %d mirrors killed in the middle of a cycle;"
                        + " after the writers stopped, %d entries, then 0%n", rsync ? "rsync" : "local", seed, ROUNDS, mirrorKills,
                        settling.path("entries").asLong());
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
    }

    /** One cycle of {@code modtrack mirror} from {@code root} to {@code destination}, with --json. */
    private List<String> mirrorCommand(Path root, Path destination, Path socket, boolean rsync) {
        List<String> mirror = new ArrayList<>(List.of("mirror", root.toString(), destination.toString(), "--state",
                dir.resolve("mirror-state").toString(), "--socket", socket.toString(), "--json"));
        if (rsync) {
            mirror.add("--rsync");
        }
        return mirror;
    }

    /** Runs one mirror cycle to its end; returns its --json line. */
    private static JsonNode runMirror(List<String> args, Path log, long seed) throws Exception {
        JsonNode line = runMirrorExpecting(args, log, 0);
        assertFalse(line.isMissingNode(), () -> "no summary line (seed " + seed + ")");
        return line;
    }

    /** Runs a mirror cycle, expecting {@code exitCode}; its --json line, or a missing node. */
    private static JsonNode runMirrorExpecting(List<String> args, Path log, int exitCode) throws Exception {
        long before = Files.exists(log) ? Files.size(log) : 0;
        Process p = ModtrackProcess.start(log, args);
        assertTrue(p.waitFor(MIRROR_SECONDS, TimeUnit.SECONDS), "the mirror finished its cycle");
        String out = Files.readString(log).substring((int) before);
        assertEquals(exitCode, p.exitValue(), out);
        for (String l : out.lines().toList().reversed()) {
            if (l.startsWith("{")) {
                return Protocol.MAPPER.readTree(l);
            }
        }
        return Protocol.MAPPER.missingNode();
    }

    private static void assertSame(Path source, Path destination, String when, long seed) throws IOException {
        // What the demo compares: every path's kind, permissions, and digest or link target.
        Map<String, String> s = TrackingDemo.tree(source);
        Map<String, String> d = TrackingDemo.tree(destination);
        if (!s.equals(d)) {
            List<String> differences = new ArrayList<>();
            for (String p : new TreeSet<>(concat(s.keySet(), d.keySet()))) {
                if (!String.valueOf(s.get(p)).equals(String.valueOf(d.get(p)))) {
                    differences.add(p + ": source " + s.get(p) + ", destination " + d.get(p));
                }
            }
            throw new AssertionError("the destination differs from the source " + when + " (seed " + seed + "), "
                    + differences.size() + " paths: " + differences.subList(0, Math.min(20, differences.size())));
        }
    }

    private static List<String> concat(Set<String> a, Set<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
