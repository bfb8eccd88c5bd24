package org.modtrack.daemon;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import org.modtrack.engine.Continuity;
import org.modtrack.engine.TrackerStats;
import org.modtrack.engine.journal.ConsumerState;
import org.modtrack.source.linux.EventCounts;
import org.modtrack.source.linux.LinuxResult;
import org.modtrack.source.linux.PathChange;
import org.modtrack.source.linux.Reconciled;

/**
 * The wire protocol's constants and encodings (docs/protocol.md): one JSON object per line, UTF-8,
 * each line ended by {@code \n}.
 */
public final class Protocol {
    /** The protocol version this code speaks. */
    public static final int VERSION = 1;

    public static final String BAD_JSON = "bad-json";
    public static final String BAD_REQUEST = "bad-request";
    public static final String UNKNOWN_COMMAND = "unknown-command";
    public static final String UNSUPPORTED_VERSION = "unsupported-version";
    public static final String REQUEST_TOO_LARGE = "request-too-large";
    public static final String IDLE_TIMEOUT = "idle-timeout";
    public static final String TOO_MANY_CLIENTS = "too-many-clients";
    public static final String FORBIDDEN = "forbidden";
    public static final String UNKNOWN_ROOT = "unknown-root";
    public static final String BLESS_REFUSED = "bless-refused";
    public static final String UNKNOWN_CONSUMER = "unknown-consumer";
    public static final String CONSUMER_REFUSED = "consumer-refused";
    public static final String QUERY_FAILED = "query-failed";
    public static final String RESULT_TOO_LARGE = "result-too-large";
    public static final String BUSY = "busy";
    public static final String STOPPING = "stopping";
    public static final String INTERNAL = "internal";

    /** Strict: duplicate keys and trailing tokens are errors. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Protocol() {}

    /**
     * Parses a request of each kind a client sends first and writes a result in each form, then
     * forgets them: the JSON mapper's classes and serializers (most of the 680 classes a daemon's
     * first answer loaded; 0.16-0.20 s of a JVM without the class data archive) are then loaded and
     * built before a client needs them, and they are in the archive that a build's first clean stop
     * writes whatever that life was asked (docs/benchmarks.md, <i>A daemon's first answer</i>).
     */
    static void warmUp() {
        try {
            for (String request : List.of("{\"v\": 1, \"cmd\": \"query\", \"root\": \"/\", \"stream\": true}",
                    "{\"v\": 1, \"cmd\": \"bless\", \"root\": \"/\", \"consumer\": \"c\", \"snapshot\": 1}",
                    "{\"v\": 1, \"cmd\": \"status\", \"root\": \"/\"}")) {
                RequestParser.parse(request.getBytes(StandardCharsets.UTF_8));
            }
        } catch (ProtocolException e) {
            throw new AssertionError("a well-formed request was refused", e);
        }
        PathChange modified = new PathChange("/a", PathChange.Kind.MODIFIED, null, false, false, false, 1, true);
        LinuxResult r = new LinuxResult(ConsumerState.DEFAULT, 2, 1, false, Continuity.INTACT, List.of(modified), "srcu",
                Duration.ZERO, 0, 0, null, false);
        ObjectNode head = resultHead("/", r);
        head.putArray("changes").add(change(modified, r));
        line(head);
        line(error(BUSY, "warming up"));
        byte[] name = "b".getBytes(StandardCharsets.UTF_8);
        for (String compactRoot : Arrays.asList(null, "/")) { // the full form, then the compact one
            ChangeLines lines = new ChangeLines(true, compactRoot, false, 1 << 12, bytes -> { });
            try {
                lines.change(modified);
                lines.scannedFile("/", name, 0, name.length, PathChange.Kind.CREATED, false);
                lines.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // its output throws nothing
            }
        }
    }

    static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    /** {@code {"error": {"code": ..., "message": ...}}}. */
    public static ObjectNode error(String code, String message) {
        ObjectNode o = object();
        o.putObject("error").put("code", code).put("message", message);
        return o;
    }

    /** A JSON value as one protocol line: its bytes and a newline. */
    public static byte[] line(JsonNode n) {
        try {
            byte[] json = MAPPER.writeValueAsBytes(n);
            byte[] out = Arrays.copyOf(json, json.length + 1);
            out[json.length] = '\n';
            return out;
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A line as text without its newline, for logs and tests. */
    public static String text(byte[] line) {
        return new String(line, 0, line.length - 1, StandardCharsets.UTF_8);
    }

    static void putContinuity(ObjectNode o, Continuity c) {
        o.put("continuity", c.intact() ? "intact" : "lost");
        o.put("continuityReason", c.reason());
    }

    /**
     * A result's continuity: {@code reconciled} when a walk found what changed while no tracker
     * watched (the entries name it; a client that does not know the word rescans, which is safe),
     * with the walk's figures.
     */
    static void putContinuity(ObjectNode o, Continuity c, Reconciled how) {
        if (!c.intact() || how == null) {
            putContinuity(o, c);
            return;
        }
        o.put("continuity", "reconciled");
        o.put("continuityReason", how.reason() + "; a walk of " + how.entries() + " entries found what changed since "
                + Instant.ofEpochSecond(0, how.watermarkNanos()) + ", and the entries name it");
        ObjectNode r = o.putObject("reconciliation");
        r.put("watermark", Instant.ofEpochSecond(0, how.watermarkNanos()).toString());
        r.put("directories", how.directories());
        r.put("entries", how.entries());
        r.put("listed", how.listed());
        r.put("files", how.files());
        r.put("walkMs", how.took().toMillis());
    }

    /** A result without its changes: the single-document response's head, and the stream's header. */
    static ObjectNode resultHead(String root, LinuxResult r) {
        ObjectNode o = object();
        o.put("root", root);
        o.put("consumer", r.consumer());
        o.put("snapshot", r.snapshot());
        o.put("lastBlessed", r.lastBlessed());
        o.put("recovered", r.recovered());
        putContinuity(o, r.continuity(), r.reconciled());
        o.put("barrier", r.barrier());
        o.put("barrierWaitMs", r.barrierWait().toMillis());
        o.put("readOnlyDropped", r.readOnlyDropped());
        o.put("readOnlyReported", r.readOnlyReported());
        o.put("count", r.changes().size());
        return o;
    }

    /**
     * One change of result {@code r}: {@code path}, {@code kind}, {@code from} and {@code changed}
     * (renames only), {@code namesOnly} (listings whose files have entries of their own), and its flags.
     */
    static ObjectNode change(PathChange c, LinuxResult r) {
        try (TokenBuffer b = new TokenBuffer(MAPPER, false)) {
            b.writeStartObject();
            writeChangeFields(b, c, r);
            b.writeEndObject();
            return MAPPER.readTree(b.asParser());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a token buffer does no I/O
        }
    }

    /**
     * The fields of {@link #change} written straight to {@code g}, inside an object it started.
     * A result's entries are written by {@link ChangeLines}, as the same bytes.
     */
    static void writeChangeFields(JsonGenerator g, PathChange c, LinuxResult r) throws IOException {
        // Names and kinds encoded once (SerializedString): they are most of an entry's bytes.
        g.writeFieldName(PATH);
        g.writeString(c.path());
        g.writeFieldName(KIND);
        g.writeString(KINDS[c.kind().ordinal()]);
        if (c.from() != null) {
            g.writeFieldName(FROM);
            g.writeString(c.from());
            g.writeFieldName(CHANGED);
            g.writeBoolean(c.changed());
        }
        if (c.kind() == PathChange.Kind.LIST && r.listsByName()) {
            g.writeFieldName(NAMES_ONLY);
            g.writeBoolean(true);
        }
        g.writeFieldName(DIRECTORY);
        g.writeBoolean(c.directory());
        g.writeFieldName(CARRIED);
        g.writeBoolean(c.carried());
        g.writeFieldName(RECOVERED);
        g.writeBoolean(c.recovered());
        g.writeFieldName(LINKS);
        g.writeNumber(c.links());
    }

    private static final SerializedString PATH = new SerializedString("path");
    private static final SerializedString KIND = new SerializedString("kind");
    private static final SerializedString FROM = new SerializedString("from");
    private static final SerializedString CHANGED = new SerializedString("changed");
    private static final SerializedString NAMES_ONLY = new SerializedString("namesOnly");
    private static final SerializedString DIRECTORY = new SerializedString("directory");
    private static final SerializedString CARRIED = new SerializedString("carried");
    private static final SerializedString RECOVERED = new SerializedString("recovered");
    private static final SerializedString LINKS = new SerializedString("links");
    private static final SerializedString[] KINDS = Arrays.stream(PathChange.Kind.values())
            .map(k -> new SerializedString(k.wireName())).toArray(SerializedString[]::new);

    /** The status of a root from the engine's and the source's counters. */
    static ObjectNode status(Root root) {
        TrackerStats s = root.source().stats();
        EventCounts e = root.source().eventCounts();
        ObjectNode o = object();
        o.put("root", root.path().toString());
        o.put("mountPoint", root.source().mountPoint().toString());
        o.put("openSnapshot", s.openSnapshot());
        o.put("lastBlessed", s.consumers().stream().filter(c -> c.name().equals(ConsumerState.DEFAULT)).findFirst()
                .map(ConsumerState::lastBlessed).orElse(0L));
        o.put("keptFrom", s.keptFrom());
        o.put("liveSnapshots", s.liveSnapshots());
        o.put("trackedFiles", s.trackedFiles());
        o.put("writesInProgress", s.writesInProgress());
        o.put("records", s.records());
        o.put("syncs", s.syncs());
        o.put("journalBytes", s.journalBytes());
        o.put("checkpoints", s.checkpoints());
        o.put("carried", s.carried());
        o.put("preWrites", s.preWrites());
        o.put("alreadyRecorded", s.alreadyRecorded());
        o.put("durability", s.durability().name().toLowerCase(Locale.ROOT));
        o.put("barrier", root.barrier().wireName());
        o.put("source", root.source().hook().cliName());
        o.put("pid", ProcessHandle.current().pid());
        o.put("queueKeptBy", root.source().queueHolder());
        OptionalInt keeper = root.source().keeperPid();
        if (keeper.isPresent()) {
            o.put("keeperPid", keeper.getAsInt());
        } else {
            o.putNull("keeperPid");
        }
        o.put("powerLease", root.source().powerLeaseStanding());
        o.put("uninspectableProcesses", root.source().uninspectableProcesses());
        ArrayNode untracked = o.putArray("untrackedMounts");
        root.source().untrackedMounts().forEach(untracked::add);
        putContinuity(o, s.continuity());
        ArrayNode consumers = o.putArray("consumers");
        s.consumers().forEach(c -> consumers.add(consumer(c)));
        ObjectNode ev = o.putObject("events");
        ev.put("preContent", e.preContent());
        ev.put("reads", e.reads());
        ev.put("writes", e.writes());
        ev.put("alreadyRecorded", e.alreadyRecorded());
        ev.put("failures", e.failures());
        ev.put("namespace", e.notification());
        ev.put("namespaceOverflows", e.notificationOverflows());
        ev.put("modifyMuted", e.modifyMuted());
        ev.put("directoriesMuted", e.directoriesMuted());
        ev.put("directoryRecords", e.directoryRecords());
        ev.put("answeredAtDeadline", e.answeredAtDeadline());
        ev.put("denied", e.denied());
        ev.put("siblingScopes", e.siblingScopes());
        ObjectNode q = o.putObject("queries");
        q.put("count", root.queries());
        q.put("totalMs", root.queryNanos() / 1_000_000);
        q.put("lastBarrierWaitMs", root.lastBarrierWaitNanos() / 1_000_000);
        putMemory(o.putObject("memory"), root.memory());
        return o;
    }

    /** One consumer, as {@code status} and {@code consumers} list it. */
    static ObjectNode consumer(ConsumerState c) {
        ObjectNode o = object();
        o.put("name", c.name());
        o.put("lastBlessed", c.lastBlessed());
        o.put("keptFrom", c.keptFrom());
        ArrayNode issued = o.putArray("unblessed");
        c.issued().forEach(issued::add);
        o.put("continuity", c.continuityLost() ? "lost" : "intact");
        o.put("continuityReason", c.lostReason());
        putOwner(o, c);
        o.put("activeAt", c.activeAtMillis() == 0 ? null : Instant.ofEpochMilli(c.activeAtMillis()).toString());
        return o;
    }

    /** {@code owner}: the user and group, by number, that may act as the consumer besides root and the daemon's user (null: any). */
    private static void putOwner(ObjectNode o, ConsumerState c) {
        if (c.ownerUid() < 0 && c.ownerGid() < 0) {
            o.putNull("owner");
            return;
        }
        ObjectNode owner = o.putObject("owner");
        if (c.ownerUid() >= 0) {
            owner.put("uid", c.ownerUid());
        }
        if (c.ownerGid() >= 0) {
            owner.put("gid", c.ownerGid());
        }
    }

    /**
     * The daemon's memory: its Java heap (used, committed, the most it may grow to), and its
     * resident set ({@code VmRSS}, -1 if /proc cannot say), in bytes; the most records a result
     * may hold with that heap ({@link ResultBound}), what the results being made or sent now hold
     * of it together, and how many wait for room ({@link ResultMemory}). The whole process's, not this root's: roots
     * share one heap.
     */
    private static void putMemory(ObjectNode m, ResultMemory results) {
        Runtime rt = Runtime.getRuntime();
        m.put("heapUsed", rt.totalMemory() - rt.freeMemory());
        m.put("heapCommitted", rt.totalMemory());
        m.put("heapMax", rt.maxMemory());
        m.put("resident", residentBytes());
        m.put("maxResultRecords", results.bound());
        m.put("resultRecordsHeld", results.held());
        m.put("resultsWaiting", results.waiting());
    }

    private static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] f = line.substring(6).strip().split("\\s+");
                    return Long.parseLong(f[0]) * 1024; // kB
                }
            }
        } catch (IOException | RuntimeException e) {
            // below: unknown
        }
        return -1;
    }
}
