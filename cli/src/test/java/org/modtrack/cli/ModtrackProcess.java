package org.modtrack.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code bin/modtrack} in a child JVM of its own (this test JVM's classes), so that tests can SIGKILL it. */
final class ModtrackProcess {
    private static final long DAEMON_START_SECONDS = 30;

    private ModtrackProcess() {}

    /** Starts {@code modtrack ARGS}, its output and errors appended to {@code log}. */
    static Process start(Path log, List<String> args) throws IOException {
        return start(log, List.of(), args);
    }

    /** Like {@link #start(Path, List)}, the JVM started with {@code jvmOptions} too (e.g. -Xmx64m). */
    static Process start(Path log, List<String> jvmOptions, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(TrackingDemo.command(args));
        command.addAll(1, jvmOptions);
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /**
     * Starts {@code modtrack daemon --watch ROOT --state STATE --socket SOCKET --durability process
     * OPTIONS} and returns once it answers hello.
     */
    static Process daemon(Path root, Path state, Path socket, Path log, String... options) throws Exception {
        return daemon(List.of(), root, state, socket, log, options);
    }

    /** Like {@link #daemon(Path, Path, Path, Path, String...)}, its JVM started with {@code jvmOptions} too. */
    static Process daemon(List<String> jvmOptions, Path root, Path state, Path socket, Path log, String... options)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("daemon", "--watch", root.toString(), "--state", state.toString(),
                "--socket", socket.toString(), "--durability", "process"));
        args.addAll(List.of(options));
        Process p = start(log, jvmOptions, args);
        try {
            return TrackingDemo.awaitHello(p, socket, DAEMON_START_SECONDS, "the daemon exited");
        } catch (IOException e) {
            throw new AssertionError("the daemon did not start (" + e.getMessage() + "): " + Files.readString(log), e);
        }
    }
}
