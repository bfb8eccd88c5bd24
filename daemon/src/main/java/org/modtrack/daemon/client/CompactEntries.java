package org.modtrack.daemon.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Turns a result's compact entries ({@code "compact": true} in a query, docs/protocol.md,
 * <i>Compact entries</i>) into the full form's: each path resolved against the result's root, and
 * every field the compact form leaves out at its default ({@code directory}, {@code carried} and
 * {@code recovered} false, {@code links} 1).
 */
public final class CompactEntries {
    private CompactEntries() {}

    /**
     * The full form of compact entry {@code entry} of a result of {@code root} (its header's
     * {@code root}), as a streamed line ({@code "type": "change"}) when {@code line}, else as an
     * element of the {@code changes} array.
     *
     * @throws IllegalArgumentException if {@code entry} has no {@code path} or {@code kind}
     */
    public static ObjectNode expand(String root, JsonNode entry, boolean line) {
        JsonNode path = entry.get("path");
        JsonNode kind = entry.get("kind");
        if (path == null || !path.isTextual() || kind == null || !kind.isTextual()) {
            throw new IllegalArgumentException("a compact entry without a path or a kind: " + entry);
        }
        ObjectNode full = JsonNodeFactory.instance.objectNode();
        if (line) {
            full.put("type", "change");
        }
        full.put("path", resolve(root, path.textValue()));
        full.put("kind", kind.textValue());
        JsonNode from = entry.get("from");
        if (from != null && from.isTextual()) {
            full.put("from", resolve(root, from.textValue()));
            full.put("changed", entry.path("changed").asBoolean(false));
        }
        if (entry.path("namesOnly").asBoolean(false)) {
            full.put("namesOnly", true);
        }
        full.put("directory", entry.path("directory").asBoolean(false));
        full.put("carried", entry.path("carried").asBoolean(false));
        full.put("recovered", entry.path("recovered").asBoolean(false));
        full.put("links", entry.path("links").asInt(1));
        return full;
    }

    /**
     * The absolute path of compact path {@code path} of a result of {@code root}: "." is the root,
     * a path that begins with a slash is absolute already, any other is below the root.
     */
    public static String resolve(String root, String path) {
        if (path.startsWith("/")) {
            return path;
        }
        if (path.equals(".")) {
            return root;
        }
        return root.endsWith("/") ? root + path : root + "/" + path;
    }
}
