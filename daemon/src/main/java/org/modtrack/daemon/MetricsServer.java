package org.modtrack.daemon;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.modtrack.source.linux.LatencyHistogram;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The optional Prometheus endpoint: {@code GET /metrics} on 127.0.0.1, text format 0.0.4. Every
 * value is a counter or gauge the engine, the source or the daemon keeps; rates (events/s,
 * records/s) are Prometheus's {@code rate()} of the counters.
 */
final class MetricsServer {
    private final HttpServer http;

    private MetricsServer(HttpServer http) {
        this.http = http;
    }

    static MetricsServer start(int port, Daemon daemon) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        http.createContext("/metrics", exchange -> {
            try (exchange) {
                byte[] body = render(daemon).getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        http.setExecutor(null);
        http.start();
        return new MetricsServer(http);
    }

    int port() {
        return http.getAddress().getPort();
    }

    void stop() {
        http.stop(0);
    }

    /** A metric with one sample per root. */
    private record PerRoot(String name, String type, String help, ToDoubleFunction<Root> value) {}

    private static final List<PerRoot> PER_ROOT = List.of(
            new PerRoot("modtrack_precontent_events_total", "counter", "fanotify pre-content events", r -> r.source().eventCounts().preContent()),
            new PerRoot("modtrack_precontent_reads_total", "counter", "pre-content events classified as reads", r -> r.source().eventCounts().reads()),
            new PerRoot("modtrack_precontent_writes_total", "counter", "pre-content events classified as writes", r -> r.source().eventCounts().writes()),
            new PerRoot("modtrack_precontent_already_recorded_total", "counter", "pre-content events for files already recorded in the period", r -> r.source().eventCounts().alreadyRecorded()),
            new PerRoot("modtrack_precontent_failures_total", "counter", "pre-content events that could not be recorded", r -> r.source().eventCounts().failures()),
            new PerRoot("modtrack_precontent_directory_records_total", "counter", "pre-content events recorded as their directory (directory records)", r -> r.source().eventCounts().directoryRecords()),
            new PerRoot("modtrack_precontent_answered_at_deadline_total", "counter", "pre-content events answered by the failure policy at the answer deadline", r -> r.source().eventCounts().answeredAtDeadline()),
            new PerRoot("modtrack_precontent_denied_total", "counter", "pre-content events denied (fail-closed)", r -> r.source().eventCounts().denied()),
            new PerRoot("modtrack_namespace_events_total", "counter", "notification events: creations, deletions, renames, attribute changes (and writes, where the group names content)", r -> r.source().eventCounts().notification()),
            new PerRoot("modtrack_namespace_overflows_total", "counter", "notification queue overflows", r -> r.source().eventCounts().notificationOverflows()),
            new PerRoot("modtrack_modify_muted_total", "counter", "files whose FAN_MODIFY events were muted for the rest of a period", r -> r.source().eventCounts().modifyMuted()),
            new PerRoot("modtrack_directories_muted_total", "counter", "directories whose events were muted for the rest of a period (results that name directories, or files named by a scan)", r -> r.source().eventCounts().directoriesMuted()),
            new PerRoot("modtrack_sibling_scopes_total", "counter", "subdirectories recorded ahead of a walk through them", r -> r.source().eventCounts().siblingScopes()),
            new PerRoot("modtrack_records_total", "counter", "records appended to the journal", r -> r.source().stats().records()),
            new PerRoot("modtrack_syncs_total", "counter", "fdatasyncs made for records", r -> r.source().stats().syncs()),
            new PerRoot("modtrack_prewrites_total", "counter", "preWrite calls", r -> r.source().stats().preWrites()),
            new PerRoot("modtrack_checkpoints_total", "counter", "checkpoints completed", r -> r.source().stats().checkpoints()),
            new PerRoot("modtrack_carried_total", "counter", "files carried into a new period", r -> r.source().stats().carried()),
            new PerRoot("modtrack_queries_total", "counter", "queries answered", Root::queries),
            new PerRoot("modtrack_query_seconds_total", "counter", "time spent in queries (checkpoints and results)", r -> r.queryNanos() / 1e9),
            new PerRoot("modtrack_last_barrier_wait_seconds", "gauge", "the last checkpoint's wait for writes in progress", r -> r.lastBarrierWaitNanos() / 1e9),
            new PerRoot("modtrack_writes_in_progress", "gauge", "writes between preWrite and postWrite", r -> r.source().stats().writesInProgress()),
            new PerRoot("modtrack_journal_bytes", "gauge", "bytes of records in kept snapshots", r -> r.source().stats().journalBytes()),
            new PerRoot("modtrack_tracked_files", "gauge", "distinct files in kept snapshots", r -> r.source().stats().trackedFiles()),
            new PerRoot("modtrack_open_snapshot", "gauge", "the open period's snapshot id", r -> r.source().stats().openSnapshot()),
            new PerRoot("modtrack_kept_from", "gauge", "the lowest snapshot a consumer keeps (below it everything is blessed by every consumer)",
                    r -> r.source().stats().keptFrom()),
            new PerRoot("modtrack_consumers", "gauge", "the root's consumers", r -> r.source().stats().consumers().size()),
            new PerRoot("modtrack_continuity_intact", "gauge", "1 when the next result will be complete, 0 when it will say continuity lost",
                    r -> r.source().stats().continuity().intact() ? 1 : 0),
            new PerRoot("modtrack_uninspectable_processes", "gauge",
                    "processes the last checkpoint could not look into: their mappings are not carried, and one running makes a checkpoint freeze",
                    r -> r.source().uninspectableProcesses()),
            new PerRoot("modtrack_untracked_mounts", "gauge",
                    "other file systems mounted inside the root: not tracked, and rescanned in every result",
                    r -> r.source().untrackedMounts().size()));

    static String render(Daemon daemon) {
        StringBuilder b = new StringBuilder();
        metric(b, "modtrack_clients_accepted_total", "counter", "clients connected", null, daemon.clientsAccepted.get());
        metric(b, "modtrack_clients_refused_total", "counter", "clients refused because too many were connected", null, daemon.clientsRefused.get());
        metric(b, "modtrack_requests_total", "counter", "requests read", null, daemon.requests.get());
        metric(b, "modtrack_request_errors_total", "counter", "error responses sent", null, daemon.errors.get());
        for (PerRoot m : PER_ROOT) {
            for (Root r : daemon.roots()) {
                String l = "root=\"" + r.path().toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
                metric(b, m.name(), m.type(), m.help(), l, m.value().applyAsDouble(r));
            }
        }
        for (Root r : daemon.roots()) {
            String l = "root=\"" + r.path().toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            histogram(b, "modtrack_permission_answer_seconds", "how long permission events waited for their answer",
                    l, r.source().answerLatency());
            histogram(b, "modtrack_query_duration_seconds", "how long queries took (checkpoint and result)",
                    l, r.queryDurations().snapshot());
        }
        return b.toString();
    }

    private static void histogram(StringBuilder b, String name, String help, String labels, LatencyHistogram.Snapshot h) {
        if (b.indexOf("# TYPE " + name + " ") < 0) {
            b.append("# HELP ").append(name).append(' ').append(help).append('\n');
            b.append("# TYPE ").append(name).append(" histogram\n");
        }
        long[] counts = h.cumulativeCounts();
        for (int i = 0; i < counts.length; i++) {
            String le = i < h.boundsSeconds().length ? Double.toString(h.boundsSeconds()[i]) : "+Inf";
            b.append(name).append("_bucket{").append(labels).append(",le=\"").append(le).append("\"} ")
                    .append(counts[i]).append('\n');
        }
        b.append(name).append("_sum{").append(labels).append("} ")
                .append(String.format(Locale.ROOT, "%.6f", h.sumSeconds())).append('\n');
        b.append(name).append("_count{").append(labels).append("} ").append(h.count()).append('\n');
    }

    private static void metric(StringBuilder b, String name, String type, String help, String labels, double value) {
        if (b.indexOf("# TYPE " + name + " ") < 0) {
            b.append("# HELP ").append(name).append(' ').append(help).append('\n');
            b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        }
        b.append(name);
        if (labels != null) {
            b.append('{').append(labels).append('}');
        }
        b.append(' ').append(value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.6f", value)).append('\n');
    }
}
