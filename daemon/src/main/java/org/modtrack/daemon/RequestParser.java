package org.modtrack.daemon;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import org.modtrack.engine.journal.ConsumerState;

/**
 * Parses one request line. Every input either gives a {@link Request} or a
 * {@link ProtocolException} with a code and one sentence: nothing else escapes (fuzzed by
 * {@code RequestFuzzTest}).
 */
public final class RequestParser {
    /** The longest root path accepted (PATH_MAX). */
    static final int MAX_PATH = 4096;
    static final long MIN_INTERVAL_MS = 100;
    static final long MAX_INTERVAL_MS = 3_600_000;
    static final long DEFAULT_INTERVAL_MS = 1000;
    /** The longest explanation of the daemon's own passed on in an error (a path and a sentence). */
    static final int MAX_EXPLANATION = 1024;

    private RequestParser() {}

    /** Parses a request line (without its newline). */
    public static Request parse(byte[] line) throws ProtocolException {
        JsonNode n;
        try {
            n = Protocol.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new ProtocolException(Protocol.BAD_JSON, "the request is not valid JSON ("
                    + firstLine(e.getOriginalMessage()) + ").");
        } catch (IOException | RuntimeException e) {
            throw new ProtocolException(Protocol.BAD_JSON, "the request could not be read as JSON.");
        }
        if (n == null || !n.isObject()) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "a request is one JSON object on one line.");
        }
        JsonNode v = n.get("v");
        if (v != null && !(v.isIntegralNumber() && v.canConvertToInt() && v.intValue() == Protocol.VERSION)) {
            throw new ProtocolException(Protocol.UNSUPPORTED_VERSION, "this daemon speaks protocol version "
                    + Protocol.VERSION + " only.");
        }
        JsonNode cmd = n.get("cmd");
        if (cmd == null || !cmd.isTextual()) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "a request needs a \"cmd\" string.");
        }
        return switch (cmd.textValue()) {
            case "hello" -> new Request.Hello();
            case "query" -> new Request.Query(root(n), consumer(n, "consumer", ConsumerState.DEFAULT), bool(n, "stream"),
                    bool(n, "compact"));
            case "bless" -> new Request.Bless(root(n), consumer(n, "consumer", ConsumerState.DEFAULT), snapshot(n));
            case "consumers" -> consumers(n);
            case "status" -> new Request.Status(root(n));
            case "watch" -> new Request.Watch(root(n), consumer(n, "consumer", ConsumerState.DEFAULT), interval(n));
            case "stop" -> new Request.Stop(bool(n, "releaseQueue"));
            default -> throw new ProtocolException(Protocol.UNKNOWN_COMMAND, "unknown command '"
                    + printable(cmd.textValue()) + "'; the commands are hello, query, bless, consumers, status, watch and stop.");
        };
    }

    private static Request.Consumers consumers(JsonNode n) throws ProtocolException {
        String root = root(n);
        JsonNode a = n.get("action");
        Request.Consumers.Action action = a == null ? Request.Consumers.Action.LIST : null;
        for (Request.Consumers.Action candidate : Request.Consumers.Action.values()) {
            if (a != null && a.isTextual() && candidate.wireName().equals(a.textValue())) {
                action = candidate;
            }
        }
        if (action == null) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "\"action\" must be list, add or remove.");
        }
        if (action == Request.Consumers.Action.LIST) {
            return new Request.Consumers(root, action, null, null, null);
        }
        String name = consumer(n, "name", null);
        if (name == null) {
            throw new ProtocolException(Protocol.BAD_REQUEST, action.wireName() + " needs \"name\": the consumer's name.");
        }
        if (action == Request.Consumers.Action.REMOVE) {
            return new Request.Consumers(root, action, name, null, null);
        }
        return new Request.Consumers(root, action, name, principal(n, "owner"), principal(n, "group"));
    }

    /** A consumer's name from {@code field}, or {@code otherwise} if the request has none. */
    private static String consumer(JsonNode n, String field, String otherwise) throws ProtocolException {
        JsonNode c = n.get(field);
        if (c == null) {
            return otherwise;
        }
        String name = c.isTextual() ? c.textValue() : null;
        try {
            ConsumerState.checkName(name);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "\"" + field + "\" must be a consumer's name: 1 to "
                    + ConsumerState.MAX_NAME_BYTES + " letters, digits, '.', '_' or '-'.");
        }
        return name;
    }

    /** A user or group name (or number) from {@code field}, or null. */
    private static String principal(JsonNode n, String field) throws ProtocolException {
        JsonNode p = n.get(field);
        if (p == null) {
            return null;
        }
        if (!p.isTextual() || !p.textValue().matches("[A-Za-z0-9._][A-Za-z0-9._-]{0,31}")) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "\"" + field + "\" must be a user or group name or number.");
        }
        return p.textValue();
    }

    private static String root(JsonNode n) throws ProtocolException {
        JsonNode r = n.get("root");
        if (r == null || !r.isTextual()) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "this command needs a \"root\" string: a watched path.");
        }
        String s = r.textValue();
        if (!s.startsWith("/") || s.length() > MAX_PATH || s.indexOf('\0') >= 0) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "\"root\" must be an absolute path of at most "
                    + MAX_PATH + " characters without NUL.");
        }
        return s;
    }

    private static boolean bool(JsonNode n, String field) throws ProtocolException {
        JsonNode b = n.get(field);
        if (b == null) {
            return false;
        }
        if (!b.isBoolean()) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "\"" + field + "\" must be true or false.");
        }
        return b.booleanValue();
    }

    private static long snapshot(JsonNode n) throws ProtocolException {
        JsonNode s = n.get("snapshot");
        if (s == null || !s.isIntegralNumber() || !s.canConvertToLong() || s.longValue() < 0) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "bless needs \"snapshot\": the non-negative integer id of a result.");
        }
        return s.longValue();
    }

    private static long interval(JsonNode n) throws ProtocolException {
        JsonNode i = n.get("intervalMs");
        if (i == null) {
            return DEFAULT_INTERVAL_MS;
        }
        if (!i.isIntegralNumber() || !i.canConvertToLong() || i.longValue() < MIN_INTERVAL_MS
                || i.longValue() > MAX_INTERVAL_MS) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "\"intervalMs\" must be an integer from "
                    + MIN_INTERVAL_MS + " to " + MAX_INTERVAL_MS + ".");
        }
        return i.longValue();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        String line = s.lines().findFirst().orElse("").strip();
        line = line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
        return printable(line.length() > 120 ? line.substring(0, 120) + "..." : line);
    }

    /** At most 80 characters, control characters as '?': safe to echo in one sentence. */
    static String printable(String s) {
        return printable(s, 80);
    }

    /**
     * At most {@code max} characters, control characters as '?'. The daemon's own explanations (a
     * query's failure says which result to bless) get room to finish their sentence.
     */
    static String printable(String s, int max) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(max).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return b.toString();
    }
}
