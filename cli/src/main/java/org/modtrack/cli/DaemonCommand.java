package org.modtrack.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.modtrack.daemon.BarrierKind;
import org.modtrack.source.linux.LinuxSourceOptions;
import org.modtrack.daemon.Daemon;
import org.modtrack.daemon.DaemonConfig;
import org.modtrack.daemon.LogFormat;
import org.modtrack.daemon.PeriodicCollections;
import org.modtrack.engine.Durability;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code modtrack daemon}: tracks the file systems holding the watched paths and serves the socket
 * protocol (docs/protocol.md) in the foreground until SIGTERM or {@code modtrack stop}.
 */
@Command(name = "daemon",
        mixinStandardHelpOptions = true,
        description = {"Tracks the file system of each --watch PATH (Linux 6.1+, root, ext4/xfs/btrfs) and serves queries"
                + " and blesses on a Unix domain socket, in the foreground, until SIGTERM or 'modtrack stop'.",
                "Options may also come from --config FILE ('option = value' lines; the command line wins, watches add up)."})
final class DaemonCommand implements Callable<Integer> {
    @Option(names = "--watch", paramLabel = "PATH", description = "A root to track: results list paths under it. Repeatable; one root per file system.")
    List<Path> watches = new ArrayList<>();

    @Option(names = "--state", paramLabel = "DIR", description = "State directory, one subdirectory per root; not on a tracked file system (default: /var/lib/modtrack for root, $XDG_STATE_HOME/modtrack otherwise).")
    Path state;

    @Option(names = "--socket", paramLabel = "PATH", description = "The socket (default: /run/modtrack.sock for root, $XDG_RUNTIME_DIR/modtrack.sock otherwise).")
    Path socket;

    @Option(names = "--durability", paramLabel = "power|process", description = "power: fdatasync before a write may go on (default); process: handed to the kernel.")
    String durability;

    @Option(names = "--barrier", paramLabel = "srcu|freeze", description = "The checkpoint barrier: srcu (default; writers keep flowing) or freeze (FIFREEZE; stalls every writer).")
    String barrier;

    @Option(names = "--detail", paramLabel = "files|directories", description = "What results name: files (default: every changed file by path) or directories (each directory to list again; writers pay about one event per directory per period instead of one per file operation).")
    String detail;

    @Option(names = "--naming", paramLabel = "scan|events", description = "With results that name files, how the files changed below a recorded directory are named: scan (after a directory's first change in a period its children raise no event; the result names those whose ctime is at or after the last blessed result's checkpoint) or events (an event per child's creation, write and attribute change). Deletions and renames are events either way.")
    String naming;

    @Option(names = "--sibling-scopes", paramLabel = "N", description = "When a walk reaches a second directory under one parent, record up to N of that parent's subdirectories ahead, with one sync (default 256; 0: none). Fewer round trips for builds and indexers; a wider rescan after an unclean stop.")
    Integer siblingScopes;

    @Option(names = "--source", paramLabel = "pre-content|open-perm", description = "The permission events that record a write before it proceeds: pre-content (Linux 6.14+: every first access of a file in a period) or open-perm (Linux 6.1+: opens that can write; writes through descriptors opened earlier are carried across checkpoints). Default: the best the kernel offers, said in the log and in status.")
    String source;

    @Option(names = "--keep-queue", paramLabel = "SECONDS", description = "How long a small keeper process holds each root's notification queue after the daemon is gone (killed, crashed, restarting), so the next start takes it over and its first result stays intact without a walk (default 300; 0: no keeper, a restart after an unclean stop walks the file system).")
    Long keepQueueSeconds;

    @Option(names = "--group", paramLabel = "NAME", description = "Members of this group may use the socket (mode 0660); without it only root may (0600).")
    String group;

    @Option(names = "--metrics-port", paramLabel = "N", description = "Serve Prometheus metrics on 127.0.0.1:N/metrics (0: any free port, logged).")
    Integer metricsPort;

    @Option(names = "--journal-limit", paramLabel = "SIZE", description = "The most disk each root's snapshots not yet blessed may take, e.g. 512M (default 4G). At it, accesses get the failure policy (fail-open: allowed, continuity lost) and queries are refused until a result is blessed.")
    String journalLimit;

    @Option(names = "--heap", paramLabel = "SIZE", description = "The bound of the daemon's Java heap, e.g. 2G (at least 64M;"
            + " default: a quarter of the machine's memory). bin/modtrack starts the JVM with it (-Xmx), from here or the config"
            + " file; an -Xmx in MODTRACK_JAVA_OPTIONS wins over it. Size it for the largest answer (docs/install.md, Memory).")
    String heap;

    @Option(names = "--consumer-timeout", paramLabel = "DURATION", description = "A consumer that has not blessed a result for"
            + " longer, e.g. 30d, 12h or 90s, is dropped at the next query of any consumer: what only it kept is discarded and its"
            + " next result says continuity was lost (default 30d; 0: never, though the journal limit still drops one that holds"
            + " the oldest snapshots).")
    String consumerTimeout;

    @Option(names = "--config", paramLabel = "FILE", description = "Read options from FILE (see packaging/modtrack.conf.example).")
    Path config;

    @Option(names = "--idle-timeout-ms", paramLabel = "MS", description = "How long a client may take to send a request or take a response (default 60000).")
    Long idleTimeoutMs;

    @Option(names = "--max-clients", paramLabel = "N", description = "Clients connected at once (default 64).")
    Integer maxClients;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DaemonConfig c;
        long heapBytes;
        try {
            if (config != null) {
                DaemonCommand file = new DaemonCommand();
                new CommandLine(file).parseArgs(DaemonConfig.readFile(config).toArray(String[]::new));
                mergeFrom(file);
            }
            c = DaemonConfig.defaults(watches);
            c = c.withStateDirectory(state != null ? state : c.stateDirectory())
                    .withSocket(socket != null ? socket : c.socket())
                    .withDurability(durability == null ? Durability.POWER : parseDurability(durability))
                    .withBarrier(barrier == null ? BarrierKind.SRCU : BarrierKind.parse(barrier))
                    .withDetail(detail == null ? LinuxSourceOptions.Detail.FILES : DaemonConfig.parseDetail(detail))
                    .withNaming(naming == null ? c.naming() : DaemonConfig.parseNaming(naming))
                    .withSiblingScopes(siblingScopes == null ? LinuxSourceOptions.DEFAULT_SIBLING_SCOPES : siblingScopes)
                    .withHook(source == null ? null : DaemonConfig.parseHook(source))
                    .withKeepQueue(keepQueueSeconds == null ? DaemonConfig.DEFAULT_KEEP_QUEUE
                            : Duration.ofSeconds(keepQueueSeconds))
                    .withGroup(group)
                    .withMetricsPort(metricsPort)
                    .withJournalLimit(journalLimit == null ? c.journalLimit() : DaemonConfig.parseSize(journalLimit))
                    .withConsumerTimeout(consumerTimeout == null ? c.consumerTimeout() : DaemonConfig.parseDuration(consumerTimeout))
                    .withLimits(DaemonConfig.DEFAULT_MAX_REQUEST_BYTES,
                            idleTimeoutMs == null ? DaemonConfig.DEFAULT_IDLE_TIMEOUT : Duration.ofMillis(idleTimeoutMs),
                            maxClients == null ? DaemonConfig.DEFAULT_MAX_CLIENTS : maxClients);
            heapBytes = heap == null ? 0 : HeapBound.check(heap);
        } catch (IllegalArgumentException | CommandLine.ParameterException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        LogFormat.install();
        if (heap != null) {
            HeapBound.warnIfNotApplied(heap, heapBytes, Runtime.getRuntime().maxMemory());
        }
        // Before the start's first collection (it follows them all): an idle daemon stops
        // collecting once that gives nothing back (docs/benchmarks.md, *Idle*). About 50 ms.
        PeriodicCollections.install();
        Daemon daemon = Daemon.start(c);
        Thread hook = new Thread(() -> {
            try {
                daemon.close();
            } catch (Exception e) {
                System.err.println("modtrack: stopping failed: " + e.getMessage());
            }
        }, "modtrack-sigterm");
        Runtime.getRuntime().addShutdownHook(hook);
        daemon.awaitStopped();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // SIGTERM: the hook is closing the daemon
        }
        return 0;
    }

    private void mergeFrom(DaemonCommand file) {
        List<Path> all = new ArrayList<>(file.watches);
        all.addAll(watches);
        watches = all;
        state = state != null ? state : file.state;
        socket = socket != null ? socket : file.socket;
        durability = durability != null ? durability : file.durability;
        barrier = barrier != null ? barrier : file.barrier;
        detail = detail != null ? detail : file.detail;
        naming = naming != null ? naming : file.naming;
        siblingScopes = siblingScopes != null ? siblingScopes : file.siblingScopes;
        source = source != null ? source : file.source;
        keepQueueSeconds = keepQueueSeconds != null ? keepQueueSeconds : file.keepQueueSeconds;
        group = group != null ? group : file.group;
        metricsPort = metricsPort != null ? metricsPort : file.metricsPort;
        journalLimit = journalLimit != null ? journalLimit : file.journalLimit;
        heap = heap != null ? heap : file.heap;
        consumerTimeout = consumerTimeout != null ? consumerTimeout : file.consumerTimeout;
    }

    private static Durability parseDurability(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "power" -> Durability.POWER;
            case "process" -> Durability.PROCESS;
            default -> throw new IllegalArgumentException("unknown durability '" + s + "'; use power or process.");
        };
    }
}
