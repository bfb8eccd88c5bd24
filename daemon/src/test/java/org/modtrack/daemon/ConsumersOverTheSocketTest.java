package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.modtrack.daemon.client.DaemonClient;
import org.modtrack.daemon.client.DaemonException;
import org.modtrack.testing.Command;

/**
 * Named consumers through the daemon, on a loop-mounted ext4 with real writers: each blesses on
 * its own, only its owner may act as it, and one that never blesses is dropped at the journal
 * limit and told so, while the others go on.
 */
class ConsumersOverTheSocketTest {
    private static final long MIB = 1 << 20;
    private static final String GROUP = "backup";
    /** Eight snapshots of the engine's first size: a consumer that never blesses reaches it in a few queries. */
    private static final long JOURNAL_LIMIT = 8 * MIB;

    static LoopDaemon running;
    static Path root;
    static Path socket;

    @BeforeAll
    static void startDaemon() throws IOException {
        running = LoopDaemon.start("ConsumersOverTheSocketTest", c -> c.withGroup(GROUP).withJournalLimit(JOURNAL_LIMIT));
        root = running.root();
        socket = running.socket();
    }

    @AfterAll
    static void stopDaemon() throws IOException {
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

    /** path (relative to the root) to kind. */
    static Map<String, String> changes(JsonNode result) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode c : result.path("changes")) {
            out.put(root.relativize(Path.of(c.path("path").asText())).toString(), c.path("kind").asText());
        }
        return out;
    }

    /** Blesses whatever {@code consumer} has pending, so its next result holds only what the test does (see {@link DaemonTest#settle}). */
    static void settle(String consumer) throws IOException {
        DaemonTest.pastTheScanMargin();
        try (DaemonClient c = client()) {
            c.bless(r(), consumer, c.query(r(), consumer).path("snapshot").asLong());
        }
    }

    static List<String> consumerNames() throws IOException {
        try (DaemonClient c = client()) {
            List<String> names = new ArrayList<>();
            c.consumers(r()).path("consumers").forEach(k -> names.add(k.path("name").asText()));
            return names;
        }
    }

    @Test
    void twoConsumersBlessIndependentlyAndEachStillGetsWhatOnlyTheOtherBlessed() throws IOException {
        try (DaemonClient c = client()) {
            assertEquals("indexer", c.addConsumer(r(), "indexer", null, null).path("added").asText());
        }
        try {
            settle("default");
            settle("indexer");
            Command.sh(root, "echo one > k1");
            DaemonTest.pastTheScanMargin(); // so that k1 is not named again after the bless of the result that names it
            JsonNode mine;
            try (DaemonClient c = client()) {
                mine = c.query(r());
                assertEquals(Map.of("k1", "created"), changes(mine));
                assertEquals("default", mine.path("consumer").asText());
                JsonNode theirs = c.query(r(), "indexer");
                assertEquals(Map.of("k1", "created"), changes(theirs));
                assertEquals("indexer", theirs.path("consumer").asText());
                DaemonException notTheirs = assertThrows(DaemonException.class, () -> c.bless(r(), "indexer", mine.path("snapshot").asLong()));
                assertEquals(Protocol.BLESS_REFUSED, notTheirs.code());
                assertTrue(notTheirs.getMessage().contains("was not returned to consumer indexer"), notTheirs.getMessage());
                c.bless(r(), mine.path("snapshot").asLong());
            }
            Command.sh(root, "echo two > k2");
            try (DaemonClient c = client()) {
                assertEquals(Map.of("k2", "created"), changes(c.query(r())), "the default consumer blessed k1");
                JsonNode indexer = c.query(r(), "indexer");
                assertEquals(Map.of("k1", "created", "k2", "created"), changes(indexer), "the indexer did not");
                assertEquals("indexer", c.bless(r(), "indexer", indexer.path("snapshot").asLong()).path("consumer").asText());
                assertEquals(Map.of(), changes(c.query(r(), "indexer")));
                assertEquals(Map.of("k2", "created"), changes(c.query(r())), "the indexer's bless took nothing from the default consumer");

                JsonNode status = c.status(r());
                assertEquals(2, status.path("consumers").size(), status.toString());
                assertEquals(indexer.path("snapshot").asLong(), status.path("consumers").get(1).path("lastBlessed").asLong());
                DaemonException unknown = assertThrows(DaemonException.class, () -> c.query(r(), "nobody"));
                assertEquals(Protocol.UNKNOWN_CONSUMER, unknown.code());
                DaemonException twice = assertThrows(DaemonException.class, () -> c.addConsumer(r(), "indexer", null, null));
                assertEquals(Protocol.CONSUMER_REFUSED, twice.code());
            }
        } finally {
            try (DaemonClient c = client()) {
                c.removeConsumer(r(), "indexer");
            }
            settle("default");
        }
        assertEquals(List.of("default"), consumerNames());
    }

    @Test
    void onlyItsOwnerRootAndTheDaemonsUserMayActAsAConsumer() throws IOException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is not installed");
        String gid = Command.run("getent", "group", GROUP).split(":")[2];
        String asMember = "--reuid=65534 --regid=" + gid + " --clear-groups";
        try (DaemonClient c = client()) {
            c.addConsumer(r(), "private", "root", null);
        }
        try {
            String refused = DaemonTest.asUser(socket, asMember, "{\"cmd\":\"query\",\"root\":\"" + r() + "\",\"consumer\":\"private\"}");
            assertTrue(refused.contains("\"forbidden\"") && refused.contains("may not act as consumer private"), refused);
            String served = DaemonTest.asUser(socket, asMember, "{\"cmd\":\"query\",\"root\":\"" + r() + "\"}");
            assertTrue(served.contains("\"snapshot\""), "a consumer without an owner serves every member: " + served);
            settle("default"); // what the member was given, so that no result waits for a bless
            String forOther = DaemonTest.asUser(socket, asMember,
                    "{\"cmd\":\"consumers\",\"root\":\"" + r() + "\",\"action\":\"add\",\"name\":\"theirs\",\"owner\":\"root\"}");
            assertTrue(forOther.contains("\"forbidden\""), "a member may not add a consumer for another user: " + forOther);
            String own = DaemonTest.asUser(socket, asMember,
                    "{\"cmd\":\"consumers\",\"root\":\"" + r() + "\",\"action\":\"add\",\"name\":\"mine\"}");
            assertTrue(own.contains("\"added\":\"mine\""), own);
            try (DaemonClient c = client()) {
                JsonNode mine = null;
                for (JsonNode k : c.consumers(r()).path("consumers")) {
                    mine = k.path("name").asText().equals("mine") ? k : mine;
                }
                assertTrue(mine != null && mine.path("owner").path("uid").asInt() == 65534, "its owner is who added it: " + mine);
            }
            String removed = DaemonTest.asUser(socket, asMember,
                    "{\"cmd\":\"consumers\",\"root\":\"" + r() + "\",\"action\":\"remove\",\"name\":\"mine\"}");
            assertTrue(removed.contains("\"removed\":\"mine\""), removed);
        } finally {
            try (DaemonClient c = client()) {
                c.removeConsumer(r(), "private");
            }
        }
    }

    @Test
    void aConsumerThatNeverBlessesIsDroppedAtTheJournalLimitAndToldSoWhileTheOthersGoOn() throws IOException {
        try (DaemonClient c = client()) {
            c.addConsumer(r(), "stuck", null, null);
            c.query(r(), "stuck"); // and never blessed
        }
        try {
            boolean dropped = false;
            for (int round = 0; round < 20 && !dropped; round++) {
                Command.sh(root, "mkdir -p fill; for i in $(seq 1 50); do echo " + round + " > fill/f$i; done");
                settle("default"); // the default consumer keeps up
                try (DaemonClient c = client()) {
                    JsonNode status = c.status(r());
                    assertTrue(status.path("liveSnapshots").asLong() * MIB <= JOURNAL_LIMIT + 2 * MIB,
                            "the kept snapshots stay within the journal limit (and the two a checkpoint adds): " + status);
                    for (JsonNode k : status.path("consumers")) {
                        dropped |= k.path("name").asText().equals("stuck") && k.path("continuity").asText().equals("lost");
                    }
                }
            }
            assertTrue(dropped, "the consumer that never blessed was dropped at the limit");
            try (DaemonClient c = client()) {
                JsonNode told = c.query(r(), "stuck");
                assertEquals("lost", told.path("continuity").asText());
                assertTrue(told.path("continuityReason").asText().contains("consumer stuck was dropped: the journal reached its limit"),
                        told.toString());
                JsonNode mine = c.query(r());
                assertEquals("intact", mine.path("continuity").asText(), "the default consumer goes on: " + mine);
                assertFalse(changes(mine).containsKey("fill/f1"), "and what it blessed stays blessed");
                c.bless(r(), mine.path("snapshot").asLong());
            }
        } finally {
            try (DaemonClient c = client()) {
                c.removeConsumer(r(), "stuck");
            }
        }
    }

    @Test
    void theExamplePythonClientActsAsANamedConsumer() throws Exception {
        Path script = Path.of(System.getProperty("user.dir")).getParent().resolve("examples/client.py");
        try (DaemonClient c = client()) {
            c.addConsumer(r(), "py", null, null);
        }
        try {
            settle("default");
            Command.sh(root, "echo py > from-python");
            String out = Command.run(DaemonTest.PYTHON, script.toString(), socket.toString(), r(), "py");
            assertTrue(out.contains("created " + root.resolve("from-python")), out);
            try (DaemonClient c = client()) {
                assertFalse(changes(c.query(r(), "py")).containsKey("from-python"), "the example blessed its result as py");
                assertTrue(changes(c.query(r())).containsKey("from-python"), "and nothing of the default consumer's");
            }
        } finally {
            try (DaemonClient c = client()) {
                c.removeConsumer(r(), "py");
            }
        }
    }
}
