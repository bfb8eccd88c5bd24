package org.modtrack.consumer.kafka;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.modtrack.engine.journal.ConsumerState;

/**
 * The connector's configuration, as docs/kafka.md documents it: which daemon, which roots, which
 * consumer, which topic, how often to look. Every bad value is refused with one sentence.
 */
public final class ModtrackSourceConfig extends AbstractConfig {
    public static final String SOCKET = "modtrack.socket";
    public static final String ROOTS = "modtrack.roots";
    public static final String CONSUMER = "modtrack.consumer";
    public static final String TOPIC = "topic";
    public static final String POLL_INTERVAL_MS = "poll.interval.ms";
    public static final String SPOOL_DIRECTORY = "modtrack.spool.dir";
    public static final String TIMEOUT_MS = "modtrack.timeout.ms";

    /** The consumer a connector acts as unless told otherwise. */
    public static final String DEFAULT_CONSUMER = "kafka";
    private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    /** The definition: names, types, defaults, validation and documentation of every setting. */
    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(SOCKET, ConfigDef.Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ModtrackSourceConfig::absolutePath,
                    ConfigDef.Importance.HIGH, "The modtrack daemon's Unix socket, e.g. /run/modtrack.sock.")
            .define(ROOTS, ConfigDef.Type.LIST, ConfigDef.NO_DEFAULT_VALUE, ModtrackSourceConfig::roots,
                    ConfigDef.Importance.HIGH, "The watched roots to follow, comma-separated; each task follows some of them.")
            .define(CONSUMER, ConfigDef.Type.STRING, DEFAULT_CONSUMER, ModtrackSourceConfig::consumerName,
                    ConfigDef.Importance.HIGH, "The root's consumer the tasks query and bless as; added (starting from"
                            + " then) if the root has none of that name.")
            .define(TOPIC, ConfigDef.Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ModtrackSourceConfig::topicName,
                    ConfigDef.Importance.HIGH, "The topic the changes go to (its partition 0, so that a result's records keep their order).")
            .define(POLL_INTERVAL_MS, ConfigDef.Type.LONG, 1000L, ConfigDef.Range.between(10, 3_600_000),
                    ConfigDef.Importance.MEDIUM, "How long a task waits after a result with no change before it queries again.")
            .define(SPOOL_DIRECTORY, ConfigDef.Type.STRING, System.getProperty("java.io.tmpdir"), ModtrackSourceConfig::absolutePath,
                    ConfigDef.Importance.LOW, "Where a task keeps the result it is sending (one file per task, removed once blessed),"
                            + " so that a result of millions of changes does not have to fit in memory.")
            .define(TIMEOUT_MS, ConfigDef.Type.LONG, 120_000L, ConfigDef.Range.between(100, 86_400_000),
                    ConfigDef.Importance.LOW, "How long the daemon may send nothing in answer to a query or a bless before the task"
                            + " closes the connection and tries again (nothing is blessed, so nothing is lost).");

    public ModtrackSourceConfig(Map<String, String> settings) {
        super(DEFINITION, settings);
    }

    Path socket() {
        return Path.of(getString(SOCKET));
    }

    List<String> roots() {
        return getList(ROOTS);
    }

    String consumer() {
        return getString(CONSUMER);
    }

    String topic() {
        return getString(TOPIC);
    }

    Duration pollInterval() {
        return Duration.ofMillis(getLong(POLL_INTERVAL_MS));
    }

    Duration timeout() {
        return Duration.ofMillis(getLong(TIMEOUT_MS));
    }

    Path spoolDirectory() {
        return Path.of(getString(SPOOL_DIRECTORY));
    }

    private static void absolutePath(String name, Object value) {
        if (!(value instanceof String s) || !s.startsWith("/") || s.indexOf('\0') >= 0) {
            throw new ConfigException(name, value, "must be an absolute path");
        }
    }

    private static void roots(String name, Object value) {
        if (!(value instanceof List<?> list) || list.isEmpty()) {
            throw new ConfigException(name, value, "must name at least one watched root");
        }
        for (Object root : list) {
            absolutePath(name, root);
        }
    }

    private static void consumerName(String name, Object value) {
        try {
            ConsumerState.checkName(value instanceof String s ? s : null);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(name, value, "must be 1 to " + ConsumerState.MAX_NAME_BYTES
                    + " letters, digits, '.', '_' or '-'");
        }
    }

    private static void topicName(String name, Object value) {
        if (!(value instanceof String s) || !TOPIC_NAME.matcher(s).matches() || s.equals(".") || s.equals("..")) {
            throw new ConfigException(name, value, "must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-'");
        }
    }
}
