package org.modtrack.consumer.kafka;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection to the daemon that has made no progress for too long, so that a daemon
 * that took a request and never answers cannot hold a task (and Connect's shutdown of it)
 * forever. Progress is each line read; the daemon's own waits are bounded well below the limit.
 */
final class StallGuard implements AutoCloseable {
    private final Closeable connection;
    private final long limitNanos;
    private final Thread watcher;
    private volatile long lastProgress = System.nanoTime();
    private volatile boolean done;
    private volatile boolean fired;

    StallGuard(Closeable connection, Duration limit) {
        this.connection = connection;
        this.limitNanos = limit.toNanos();
        long checkMillis = Math.max(10, Math.min(1000, limit.toMillis() / 4));
        this.watcher = Thread.ofVirtual().name("modtrack-kafka stall guard").start(() -> {
            while (!done) {
                try {
                    Thread.sleep(checkMillis);
                } catch (InterruptedException e) {
                    return; // closed
                }
                if (!done && System.nanoTime() - lastProgress > limitNanos) {
                    fired = true;
                    try {
                        connection.close(); // the blocked read fails at once
                    } catch (IOException ignored) {
                        // closing is all that is left to do
                    }
                    return;
                }
            }
        });
    }

    /** The daemon sent something. */
    void progress() {
        lastProgress = System.nanoTime();
    }

    /** {@code e}, or a one-sentence explanation if the guard closed the connection. */
    IOException explain(IOException e) {
        return fired ? new IOException("the daemon sent nothing for " + TimeUnit.NANOSECONDS.toMillis(limitNanos)
                + " ms, so the connection was closed", e) : e;
    }

    @Override
    public void close() {
        done = true;
        watcher.interrupt();
    }
}
