package org.modtrack.daemon;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import org.modtrack.engine.journal.ConsumerState;

/** One request line of the protocol (docs/protocol.md), parsed by {@link RequestParser}. */
public sealed interface Request {
    /** This request as a protocol line's JSON object (what {@link RequestParser} parses back). */
    ObjectNode toJson();

    private static ObjectNode command(String cmd) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("v", Protocol.VERSION);
        o.put("cmd", cmd);
        return o;
    }

    /** {@code hello}: the protocol version, the server and its roots. */
    record Hello() implements Request {
        @Override
        public ObjectNode toJson() {
            return command("hello");
        }
    }

    /**
     * {@code query}: checkpoint a root and return every change since the last result {@code consumer}
     * blessed; with {@code stream}, as lines; with {@code compact}, each entry's paths relative to the
     * root and only the fields that differ from their defaults (docs/protocol.md, <i>Compact entries</i>).
     */
    record Query(String root, String consumer, boolean stream, boolean compact) implements Request {
        @Override
        public ObjectNode toJson() {
            ObjectNode o = withConsumer(command("query").put("root", root), consumer);
            if (stream) {
                o.put("stream", true);
            }
            return compact ? o.put("compact", true) : o;
        }
    }

    /** {@code bless}: {@code consumer} has acted on result {@code snapshot} of a root. */
    record Bless(String root, String consumer, long snapshot) implements Request {
        @Override
        public ObjectNode toJson() {
            return withConsumer(command("bless").put("root", root), consumer).put("snapshot", snapshot);
        }
    }

    /** {@code consumers}: list a root's consumers, or add or remove one. */
    record Consumers(String root, Action action, String name, String owner, String group) implements Request {
        /** What a {@code consumers} request does. */
        public enum Action {
            LIST, ADD, REMOVE;

            /** The word on the wire: {@code list}, {@code add}, {@code remove}. */
            public String wireName() {
                return name().toLowerCase(Locale.ROOT);
            }
        }

        @Override
        public ObjectNode toJson() {
            ObjectNode o = command("consumers").put("root", root).put("action", action.wireName());
            if (name != null) {
                o.put("name", name);
            }
            if (owner != null) {
                o.put("owner", owner);
            }
            if (group != null) {
                o.put("group", group);
            }
            return o;
        }
    }

    /** Adds {@code "consumer"} unless it is the default consumer, whom a request need not name. */
    private static ObjectNode withConsumer(ObjectNode o, String consumer) {
        return consumer.equals(ConsumerState.DEFAULT) ? o : o.put("consumer", consumer);
    }

    /** {@code status}: a root's counters and state; read-only. */
    record Status(String root) implements Request {
        @Override
        public ObjectNode toJson() {
            return command("status").put("root", root);
        }
    }

    /** {@code watch}: stream a root's changes as they are recorded, polling every {@code intervalMs}; never blesses. */
    record Watch(String root, String consumer, long intervalMs) implements Request {
        @Override
        public ObjectNode toJson() {
            return withConsumer(command("watch").put("root", root), consumer).put("intervalMs", intervalMs);
        }
    }

    /**
     * {@code stop}: the daemon stops cleanly (root only); with {@code releaseQueue}, each root's
     * queue keeper closes its group and exits instead of keeping it for a next start.
     */
    record Stop(boolean releaseQueue) implements Request {
        @Override
        public ObjectNode toJson() {
            ObjectNode o = command("stop");
            return releaseQueue ? o.put("releaseQueue", true) : o;
        }
    }
}
