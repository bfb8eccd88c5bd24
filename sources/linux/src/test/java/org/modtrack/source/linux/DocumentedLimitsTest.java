package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Linux source's bounds that docs/linux-source.md repeats are the code's: each phrase below must
 * still be in the document, and every number it gives must be the constant it repeats. A changed
 * bound then fails here until the document says the new one.
 */
class DocumentedLimitsTest {
    private static final Path DOCUMENT = Path.of(System.getProperty("user.dir")).getParent().getParent()
            .resolve("docs/linux-source.md");

    @Test
    void theBoundsDocsLinuxSourceGivesAreTheCodes() throws IOException {
        String text = Files.readString(DOCUMENT, StandardCharsets.UTF_8);
        expect(text, "a ([0-9,]+)-event queue", NotificationQueueBound.EVENTS);
        expect(text, "holds ([0-9,]+) events instead of the kernel's default", NotificationQueueBound.EVENTS);
        expect(text, "The queue itself is bounded \\(([0-9,]+)", NotificationQueueBound.EVENTS);
        expect(text, "reads events in batches \\((\\d+) KiB per `read`\\)", PreContentListener.BUFFER_BYTES / 1024);
        expect(text, "a pool of (\\d+)\\s+handler threads", LinuxSource.HANDLER_THREADS);
        expect(text, "queue is bounded \\(([0-9,]+)\\)", LinuxSource.HANDLER_THREADS * PreContentListener.QUEUED_PER_THREAD);
        expect(text, "at most ([0-9,]+) parents are counted", SiblingScopes.MAX_PARENTS);
        expect(text, "at most ([0-9,]+) subdirectories recorded\\s+ahead per period", SiblingScopes.MAX_PER_PERIOD);
        expect(text, "More than ([0-9,]+) are not saved", NotificationListener.ORPHANS_SAVED);
        expect(text, "`notification-handover`, (\\d+) KiB", NotificationListener.BUFFER_BYTES / 1024);
    }

    /** Every match of {@code phrase} (one at least) gives {@code value} as its first group. */
    private static void expect(String text, String phrase, long value) {
        Matcher m = Pattern.compile(phrase).matcher(text);
        List<Long> found = new ArrayList<>();
        while (m.find()) {
            found.add(Long.parseLong(m.group(1).replace(",", "")));
        }
        assertFalse(found.isEmpty(), () -> "docs/linux-source.md no longer says \"" + phrase + "\": update this test with it");
        for (long f : found) {
            assertEquals(value, f, () -> "docs/linux-source.md says " + f + " in \"" + phrase + "\"; the code's bound is " + value);
        }
    }
}
