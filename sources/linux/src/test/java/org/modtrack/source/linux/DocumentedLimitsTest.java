package org.modtrack.source.linux;

import static org.modtrack.testing.DocumentedNumbers.expect;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The Linux source's bounds that docs/linux-source.md repeats are the code's: each phrase below must
 * still be in the document, and every number it gives must be the constant it repeats. A changed
 * bound then fails here until the document says the new one.
 */
class DocumentedLimitsTest {
    private static final String DOCUMENT = "docs/linux-source.md";

    @Test
    void theBoundsDocsLinuxSourceGivesAreTheCodes() throws IOException {
        expect(DOCUMENT, "a ([0-9,]+)-event queue", NotificationQueueBound.EVENTS);
        expect(DOCUMENT, "holds ([0-9,]+) events instead of the kernel's default", NotificationQueueBound.EVENTS);
        expect(DOCUMENT, "The queue itself is bounded \\(([0-9,]+)", NotificationQueueBound.EVENTS);
        expect(DOCUMENT, "reads events in batches \\((\\d+) KiB per `read`\\)", PreContentListener.BUFFER_BYTES / 1024);
        expect(DOCUMENT, "a pool of (\\d+)\\s+handler threads", LinuxSource.HANDLER_THREADS);
        expect(DOCUMENT, "queue is bounded \\(([0-9,]+)\\)", LinuxSource.HANDLER_THREADS * PreContentListener.QUEUED_PER_THREAD);
        expect(DOCUMENT, "at most ([0-9,]+) parents are counted", SiblingScopes.MAX_PARENTS);
        expect(DOCUMENT, "at most ([0-9,]+) subdirectories recorded\\s+ahead per period", SiblingScopes.MAX_PER_PERIOD);
        expect(DOCUMENT, "More than ([0-9,]+) are not saved", NotificationListener.ORPHANS_SAVED);
        expect(DOCUMENT, "`notification-handover`, (\\d+) KiB", NotificationListener.BUFFER_BYTES / 1024);
        expect(DOCUMENT, "and kept, up to ([0-9,]+) of them", TrackedFilesystem.MAX_SUBVOLUME_DEVICES);
        expect(DOCUMENT, "With more than ([0-9,]+) mounts inside the tree", MountAliases.MAX_MOUNTS);
        expect(DOCUMENT, "once more than\\s+([0-9,]+) mount points have been seen", ResultResolver.MAX_MOUNT_POINTS_SINCE_BLESSED);
    }
}
