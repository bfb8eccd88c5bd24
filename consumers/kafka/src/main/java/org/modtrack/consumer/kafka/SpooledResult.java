package org.modtrack.consumer.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.source.SourceRecord;
import org.modtrack.daemon.Protocol;
import org.modtrack.daemon.client.DaemonClient;
import org.modtrack.daemon.client.DaemonException;

/**
 * One result of one root on its way to Kafka: streamed from the daemon into a spool file (so that
 * a result of millions of changes takes disk, not memory), read back in batches as records, and
 * counted as Kafka acknowledges them. Its records: one per change, in the result's order, then one
 * marker; all on partition 0 of the topic, so a reader sees them in that order.
 */
final class SpooledResult implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SpooledResult.class.getName());
    /** All of a task's records go to this partition: one order for all of a result's records. */
    static final int PARTITION = 0;

    private final String root;
    private final String consumer;
    private final String topic;
    private final JsonNode header;
    private final long snapshot;
    private final long count;
    private final Path spool;
    private final BufferedReader reader;
    private final Map<String, String> sourcePartition;
    private final AtomicLong acknowledged = new AtomicLong();
    private long index; // the next change's position in the result
    private boolean markerSent;
    private volatile boolean closed;

    private SpooledResult(String root, String consumer, String topic, JsonNode header, Path spool) throws IOException {
        this.root = root;
        this.consumer = consumer;
        this.topic = topic;
        this.header = header;
        this.snapshot = header.path("snapshot").asLong();
        this.count = header.path("count").asLong();
        this.spool = spool;
        this.reader = Files.newBufferedReader(spool, StandardCharsets.UTF_8);
        this.sourcePartition = Map.of("root", root, "consumer", consumer);
    }

    /**
     * Queries {@code root} as the configuration's consumer and spools the streamed result. A root
     * without that consumer gets it (starting from now; logged). Nothing is blessed here.
     */
    static SpooledResult query(ModtrackSourceConfig config, String root) throws IOException {
        Path spool = Files.createTempFile(config.spoolDirectory(), "modtrack-kafka-", ".result");
        boolean done = false;
        try (DaemonClient c = DaemonClient.connect(config.socket()); StallGuard guard = new StallGuard(c::close, config.timeout())) {
            JsonNode header;
            try {
                header = stream(c, guard, root, config.consumer(), spool);
                if (header == null) {
                    c.addConsumer(root, config.consumer(), null, null);
                    LOG.info(() -> "modtrack: added consumer " + config.consumer() + " to " + root
                            + "; its results, and so this topic, start from now");
                    header = stream(c, guard, root, config.consumer(), spool);
                }
            } catch (IOException e) {
                throw guard.explain(e);
            }
            if (header == null) {
                throw new IOException("the daemon has no consumer " + config.consumer() + " of " + root + " even after adding it");
            }
            SpooledResult r = new SpooledResult(root, config.consumer(), config.topic(), header, spool);
            done = true;
            return r;
        } finally {
            if (!done) {
                Files.deleteIfExists(spool);
            }
        }
    }

    /** The header of a streamed query written whole to {@code spool}; null if the root has no such consumer. */
    private static JsonNode stream(DaemonClient c, StallGuard guard, String root, String consumer, Path spool) throws IOException {
        JsonNode[] header = new JsonNode[1];
        try (BufferedWriter w = Files.newBufferedWriter(spool, StandardCharsets.UTF_8)) {
            JsonNode end = c.queryStream(root, consumer, line -> {
                guard.progress();
                if ("header".equals(line.path("type").asText())) {
                    header[0] = line;
                } else if ("change".equals(line.path("type").asText())) {
                    w.write(Protocol.MAPPER.writeValueAsString(line));
                    w.newLine();
                }
            });
            if (header[0] == null || end.path("count").asLong() != header[0].path("count").asLong()) {
                throw new IOException("the daemon's stream of " + root + " ended without its header or with another count");
            }
        } catch (DaemonException e) {
            if (Protocol.UNKNOWN_CONSUMER.equals(e.code())) {
                return null;
            }
            throw e;
        }
        return header[0];
    }

    String root() {
        return root;
    }

    long snapshot() {
        return snapshot;
    }

    long count() {
        return count;
    }

    boolean intact() {
        return !"lost".equals(header.path("continuity").asText());
    }

    boolean hasMoreToSend() {
        return !markerSent;
    }

    /** The next records, at most {@code most}: changes in order, then the marker. */
    List<SourceRecord> next(int most) throws IOException {
        List<SourceRecord> out = new ArrayList<>(most);
        while (out.size() < most && index < count) {
            String line = reader.readLine();
            if (line == null) {
                throw new IOException("the spool file " + spool + " ends after " + index + " of " + count + " changes");
            }
            ObjectNode change = (ObjectNode) Protocol.MAPPER.readTree(line);
            change.put("root", root).put("consumer", consumer).put("snapshot", snapshot).put("index", index);
            out.add(record(change.path("path").asText(), change));
            index++;
        }
        if (out.size() < most && index == count) {
            ObjectNode marker = Protocol.MAPPER.createObjectNode();
            marker.put("type", "end").put("root", root).put("consumer", consumer).put("snapshot", snapshot).put("count", count);
            for (String field : List.of("lastBlessed", "recovered", "continuity", "continuityReason", "reconciliation")) {
                if (header.has(field)) {
                    marker.set(field, header.get(field));
                }
            }
            out.add(record(root, marker));
            markerSent = true;
        }
        return out;
    }

    private SourceRecord record(String key, ObjectNode value) throws IOException {
        Map<String, Object> offset = Map.of("snapshot", snapshot, "index", index);
        return new SourceRecord(sourcePartition, offset, topic, PARTITION, Schema.STRING_SCHEMA, key,
                Schema.STRING_SCHEMA, Protocol.MAPPER.writeValueAsString(value));
    }

    /** Counts {@code record} as acknowledged if it is one of this result's. */
    void acknowledged(SourceRecord record) {
        if (record.sourcePartition().equals(sourcePartition) && record.sourceOffset().get("snapshot") instanceof Long s && s == snapshot) {
            acknowledged.incrementAndGet();
        }
    }

    /** Whether Kafka has acknowledged every change and the marker. */
    boolean allAcknowledged() {
        return markerSent && acknowledged.get() >= count + 1;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            reader.close();
            Files.deleteIfExists(spool);
        } catch (IOException e) {
            LOG.warning(() -> "modtrack: could not remove " + spool + ": " + e.getMessage());
        }
    }
}
