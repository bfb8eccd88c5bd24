package org.modtrack.consumer.kafka;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * A Kafka Connect source connector that follows watched roots of a modtrack daemon: each task
 * acts as one named consumer of its roots, sends one record per change of a result in the
 * result's order and a marker after it, and blesses the result only once Kafka has acknowledged
 * every one of them (docs/kafka.md).
 */
public final class ModtrackSourceConnector extends SourceConnector {
    private Map<String, String> settings;

    @Override
    public void start(Map<String, String> props) {
        new ModtrackSourceConfig(props); // refuses a bad configuration with one sentence, before any task starts
        this.settings = Map.copyOf(props);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return ModtrackSourceTask.class;
    }

    /** The roots, dealt round-robin to at most {@code maxTasks} tasks: a root is followed by one task only. */
    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<String> roots = new ModtrackSourceConfig(settings).roots();
        int tasks = Math.max(1, Math.min(maxTasks, roots.size()));
        List<List<String>> dealt = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
            dealt.add(new ArrayList<>());
        }
        for (int i = 0; i < roots.size(); i++) {
            dealt.get(i % tasks).add(roots.get(i));
        }
        List<Map<String, String>> configs = new ArrayList<>();
        for (List<String> some : dealt) {
            Map<String, String> c = new HashMap<>(settings);
            c.put(ModtrackSourceConfig.ROOTS, String.join(",", some));
            configs.add(c);
        }
        return configs;
    }

    @Override
    public void stop() {
        // Nothing to release: the tasks hold the connections.
    }

    @Override
    public ConfigDef config() {
        return ModtrackSourceConfig.DEFINITION;
    }

    @Override
    public String version() {
        return ModtrackSourceTask.VERSION;
    }
}
