package org.modtrack.daemon;

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
import org.modtrack.engine.TrackerConfig;
import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * The defaults README and docs state are the code's: each phrase below must still be in its
 * document, and every number it gives must be the constant it repeats. A changed default then
 * fails here until the documents say the new one.
 */
class DocumentedDefaultsTest {
    private static final Path REPOSITORY = Path.of(System.getProperty("user.dir")).getParent();

    @Test
    void theDaemonsDefaultsAreTheOnesTheDocumentsGive() throws IOException {
        DaemonConfig defaults = DaemonConfig.defaults(List.of(Path.of("/")));
        expect("docs/protocol.md", "the idle timeout \\((\\d+) s by default\\)", defaults.idleTimeout().toSeconds());
        expect("docs/protocol.md", "(\\d+) clients are connected already \\(the default `--max-clients`\\)",
                defaults.maxClients());
        expect("README.md", "`--keep-queue SECONDS`, default (\\d+)", defaults.keepQueue().toSeconds());
        expect("docs/linux-source.md", "`--keep-queue SECONDS`, default (\\d+)", defaults.keepQueue().toSeconds());
        expect("docs/linux-source.md", "`--journal-limit`, default (\\d+) GiB", TrackerConfig.DEFAULT_MAX_JOURNAL_BYTES >> 30);
        expect("README.md", "unblessed snapshots may take, default (\\d+)G", TrackerConfig.DEFAULT_MAX_JOURNAL_BYTES >> 30);
    }

    @Test
    void theLinuxSourcesDefaultsAreTheOnesTheDocumentsGive() throws IOException {
        LinuxSourceOptions defaults = LinuxSourceOptions.defaults();
        expect("docs/linux-source.md", "`LinuxSourceOptions.answerDeadline`, default (\\d+) s",
                defaults.answerDeadline().toSeconds());
        expect("docs/linux-source.md", "`sibling-scopes = N`,\\s+default (\\d+), 0 for none",
                LinuxSourceOptions.DEFAULT_SIBLING_SCOPES);
    }

    /** Every match of {@code phrase} in {@code document} (one at least) gives {@code value} as its first group. */
    private static void expect(String document, String phrase, long value) throws IOException {
        String text = Files.readString(REPOSITORY.resolve(document), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile(phrase).matcher(text);
        List<Long> found = new ArrayList<>();
        while (m.find()) {
            found.add(Long.parseLong(m.group(1).replace(",", "")));
        }
        assertFalse(found.isEmpty(), () -> document + " no longer says \"" + phrase + "\": update this test with it");
        for (long f : found) {
            assertEquals(value, f, () -> document + " says " + f + " in \"" + phrase + "\"; the code's default is " + value);
        }
    }
}
