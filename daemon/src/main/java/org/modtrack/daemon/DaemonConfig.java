package org.modtrack.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.modtrack.engine.Durability;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * What a daemon runs with. Start from {@link #defaults()}; the limits have defaults that tests
 * shorten.
 *
 * @param watches the watched roots (each on its own file system; results are limited to paths under it)
 * @param stateDirectory where each root's state lives, in a subdirectory named after the root
 * @param socket the Unix domain socket clients connect to
 * @param durability how durable a record is before the write may go on
 * @param barrier the checkpoint barrier
 * @param group the group whose members may use the socket (besides root); null for none
 * @param metricsPort the loopback port of the Prometheus endpoint; null for none, 0 for any free port
 * @param maxRequestBytes the longest request line accepted
 * @param idleTimeout how long a client may take to send a complete request, or to accept a response
 * @param maxClients how many clients may be connected at once
 * @param journalLimit the most disk each root's unblessed snapshots may take
 *     ({@link TrackerConfig#maxJournalBytes()})
 * @param detail what results name: every changed file, or the directories to list again
 * @param siblingScopes the most subdirectories of one parent recorded ahead of a walk through them
 *     ({@link LinuxSourceOptions#siblingScopes()}; 0: none)
 * @param hook the permission events that record writes ({@link LinuxSourceOptions#hook()}); null:
 *     the best the kernel offers
 * @param keepQueue how long each root's queue keeper holds the notification group after the daemon
 *     is gone, for the next start to take over without a gap ({@link LinuxSourceOptions#keepQueue()};
 *     zero: no keeper)
 * @param consumerTimeout a consumer that has not blessed for longer is dropped
 *     ({@link TrackerConfig#consumerTimeout()}; zero: never)
 * @param naming how results name the files below a directory recorded for all its children
 *     ({@link LinuxSourceOptions#naming()})
 */
public record DaemonConfig(List<Path> watches, Path stateDirectory, Path socket, Durability durability,
                           BarrierKind barrier, String group, Integer metricsPort, int maxRequestBytes,
                           Duration idleTimeout, int maxClients, long journalLimit,
                           LinuxSourceOptions.Detail detail, int siblingScopes, LinuxSourceOptions.Hook hook,
                           Duration keepQueue, Duration consumerTimeout, LinuxSourceOptions.Naming naming) {
    public static final int DEFAULT_MAX_REQUEST_BYTES = 64 * 1024;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_CLIENTS = 64;
    /**
     * Five minutes: a restart by systemd or by hand, an upgrade, fits; the kernel's queue bound
     * (262,144 events) holds what a busy file system changes meanwhile, or the next start walks.
     */
    public static final Duration DEFAULT_KEEP_QUEUE = Duration.ofMinutes(5);
    /** Two new snapshots of the engine's default size: a checkpoint keeps the closing one and the open one. */
    public static final long MIN_JOURNAL_LIMIT = 2L << 20;

    public DaemonConfig {
        watches = List.copyOf(watches);
        Objects.requireNonNull(stateDirectory, "stateDirectory");
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(durability, "durability");
        Objects.requireNonNull(barrier, "barrier");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(keepQueue, "keepQueue");
        Objects.requireNonNull(naming, "naming");
        if (keepQueue.isNegative() || keepQueue.compareTo(LinuxSourceOptions.MAX_KEEP_QUEUE) > 0) {
            throw new IllegalArgumentException("the queue is kept between 0 and " + LinuxSourceOptions.MAX_KEEP_QUEUE.toSeconds()
                    + " seconds, not " + keepQueue.toSeconds() + ".");
        }
        if (watches.isEmpty()) {
            throw new IllegalArgumentException("nothing to watch: give at least one --watch PATH.");
        }
        if (maxRequestBytes < 1024 || maxClients < 1 || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("the limits must be positive (request bytes >= 1024).");
        }
        if (siblingScopes < 0 || siblingScopes > LinuxSourceOptions.MAX_SIBLING_SCOPES) {
            throw new IllegalArgumentException("the sibling scopes must be between 0 and "
                    + LinuxSourceOptions.MAX_SIBLING_SCOPES + ", not " + siblingScopes + ".");
        }
        if (journalLimit < MIN_JOURNAL_LIMIT) {
            throw new IllegalArgumentException("the journal limit must be at least 2M (two new snapshots), not "
                    + journalLimit + " bytes.");
        }
    }

    /** The defaults for this user, watching {@code watches}. */
    public static DaemonConfig defaults(List<Path> watches) {
        return new DaemonConfig(watches, defaultStateDirectory(), defaultSocket(), Durability.POWER, BarrierKind.SRCU,
                null, null, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CLIENTS,
                TrackerConfig.DEFAULT_MAX_JOURNAL_BYTES, LinuxSourceOptions.Detail.FILES,
                LinuxSourceOptions.DEFAULT_SIBLING_SCOPES, null, DEFAULT_KEEP_QUEUE, TrackerConfig.DEFAULT_CONSUMER_TIMEOUT,
                LinuxSourceOptions.defaults().naming());
    }

    public DaemonConfig withStateDirectory(Path p) {
        return new DaemonConfig(watches, p, socket, durability, barrier, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, siblingScopes, hook, keepQueue, consumerTimeout, naming);
    }

    public DaemonConfig withSocket(Path p) {
        return new DaemonConfig(watches, stateDirectory, p, durability, barrier, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, siblingScopes, hook, keepQueue, consumerTimeout, naming);
    }

    public DaemonConfig withDurability(Durability d) {
        return new DaemonConfig(watches, stateDirectory, socket, d, barrier, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, siblingScopes, hook, keepQueue, consumerTimeout, naming);
    }

    public DaemonConfig withBarrier(BarrierKind b) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, b, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, siblingScopes, hook, keepQueue, consumerTimeout, naming);
    }

    public DaemonConfig withDetail(LinuxSourceOptions.Detail d) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, d, siblingScopes, hook, keepQueue, consumerTimeout, naming);
    }

    public DaemonConfig withSiblingScopes(int most) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, most, hook, keepQueue, consumerTimeout, naming);
    }

    public DaemonConfig withHook(LinuxSourceOptions.Hook h) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, siblingScopes, h, keepQueue, consumerTimeout, naming);
    }

    /** @param keep how long a queue keeper holds each root's notification group for the next start; zero: no keeper */
    public DaemonConfig withKeepQueue(Duration keep) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, siblingScopes, hook, keep, consumerTimeout, naming);
    }

    /** Parses {@code pre-content} or {@code open-perm}; anything else is refused in one sentence. */
    public static LinuxSourceOptions.Hook parseHook(String s) {
        LinuxSourceOptions.Hook h = LinuxSourceOptions.Hook.fromCliNameOrNull(s);
        if (h == null) {
            throw new IllegalArgumentException("unknown source '" + s + "'; it is pre-content (Linux 6.14+) or open-perm (Linux 6.1+).");
        }
        return h;
    }

    /** Parses {@code files} or {@code directories}; anything else is refused in one sentence. */
    public DaemonConfig withNaming(LinuxSourceOptions.Naming n) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, siblingScopes, hook, keepQueue, consumerTimeout, n);
    }

    /** {@code events} or {@code scan} ({@link LinuxSourceOptions.Naming}); a one-line error otherwise. */
    public static LinuxSourceOptions.Naming parseNaming(String s) {
        LinuxSourceOptions.Naming n = LinuxSourceOptions.Naming.fromCliNameOrNull(s.strip().toLowerCase(Locale.ROOT));
        if (n == null) {
            throw new IllegalArgumentException("unknown naming '" + s + "'; files are named by a scan (scan) or by an event each (events).");
        }
        return n;
    }

    public static LinuxSourceOptions.Detail parseDetail(String s) {
        return switch (s) {
            case "files" -> LinuxSourceOptions.Detail.FILES;
            case "directories" -> LinuxSourceOptions.Detail.DIRECTORIES;
            default -> throw new IllegalArgumentException("unknown detail '" + s + "'; results name files or directories.");
        };
    }

    public DaemonConfig withGroup(String g) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, g, metricsPort, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, siblingScopes, hook, keepQueue, consumerTimeout, naming);
    }

    public DaemonConfig withMetricsPort(Integer port) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, group, port, maxRequestBytes, idleTimeout, maxClients, journalLimit, detail, siblingScopes, hook, keepQueue, consumerTimeout, naming);
    }

    /** See {@link #consumerTimeout()}. */
    public DaemonConfig withConsumerTimeout(Duration timeout) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, group, metricsPort, maxRequestBytes, idleTimeout,
                maxClients, journalLimit, detail, siblingScopes, hook, keepQueue, timeout, naming);
    }

    public DaemonConfig withJournalLimit(long bytes) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, group, metricsPort, maxRequestBytes, idleTimeout, maxClients, bytes, detail, siblingScopes, hook, keepQueue, consumerTimeout, naming);
    }

    /**
     * Parses a size: bytes, or a number with K, M, G or T (powers of 1024), as in {@code 4G}.
     *
     * @throws IllegalArgumentException with one sentence saying what is expected
     */
    public static long parseSize(String s) {
        String t = s.strip().toUpperCase(Locale.ROOT);
        int shift = t.isEmpty() ? 0 : switch (t.charAt(t.length() - 1)) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            case 'T' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        try {
            long n = Long.parseLong(digits);
            if (n < 0 || n > Long.MAX_VALUE >> shift) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a size such as 4G, 512M or 1048576, not '" + s + "'.");
        }
    }

    /** A duration such as {@code 30d}, {@code 12h}, {@code 45m} or {@code 90s} (a bare number is seconds). */
    public static Duration parseDuration(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        long unit = t.isEmpty() ? 1 : switch (t.charAt(t.length() - 1)) {
            case 'd' -> 86_400;
            case 'h' -> 3_600;
            case 'm' -> 60;
            case 's' -> 1;
            default -> 0;
        };
        String digits = unit == 0 ? t : t.substring(0, t.length() - 1);
        try {
            long n = Long.parseLong(digits);
            if (n < 0 || n > Long.MAX_VALUE / 86_400 / 1_000) {
                throw new NumberFormatException();
            }
            return Duration.ofSeconds(n * Math.max(1, unit));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a duration such as 30d, 12h, 45m or 90s, not '" + s + "'.");
        }
    }

    public DaemonConfig withLimits(int maxRequest, Duration idle, int clients) {
        return new DaemonConfig(watches, stateDirectory, socket, durability, barrier, group, metricsPort, maxRequest, idle, clients, journalLimit, detail, siblingScopes, hook, keepQueue, consumerTimeout, naming);
    }

    /** Whether this process runs as root. */
    static boolean isRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    /** /var/lib/modtrack for root, otherwise $XDG_STATE_HOME/modtrack (~/.local/state/modtrack). */
    public static Path defaultStateDirectory() {
        if (isRoot()) {
            return Path.of("/var/lib/modtrack");
        }
        String xdg = System.getenv("XDG_STATE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state"))
                .resolve("modtrack");
    }

    /** /run/modtrack.sock for root, otherwise $XDG_RUNTIME_DIR/modtrack.sock (/tmp/modtrack-USER.sock without it). */
    public static Path defaultSocket() {
        if (isRoot()) {
            return Path.of("/run/modtrack.sock");
        }
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        return xdg != null && !xdg.isBlank() ? Path.of(xdg, "modtrack.sock")
                : Path.of("/tmp", "modtrack-" + System.getProperty("user.name") + ".sock");
    }

    /** The name of a root's state subdirectory: the path with '%' and '-' escaped and '/' as '-' ("/data/a" is "data-a", "/" is "-"). */
    public static String stateName(Path root) {
        String p = root.toString();
        if (p.equals("/")) {
            return "-";
        }
        return p.substring(1).replace("%", "%25").replace("-", "%2d").replace('/', '-');
    }

    /**
     * Reads a configuration file: one {@code option = value} per line, the daemon's long option
     * names without dashes ({@code watch} may repeat), {@code #} starts a comment. Returns the
     * options in order, as command-line arguments.
     */
    public static List<String> readFile(Path file) throws IOException {
        List<String> args = new ArrayList<>();
        Map<String, Integer> known = new LinkedHashMap<>();
        for (String o : List.of("watch", "state", "socket", "durability", "barrier", "detail", "sibling-scopes", "group", "metrics-port",
                "journal-limit", "consumer-timeout", "source", "keep-queue", "naming", "heap")) {
            known.put(o, 0);
        }
        int n = 0;
        for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            n++;
            int hash = raw.indexOf('#');
            String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            String key = eq < 0 ? "" : line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            if (!known.containsKey(key)) {
                throw new IllegalArgumentException(file + " line " + n + ": expected 'option = value' with one of "
                        + known.keySet() + ", not '" + line + "'.");
            }
            args.add("--" + key);
            args.add(line.substring(eq + 1).strip());
        }
        return args;
    }
}
