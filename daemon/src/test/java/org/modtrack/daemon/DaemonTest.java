package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.daemon.client.DaemonClient;
import org.modtrack.daemon.client.DaemonException;
import org.modtrack.source.linux.LinuxSource;
import org.modtrack.source.linux.LinuxSourceOptions;
import org.modtrack.testing.Command;
import org.modtrack.testing.Seeded;

/**
 * A real daemon over a real socket, tracking a loop-mounted ext4 that child processes write
 * ({@code sh}; this JVM never writes the tracked file system). One daemon for the class: each test
 * starts by blessing whatever earlier tests left.
 */
@ExtendWith(Seeded.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DaemonTest {
    private static final long MIB = 1 << 20;
    private static final String GROUP = "backup";
    private static final int MAX_CLIENTS = 8;
    private static final Duration IDLE = Duration.ofMillis(800);

    static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

    static LoopDaemon running;
    static Path root;
    static Path dir;
    static Path socket;
    static Daemon daemon;

    /** The hook the daemon was started with (null: the best the kernel offers). */
    static LinuxSourceOptions.Hook hook;

    /** The permission events the daemon records writes with (null: the best the kernel offers); a subclass may say others. */
    LinuxSourceOptions.Hook hookUnderTest() {
        return null;
    }

    // Not static, so that a subclass changes the hook by overriding hookUnderTest: a static
    // @BeforeAll of the subclass would run besides this one and start a second daemon.
    @BeforeAll
    void startDaemon() throws IOException {
        start(hookUnderTest());
    }

    /** Starts the daemon on a fresh loop-mounted ext4, with {@code withHook} (null: the best the kernel offers). */
    static void start(LinuxSourceOptions.Hook withHook) throws IOException {
        hook = withHook;
        running = LoopDaemon.start("DaemonTest", c -> c.withGroup(GROUP).withMetricsPort(0)
                .withLimits(DaemonConfig.DEFAULT_MAX_REQUEST_BYTES, IDLE, MAX_CLIENTS).withHook(withHook));
        root = running.root();
        dir = running.dir();
        socket = running.socket();
        daemon = running.daemon();
    }

    @AfterAll
    void stopDaemon() throws IOException {
        if (running != null) {
            running.close();
        }
    }

    static DaemonClient client() throws IOException {
        return DaemonClient.connect(socket);
    }

    static String r() {
        return root.toString();
    }

    /**
     * Waits past the margin of a scan's watermark (10 ms, docs/linux-source.md, *Naming files*) and
     * the coarse clock's lag at the checkpoint, with room for a loaded machine.
     */
    static void pastTheScanMargin() {
        try {
            Thread.sleep(110);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * Blesses whatever is pending, so the next result holds only what the test does: once past the
     * margin of a scan's watermark, since a file changed within it before the blessed checkpoint
     * is named again by the next result (docs/linux-source.md, *Naming files*).
     */
    static void settle() throws IOException {
        pastTheScanMargin();
        try (DaemonClient c = client()) {
            c.bless(r(), c.query(r()).path("snapshot").asLong());
        }
    }

    /** path (relative to the root) to kind, and from for renames. */
    static Map<String, String> changes(JsonNode result) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode c : result.path("changes")) {
            String rel = root.relativize(Path.of(c.path("path").asText())).toString();
            out.put(rel, c.path("kind").asText() + (c.has("from") ? " from " + root.relativize(Path.of(c.path("from").asText())) : ""));
        }
        return out;
    }

    @Test
    void aQueryBlessCycleOverTheSocketReportsExactlyWhatChildProcessesDid() throws IOException {
        try (DaemonClient c = client()) {
            JsonNode hello = c.hello();
            assertEquals(Protocol.VERSION, hello.path("protocol").asInt());
            assertEquals(r(), hello.path("roots").get(0).asText());
            assertTrue(hello.path("mayStop").asBoolean(), "root may stop: " + hello);
        }
        settle();
        Command.sh(root, "echo a > a; echo b > b; mkdir d; echo c > d/c");
        settle();
        Command.sh(root, "echo more >> a; mv b b2; rm d/c; echo new > n");
        // A new connection: one left idle while the shells ran would be closed by the idle deadline.
        try (DaemonClient c = client()) {
            JsonNode q = c.query(r());
            assertEquals(Map.of("a", "modified", "b2", "renamed from b", "d/c", "deleted", "n", "created"), changes(q), q.toString());
            assertEquals("intact", q.path("continuity").asText());
            assertEquals(4, q.path("count").asInt());

            // The same changes in the compact form, expanded by the client, are the full form's entries.
            List<JsonNode> compact = new ArrayList<>();
            c.queryStreamCompact(r(), "default", compact::add);
            assertTrue(compact.getFirst().path("compact").asBoolean(), compact.getFirst().toString());
            assertEquals(6, compact.size(), "header, four changes, end: " + compact);
            for (int i = 0; i < 4; i++) {
                ObjectNode entry = ((ObjectNode) compact.get(i + 1)).deepCopy();
                assertEquals("change", entry.remove("type").asText());
                assertEquals(q.path("changes").get(i), entry);
            }

            List<JsonNode> lines = new ArrayList<>();
            pastTheScanMargin(); // the result blessed below must be the last to name these files
            JsonNode end = c.queryStream(r(), lines::add);
            assertEquals("header", lines.getFirst().path("type").asText());
            assertEquals(4, end.path("count").asInt());
            assertEquals(6, lines.size(), "header, four changes, end: " + lines);
            long streamed = lines.getFirst().path("snapshot").asLong();
            assertTrue(streamed > q.path("snapshot").asLong());

            JsonNode status = c.status(r());
            assertEquals("process", status.path("durability").asText());
            assertEquals("srcu", status.path("barrier").asText());
            assertEquals(streamed, status.path("openSnapshot").asLong(), status.toString());
            assertTrue(status.path("records").asLong() > 0, status.toString());
            assertTrue(status.path("uninspectableProcesses").isInt() && status.path("uninspectableProcesses").asInt() >= 0,
                    status.toString());
            assertTrue(status.path("untrackedMounts").isArray() && status.path("untrackedMounts").isEmpty(), status.toString());
            JsonNode events = status.path("events");
            for (String counter : List.of("preContent", "reads", "writes", "alreadyRecorded", "failures", "namespace",
                    "namespaceOverflows", "modifyMuted", "directoriesMuted", "directoryRecords", "answeredAtDeadline",
                    "denied", "siblingScopes")) {
                assertTrue(events.path(counter).isIntegralNumber(), counter + " in " + events);
            }
            assertTrue(events.path("preContent").asLong() > 0 && events.path("namespace").asLong() > 0, events.toString());

            assertEquals(streamed, c.bless(r(), streamed).path("blessed").asLong());
            Command.sh(root, "echo later > a");
            JsonNode after;
            try (DaemonClient fresh = client()) { // c may have been idle past the deadline while the shell ran
                after = fresh.query(r());
            }
            assertEquals(Map.of("a", "modified"), changes(after), "only what changed after the bless");
            assertEquals(streamed, after.path("lastBlessed").asLong());
        }
    }

    @Test
    void statusSaysWhichPermissionEventsRecordWrites() throws IOException {
        try (DaemonClient c = client()) {
            LinuxSourceOptions.Hook expected = hook == null ? LinuxSource.bestHook() : hook;
            assertEquals(expected.cliName(), c.status(r()).path("source").asText());
        }
    }

    @Test
    void statusSaysHowMuchMemoryTheDaemonHolds() throws IOException {
        try (DaemonClient c = client()) {
            JsonNode m = c.status(r()).path("memory");
            long used = m.path("heapUsed").asLong();
            long committed = m.path("heapCommitted").asLong();
            assertTrue(0 < used && used <= committed && committed <= m.path("heapMax").asLong(), m.toString());
            assertTrue(m.path("resident").asLong() > committed / 8, "a resident set of some megabytes: " + m);
            assertEquals(ResultBound.records(m.path("heapMax").asLong()), m.path("maxResultRecords").asLong(), m.toString());
            assertEquals(0, m.path("resultRecordsHeld").asLong(), "no result is being made or sent: " + m);
            assertEquals(0, m.path("resultsWaiting").asLong(), m.toString());
        }
    }

    @Test
    void blessOfAnUnknownStaleOrFutureIdIsRefusedAndChangesNothing() throws IOException {
        settle();
        Command.sh(root, "echo x > kept-by-refused-blesses");
        try (DaemonClient c = client()) {
            long snap = c.query(r()).path("snapshot").asLong();
            long blessed = c.status(r()).path("lastBlessed").asLong();
            DaemonException future = assertThrows(DaemonException.class, () -> c.bless(r(), snap + 1000));
            assertEquals(Protocol.BLESS_REFUSED, future.code());
            DaemonException stale = assertThrows(DaemonException.class, () -> c.bless(r(), blessed - 1));
            assertEquals(Protocol.BLESS_REFUSED, stale.code(), stale.getMessage());
            assertEquals(Protocol.BAD_REQUEST, assertThrows(DaemonException.class,
                    () -> c.call(new Request.Bless(r(), "default", -1))).code());
            assertEquals(Protocol.UNKNOWN_ROOT, assertThrows(DaemonException.class, () -> c.bless("/nowhere", snap)).code());
            assertTrue(changes(c.query(r())).containsKey("kept-by-refused-blesses"), "a refused bless discards nothing");
        }
    }

    @Test
    void malformedAndUnknownRequestsGetErrorsAndTheConnectionGoesOn() throws IOException {
        try (DaemonClient c = client()) {
            for (String bad : List.of("{not json", "[1,2]", "{\"cmd\": 3}", "{\"cmd\": \"hello\"} {}", "\"hello\"",
                    "{\"cmd\":\"hello\",\"cmd\":\"stop\"}")) {
                c.sendRaw((bad + "\n").getBytes(StandardCharsets.UTF_8));
                DaemonException e = assertThrows(DaemonException.class, c::read, bad);
                assertTrue(Set.of(Protocol.BAD_JSON, Protocol.BAD_REQUEST).contains(e.code()), bad + ": " + e.code());
                assertOneSentence(e.getMessage());
            }
            c.sendRaw("{\"cmd\":\"format-disk\"}\n".getBytes(StandardCharsets.UTF_8));
            assertEquals(Protocol.UNKNOWN_COMMAND, assertThrows(DaemonException.class, c::read).code());
            c.sendRaw("{\"v\":2,\"cmd\":\"hello\"}\n".getBytes(StandardCharsets.UTF_8));
            assertEquals(Protocol.UNSUPPORTED_VERSION, assertThrows(DaemonException.class, c::read).code());
            assertEquals(Protocol.VERSION, c.hello().path("protocol").asInt(), "still served after errors");
        }
    }

    static void assertOneSentence(String m) {
        assertTrue(m.endsWith(".") && !m.contains("\n") && m.length() < 400, "one sentence: " + m);
    }

    @Test
    void anOversizedRequestIsRefusedAndClosedWhileOthersAreServed() throws IOException {
        try (DaemonClient big = client(); DaemonClient other = client()) {
            byte[] line = new byte[DaemonConfig.DEFAULT_MAX_REQUEST_BYTES + 10];
            Arrays.fill(line, (byte) 'x');
            big.sendRaw(line);
            assertEquals(Protocol.REQUEST_TOO_LARGE, assertThrows(DaemonException.class, big::read).code());
            assertThrows(IOException.class, big::read, "closed after an oversized request");
            assertEquals(Protocol.VERSION, other.hello().path("protocol").asInt());
        }
    }

    @Test
    void idleAndSlowClientsTimeOutWithoutHoldingUpOthers() throws Exception {
        try (DaemonClient idle = client(); DaemonClient slow = client(); DaemonClient other = client()) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 6; i++) { // one byte every 250 ms: never a complete request within 800 ms
                try {
                    slow.sendRaw(new byte[] {'{'});
                } catch (IOException closedByTheDaemon) {
                    break;
                }
                assertEquals(Protocol.VERSION, other.hello().path("protocol").asInt(), "others are served meanwhile");
                Thread.sleep(250);
            }
            assertEquals(Protocol.IDLE_TIMEOUT, assertThrows(DaemonException.class, idle::read).code());
            assertEquals(Protocol.IDLE_TIMEOUT, assertThrows(DaemonException.class, slow::read).code());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
        }
    }

    @Test
    void aClientThatTakesNoneOfItsAnswerIsCutOffAndItsPlaceFreed() throws Exception {
        settle();
        // About 900 KB of entries: more than the socket's buffers hold, so the daemon's write blocks.
        Command.sh(root, "mkdir untaken && cd untaken && i=0; while [ $i -lt 6000 ]; do : > f$i; i=$((i + 1)); done");
        pastTheScanMargin();
        ExecutorService reading = Executors.newSingleThreadExecutor();
        try (SocketChannel untaken = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            String query = Protocol.MAPPER.writeValueAsString(Protocol.object().put("v", 1).put("cmd", "query")
                    .put("root", r()).put("stream", true)) + "\n";
            untaken.write(ByteBuffer.wrap(query.getBytes(StandardCharsets.UTF_8)));
            Thread.sleep(IDLE.toMillis() / 2);
            try (DaemonClient other = client()) {
                assertEquals(Protocol.VERSION, other.hello().path("protocol").asInt(), "others are served meanwhile");
            }
            Thread.sleep(2 * IDLE.toMillis()); // past the deadline of the write that found the buffers full
            // What was sent before the daemon gave up can still be read; then the stream ends, without its end line.
            Future<byte[]> got = reading.submit(() -> {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                ByteBuffer b = ByteBuffer.allocate(1 << 16);
                while (untaken.read(b) >= 0) {
                    all.write(b.array(), 0, b.position());
                    b.clear();
                }
                return all.toByteArray();
            });
            String sent = new String(got.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
            assertTrue(sent.startsWith("{\"type\":\"header\""), sent.substring(0, Math.min(200, sent.length())));
            assertFalse(sent.contains("\"type\":\"end\""), "the whole answer was taken after all: " + sent.length() + " B");
        } finally {
            reading.shutdownNow();
        }
        List<DaemonClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_CLIENTS; i++) {
                held.add(servedClient()); // the cut-off client's place among them
            }
        } finally {
            for (DaemonClient c : held) {
                c.close();
            }
        }
        Command.sh(root, "rm -r untaken");
        settle();
    }

    @Test
    void clientsBeyondTheLimitAreToldSoAndTheRestAreServed() throws IOException {
        List<DaemonClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_CLIENTS; i++) {
                held.add(servedClient()); // its slot is taken
            }
            try (DaemonClient extra = client()) {
                assertEquals(Protocol.TOO_MANY_CLIENTS, assertThrows(DaemonException.class, extra::read).code());
            }
        } finally {
            for (DaemonClient c : held) {
                c.close();
            }
        }
        waitUntil(() -> {
            try (DaemonClient c = client()) {
                return c.hello().has("protocol");
            } catch (IOException e) {
                return false;
            }
        });
    }

    /**
     * A client the daemon serves. Connections of earlier tests may still hold slots for a moment
     * after they closed (the daemon notices a close asynchronously), so a refusal is retried for a
     * bounded time.
     */
    private DaemonClient servedClient() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            DaemonClient c = client();
            try {
                c.hello();
                return c;
            } catch (DaemonException e) {
                c.close();
                if (!Protocol.TOO_MANY_CLIENTS.equals(e.code()) || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitUntil(Check check) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try {
            while (!check.ok()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("not within 10 s");
                }
                Thread.sleep(20);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    @Test
    void aClientThatLeavesMidResultLosesNothingAndDisturbsNobody() throws Exception {
        settle();
        Command.sh(root, "mkdir many; cd many; seq 3000 | xargs touch");
        try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            raw.connect(UnixDomainSocketAddress.of(socket));
            raw.write(ByteBuffer.wrap(Protocol.line(new Request.Query(r(), "default", false, false).toJson())));
            ByteBuffer some = ByteBuffer.allocate(100);
            raw.read(some); // the start of a result of some 400 KB, then gone
        }
        long queriesBefore = queriesSoFar();
        try (SocketChannel stalled = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            stalled.connect(UnixDomainSocketAddress.of(socket));
            stalled.write(ByteBuffer.wrap(Protocol.line(new Request.Query(r(), "default", false, false).toJson())));
            // Takes none of its response: once its checkpoint is done (the count moves) the daemon
            // starts writing, blocks on the full socket, and gives up after the idle timeout. Waiting
            // for the count first keeps a slow checkpoint from letting this reader drain it all.
            waitUntil(() -> queriesSoFar() > queriesBefore);
            Thread.sleep(IDLE.toMillis() * 2);
            try (DaemonClient other = client()) {
                assertEquals(Protocol.VERSION, other.hello().path("protocol").asInt(), "others are served meanwhile");
            }
            ByteBuffer b = ByteBuffer.allocate(1 << 16);
            long got = 0;
            for (int n; (n = stalled.read(b)) >= 0; b.clear()) {
                got += n;
            }
            assertTrue(got < 3000 * 100, "disconnected before its whole result: " + got + " bytes");
        }
        try (DaemonClient c = client()) {
            JsonNode q = c.query(r());
            assertEquals(3001, q.path("count").asInt(), "every file, and the directory, again: nothing was blessed");
            c.bless(r(), q.path("snapshot").asLong());
            Command.sh(root, "rm -r many");
        }
    }

    /** The queries the daemon has completed on the root (their checkpoints; the results may still be being sent). */
    static long queriesSoFar() throws IOException {
        try (DaemonClient c = client()) {
            return c.status(r()).path("queries").path("count").asLong();
        }
    }

    @Test
    void concurrentQueriesOfOneRootAreSerializedAndEachIsComplete() throws Exception {
        settle();
        Command.sh(root, "for i in 1 2 3 4 5; do echo $i > c$i; done");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<JsonNode>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> {
                    try (DaemonClient c = client()) {
                        return c.query(r());
                    }
                }));
            }
            Set<Long> snapshots = new HashSet<>();
            for (Future<JsonNode> f : results) {
                JsonNode q = f.get(30, TimeUnit.SECONDS);
                snapshots.add(q.path("snapshot").asLong());
                assertEquals(Set.of("c1", "c2", "c3", "c4", "c5"), changes(q).keySet());
            }
            assertEquals(4, snapshots.size(), "one checkpoint each, one after the other: " + snapshots);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aQueryCheckpointsOnAPlatformThreadThatYieldsToWriters() throws Exception {
        settle();
        Command.sh(root, "echo old > nice-f; sync");
        // A writer inside write() on the frozen file system: the query's grace period waits for it.
        Process writer = new ProcessBuilder(PYTHON, "-c", """
                import os, sys
                fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
                print("open", flush=True)
                sys.stdin.readline()
                os.write(fd, b"appended\\n")
                """, "nice-f").directory(root.toFile()).start();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            assertEquals("open", new BufferedReader(new InputStreamReader(writer.getInputStream())).readLine());
            Future<JsonNode> query;
            Command.sh(root, "fsfreeze -f .");
            try {
                writer.getOutputStream().write('\n');
                writer.getOutputStream().flush();
                waitUntil(() -> Files.readString(Path.of("/proc/" + writer.pid() + "/syscall")).startsWith("1 "));
                query = pool.submit(() -> {
                    try (DaemonClient c = client()) {
                        return c.query(r());
                    }
                });
                // The client's own thread is virtual: only a platform thread can take the checkpoint's nice value.
                waitUntil(() -> checkpointThreadNice() == 10);
            } finally {
                Command.sh(root, "fsfreeze -u .");
            }
            assertTrue(changes(query.get(30, TimeUnit.SECONDS)).containsKey("nice-f"));
            assertTrue(writer.waitFor(30, TimeUnit.SECONDS));
        } finally {
            writer.destroyForcibly();
            pool.shutdownNow();
        }
    }

    /** The nice value of this JVM's checkpoint thread (field 19 of its stat), or -100 while there is none. */
    private static int checkpointThreadNice() throws IOException {
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                if (Files.readString(t.resolve("comm")).startsWith("modtrack-checkp")) {
                    String stat = Files.readString(t.resolve("stat"));
                    return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
                }
            }
        }
        return -100;
    }

    @Test
    void watchStreamsNewChangesAndBlessesNothing() throws Exception {
        settle();
        try (DaemonClient w = client()) {
            List<JsonNode> seen = new CopyOnWriteArrayList<JsonNode>();
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    w.watch(r(), 100, seen::add);
                } catch (IOException e) {
                    // closed by the test
                }
            });
            waitUntil(() -> !seen.isEmpty());
            Command.sh(root, "echo w > watched-file");
            try {
                waitUntil(() -> seen.stream().anyMatch(l -> l.path("path").asText().endsWith("/watched-file")));
            } catch (AssertionError e) {
                throw new AssertionError("the watch saw " + seen, e);
            }
            w.close();
            t.join(5000);
        }
        try (DaemonClient c = client()) {
            assertTrue(changes(c.query(r())).containsKey("watched-file"), "the watch blessed nothing");
        }
    }

    /**
     * Runs a Python client as another user; prints CONNECT-FAILED or the daemon's first line. It
     * sends a moment after connecting, so a daemon that answers a refused peer before its request
     * (and closes) fails here every time with a broken pipe instead of once in a while.
     */
    static String asUser(String setprivIds, String requestJson) throws IOException {
        return asUser(socket, setprivIds, requestJson);
    }

    /** Like {@link #asUser(String, String)}, on the daemon at {@code socket}. */
    static String asUser(Path socket, String setprivIds, String requestJson) throws IOException {
        String py = "import socket,sys,time\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1])\n"
                + "except OSError as e:\n print('CONNECT-FAILED', e.errno); sys.exit(0)\n"
                + "time.sleep(0.2)\ns.sendall(sys.argv[2].encode()+b'\\n')\nprint(s.makefile().readline().strip())\n";
        List<String> cmd = new ArrayList<>(List.of("setpriv"));
        cmd.addAll(List.of(setprivIds.split(" ")));
        cmd.addAll(List.of(PYTHON, "-c", py, socket.toString(), requestJson));
        return Command.run(cmd);
    }

    @Test
    void onlyRootAndTheGroupMayUseTheSocket() throws IOException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is not installed");
        String hello = "{\"cmd\":\"hello\"}";
        assertTrue(asUser("--reuid=65534 --regid=65534 --clear-groups", hello).startsWith("CONNECT-FAILED 13"),
                "the socket's mode keeps others out");
        String gid = Command.run("getent", "group", GROUP).split(":")[2];
        String refused = asUser("--reuid=65534 --regid=65534 --groups=" + gid, hello);
        assertTrue(refused.contains("\"forbidden\"") && refused.contains("may not use"),
                "a supplementary group SO_PEERCRED cannot see is refused by the daemon: " + refused);
        assertTrue(asUser("--reuid=65534 --regid=" + gid + " --clear-groups", hello).contains("\"protocol\":1"),
                "a peer whose group is the daemon's group is served");
        String stop = asUser("--reuid=65534 --regid=" + gid + " --clear-groups", "{\"cmd\":\"stop\"}");
        assertTrue(stop.contains("\"forbidden\""), "only root may stop the daemon: " + stop);
        try (DaemonClient c = client()) {
            assertEquals(Protocol.VERSION, c.hello().path("protocol").asInt(), "still running");
        }
    }

    @Test
    void theMetricsEndpointServesTheCountersOnLoopback() throws Exception {
        HttpResponse<String> res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + daemon.metricsPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode());
        assertTrue(res.body().contains("# TYPE modtrack_records_total counter"), res.body());
        assertTrue(res.body().contains("modtrack_continuity_intact{root=\"" + r() + "\"}"), res.body());
        assertTrue(res.body().contains("modtrack_uninspectable_processes{root=\"" + r() + "\"}"), res.body());
        assertTrue(res.body().contains("modtrack_untracked_mounts{root=\"" + r() + "\"} 0"), res.body());
        assertTrue(res.body().contains("# TYPE modtrack_permission_answer_seconds histogram"), res.body());
        assertTrue(res.body().contains("modtrack_permission_answer_seconds_bucket{root=\"" + r() + "\",le=\"+Inf\"}"), res.body());
        assertTrue(res.body().contains("modtrack_query_duration_seconds_count{root=\"" + r() + "\"}"), res.body());
    }

    @Test
    void theExampleMirrorKeepsADirectoryEqualToTheRoot() throws Exception {
        Path script = Path.of(System.getProperty("user.dir")).getParent().resolve("examples/mirror.py");
        Path dest = Files.createTempDirectory("modtrack-example-mirror-").resolve("copy");
        try {
            settle();
            Command.sh(root, "mkdir -p em/d em/e; for i in 1 2 3 4 5; do echo $i > em/f$i; done; echo x > em/d/x");
            String first = Command.run(PYTHON, script.toString(), socket.toString(), r(), dest.toString());
            assertTrue(first.contains("applied 0 entries"), "the first run copies everything: " + first);
            assertEquals(tree(root), tree(dest), "after the first copy");
            String[] rounds = {
                // name reuse: a rename over a name in use, a chain, a swap through a temporary, a new file at an old name
                "cd em; mv f1 f2; mv f3 f4; mv f5 f3; mv f2 t; mv f4 f2; mv t f4; echo new > f1; echo more >> f3",
                // a directory moved with its contents, one removed whole and made again, a hard link, a symlink
                "cd em; mv d d2; echo y >> d2/x; rm -r e; mkdir e; echo z > e/z; ln f1 e/f1-link; ln -s f3 s; echo tmp > gone; rm gone",
                // a swap of directories and a truncate
                "cd em; mv d2 t; mv e d2; mv t e; : > f3; rm s; ln -s f2 s",
                // a write through the newest name of a hard-linked file: the result names that one only
                "cd em; ln f4 f4-link; sync",
                "cd em; echo w >> f4-link",
            };
            for (String round : rounds) {
                Command.sh(root, round);
                String out = Command.run(PYTHON, script.toString(), socket.toString(), r(), dest.toString());
                assertEquals(tree(root), tree(dest), "after: " + round + " (" + out.strip() + ")");
            }
            try (DaemonClient c = client()) {
                JsonNode after = c.query(r());
                assertEquals(0, after.path("count").asInt(), "the example blessed each result it applied: " + after);
            }
        } finally {
            Command.run("rm", "-rf", dest.getParent().toString());
            Command.sh(root, "rm -rf em");
            settle();
        }
    }

    /** Every path below {@code top} (relative), with its kind and contents or link target. */
    private static Map<String, String> tree(Path top) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(top)) {
            for (Path p : walk.toList()) {
                String rel = top.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "link " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.put(rel, "directory");
                } else {
                    out.put(rel, "file " + new String(Files.readAllBytes(p), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    @Test
    void theExamplePythonClientCompletesAQueryBlessCycle() throws Exception {
        Path script = Path.of(System.getProperty("user.dir")).getParent().resolve("examples/client.py");
        settle();
        Command.sh(root, "echo py > from-python");
        String out = Command.run(PYTHON, script.toString(), socket.toString(), r());
        assertTrue(out.contains("created " + root.resolve("from-python")), out);
        try (DaemonClient c = client()) {
            JsonNode q = c.query(r());
            assertFalse(changes(q).containsKey("from-python"), "the example blessed its result: " + q);
        }
    }

    /** Fuzzed lines over the socket: each gets one answer, and afterwards a record made before is still reported. */
    @Test
    void fuzzedRequestsOverTheSocketCrashNothingAndLoseNothing(SplittableRandom random) throws Exception {
        settle();
        Command.sh(root, "echo keep > survives-the-fuzz");
        RequestFuzzTest.Generator gen = new RequestFuzzTest.Generator(random, "/not-watched");
        DaemonClient c = client();
        try {
            for (int i = 0; i < 300; i++) {
                byte[] line = gen.next();
                if (RequestFuzzTest.harmful(line) || line.length > 4096) {
                    continue;
                }
                byte[] withNewline = Arrays.copyOf(line, line.length + 1);
                withNewline[line.length] = '\n';
                String text = new String(line, StandardCharsets.ISO_8859_1);
                if (text.indexOf('\n') >= 0 || text.replace("\r", "").isEmpty()) {
                    continue; // one request per line; an empty line gets no answer
                }
                c.sendRaw(withNewline);
                try {
                    c.read();
                } catch (DaemonException e) {
                    assertOneSentence(e.getMessage());
                }
            }
        } finally {
            c.close();
        }
        try (DaemonClient after = client()) {
            assertTrue(changes(after.query(r())).containsKey("survives-the-fuzz"));
        }
    }
}
