package org.modtrack.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.modtrack.consumer.mirror.Mirror;
import org.modtrack.consumer.mirror.MirrorStats;
import org.modtrack.daemon.DaemonConfig;
import org.modtrack.daemon.Protocol;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code modtrack mirror SRC DEST}: keeps DEST equal to the watched root SRC (consumers/mirror). */
@Command(name = "mirror", mixinStandardHelpOptions = true,
        description = {"Keeps DEST equal to the watched root SRC: one cycle (query, apply, make durable, bless), or with "
                + "--follow one cycle every few seconds until SIGTERM. The first run copies the whole tree. DEST is a local "
                + "directory, or with --rsync (implied by host:path and rsync://) any rsync destination. Stopped at any "
                + "moment, the next run resumes where it was and blesses only what it applied. Each mirror of a root acts "
                + "as a consumer of its own (--consumer): each consumer blesses on its own."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:DEST equals SRC as of the last cycle", "2:bad usage", "3:an error stopped it (nothing was blessed that was not applied)"})
final class MirrorCommand implements Callable<Integer> {
    @Mixin
    ClientCommands.SocketOption socket;

    @Mixin
    ClientCommands.ConsumerOption consumer;

    @Parameters(index = "0", paramLabel = "SRC", description = "A watched root.")
    Path source;

    @Parameters(index = "1", paramLabel = "DEST", description = "A local directory, or an rsync destination.")
    String destination;

    @Option(names = "--follow", arity = "0..1", paramLabel = "SECONDS", fallbackValue = "10",
            description = "Run a cycle every SECONDS (default ${FALLBACK-VALUE}) until SIGTERM.")
    Long followSeconds;

    @Option(names = "--rsync", description = "Apply results with rsync (for any rsync destination).")
    boolean rsync;

    @Option(names = "--state", paramLabel = "DIR",
            description = "Where the mirror keeps its state (default /var/lib/modtrack-mirror for root, $XDG_STATE_HOME/modtrack-mirror otherwise).")
    Path state;

    @Option(names = "--json", description = "One JSON line per cycle.")
    boolean json;

    @Spec
    CommandSpec spec;

    private volatile boolean stopping;

    @Override
    public Integer call() throws Exception {
        Path src = Path.of(ClientCommands.root(source));
        boolean viaRsync = rsync || Mirror.isRemote(destination);
        String dest = viaRsync ? destination : Path.of(destination).toAbsolutePath().normalize().toString();
        Path stateDir = state != null ? state : DaemonConfig.defaultStateDirectory().resolveSibling(
                DaemonConfig.defaultStateDirectory().getFileName() + "-mirror");
        if (followSeconds != null && followSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--follow takes a number of seconds of at least 1.");
        }
        Mirror mirror;
        try {
            mirror = new Mirror(socket::connect, src, dest, viaRsync, stateDir, consumer.name);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (followSeconds == null) {
            report(mirror.cycle());
            return 0;
        }
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopping = true;
            try {
                done.await(60, TimeUnit.SECONDS); // the cycle under way finishes (a stopped one would resume anyway)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            while (!stopping) {
                try {
                    report(mirror.cycle());
                } catch (IOException e) {
                    // The daemon restarting, a destination briefly unreachable: nothing was blessed
                    // that was not applied, and the next cycle resumes.
                    spec.commandLine().getErr().println("modtrack mirror: " + e.getMessage() + " (trying again in "
                            + followSeconds + " s)");
                    spec.commandLine().getErr().flush();
                }
                for (long waited = 0; waited < followSeconds * 10 && !stopping; waited++) {
                    Thread.sleep(100);
                }
            }
            return 0;
        } finally {
            done.countDown();
        }
    }

    private void report(MirrorStats s) {
        PrintStream out = System.out;
        if (!json) {
            out.println("modtrack mirror: " + s.line());
        } else {
            ObjectNode n = Protocol.MAPPER.createObjectNode();
            n.put("result", s.result);
            n.put("entries", s.entries);
            n.put("filesCopied", s.filesCopied);
            n.put("bytesCopied", s.bytesCopied);
            n.put("removed", s.removed);
            n.put("moved", s.moved);
            n.put("otherLinks", s.otherLinks);
            n.put("fullCopy", s.fullCopy);
            n.put("continuity", s.continuity);
            n.put("recovered", s.recovered);
            n.put("resumed", s.resumed);
            n.put("ms", s.nanos / 1_000_000);
            out.println(Protocol.text(Protocol.line(n)));
        }
        out.flush();
    }
}
