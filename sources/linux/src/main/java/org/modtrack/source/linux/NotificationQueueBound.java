package org.modtrack.source.linux;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;
import org.modtrack.posix.PosixException;

/**
 * The notification group's kernel queue bound, in events: {@link #EVENTS}, 16 times the kernel's
 * default (16,384); the kernel memory a full queue takes was not measured (one small event object
 * with its name per event, merged while queued). Why: 8 processes creating 32,000 small files raise
 * about 100,000 events in 0.7 s, more than a reader in a JVM that has just started keeps up with
 * (benchmarks/peers/run's 8-writer workload overflowed the default queue); an overflow costs a walk
 * of the whole tree (or, when that cannot run, a rescan for the consumer).
 *
 * <p>The kernel gives a new group the bound {@code fs.fanotify.max_queued_events} holds at that
 * moment, and has no per-group setting; so, if that bound is below {@link #EVENTS} and the sysctl
 * is writable, it is raised for the one {@code fanotify_init} ({@link #whileRaised}) and put back at
 * once. Otherwise the group gets the system's bound (logged).
 */
final class NotificationQueueBound {
    private static final Logger LOG = Logger.getLogger(NotificationQueueBound.class.getName());
    private static final Path MAX_QUEUED_EVENTS = Path.of("/proc/sys/fs/fanotify/max_queued_events");

    /** The bound wanted for the notification group's queue. */
    static final int EVENTS = events();

    /** A {@code fanotify_init} that returns the new group. */
    @FunctionalInterface
    interface GroupInit {
        int init() throws PosixException;
    }

    private NotificationQueueBound() {}

    /**
     * 262,144, or the system property {@code modtrack.notificationQueueEvents} (1,024 to 4,194,304):
     * for benchmarks that must overrun the queue the way they overrun their peers'
     * (benchmarks/peers/run's overrun scenario runs the daemon with the kernel's default, 16,384).
     * Never lowers the system's.
     */
    private static int events() {
        int wanted = Integer.getInteger("modtrack.notificationQueueEvents", 262_144);
        if (wanted < 1_024 || wanted > 4_194_304) {
            throw new IllegalArgumentException("modtrack.notificationQueueEvents must be between 1024 and 4194304, not "
                    + wanted + ".");
        }
        return wanted;
    }

    /** Makes a group with the system's bound raised to {@link #EVENTS} (where it is lower and may be raised) meanwhile. */
    static int whileRaised(GroupInit init) throws PosixException {
        String before = read();
        boolean raised = false;
        if (before != null && Long.parseLong(before) < EVENTS) {
            raised = write(Integer.toString(EVENTS));
        }
        try {
            return init.init();
        } finally {
            if (raised && !write(before)) {
                LOG.warning("could not put fs.fanotify.max_queued_events back to " + before + " (it is " + EVENTS + ")");
            }
            if (!raised) {
                LOG.info("the notification queue holds " + before + " events (fs.fanotify.max_queued_events); "
                        + EVENTS + " were wanted: a burst of changes may overflow it and make results say rescan");
            }
        }
    }

    /**
     * The system's bound; null if it cannot be read. Through a stream on purpose: {@code Files.readString}
     * of this file returns its first byte only (JDK 25, kernel 6.18: an integer sysctl does not answer a
     * read at a non-zero offset the way the JDK's size-0 path expects), which once put the system's
     * bound back to "1".
     */
    static String read() {
        try (InputStream in = Files.newInputStream(MAX_QUEUED_EVENTS)) {
            String value = new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
            return value.matches("[0-9]{1,10}") ? value : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static boolean write(String value) {
        try {
            Files.writeString(MAX_QUEUED_EVENTS, value);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
