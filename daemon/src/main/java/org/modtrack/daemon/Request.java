package org.modtrack.daemon;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

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

    /** {@code query}: checkpoint a root and return every change since its last blessed result. */
    record Query(String root, boolean stream) implements Request {
        @Override
        public ObjectNode toJson() {
            ObjectNode o = command("query").put("root", root);
            return stream ? o.put("stream", true) : o;
        }
    }

    /** {@code bless}: the client has acted on result {@code snapshot} of a root. */
    record Bless(String root, long snapshot) implements Request {
        @Override
        public ObjectNode toJson() {
            return command("bless").put("root", root).put("snapshot", snapshot);
        }
    }

    /** {@code status}: a root's counters and state; read-only. */
    record Status(String root) implements Request {
        @Override
        public ObjectNode toJson() {
            return command("status").put("root", root);
        }
    }

    /** {@code watch}: stream a root's changes as they are recorded, polling every {@code intervalMs}; never blesses. */
    record Watch(String root, long intervalMs) implements Request {
        @Override
        public ObjectNode toJson() {
            return command("watch").put("root", root).put("intervalMs", intervalMs);
        }
    }

    /** {@code stop}: the daemon stops cleanly (root only). */
    record Stop() implements Request {
        @Override
        public ObjectNode toJson() {
            return command("stop");
        }
    }
}
