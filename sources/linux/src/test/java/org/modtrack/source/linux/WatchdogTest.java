package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog's script alone, with a stand-in tracker: a bash that starts it with its own pid as
 * the parent to kill, its heartbeats read from a FIFO this test holds open and never writes.
 */
class WatchdogTest {
    /** Long beside a bash's exit, so that the reparented case is reparented before its timeout even on a loaded machine. */
    private static final double TIMEOUT_SECONDS = 1.0;

    @TempDir
    Path tmp;

    /**
     * The stand-in tracker, which runs {@code thenScript} once the watchdog is started; prints the
     * watchdog's pid. {@code heartbeats} must be a FIFO held open (or the watchdog's open waits).
     */
    private Process tracker(Path heartbeats, Path errors, String thenScript) throws Exception {
        String script = "bash -c \"$0\" modtrack-watchdog $$ " + TIMEOUT_SECONDS + " < '" + heartbeats + "' 2> '" + errors
                + "' & echo $!; " + thenScript;
        return new ProcessBuilder("/bin/bash", "-c", script, Watchdog.SCRIPT).redirectErrorStream(true).start();
    }

    /**
     * A new FIFO, opened for reading and writing, which never waits for the other end (Linux): the
     * watchdog's heartbeats, never written, never at their end while it is open.
     */
    private static FileChannel heldFifo(Path fifo) throws Exception {
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        return FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    private static long pidOf(Process tracker) throws Exception {
        byte[] line = new byte[32];
        int n = 0;
        for (int b; n < line.length && (b = tracker.getInputStream().read()) != '\n' && b >= 0; n++) {
            line[n] = (byte) b;
        }
        return Long.parseLong(new String(line, 0, n, StandardCharsets.US_ASCII).trim());
    }

    /** Waits, at most 5 s, for {@code pid} to end. */
    private static void awaitEnd(long pid) throws InterruptedException {
        for (int i = 0; i < 500 && Files.exists(Path.of("/proc/" + pid)); i++) {
            Thread.sleep(10);
        }
        assertFalse(Files.exists(Path.of("/proc/" + pid)), "the watchdog " + pid + " ended");
    }

    @Test
    void itKillsItsParentWhenTheHeartbeatsStop() throws Exception {
        Path heartbeats = tmp.resolve("heartbeats");
        Path errors = tmp.resolve("errors");
        FileChannel held = heldFifo(heartbeats);
        Process tracker = tracker(heartbeats, errors, "sleep 30");
        try {
            long watchdog = pidOf(tracker);
            assertTrue(tracker.waitFor(10, TimeUnit.SECONDS), "the tracker was killed within its timeout");
            assertEquals(128 + 9, tracker.exitValue(), "by SIGKILL");
            awaitEnd(watchdog);
            assertTrue(Files.readString(errors).contains("killing it"), Files.readString(errors));
        } finally {
            tracker.destroyForcibly();
            held.close();
        }
    }

    /**
     * A watchdog whose tracker died while its heartbeats' pipe stayed open elsewhere is reparented;
     * once its timeout passes it must kill nothing, since the pid it was given may be another
     * process's by then. (bash's {@code $PPID} keeps the parent it started with: a check of it let
     * the watchdog try.)
     */
    @Test
    void onceItsParentIsGoneItKillsNothing() throws Exception {
        Path heartbeats = tmp.resolve("heartbeats");
        Path errors = tmp.resolve("errors");
        FileChannel held = heldFifo(heartbeats);
        Process tracker = tracker(heartbeats, errors, "sleep 0.2; exit 0"); // once the watchdog's bash has started, well before its timeout
        try {
            long watchdog = pidOf(tracker);
            assertTrue(tracker.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, tracker.exitValue(), "the tracker ended on its own, before the timeout");
            awaitEnd(watchdog);
            assertEquals("", Files.readString(errors), "no kill attempted");
        } finally {
            tracker.destroyForcibly();
            held.close();
        }
    }
}
