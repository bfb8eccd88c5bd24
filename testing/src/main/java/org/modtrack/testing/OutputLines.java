package org.modtrack.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process's standard output, line by line, read by a thread of its own so that a test can
 * wait for the next line with a time limit (never forever). The end of the output is a line of its
 * own, {@link #END}.
 */
public final class OutputLines {
    /** What {@link #next} returns once the process's output ended (it exited, or closed it). */
    public static final String END = "\u0000end of output";

    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    /** Starts reading {@code process}'s standard output on a daemon thread named {@code name}. */
    public OutputLines(Process process, String name) {
        Thread reader = new Thread(() -> {
            try (BufferedReader out = process.inputReader(StandardCharsets.UTF_8)) {
                for (String line; (line = out.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process died: the end below says so
            }
            lines.add(END);
        }, name);
        reader.setDaemon(true);
        reader.start();
    }

    /** The next line, {@link #END} after the last, or null if none came within {@code timeout}. */
    public String next(long timeout, TimeUnit unit) throws InterruptedException {
        String line = lines.poll(timeout, unit);
        if (END.equals(line)) {
            lines.add(END); // every later call sees the end too
        }
        return line;
    }
}
