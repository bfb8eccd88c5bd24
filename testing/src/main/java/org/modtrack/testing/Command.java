package org.modtrack.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the external tools the fixtures need (losetup, mkfs, mount, umount), and the shell scripts
 * tests write with (from another process, as a real writer would), and reports failures in one sentence.
 */
public final class Command {
    /** mkfs of a few hundred MiB takes well under a second; a minute means the tool is stuck. */
    private static final long TIMEOUT_SECONDS = 60;

    private Command() {}

    /** Runs {@code command}; returns its output (stdout and stderr together), or throws if it did not exit with 0. */
    public static String run(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        // Read on another thread: a tool that fills the pipe would otherwise never exit.
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = Thread.ofPlatform().daemon().start(() -> copy(process.getInputStream(), output));
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + TIMEOUT_SECONDS
                        + " s and was killed.");
            }
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", command) + " was interrupted.", e);
        }
        String text;
        synchronized (output) {
            text = output.toString(StandardCharsets.UTF_8).strip();
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + ")"
                    + (text.isEmpty() ? "." : ": " + text.replace('\n', ' ')));
        }
        return text;
    }

    /** {@link #run} for a command built as a list. */
    public static String run(List<String> command) throws IOException {
        return run(command.toArray(String[]::new));
    }

    /** Runs {@code script} with {@code sh -ec} in {@code directory}; returns its output, or throws if it failed. */
    public static String sh(Path directory, String script) throws IOException {
        return run("sh", "-ec", "cd '" + directory.toString().replace("'", "'\\''") + "'\n" + script);
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buffer = new byte[8192];
        try (in) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                synchronized (out) {
                    out.write(buffer, 0, n);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
