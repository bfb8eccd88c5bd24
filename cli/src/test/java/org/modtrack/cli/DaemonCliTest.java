package org.modtrack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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
        return ModtrackProcess.daemon(root, dir.resolve("state"), dir.resolve("sock"), dir.resolve("daemon.log"), options);
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

    /**
     * examples/mirror.py, the Python reference consumer, through a SIGKILL of the daemon: the
     * restarted daemon reconciles (names-only listings of the directories whose names changed, an
     * entry of its own for every file changed), and the copy the example keeps equals the root.
     */
    @ParameterizedTest(name = "queue kept: {0}")
    @ValueSource(booleans = {false, true})
    void theExampleMirrorAppliesTheFirstResultAfterASigkill(boolean keeper) throws Exception {
        String[] keep = keeper ? new String[0] : new String[] {"--keep-queue", "0"};
        Path script = Path.of(System.getProperty("user.dir")).getParent().resolve("examples/mirror.py");
        String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
        Path dest = dir.resolve("copy");
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Command.sh(root, "mkdir -p a/deep b; for i in 1 2 3 4; do echo $i > a/f$i; echo $i > b/g$i; done; echo d > a/deep/x");
            Process daemon = daemon(root, keep);
            try {
                String first = Command.run(python, script.toString(), sock(), root.toString(), dest.toString());
                assertTrue(first.contains("applied 0 entries"), "the first run copies everything: " + first);
                Command.sh(root, "mv a/f1 b/moved; rm a/f2; echo more >> a/f3; mkdir a/new; echo n > a/new/n;"
                        + " mv a/deep c; ln -s f4 a/link; sync");
                daemon.destroyForcibly().waitFor(); // SIGKILL: its queue dies with it, unless the keeper holds it
                daemon = daemon(root, keep);
                JsonNode r = queryJson(root);
                assertTrue(r.path("recovered").asBoolean(), r.toString());
                if (keeper) {
                    // Every change came through the kept queue: named one by one, nothing to list or rescan.
                    assertEquals("intact", r.path("continuity").asText(), r.toString());
                    Map<String, String> said = changes(root, r);
                    assertFalse(said.values().stream().anyMatch(k -> k.equals("list") || k.equals("rescan")), r.toString());
                    assertEquals("deleted", said.get("a/f2"), r.toString());
                    assertEquals("renamed from a/f1", said.get("b/moved"), r.toString());
                    assertEquals("modified", said.get("a/f3"), r.toString());
                    assertEquals("renamed from a/deep", said.get("c"), r.toString());
                } else {
                    assertEquals("reconciled", r.path("continuity").asText(), r.toString());
                    assertTrue(r.path("changes").findValues("namesOnly").stream().anyMatch(JsonNode::asBoolean), r.toString());
                }
                String out = Command.run(python, script.toString(), sock(), root.toString(), dest.toString());
                assertEquals(TrackingDemo.tree(root), TrackingDemo.tree(dest), "after a reconciled result: " + out);
                assertEquals(0, cli("stop").exitCode());
                stopped(daemon, 0, dir.resolve("sock"));
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
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

                // Past the margin the next result's watermark keeps before the blessed checkpoint
                // (docs/linux-source.md, *Naming files*): a change within it may be named again.
                Command.sh(root, "echo new > created; echo more >> keep; mv renamed moved; rm gone; sleep 0.3");
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

    /**
     * A result of more records than the daemon's heap bound lets it make is refused in one line that
     * says which bound would do; the daemon goes on serving, and once restarted with that bound it
     * answers every file.
     */
    @Test
    void aResultTooLargeForTheHeapIsRefusedAndNothingIsLost() throws Exception {
        int files = 20_000; // each a record of its own (--naming events): above 64 MiB's bound, 17,476
        try (LoopMount m = LoopMount.create("ext4", 128 * MIB)) { // 32,768 inodes
            Path root = m.mountPoint();
            Path log = dir.resolve("daemon.log");
            Process small = ModtrackProcess.daemon(List.of("-Xmx64m"), root, dir.resolve("state"), dir.resolve("sock"), log,
                    "--naming", "events");
            try {
                Command.sh(root, "i=0; while [ $i -lt " + files + " ]; do echo x > f$i; i=$((i+1)); done");
                CliTest.Run refused = cli("query", root.toString(), "--json");
                assertEquals(3, refused.exitCode(), refused.out());
                assertTrue(refused.err().matches("(?s).*would hold \\d+ records.*raise `heap` to at least 128M and restart"
                        + " the daemon.*nothing was lost.*"), refused.err());
                assertEquals(1, refused.err().strip().lines().count(), "one line: " + refused.err());
                assertEquals(0, cli("status", root.toString()).exitCode(), "the daemon goes on");
                assertEquals(0, cli("stop").exitCode());
                stopped(small, 0, dir.resolve("sock"));
            } finally {
                small.destroyForcibly().waitFor();
            }
            Process large = ModtrackProcess.daemon(List.of("-Xmx128m"), root, dir.resolve("state"), dir.resolve("sock"), log,
                    "--naming", "events");
            try {
                JsonNode all = queryJson(root);
                Set<String> expected = new TreeSet<>();
                for (int i = 0; i < files; i++) {
                    expected.add("f" + i);
                }
                Map<String, String> changes = changes(root, all);
                assertEquals(expected, changes.keySet(), "every file, after the refusal");
                assertEquals(Set.of("created"), Set.copyOf(changes.values()));
                assertEquals("intact", all.path("continuity").asText());
                assertEquals(0, cli("bless", root.toString(), all.path("snapshot").asText()).exitCode());
                assertEquals(0, cli("stop").exitCode());
                stopped(large, 0, dir.resolve("sock"));
            } finally {
                large.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * Two consumers whose results each fit the daemon's heap, but not together: while one result is
     * being sent (to a client that takes it slowly), the other's query waits for room and is
     * answered whole once the first lets its memory go (its client goes away half way); when no room
     * comes within its wait (a little more than the idle timeout) it is refused in one line; nothing
     * is lost for either.
     */
    @Test
    void resultsThatDoNotFitTheHeapTogetherAreMadeOneAfterTheOtherAndNothingIsLost() throws Exception {
        // A record each (--naming events): one result fits 64 MiB's bound, 17,476, alone; it does not
        // fit beside another made one's entries (4,688 units: 120 bytes an entry, 384 a unit).
        int files = 15_000;
        try (LoopMount m = LoopMount.create("ext4", 128 * MIB)) {
            Path root = m.mountPoint();
            Path sock = dir.resolve("sock");
            Process daemon = ModtrackProcess.daemon(List.of("-Xmx64m"), root, dir.resolve("state"), sock,
                    dir.resolve("daemon.log"), "--naming", "events", "--idle-timeout-ms", "5000");
            try {
                assertEquals(0, cli("consumers", "add", root.toString(), "backup").exitCode());
                assertEquals(0, cli("bless", root.toString(), queryJson(root).path("snapshot").asText()).exitCode());
                Command.sh(root, "i=0; while [ $i -lt " + files + " ]; do echo x > f$i; i=$((i+1)); done");
                Set<String> expected = new TreeSet<>();
                for (int i = 0; i < files; i++) {
                    expected.add("f" + i);
                }
                CompletableFuture<JsonNode> waited = new CompletableFuture<>();
                try (SlowClient first = new SlowClient(sock, root)) {
                    long held = awaitMemory(root, "resultRecordsHeld", n -> n >= files / 4);
                    assertTrue(held >= files / 4, "the slow client's result holds what its entries hold: " + held);
                    Thread.ofPlatform().start(() -> {
                        try (DaemonClient c = DaemonClient.connect(sock)) {
                            waited.complete(c.query(root.toString(), "backup"));
                        } catch (Throwable e) {
                            waited.completeExceptionally(e);
                        }
                    });
                    assertEquals(1, awaitMemory(root, "resultsWaiting", n -> n == 1), "the second query waits for room");
                } // the slow client goes away half way through its result, which lets its memory go
                JsonNode backup = waited.get(1, TimeUnit.MINUTES);
                assertEquals(expected, changes(root, backup).keySet(), "every file, once there was room");
                assertEquals("intact", backup.path("continuity").asText());
                // Not blessed: the backup's next result holds them all again.
                try (SlowClient second = new SlowClient(sock, root)) {
                    awaitMemory(root, "resultRecordsHeld", n -> n >= files / 4);
                    CliTest.Run busy = cli("query", root.toString(), "--consumer", "backup", "--json");
                    assertEquals(3, busy.exitCode(), busy.out());
                    Matcher refusal = Pattern.compile("would hold (\\d+) records, and the results being made or sent for"
                            + " other clients hold (\\d+) of the 17476 .* still after 6250 ms; nothing was lost: query again \\(with"
                            + " `heap` at least 128M they would fit together\\)").matcher(busy.err());
                    assertTrue(refusal.find(), busy.err());
                    assertTrue(Long.parseLong(refusal.group(1)) >= files, busy.err());
                    assertTrue(Long.parseLong(refusal.group(2)) >= files / 4, busy.err());
                    assertEquals(1, busy.err().strip().lines().count(), "one line: " + busy.err());
                }
                assertEquals(0, awaitMemory(root, "resultRecordsHeld", n -> n == 0), "a result whose client went away lets its memory go");
                for (String consumer : List.of("backup", "default")) {
                    CliTest.Run run = cli("query", root.toString(), "--consumer", consumer, "--json");
                    assertEquals(0, run.exitCode(), run.err());
                    JsonNode all = Protocol.MAPPER.readTree(run.out());
                    assertEquals(expected, changes(root, all).keySet(), consumer + ": every file, after the refusals");
                    assertEquals("intact", all.path("continuity").asText());
                    assertEquals(0, cli("bless", root.toString(), all.path("snapshot").asText(), "--consumer", consumer).exitCode());
                }
                assertEquals(0, awaitMemory(root, "resultRecordsHeld", n -> n == 0), "every result sent lets its memory go");
                assertEquals(0, cli("stop").exitCode());
                stopped(daemon, 0, sock);
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * A client that asks for the default consumer's result as a stream and takes it slowly (16 KiB
     * every 150 ms: each 64 KiB piece well within the idle timeout), until it is closed half way.
     */
    private static final class SlowClient implements AutoCloseable {
        private final SocketChannel channel;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread reader;

        SlowClient(Path socket, Path root) throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(("{\"v\": 1, \"cmd\": \"query\", \"root\": \"" + root + "\", \"stream\": true}\n")
                    .getBytes(StandardCharsets.UTF_8)));
            reader = Thread.ofPlatform().start(() -> {
                ByteBuffer b = ByteBuffer.allocate(16 << 10);
                try {
                    while (!stop.get() && channel.read(b.clear()) >= 0) {
                        Thread.sleep(150);
                    }
                } catch (IOException | InterruptedException e) {
                    // closed by the test
                }
            });
        }

        @Override
        public void close() throws IOException, InterruptedException {
            stop.set(true);
            reader.interrupt();
            reader.join(TimeUnit.MINUTES.toMillis(1));
            channel.close();
        }
    }

    /** The daemon's {@code memory.FIELD} once it is as {@code wanted}, or as it is after a minute. */
    private long awaitMemory(Path root, String field, LongPredicate wanted) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (true) {
            CliTest.Run status = cli("status", root.toString(), "--json");
            assertEquals(0, status.exitCode(), status.err());
            long now = Protocol.MAPPER.readTree(status.out()).path("memory").path(field).asLong(-1);
            if (wanted.test(now) || System.nanoTime() > deadline) {
                return now;
            }
            Thread.sleep(100);
        }
    }

    @Test
    void aNamedConsumerIsAddedUsedAndRemovedFromTheCommandLine() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Process daemon = daemon(root);
            try {
                CliTest.Run added = cli("consumers", "add", root.toString(), "backup");
                assertEquals(0, added.exitCode(), added.err());
                assertTrue(added.out().contains("--consumer backup"), "it says how to query as it: " + added.out());
                assertEquals(0, cli("bless", root.toString(), queryJson(root).path("snapshot").asText()).exitCode());
                Command.sh(root, "echo one > one");

                CliTest.Run asBackup = cli("query", root.toString(), "--consumer", "backup", "--json");
                JsonNode backup = Protocol.MAPPER.readTree(asBackup.out());
                assertEquals(Map.of("one", "created"), changes(root, backup), backup.toString());
                assertEquals("backup", backup.path("consumer").asText());
                assertEquals(1, cli("bless", root.toString(), backup.path("snapshot").asText()).exitCode(),
                        "the default consumer may not bless the backup's result");
                CliTest.Run blessed = cli("bless", root.toString(), backup.path("snapshot").asText(), "--consumer", "backup");
                assertEquals(0, blessed.exitCode(), blessed.err());
                assertEquals(Map.of("one", "created"), changes(root, queryJson(root)), "the default consumer still has it");

                JsonNode list = Protocol.MAPPER.readTree(cli("consumers", "list", root.toString(), "--json").out());
                assertEquals(List.of("default", "backup"), List.of(list.path("consumers").get(0).path("name").asText(),
                        list.path("consumers").get(1).path("name").asText()), list.toString());
                CliTest.Run table = cli("consumers", "list", root.toString());
                assertTrue(table.out().lines().anyMatch(l -> l.startsWith("backup ")), table.out());
                CliTest.Run badName = cli("consumers", "add", root.toString(), "no spaces");
                assertEquals(3, badName.exitCode(), "a name with a space is refused: " + badName.err());
                assertTrue(badName.err().contains("consumer's name"), badName.err());
                assertEquals(0, cli("consumers", "remove", root.toString(), "backup").exitCode());
                CliTest.Run gone = cli("query", root.toString(), "--consumer", "backup");
                assertEquals(3, gone.exitCode());
                assertTrue(gone.err().contains("has no consumer backup"), gone.err());
                assertEquals(0, cli("stop").exitCode());
                stopped(daemon, 0, dir.resolve("sock"));
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    void queryPrint0AndCompactEntriesNameEveryPathAndFrom() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Command.sh(root, "echo keep > keep; echo old > renamed; echo bye > gone; sync");
            Process daemon = daemon(root);
            try {
                JsonNode first = queryJson(root);
                assertEquals(0, cli("bless", root.toString(), first.path("snapshot").asText()).exitCode());
                Command.sh(root, "echo new > 'with space'; echo more >> keep; mv renamed moved; rm gone");

                CliTest.Run print0 = cli("query", root.toString(), "--print0");
                assertEquals(0, print0.exitCode(), print0.err());
                assertEquals("", print0.err(), "continuity is intact: nothing on stderr");
                JsonNode json = queryJson(root); // no bless in between: the same changes
                assertEquals("intact", json.path("continuity").asText(), json.toString());

                List<String> expected = new ArrayList<>();
                for (JsonNode c : json.path("changes")) {
                    expected.add(c.path("path").asText());
                    if (c.hasNonNull("from")) {
                        expected.add(c.path("from").asText());
                    }
                }
                assertTrue(expected.contains(root.resolve("renamed").toString()), "the rename's from is named: " + json);

                String out = print0.out();
                assertFalse(out.contains("\n"), "no newline: " + out);
                assertTrue(out.endsWith("\0"), "every path is NUL-terminated: " + out);
                List<String> names = List.of(out.substring(0, out.length() - 1).split("\0", -1));
                assertEquals(expected.size(), names.size(), out);
                assertEquals(new TreeSet<>(expected), new TreeSet<>(names));
                assertEquals(Set.of("keep", "moved", "renamed", "gone", "with space"),
                        names.stream().map(n -> root.relativize(Path.of(n)).toString()).collect(Collectors.toSet()));

                assertEquals(2, cli("query", root.toString(), "--print0", "--json").exitCode(), "the formats are exclusive");

                // The same changes as compact entries: relative paths, no type on an entry's line.
                CliTest.Run compact = cli("query", root.toString(), "--jsonl", "--compact");
                assertEquals(0, compact.exitCode(), compact.err());
                List<String> lines = List.of(compact.out().split("\n"));
                assertTrue(Protocol.MAPPER.readTree(lines.getFirst()).path("compact").asBoolean(), lines.getFirst());
                Set<String> relative = new TreeSet<>();
                for (String line : lines.subList(1, lines.size() - 1)) {
                    JsonNode e = Protocol.MAPPER.readTree(line);
                    assertFalse(e.has("type"), line);
                    relative.add(e.path("path").asText());
                    if (e.has("from")) {
                        relative.add(e.path("from").asText());
                    }
                }
                assertEquals(Set.of("keep", "moved", "renamed", "gone", "with space"), relative, compact.out());
                assertEquals(2, cli("query", root.toString(), "--compact").exitCode(), "--compact needs --json or --jsonl");
                assertEquals(0, cli("stop").exitCode());
                stopped(daemon, 0, dir.resolve("sock"));
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
    }

    @ParameterizedTest(name = "queue kept: {0}")
    @ValueSource(booleans = {false, true})
    void sigtermStopsCleanlyAndSigkillIsReportedAsRecovered(boolean keeper) throws Exception {
        String[] keep = keeper ? new String[0] : new String[] {"--keep-queue", "0"};
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Process daemon = daemon(root, keep);
            try {
                Command.sh(root, "echo one > one");
                daemon.destroy(); // SIGTERM
                stopped(daemon, 143, dir.resolve("sock"));

                daemon = daemon(root, keep);
                JsonNode afterTerm = queryJson(root);
                assertFalse(afterTerm.path("recovered").asBoolean(), "a clean stop: " + afterTerm);
                assertEquals("intact", afterTerm.path("continuity").asText(), "nothing was written while it was stopped");
                assertTrue(changes(root, afterTerm).containsKey("one"), afterTerm.toString());

                daemon.destroy();
                stopped(daemon, 143, dir.resolve("sock"));
                Command.sh(root, "echo unseen > unseen; sync");
                daemon = daemon(root, keep);
                JsonNode afterGap = queryJson(root);
                // Without a keeper, written while stopped is a gap, walked; with one, the kept queue names it.
                assertEquals(keeper ? "intact" : "reconciled", afterGap.path("continuity").asText(), afterGap.toString());
                assertEquals("created", changes(root, afterGap).get("unseen"), "born while stopped: " + afterGap);

                Command.sh(root, "echo two > two");
                daemon.destroyForcibly().waitFor(); // SIGKILL: the socket file stays behind
                daemon = daemon(root, keep);
                JsonNode afterKill = queryJson(root);
                assertTrue(afterKill.path("recovered").asBoolean(), "an unclean stop: " + afterKill);
                JsonNode status = Protocol.MAPPER.readTree(cli("status", root.toString(), "--json").out());
                assertEquals(daemon.pid(), status.path("pid").asLong(), status.toString());
                assertEquals(keeper, status.path("keeperPid").canConvertToLong(), status.toString());
                assertTrue(covered(root, afterKill, "one") && covered(root, afterKill, "two"), afterKill.toString());
                // A stop that is not a restart ends the keeper too: its queue would cost writers every event.
                Optional<ProcessHandle> keeperProcess = keeper
                        ? ProcessHandle.of(status.path("keeperPid").asLong()) : Optional.empty();
                assertEquals(keeper, keeperProcess.isPresent(), status.toString());
                assertEquals(0, cli("stop", "--release-queue").exitCode());
                stopped(daemon, 0, dir.resolve("sock"));
                if (keeperProcess.isPresent()) {
                    keeperProcess.get().onExit().get(30, TimeUnit.SECONDS); // within its keep time (300 s) only if released
                }
                Command.sh(root, "echo three > three; sync");
                daemon = daemon(root, keep);
                JsonNode afterRelease = queryJson(root);
                assertEquals("reconciled", afterRelease.path("continuity").asText(), "no kept queue: walked " + afterRelease);
                assertEquals("created", changes(root, afterRelease).get("three"), afterRelease.toString());
                assertEquals(0, cli("stop", "--release-queue").exitCode());
                stopped(daemon, 0, dir.resolve("sock"));
            } finally {
                daemon.destroyForcibly().waitFor();
            }
        }
    }
}
