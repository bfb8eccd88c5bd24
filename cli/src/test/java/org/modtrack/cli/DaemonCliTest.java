package org.modtrack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.daemon.Protocol;
import org.modtrack.daemon.client.DaemonClient;
import org.modtrack.testing.Command;
import org.modtrack.testing.LoopMount;

/**
 * The README's flow end to end: {@code modtrack daemon} in its own process tracking a loop-mounted
 * ext4, files written, renamed and deleted by {@code sh}, and the client commands; then SIGTERM
 * (a clean stop) and SIGKILL (recovered).
 */
class DaemonCliTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "DaemonCliTest skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    /** {@code modtrack daemon} in a child JVM; returns once it answers hello. */
    private Process daemon(Path root, String... options) throws Exception {
        Path socket = dir.resolve("sock");
        Path log = dir.resolve("daemon.log");
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "daemon", "--watch", root.toString(), "--state", dir.resolve("state").toString(),
                "--socket", socket.toString(), "--durability", "process"));
        command.addAll(List.of(options));
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (DaemonClient c = DaemonClient.connect(socket)) {
                c.hello();
                return p;
            } catch (IOException notYet) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    throw new AssertionError("the daemon did not start: " + Files.readString(log));
                }
                Thread.sleep(50);
            }
        }
    }

    private String sock() {
        return dir.resolve("sock").toString();
    }

    private CliTest.Run cli(String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--socket";
        all[args.length + 1] = sock();
        return CliTest.run(all);
    }

    private JsonNode queryJson(Path root) throws IOException {
        CliTest.Run r = cli("query", root.toString(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        return Protocol.MAPPER.readTree(r.out());
    }

    private static Map<String, String> changes(Path root, JsonNode result) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode c : result.path("changes")) {
            out.put(root.relativize(Path.of(c.path("path").asText())).toString(), c.path("kind").asText()
                    + (c.has("from") ? " from " + root.relativize(Path.of(c.path("from").asText())) : ""));
        }
        return out;
    }

    /** Whether the result names {@code file} (relative to the root) or rescans a directory above it. */
    private static boolean covered(Path root, JsonNode result, String file) {
        Path target = root.resolve(file);
        for (JsonNode c : result.path("changes")) {
            Path p = Path.of(c.path("path").asText());
            if (p.equals(target) || ("rescan".equals(c.path("kind").asText()) && target.startsWith(p))) {
                return true;
            }
        }
        return false;
    }

    private static void stopped(Process p, int exitCode, Path socket) throws InterruptedException {
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the daemon stopped");
        assertEquals(exitCode, p.exitValue());
        assertFalse(Files.exists(socket), "the socket was removed");
    }

    @Test
    void withDetailDirectoriesAResultListsTheDirectoriesThatChanged() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Command.sh(root, "mkdir d e; echo keep > d/f; sync");
            Process daemon = daemon(root, "--detail", "directories");
            try {
                JsonNode first = queryJson(root);
                assertEquals(0, cli("bless", root.toString(), first.path("snapshot").asText()).exitCode());
                Command.sh(root, "echo more >> d/f; echo new > e/n");
                JsonNode second = queryJson(root);
                assertEquals(Map.of("d", "list", "e", "list"), changes(root, second), second.toString());
                CliTest.Run human = cli("query", root.toString());
                assertTrue(human.out().contains(root.resolve("d").toString()), human.out());
                assertEquals(0, cli("stop").exitCode());
                stopped(daemon, 0, dir.resolve("sock"));
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    void theReadmeFlowShowsExactlyTheChangesAndOnlyLaterOnesAfterABless() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Command.sh(root, "echo keep > keep; echo old > renamed; echo bye > gone; sync");
            Process daemon = daemon(root);
            try {
                JsonNode first = queryJson(root);
                assertEquals("intact", first.path("continuity").asText(), first.toString());
                assertFalse(first.path("recovered").asBoolean());
                assertEquals(0, cli("bless", root.toString(), first.path("snapshot").asText()).exitCode());

                Command.sh(root, "echo new > created; echo more >> keep; mv renamed moved; rm gone");
                JsonNode second = queryJson(root);
                assertEquals(Map.of("created", "created", "keep", "modified", "moved", "renamed from renamed", "gone", "deleted"),
                        changes(root, second), second.toString());
                assertEquals(first.path("snapshot").asLong(), second.path("lastBlessed").asLong());
                CliTest.Run human = cli("query", root.toString());
                assertTrue(human.out().contains("renamed   " + root.resolve("moved") + "  (from " + root.resolve("renamed") + ")"), human.out());
                CliTest.Run lines = cli("query", root.toString(), "--jsonl");
                List<String> jsonl = lines.out().strip().lines().toList();
                assertEquals(6, jsonl.size(), lines.out());
                long last = Protocol.MAPPER.readTree(jsonl.getFirst()).path("snapshot").asLong();
                CliTest.Run blessed = cli("bless", root.toString(), Long.toString(last));
                assertEquals(0, blessed.exitCode(), blessed.err());

                Command.sh(root, "echo later >> created");
                assertEquals(Map.of("created", "modified"), changes(root, queryJson(root)), "only what changed after the bless");

                CliTest.Run status = cli("status", root.toString(), "--json");
                assertEquals("process", Protocol.MAPPER.readTree(status.out()).path("durability").asText());
                assertEquals(1, cli("bless", root.toString(), "1").exitCode(), "a stale id is refused");
                assertEquals(2, cli("bless", root.toString(), "many").exitCode(), "bad usage");
                CliTest.Run unknown = cli("query", "/not/watched");
                assertEquals(3, unknown.exitCode());
                assertTrue(unknown.err().contains("does not watch /not/watched"), unknown.err());
                assertEquals(0, cli("stop").exitCode());
                stopped(daemon, 0, dir.resolve("sock"));
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
        assertEquals(3, CliTest.run("status", "/x", "--socket", sock()).exitCode(), "no daemon: an error in one sentence");
    }

    @Test
    void sigtermStopsCleanlyAndSigkillIsReportedAsRecovered() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Process daemon = daemon(root);
            try {
                Command.sh(root, "echo one > one");
                daemon.destroy(); // SIGTERM
                stopped(daemon, 143, dir.resolve("sock"));

                daemon = daemon(root);
                JsonNode afterTerm = queryJson(root);
                assertFalse(afterTerm.path("recovered").asBoolean(), "a clean stop: " + afterTerm);
                assertEquals("intact", afterTerm.path("continuity").asText(), "nothing was written while it was stopped");
                assertTrue(changes(root, afterTerm).containsKey("one"), afterTerm.toString());

                daemon.destroy();
                stopped(daemon, 143, dir.resolve("sock"));
                Command.sh(root, "echo unseen > unseen; sync");
                daemon = daemon(root);
                JsonNode afterGap = queryJson(root);
                assertEquals("lost", afterGap.path("continuity").asText(), "written while stopped: a gap " + afterGap);

                Command.sh(root, "echo two > two");
                daemon.destroyForcibly().waitFor(); // SIGKILL: the socket file stays behind
                daemon = daemon(root);
                JsonNode afterKill = queryJson(root);
                assertTrue(afterKill.path("recovered").asBoolean(), "an unclean stop: " + afterKill);
                assertTrue(covered(root, afterKill, "one") && covered(root, afterKill, "two"), afterKill.toString());
                assertEquals(0, cli("stop").exitCode());
                stopped(daemon, 0, dir.resolve("sock"));
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
    }
}
