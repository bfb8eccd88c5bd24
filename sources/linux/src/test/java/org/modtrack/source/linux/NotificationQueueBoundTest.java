package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.modtrack.posix.Posix;

/** The notification group's queue bound, raised for its own fanotify_init only. */
class NotificationQueueBoundTest {
    private static final Path SYSCTL = Path.of("/proc/sys/fs/fanotify/max_queued_events");

    @Test
    void theSystemsBoundIsReadWholeAndPutBackAfterTheGroupIsMade() throws Exception {
        assumeTrue(Files.isWritable(SYSCTL) && "root".equals(System.getProperty("user.name")), "needs root and fs.fanotify.max_queued_events");
        String before = NotificationQueueBoundTest.cat();
        assertEquals(before, NotificationQueueBound.read(), "the whole value, not its first byte");
        int group = NotificationListener.createGroup();
        try {
            assertEquals(before, cat(), "the system's bound is back as it was");
        } finally {
            Posix.close(group, "the test's notification group");
        }
    }

    /** What cat(1) sees. */
    private static String cat() throws Exception {
        Process p = new ProcessBuilder("cat", SYSCTL.toString()).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor());
        return out;
    }
}
