package org.modtrack.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.Callable;
import org.modtrack.daemon.DaemonConfig;
import org.modtrack.daemon.Protocol;
import org.modtrack.daemon.client.DaemonClient;
import org.modtrack.daemon.client.DaemonException;
import org.modtrack.daemon.client.ResultApplier;
import org.modtrack.engine.journal.ConsumerState;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The client commands: thin clients of the daemon's socket (docs/protocol.md), each one request.
 * Human-readable output by default, the protocol's JSON with {@code --json}.
 */
final class ClientCommands {
    private ClientCommands() {}

    /** {@code --socket PATH}, shared by every client command. */
    static final class SocketOption {
        @Option(names = "--socket", paramLabel = "PATH",
                description = "The daemon's socket (default: /run/modtrack.sock for root, $XDG_RUNTIME_DIR/modtrack.sock otherwise).")
        Path socket;

        DaemonClient connect() throws IOException {
            return DaemonClient.connect(socket != null ? socket : DaemonConfig.defaultSocket());
        }
    }

    /** {@code --consumer NAME}: which of the root's consumers the command acts as. */
    static final class ConsumerOption {
        @Option(names = "--consumer", paramLabel = "NAME", defaultValue = ConsumerState.DEFAULT,
                description = "The consumer to act as: each consumer of a root blesses on its own (default: ${DEFAULT-VALUE};"
                        + " see modtrack consumers).")
        String name;

        /** {@code " --consumer NAME"}, or nothing for the default consumer: to repeat in a suggested command. */
        String flag() {
            return name.equals(ConsumerState.DEFAULT) ? "" : " --consumer " + name;
        }
    }

    /** The watched root as the daemon names it: absolute and normalized (the daemon also resolves links). */
    static String root(Path path) {
        return path.toAbsolutePath().normalize().toString();
    }

    private static PrintStream out() {
        return System.out;
    }

    private static void json(JsonNode n) {
        out().println(Protocol.text(Protocol.line(n)));
    }

    @Command(name = "query", mixinStandardHelpOptions = true,
            description = {"Checkpoints the root and prints every change since the last result the consumer blessed (nothing is blessed).",
                    "--json: one JSON document; --jsonl: a header line, one line per change, an end line;",
                    "--print0: each change's path (and a rename's from) followed by a NUL byte, and nothing else,",
                    "for rsync --files-from=- --from0 or tar --null -T -; if continuity was lost, the root comes first",
                    "(so everything is re-synced) and stderr says why."})
    static final class Query implements Callable<Integer> {
        @Mixin
        SocketOption socket;

        @Mixin
        ConsumerOption consumer;

        @Parameters(paramLabel = "PATH", description = "A watched root.")
        Path path;

        @ArgGroup(exclusive = true)
        Format format = new Format();

        static final class Format {
            @Option(names = "--json", description = "Print the result as one JSON document.")
            boolean json;

            @Option(names = "--jsonl", description = "Stream the result: header, one line per change, end.")
            boolean jsonl;

            @Option(names = "--print0", description = "Print only paths, each followed by NUL: every change's path and from; "
                    + "the root first if continuity was lost.")
            boolean print0;
        }

        @Option(names = "--compact", description = "With --json or --jsonl: each change's paths relative to the root and "
                + "only its fields that differ from their defaults (docs/protocol.md, Compact entries).")
        boolean compact;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            if (compact && !format.json && !format.jsonl) {
                throw new ParameterException(spec.commandLine(), "--compact goes with --json or --jsonl.");
            }
            try (DaemonClient c = socket.connect()) {
                if (format.jsonl) {
                    c.queryStream(root(path), consumer.name, compact, ClientCommands::json);
                    return 0;
                }
                JsonNode r = c.query(root(path), consumer.name, compact);
                if (format.json) {
                    json(r);
                    return 0;
                }
                if (format.print0) {
                    print0(r, spec.commandLine().getErr());
                    return 0;
                }
                PrintStream o = out();
                o.println(r.path("root").asText() + ": result " + r.path("snapshot").asLong() + " (last blessed "
                        + r.path("lastBlessed").asLong() + "), " + r.path("count").asLong() + " change"
                        + (r.path("count").asLong() == 1 ? "" : "s") + ", continuity " + r.path("continuity").asText()
                        + (r.path("recovered").asBoolean() ? ", recovered after an unclean stop" : ""));
                if (ResultApplier.asksForRescan(r)) {
                    o.println("  rescan: " + r.path("continuityReason").asText());
                }
                for (JsonNode ch : r.path("changes")) {
                    o.println("  " + describe(ch));
                }
                o.println("once acted on: modtrack bless " + r.path("root").asText() + " " + r.path("snapshot").asLong()
                        + consumer.flag());
                return 0;
            }
        }
    }

    /**
     * {@code --print0}: the result's paths as raw UTF-8 bytes, each followed by NUL and nothing else
     * (the input of {@code rsync --files-from=- --from0} and {@code tar --null -T -}): every change's
     * {@code path} and, when present, its {@code from}, in order. When continuity is not intact the root
     * comes first, so a consumer re-syncs everything, and one line on stderr says why.
     */
    static void print0(JsonNode r, PrintWriter err) throws IOException {
        if (ResultApplier.asksForRescan(r)) {
            err.println("modtrack: continuity of " + r.path("root").asText() + " was lost ("
                    + r.path("continuityReason").asText() + "); printing the root first so everything is re-synced");
        }
        PrintStream stdout = out();
        OutputStream o = new BufferedOutputStream(stdout);
        if (ResultApplier.asksForRescan(r)) {
            nul(o, r.path("root").asText());
        }
        for (JsonNode ch : r.path("changes")) {
            nul(o, ch.path("path").asText());
            if (ch.hasNonNull("from")) {
                nul(o, ch.path("from").asText());
            }
        }
        o.flush();
        if (stdout.checkError()) {
            throw new IOException("could not write the paths to standard output");
        }
    }

    private static void nul(OutputStream o, String path) throws IOException {
        o.write(path.getBytes(StandardCharsets.UTF_8));
        o.write(0);
    }

    /** One change for people: {@code kind  path  (from ...)}. */
    static String describe(JsonNode ch) {
        StringBuilder b = new StringBuilder(String.format("%-9s %s", ch.path("kind").asText(), ch.path("path").asText()));
        if (ch.hasNonNull("from")) {
            b.append("  (from ").append(ch.path("from").asText()).append(')');
        }
        if (ch.path("directory").asBoolean()) {
            b.append("  [directory: its whole subtree]");
        }
        if (ch.path("carried").asBoolean()) {
            b.append("  [still being written]");
        }
        return b.toString();
    }

    @Command(name = "bless", mixinStandardHelpOptions = true,
            description = "Tells the daemon the consumer has acted on result ID of the root: its changes are not returned to it again.",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:blessed", "1:the daemon refused the id (unknown, stale, future, or not the consumer's)", "2:bad usage",
                    "3:an error"})
    static final class Bless implements Callable<Integer> {
        @Mixin
        SocketOption socket;

        @Mixin
        ConsumerOption consumer;

        @Parameters(index = "0", paramLabel = "PATH", description = "A watched root.")
        Path path;

        @Parameters(index = "1", paramLabel = "ID", description = "The result's snapshot id, as query printed it.")
        long id;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            try (DaemonClient c = socket.connect()) {
                JsonNode r = c.bless(root(path), consumer.name, id);
                out().println("blessed result " + r.path("blessed").asLong() + " of " + r.path("root").asText()
                        + (consumer.flag().isEmpty() ? "" : " for consumer " + consumer.name));
                return 0;
            } catch (DaemonException e) {
                if (Protocol.BLESS_REFUSED.equals(e.code())) {
                    spec.commandLine().getErr().println("modtrack: " + e.getMessage());
                    return Main.FOUND_PROBLEM;
                }
                throw e;
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "The root's open period, writes in progress, records, journal bytes, durability, barrier, continuity and counters.")
    static final class Status implements Callable<Integer> {
        @Mixin
        SocketOption socket;

        @Parameters(paramLabel = "PATH", description = "A watched root.")
        Path path;

        @Option(names = "--json", description = "Print the protocol's status object.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            try (DaemonClient c = socket.connect()) {
                JsonNode s = c.status(root(path));
                if (json) {
                    json(s);
                } else {
                    print(s, "");
                }
                return 0;
            }
        }

        private static void print(JsonNode n, String indent) {
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                if (e.getValue().isObject()) {
                    out().println(indent + e.getKey() + ":");
                    print(e.getValue(), indent + "  ");
                } else if (e.getValue().isArray() && !e.getValue().isEmpty() && e.getValue().get(0).isObject()) {
                    out().println(indent + e.getKey() + ":"); // the consumers, one block each
                    for (JsonNode element : e.getValue()) {
                        print(element, indent + "  ");
                        out().println();
                    }
                } else if (e.getValue().isArray() || e.getValue().isNull()) {
                    out().printf("%s%-18s %s%n", indent, e.getKey(), e.getValue().isNull() ? "-" : e.getValue());
                } else if (!e.getValue().asText().isEmpty()) {
                    out().printf("%s%-18s %s%n", indent, e.getKey(), e.getValue().asText());
                }
            }
        }
    }

    @Command(name = "watch", mixinStandardHelpOptions = true,
            description = {"Prints the root's changes as they are recorded, for people, until interrupted.",
                    "A read-only view: it polls with queries and never blesses, so it takes nothing from other clients."})
    static final class Watch implements Callable<Integer> {
        @Mixin
        SocketOption socket;

        @Mixin
        ConsumerOption consumer;

        @Parameters(paramLabel = "PATH", description = "A watched root.")
        Path path;

        @Option(names = "--interval-ms", paramLabel = "MS", defaultValue = "1000", description = "How often to look (default ${DEFAULT-VALUE}).")
        long intervalMs;

        @Option(names = "--json", description = "Print the protocol's lines.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            try (DaemonClient c = socket.connect()) {
                JsonNode end = c.watch(root(path), consumer.name, intervalMs, line -> {
                    if (json) {
                        json(line);
                    } else if ("change".equals(line.path("type").asText())) {
                        out().println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " " + describe(line));
                        out().flush();
                    } else if ("watching".equals(line.path("type").asText())) {
                        out().println("watching " + line.path("root").asText() + " (Ctrl-C to stop)");
                        out().flush();
                    }
                });
                if (!json) {
                    out().println("watch ended: " + end.path("reason").asText());
                }
                return 0;
            }
        }
    }

    @Command(name = "consumers", mixinStandardHelpOptions = true,
            description = {"Lists a root's consumers, or adds or removes one. Each consumer (a backup, an indexer, a tiering",
                    "policy) queries and blesses on its own: a change stays in its results until it blesses one that holds it,",
                    "whatever the others bless. A new consumer starts from now: read what it tracks whole first.",
                    "One that stops blessing is dropped (its next result says continuity was lost) after the daemon's",
                    "--consumer-timeout, or when the journal reaches its limit while it holds the oldest snapshots."},
            subcommands = {ConsumersList.class, ConsumersAdd.class, ConsumersRemove.class})
    static final class Consumers implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            throw new ParameterException(spec.commandLine(), "say list, add or remove: modtrack consumers list PATH");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the root's consumers.")
    static final class ConsumersList implements Callable<Integer> {
        @Mixin
        SocketOption socket;

        @Parameters(paramLabel = "PATH", description = "A watched root.")
        Path path;

        @Option(names = "--json", description = "Print the protocol's response.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            try (DaemonClient c = socket.connect()) {
                JsonNode r = c.consumers(root(path));
                if (json) {
                    json(r);
                    return 0;
                }
                PrintStream o = out();
                o.println(String.format("%-20s %12s %10s %-10s %s", "consumer", "lastBlessed", "unblessed", "continuity", "owner"));
                for (JsonNode k : r.path("consumers")) {
                    JsonNode owner = k.path("owner");
                    o.println(String.format("%-20s %12d %10d %-10s %s", k.path("name").asText(), k.path("lastBlessed").asLong(),
                            k.path("unblessed").size(), k.path("continuity").asText(), owner.isNull() ? "-"
                                    : (owner.has("uid") ? "uid " + owner.path("uid").asInt() : "")
                                    + (owner.has("gid") ? (owner.has("uid") ? ", " : "") + "gid " + owner.path("gid").asInt() : "")));
                }
                return 0;
            }
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Adds consumer NAME to the root, starting from now. Its first query returns what was recorded",
                    "in the current period and after; read what it tracks whole before you rely on its results."})
    static final class ConsumersAdd implements Callable<Integer> {
        @Mixin
        SocketOption socket;

        @Parameters(index = "0", paramLabel = "PATH", description = "A watched root.")
        Path path;

        @Parameters(index = "1", paramLabel = "NAME", description = "1 to 64 letters, digits, '.', '_' or '-'.")
        String name;

        @Option(names = "--owner", paramLabel = "USER", description = "The user (name or uid) who may act as it besides root and"
                + " the daemon's user (default: nobody else, when root adds it; yourself otherwise).")
        String owner;

        @Option(names = "--group", paramLabel = "GROUP", description = "A group (name or gid) whose members may act as it too.")
        String group;

        @Override
        public Integer call() throws IOException {
            try (DaemonClient c = socket.connect()) {
                JsonNode r = c.addConsumer(root(path), name, owner, group);
                out().println("added consumer " + r.path("added").asText() + " to " + r.path("root").asText()
                        + "; its results start from now: modtrack query " + r.path("root").asText() + " --consumer " + name);
                return 0;
            }
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Removes consumer NAME of the root; the snapshots only it kept are discarded.")
    static final class ConsumersRemove implements Callable<Integer> {
        @Mixin
        SocketOption socket;

        @Parameters(index = "0", paramLabel = "PATH", description = "A watched root.")
        Path path;

        @Parameters(index = "1", paramLabel = "NAME", description = "The consumer.")
        String name;

        @Override
        public Integer call() throws IOException {
            try (DaemonClient c = socket.connect()) {
                JsonNode r = c.removeConsumer(root(path), name);
                out().println("removed consumer " + r.path("removed").asText() + " of " + r.path("root").asText());
                return 0;
            }
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stops the daemon cleanly (root or the daemon's own user only).")
    static final class Stop implements Callable<Integer> {
        @Mixin
        SocketOption socket;

        @Option(names = "--release-queue", description = "Also end each root's queue keeper, which otherwise holds the"
                + " notification queue for the next start for its keep time (--keep-queue), while every event it queues"
                + " costs writers: for a stop that is not a restart. The next start then walks the file system if"
                + " anything was written meanwhile.")
        boolean releaseQueue;

        @Override
        public Integer call() throws IOException {
            try (DaemonClient c = socket.connect()) {
                c.stop(releaseQueue);
                out().println("the modtrack daemon is stopping");
                return 0;
            }
        }
    }
}
