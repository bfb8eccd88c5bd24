package org.modtrack.consumer.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.Test;
import org.modtrack.cli.Main;
import org.modtrack.daemon.Protocol;
import org.modtrack.daemon.client.DaemonClient;
import org.modtrack.testing.Command;
import org.modtrack.testing.LoopMount;

/**
 * The connector with real parts: a KRaft broker (Kafka's own test kit, in this JVM), a standalone
 * Connect worker and the modtrack daemon (each a child JVM, killed with SIGKILL and restarted), a
 * loop-mounted ext4 with writers. Every path a consumer must hear of (what exists after the
 * writes, and what existed before them and is gone) reaches the topic in a result queried after the
 * writes began, every result's records come in its order, its marker last, and the tree a reader
 * rebuilds by applying the complete results (each to the state after the result it follows) is the
 * file system's.
 */
class KafkaConnectorTest {
    private static final long MIB = 1 << 20;
    private static final String TOPIC = "modtrack-changes";
    private static final long WAIT_SECONDS = 90;
    /** The client id Connect gives the producer of task 0 of the connector named "modtrack". */
    private static final String PRODUCER_CLIENT_ID = "connector-producer-modtrack-0";
    /** Slow enough that a result of {@link #BURST_FILES} records takes seconds to send. */
    private static final double BURST_BYTES_PER_SECOND = 2_000;
    /** More changes than a task hands Connect in one poll. */
    private static final int BURST_FILES = ModtrackSourceTask.BATCH + 300;

    @Test
    void everyChangeReachesTheTopicInOrderThroughSigkillsOfTheWorkerAndTheDaemon() throws Exception {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "KafkaConnectorTest skipped: " + LoopMount.unavailableReason("ext4").get());
        Path work = Files.createTempDirectory("modtrack-kafka-test-");
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB);
             KafkaClusterTestKit kafka = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                     .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1)
                     .setBaseDirectory(work.resolve("kafka")).build()).build()) {
            kafka.format();
            kafka.startup();
            kafka.waitForReadyBrokers();
            try (var admin = kafka.admin()) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            }
            Path root = m.mountPoint();
            Path socket = work.resolve("sock");
            Children children = new Children(work, root, socket, kafka.bootstrapServers());
            try (Topic topic = new Topic(kafka.bootstrapServers())) {
                children.startDaemon();
                children.startWorker();
                awaitConsumer(socket, root);
                PathModel reader = new PathModel(root, PathModel.tree(root)); // what a reader of the topic starts from

                Set<String> touched = new TreeSet<>();
                long from = openSnapshot(socket, root);
                Command.sh(root, "mkdir a; for i in $(seq 1 60); do echo $i > a/f$i; done; mv a/f1 a/g1; rm a/f2");
                // a/f1 and a/f2 came and went within the phase: no result need name them (docs/protocol.md).
                for (int i = 3; i <= 60; i++) {
                    touched.add("a/f" + i);
                }
                touched.add("a/g1");
                topic.awaitNamed(root, touched, from);

                // The worker dies in the middle of writes and of its results, and starts again.
                from = openSnapshot(socket, root);
                Process writer = new ProcessBuilder("sh", "-c", "mkdir b; for i in $(seq 1 200); do echo $i > b/f$i;"
                        + " [ $((i % 20)) -eq 0 ] && sleep 0.1; done").directory(root.toFile()).start();
                Thread.sleep(500); // not a time limit: the kill lands among the writes
                children.killWorker();
                assertEquals(0, writer.waitFor());
                children.startWorker();
                Set<String> phase = new TreeSet<>();
                for (int i = 1; i <= 200; i++) {
                    phase.add("b/f" + i);
                }
                touched.addAll(phase);
                topic.awaitNamed(root, phase, from);

                // The worker dies in the middle of one result, for certain: while it is down, more
                // changes than a task hands Connect in one poll; the broker throttles its producer (a
                // client quota) while it sends them, and it is killed once that result's first record
                // is on the topic. The result is cut; its changes come again, whole, in a later one.
                children.killWorker();
                from = openSnapshot(socket, root);
                Command.sh(root, "mkdir burst; for i in $(seq 1 " + BURST_FILES + "); do : > burst/f$i; done");
                throttle(kafka, BURST_BYTES_PER_SECOND);
                int seen = topic.size();
                children.startWorker();
                long cut = topic.awaitFirstRecordOfAResultAbove(from, seen);
                children.killWorker();
                throttle(kafka, null);
                children.startWorker();
                phase = new TreeSet<>();
                for (int i = 1; i <= BURST_FILES; i++) {
                    phase.add("burst/f" + i);
                }
                touched.addAll(phase);
                topic.awaitNamed(root, phase, cut);

                // The daemon dies (its queue keeper holds the kernel's queue), files change, it starts again.
                from = openSnapshot(socket, root);
                children.killDaemon();
                Command.sh(root, "echo more >> a/f3; mv a/f4 c4; rm a/f5; mkdir c; for i in $(seq 1 40); do echo $i > c/f$i; done");
                children.startDaemon();
                phase = new TreeSet<>(List.of("a/f3", "c4", "a/f4", "a/f5"));
                for (int i = 1; i <= 40; i++) {
                    phase.add("c/f" + i);
                }
                touched.addAll(phase);
                topic.awaitNamed(root, phase, from);

                topic.checkResultsInOrder();
                for (PathModel.Result r : topic.completeResults()) {
                    reader.apply(r);
                }
                assertEquals(PathModel.tree(root), reader.last(), "the tree a reader rebuilds from the topic's complete results,"
                        + " each applied to the state after the result it follows, is the file system's");
            } finally {
                children.stopAll();
            }
        } finally {
            Command.run("rm", "-rf", work.toString());
        }
    }

    @Test
    void aBadConfigurationIsRefusedInOneSentence() {
        Map<String, String> good = Map.of(ModtrackSourceConfig.SOCKET, "/run/modtrack.sock", ModtrackSourceConfig.ROOTS, "/data",
                ModtrackSourceConfig.TOPIC, "changes");
        new ModtrackSourceConfig(good);
        for (Map.Entry<String, String> bad : List.of(Map.entry(ModtrackSourceConfig.SOCKET, "relative.sock"),
                Map.entry(ModtrackSourceConfig.ROOTS, ""), Map.entry(ModtrackSourceConfig.TOPIC, "no spaces"),
                Map.entry(ModtrackSourceConfig.CONSUMER, "a/b"), Map.entry(ModtrackSourceConfig.POLL_INTERVAL_MS, "1"))) {
            Map<String, String> settings = new HashMap<>(good);
            settings.put(bad.getKey(), bad.getValue());
            ConfigException e = assertThrows(ConfigException.class, () -> new ModtrackSourceConfig(settings), bad.toString());
            assertTrue(e.getMessage().contains(bad.getKey()) && !e.getMessage().contains("\n"), e.getMessage());
        }
        assertThrows(ConfigException.class, () -> new ModtrackSourceConnector().start(Map.of(ModtrackSourceConfig.ROOTS, "/data")),
                "no socket, no topic");
    }

    @Test
    void theRootsAreDealtToTheTasks() {
        ModtrackSourceConnector c = new ModtrackSourceConnector();
        c.start(Map.of(ModtrackSourceConfig.SOCKET, "/run/modtrack.sock", ModtrackSourceConfig.ROOTS, "/a,/b,/c",
                ModtrackSourceConfig.TOPIC, "changes"));
        List<Map<String, String>> two = c.taskConfigs(2);
        assertEquals(List.of("/a,/c", "/b"), two.stream().map(t -> t.get(ModtrackSourceConfig.ROOTS)).toList());
        assertEquals(3, c.taskConfigs(8).size(), "one task per root at most");
    }

    /** Limits what the worker's producer may send per second (null: no limit). */
    private static void throttle(KafkaClusterTestKit kafka, Double bytesPerSecond) throws Exception {
        ClientQuotaEntity producer = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, PRODUCER_CLIENT_ID));
        try (var admin = kafka.admin()) {
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(producer,
                    List.of(new ClientQuotaAlteration.Op("producer_byte_rate", bytesPerSecond))))).all()
                    .get(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** The daemon's open period: a result with a higher id was queried after this call. */
    private static long openSnapshot(Path socket, Path root) throws IOException {
        try (DaemonClient c = DaemonClient.connect(socket)) {
            return c.status(root.toString()).path("openSnapshot").asLong();
        }
    }

    /** Waits until the worker's task has added its consumer (its results start then). */
    private static void awaitConsumer(Path socket, Path root) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (System.nanoTime() < deadline) {
            try (DaemonClient c = DaemonClient.connect(socket)) {
                for (JsonNode k : c.consumers(root.toString()).path("consumers")) {
                    if (k.path("name").asText().equals(ModtrackSourceConfig.DEFAULT_CONSUMER)) {
                        return;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the connector's task did not add its consumer within " + WAIT_SECONDS + " s");
    }

    /** The daemon and the Connect worker, each a child JVM of this test's classpath. */
    private static final class Children {
        private final Path work;
        private final Path root;
        private final Path socket;
        private final String bootstrap;
        private Process daemon;
        private Process worker;

        Children(Path work, Path root, Path socket, String bootstrap) {
            this.work = work;
            this.root = root;
            this.socket = socket;
            this.bootstrap = bootstrap;
        }

        private static List<String> java(String mainClass, String... args) {
            List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), mainClass));
            command.addAll(List.of(args));
            return command;
        }

        private Process start(List<String> command, String log) throws IOException {
            return new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve(log).toFile())).start();
        }

        void startDaemon() throws Exception {
            daemon = start(java(Main.class.getName(), "daemon", "--watch", root.toString(), "--state", work.resolve("state").toString(),
                    "--socket", socket.toString(), "--durability", "process"), "daemon.log");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (true) {
                try (DaemonClient c = DaemonClient.connect(socket)) {
                    c.hello();
                    return;
                } catch (IOException notYet) {
                    if (!daemon.isAlive() || System.nanoTime() > deadline) {
                        throw new AssertionError("the daemon did not start: " + Files.readString(work.resolve("daemon.log")));
                    }
                    Thread.sleep(50);
                }
            }
        }

        void killDaemon() throws InterruptedException {
            daemon.destroyForcibly().waitFor(); // SIGKILL
        }

        void startWorker() throws IOException {
            int port;
            try (ServerSocket free = new ServerSocket(0)) {
                port = free.getLocalPort();
            }
            Properties w = new Properties();
            w.setProperty("bootstrap.servers", bootstrap);
            w.setProperty("key.converter", "org.apache.kafka.connect.storage.StringConverter");
            w.setProperty("value.converter", "org.apache.kafka.connect.storage.StringConverter");
            w.setProperty("offset.storage.file.filename", work.resolve("connect.offsets").toString());
            w.setProperty("offset.flush.interval.ms", "500");
            w.setProperty("listeners", "http://127.0.0.1:" + port);
            w.setProperty("plugin.discovery", "only_scan");
            Properties c = new Properties();
            c.setProperty("name", "modtrack");
            c.setProperty("connector.class", ModtrackSourceConnector.class.getName());
            c.setProperty("tasks.max", "1");
            c.setProperty(ModtrackSourceConfig.SOCKET, socket.toString());
            c.setProperty(ModtrackSourceConfig.ROOTS, root.toString());
            c.setProperty(ModtrackSourceConfig.TOPIC, TOPIC);
            c.setProperty(ModtrackSourceConfig.POLL_INTERVAL_MS, "200");
            c.setProperty(ModtrackSourceConfig.SPOOL_DIRECTORY, work.resolve("spool").toString());
            Path workerProperties = work.resolve("worker.properties");
            Path connectorProperties = work.resolve("connector.properties");
            try (var out = Files.newBufferedWriter(workerProperties)) {
                w.store(out, null);
            }
            try (var out = Files.newBufferedWriter(connectorProperties)) {
                c.store(out, null);
            }
            worker = start(java("org.apache.kafka.connect.cli.ConnectStandalone", workerProperties.toString(),
                    connectorProperties.toString()), "worker.log");
        }

        void killWorker() throws InterruptedException {
            worker.destroyForcibly().waitFor(); // SIGKILL
        }

        /** Stops the worker, then the daemon cleanly (its queue keeper with it). */
        void stopAll() throws Exception {
            if (worker != null) {
                worker.destroy();
                if (!worker.waitFor(20, TimeUnit.SECONDS)) {
                    worker.destroyForcibly().waitFor();
                }
            }
            if (daemon != null && daemon.isAlive()) {
                try (DaemonClient c = DaemonClient.connect(socket)) {
                    c.stop(true);
                } catch (IOException e) {
                    daemon.destroy();
                }
                if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
                    daemon.destroyForcibly().waitFor();
                }
            }
        }
    }

    /** The topic as a reader sees it, read from its beginning and kept in order. */
    private static final class Topic implements AutoCloseable {
        private final KafkaConsumer<String, String> consumer;
        private final List<ConsumerRecord<String, String>> records = new ArrayList<>();

        Topic(String bootstrap) {
            Properties p = new Properties();
            p.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.setProperty(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            p.setProperty(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            p.setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            consumer = new KafkaConsumer<>(p);
            TopicPartition partition = new TopicPartition(TOPIC, SpooledResult.PARTITION);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
        }

        /**
         * Waits until every path of {@code paths} (relative to {@code root}) is named, as a record's
         * path or a rename's from, by a result whose id is above {@code after}: one queried after
         * the paths were touched.
         */
        void awaitNamed(Path root, Set<String> paths, long after) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            Set<String> missing = new TreeSet<>(paths);
            int seen = 0;
            while (!missing.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(missing.size() + " of " + paths.size() + " touched paths reached no result above "
                            + after + " within " + WAIT_SECONDS + " s, e.g. " + missing.stream().limit(5).toList());
                }
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                for (; seen < records.size(); seen++) {
                    JsonNode v = Protocol.MAPPER.readTree(records.get(seen).value());
                    if (!"change".equals(v.path("type").asText()) || v.path("snapshot").asLong() <= after) {
                        continue;
                    }
                    missing.remove(root.relativize(Path.of(v.path("path").asText())).toString());
                    if (v.hasNonNull("from")) {
                        missing.remove(root.relativize(Path.of(v.path("from").asText())).toString());
                    }
                }
                if (seen == records.size() && !missing.isEmpty()) {
                    seen = 0; // a later result may name what an earlier one did not: look at everything again
                }
            }
        }

        int size() {
            return records.size();
        }

        /**
         * Waits for the first record, from the {@code from}-th on, of a result whose id is above
         * {@code after}; returns that result's id.
         */
        long awaitFirstRecordOfAResultAbove(long after, int from) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(50)).forEach(records::add);
                for (int i = from; i < records.size(); i++) {
                    JsonNode v = Protocol.MAPPER.readTree(records.get(i).value());
                    if (v.path("snapshot").asLong() > after) {
                        return v.path("snapshot").asLong();
                    }
                }
            }
            throw new AssertionError("no result above " + after + " began within " + WAIT_SECONDS + " s");
        }

        /**
         * Every result's records came in its order: indexes 0, 1, 2, ... and the marker last with
         * the count. A result cut by a killed worker has a prefix and no marker (its changes came
         * again in a later result); a record may come twice in a row (a producer's retry); nothing
         * else is allowed.
         */
        void checkResultsInOrder() throws IOException {
            Map<Long, Long> nextIndex = new LinkedHashMap<>();
            Map<Long, String> previous = new HashMap<>();
            Set<Long> ended = new TreeSet<>();
            int markers = 0;
            for (ConsumerRecord<String, String> r : records) {
                JsonNode v = Protocol.MAPPER.readTree(r.value());
                long snapshot = v.path("snapshot").asLong();
                if (r.value().equals(previous.put(snapshot, r.value()))) {
                    continue; // a batch the producer sent again (Connect's producers are not idempotent): same record, same place
                }
                assertTrue(!ended.contains(snapshot), "a record of result " + snapshot + " after its marker: " + r.value());
                long expected = nextIndex.getOrDefault(snapshot, 0L);
                if ("end".equals(v.path("type").asText())) {
                    assertEquals(expected, v.path("count").asLong(), "result " + snapshot + "'s marker counts its records");
                    ended.add(snapshot);
                    markers++;
                } else {
                    assertEquals(expected, v.path("index").asLong(), "result " + snapshot + "'s records in order: " + r.value());
                    nextIndex.put(snapshot, expected + 1);
                }
            }
            assertTrue(markers > 0, "results were completed: " + records.size() + " records");
            assertTrue(nextIndex.keySet().stream().anyMatch(s -> !ended.contains(s)),
                    "a result was cut by a killed worker (its records without a marker): " + nextIndex.keySet());
        }

        /** The results that end with their marker, in the topic's order, for a reader to apply. */
        List<PathModel.Result> completeResults() throws IOException {
            Map<Long, List<JsonNode>> changes = new HashMap<>();
            List<PathModel.Result> out = new ArrayList<>();
            for (ConsumerRecord<String, String> r : records) {
                JsonNode v = Protocol.MAPPER.readTree(r.value());
                long snapshot = v.path("snapshot").asLong();
                if ("end".equals(v.path("type").asText())) {
                    out.add(new PathModel.Result(snapshot, v.path("lastBlessed").asLong(), v.path("continuity").asText(),
                            changes.getOrDefault(snapshot, List.of())));
                } else {
                    changes.computeIfAbsent(snapshot, k -> new ArrayList<>()).add(v);
                }
            }
            return out;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
