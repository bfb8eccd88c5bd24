package org.modtrack.consumer.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.modtrack.daemon.Protocol;
import org.modtrack.daemon.client.DaemonClient;
import org.modtrack.daemon.client.DaemonException;

/**
 * Follows the roots of its configuration, one result at a time, as one named consumer: queries a
 * root (the result is spooled to a file as it streams in), hands its changes to Connect in order
 * with a marker after them, waits until Kafka has acknowledged every one ({@link #commitRecord}),
 * and only then blesses the result and queries the next. A crash anywhere before the bless loses
 * nothing: the next query returns the same changes again (at least once; docs/kafka.md).
 */
public final class ModtrackSourceTask extends SourceTask {
    static final String VERSION = "0.1.0";
    private static final Logger LOG = Logger.getLogger(ModtrackSourceTask.class.getName());
    /** Records handed to Connect per poll: a bound on what a poll holds in memory. */
    static final int BATCH = 500;
    /** The longest a poll waits for acknowledgements before it returns, so Connect can commit and stop. */
    private static final long ACK_WAIT_MS = 100;
    /** The longest pause between two attempts to reach a daemon that does not answer. */
    private static final long MAX_BACKOFF_MS = 30_000;

    private ModtrackSourceConfig config;
    private List<String> roots;
    private int nextRoot;
    // The result being sent or acknowledged, or null; volatile: commitRecord reads it on the producer's thread.
    private volatile SpooledResult current;
    private long backoffMs;

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public void start(Map<String, String> props) {
        config = new ModtrackSourceConfig(props);
        roots = config.roots();
        try {
            Files.createDirectories(config.spoolDirectory());
        } catch (IOException e) {
            throw new IllegalStateException("cannot make the spool directory " + config.spoolDirectory() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        if (current != null) {
            if (current.hasMoreToSend()) {
                return sendNext();
            }
            if (!current.allAcknowledged()) {
                Thread.sleep(Math.min(ACK_WAIT_MS, config.pollInterval().toMillis()));
                return null;
            }
            if (!bless(current)) {
                pause();
                return null;
            }
            finish();
        }
        String root = roots.get(nextRoot);
        nextRoot = (nextRoot + 1) % roots.size();
        try {
            current = SpooledResult.query(config, root);
            backoffMs = 0;
        } catch (IOException e) {
            LOG.warning(() -> "modtrack: the query of " + root + " as consumer " + config.consumer() + " failed (" + e.getMessage()
                    + "); nothing was blessed, so nothing is lost: trying again");
            pause();
            return null;
        }
        if (current.count() == 0 && current.intact()) {
            // Nothing to send: bless it so the daemon can discard what it kept for it, and look again later.
            if (bless(current)) {
                finish();
            }
            Thread.sleep(config.pollInterval().toMillis());
            return null;
        }
        return sendNext();
    }

    private List<SourceRecord> sendNext() {
        try {
            return current.next(BATCH);
        } catch (IOException e) {
            // The spool file could not be read: drop the result unblessed; the next query returns its changes again.
            LOG.log(Level.WARNING, "modtrack: the spooled result " + current.snapshot() + " of " + current.root()
                    + " could not be read; querying again", e);
            finish();
            return null;
        }
    }

    /** Blesses {@code r}; false if the daemon could not be reached (try again later); a refused bless is logged and passed. */
    private boolean bless(SpooledResult r) {
        try (DaemonClient c = DaemonClient.connect(config.socket()); StallGuard guard = new StallGuard(c::close, config.timeout())) {
            try {
                c.bless(r.root(), config.consumer(), r.snapshot());
            } catch (DaemonException e) {
                throw e;
            } catch (IOException e) {
                throw guard.explain(e);
            }
            return true;
        } catch (DaemonException e) {
            if (!Protocol.BLESS_REFUSED.equals(e.code())) {
                LOG.warning(() -> "modtrack: the bless of result " + r.snapshot() + " of " + r.root() + " failed: " + e.getMessage());
                return false;
            }
            // Refused (the consumer was dropped meanwhile, say): its changes come back in a later
            // result, which says so.
            LOG.warning(() -> "modtrack: the bless of result " + r.snapshot() + " of " + r.root() + " was refused: " + e.getMessage());
            return true;
        } catch (IOException e) {
            LOG.warning(() -> "modtrack: cannot bless result " + r.snapshot() + " of " + r.root() + " yet (" + e.getMessage()
                    + "); its records are in Kafka, trying again");
            return false;
        }
    }

    private void finish() {
        current.close();
        current = null;
    }

    /** Waits before the next attempt: the poll interval at first, doubling up to {@value #MAX_BACKOFF_MS} ms. */
    private void pause() throws InterruptedException {
        backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(config.pollInterval().toMillis(), backoffMs * 2));
        Thread.sleep(backoffMs);
    }

    /** Kafka acknowledged {@code record} (or a transformation dropped it: {@code metadata} null). */
    @Override
    public void commitRecord(SourceRecord record, RecordMetadata metadata) {
        SpooledResult r = current;
        if (r != null) {
            r.acknowledged(record);
        }
    }

    @Override
    public void stop() {
        SpooledResult r = current;
        if (r != null) {
            r.close(); // unblessed: its changes come back in the next run's first result
        }
    }
}
