package org.modtrack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.daemon.DaemonConfig;
import org.modtrack.daemon.Protocol;
import org.modtrack.testing.Command;
import org.modtrack.testing.LoopMount;
import org.modtrack.testing.OutputLines;

/**
 * The daemon as a systemd service (Type=notify, a file descriptor store), with this test playing
 * systemd's side of the protocol (systemd is not PID 1 here): fake_systemd.py receives READY=1
 * and the stored notification group on its notify socket, and starts the daemon again with the
 * group as a passed descriptor (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID), as systemd's automatic
 * restart does.
 */
class SystemdServiceTest {
    private static final long MIB = 1 << 20;
    private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

    @TempDir
    Path dir;

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(), () -> "skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    @Test
    void aSigkilledServiceTakesItsStoredQueueOverAndNamesWhatChangedWhileItWasDown() throws Exception {
        Path socket = dir.resolve("sock");
        Path state = dir.resolve("state");
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Command.sh(root, "mkdir d; echo keep > d/keep; echo gone > d/gone; echo old > d/old; sync");
            try (FakeSystemd s = service(root, "--durability", "process")) {
                s.send("start");
                s.expect("started ");
                String stored = s.expect("stored ");
                s.expect("ready");
                assertEquals("stored notification-" + DaemonConfig.stateName(root), stored);
                JsonNode status = json(cli("status", root.toString(), "--json", "--socket", socket.toString()));
                assertEquals("systemd", status.path("queueKeptBy").asText(), status.toString());
                assertTrue(status.path("keeperPid").isNull(), "no keeper process under systemd: " + status);
                assertFalse(status.path("powerLease").asBoolean(true), "no lease with process durability: " + status);
                assertFalse(Files.exists(state.resolve(DaemonConfig.stateName(root)).resolve("keeper")),
                        "no keeper was started");
                JsonNode first = json(cli("query", root.toString(), "--json", "--socket", socket.toString()));
                assertEquals(0, CliTest.run("bless", root.toString(), first.path("snapshot").asText(), "--socket",
                        socket.toString()).exitCode());

                s.send("kill");
                s.expect("exited -9");
                Command.sh(root, "echo unseen > d/unseen; rm d/gone; echo more >> d/old; mv d/keep d/kept; sync");
                s.send("start");
                s.expect("started ");
                s.expect("ready");

                JsonNode r = json(cli("query", root.toString(), "--json", "--socket", socket.toString()));
                assertTrue(r.path("recovered").asBoolean(), r.toString());
                assertEquals("intact", r.path("continuity").asText(), "the stored queue held every change: " + r);
                assertEquals(Map.of("d/unseen", "created", "d/gone", "deleted", "d/old", "modified",
                        "d/kept", "renamed from d/keep"), changes(root, r), r.toString());
                s.send("term");
                s.expect("stopping");
                s.expect("exited ");
            }
        }
    }

    /**
     * With {@code power} durability the power lease (a reboot is then answered by a walk) is guarded
     * by a keeper started for that alone, since the descriptor store keeps the notification group:
     * when the main process is killed, the keeper removes the lease before the writers it held go
     * on; the restart grants a new one, and a clean stop removes it.
     */
    @Test
    void underSystemdAKeeperOfItsOwnGuardsThePowerLease() throws Exception {
        Path socket = dir.resolve("sock");
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Path lease = dir.resolve("state").resolve(DaemonConfig.stateName(root)).resolve("power-lease");
            try (FakeSystemd s = service(root)) {
                s.send("start");
                s.expect("started ");
                s.expect("ready");
                JsonNode status = json(cli("status", root.toString(), "--json", "--socket", socket.toString()));
                assertEquals("systemd", status.path("queueKeptBy").asText());
                assertTrue(status.path("powerLease").asBoolean(), status.toString());
                assertTrue(Files.exists(lease), "a keeper guards the lease");

                s.send("kill");
                s.expect("exited -9");
                awaitGone(lease);
                s.send("start");
                s.expect("started ");
                s.expect("ready");
                assertTrue(Files.exists(lease), "the restart's keeper guards a new lease");
                s.send("term");
                s.expect("exited ");
                assertFalse(Files.exists(lease), "a clean stop removes it");
            }
        }
    }

    /** fake_systemd.py, ready to start the daemon watching {@code root} (state and socket in the test's directory). */
    private FakeSystemd service(Path root, String... daemonOptions) throws IOException {
        Path script = dir.resolve("fake_systemd.py");
        if (!Files.exists(script)) {
            try (InputStream in = SystemdServiceTest.class.getResourceAsStream("fake_systemd.py")) {
                Files.copy(in, script);
            }
        }
        List<String> daemon = new ArrayList<>(List.of("daemon", "--watch", root.toString(), "--state",
                dir.resolve("state").toString(), "--socket", dir.resolve("sock").toString()));
        daemon.addAll(List.of(daemonOptions));
        List<String> command = new ArrayList<>(List.of(PYTHON, script.toString(), dir.resolve("notify").toString(), "--"));
        command.addAll(TrackingDemo.command(daemon));
        return new FakeSystemd(new ProcessBuilder(command).redirectError(dir.resolve("service.log").toFile()).start());
    }

    private static void awaitGone(Path file) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(file) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(Files.exists(file), file + " is removed");
    }

    private static String cli(String... args) {
        CliTest.Run r = CliTest.run(args);
        assertEquals(0, r.exitCode(), r.err());
        return r.out();
    }

    private static JsonNode json(String text) throws IOException {
        return Protocol.MAPPER.readTree(text);
    }

    private static Map<String, String> changes(Path root, JsonNode result) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode c : result.path("changes")) {
            out.put(root.relativize(Path.of(c.path("path").asText())).toString(), c.path("kind").asText()
                    + (c.has("from") && !c.path("from").isNull()
                    ? " from " + root.relativize(Path.of(c.path("from").asText())) : ""));
        }
        return out;
    }

    /** The test's side of fake_systemd.py: commands in, event lines out (never waited for forever). */
    private static final class FakeSystemd implements AutoCloseable {
        private final Process process;
        private final Writer in;
        private final OutputLines lines;

        FakeSystemd(Process process) {
            this.process = process;
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            this.lines = new OutputLines(process, "fake-systemd-reader");
        }

        void send(String command) throws IOException {
            in.write(command + "\n");
            in.flush();
        }

        /** The next line that starts with {@code prefix}, skipping others (at most 60 s). */
        String expect(String prefix) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                String line = lines.next(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null || line.equals(OutputLines.END)) {
                    throw new AssertionError("fake systemd said no '" + prefix + "' (" + line + ")");
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
        }

        @Override
        public void close() throws Exception {
            try {
                send("quit");
            } catch (IOException e) {
                // already gone
            }
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
