package org.modtrack.source.linux;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A separate process that SIGKILLs the tracker when it stops answering: a tracker that is stopped
 * (SIGSTOP, a debugger) or wedged cannot answer permission events, and the kernel has no deadline
 * of its own for them, so every writer of the file system would wait. Killing the tracker closes its
 * fanotify groups, which lets every waiting access go on; the restart then reports continuity lost
 * (and recovered), so nothing is claimed that was not seen.
 *
 * <p>The tracker's deadline thread writes a heartbeat byte to the watchdog's stdin several times per
 * deadline; the watchdog (a few lines of bash) kills its parent when none came for a whole timeout,
 * and exits when its stdin closes (the tracker stopped cleanly, or died). It only ever kills its own
 * parent, checked by pid before the kill (the parent it has then, from {@code /proc}: bash's
 * {@code $PPID} keeps the one it started with, even once that died and the watchdog was
 * reparented), so pid reuse cannot make it kill a stranger.
 */
final class Watchdog implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Watchdog.class.getName());
    static final String SCRIPT = """
            parent=$1 timeout=$2
            while :; do
              read -r -n 1 -t "$timeout"; status=$?
              if [ "$status" -gt 128 ]; then
                read -r _ _ _ now _ < /proc/$$/stat
                if [ "$now" = "$parent" ]; then
                  echo "modtrack watchdog: no heartbeat from tracker $parent for ${timeout}s; killing it so that writers are released" >&2
                  kill -KILL "$parent"
                fi
                exit 0
              fi
              [ "$status" -eq 0 ] || exit 0
            done
            """;
    private static final Path BASH = Path.of("/bin/bash");

    private final Process process;
    private final OutputStream heartbeats;
    private volatile boolean broken;

    private Watchdog(Process process) {
        this.process = process;
        this.heartbeats = process.getOutputStream();
    }

    /** Starts a watchdog that kills this process after {@code timeout} without a heartbeat; null if bash is missing. */
    static Watchdog start(Duration timeout) throws IOException {
        if (!Files.isExecutable(BASH)) {
            LOG.warning("no /bin/bash: no watchdog, so a stopped tracker would hold writers until it continues");
            return null;
        }
        String seconds = String.format(Locale.ROOT, "%.3f", timeout.toNanos() / 1e9);
        Process p = new ProcessBuilder(BASH.toString(), "-c", SCRIPT, "modtrack-watchdog",
                Long.toString(ProcessHandle.current().pid()), seconds)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        return new Watchdog(p);
    }

    /** One heartbeat; called by the deadline thread, which is what must stay alive. */
    void beat() {
        if (broken) {
            return;
        }
        try {
            heartbeats.write('.');
            heartbeats.flush();
        } catch (IOException e) {
            broken = true;
            LOG.log(Level.WARNING, "the watchdog is gone; a stopped tracker would now hold writers", e);
        }
    }

    /** Stops the watchdog (closing its stdin ends it). Called first when the tracker stops cleanly. */
    @Override
    public void close() {
        broken = true;
        try {
            heartbeats.close();
        } catch (IOException e) {
            // it is gone already
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
