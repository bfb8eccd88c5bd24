package org.modtrack.daemon;

import static org.modtrack.testing.DocumentedNumbers.expect;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * The defaults README and docs state are the code's: each phrase below must still be in its
 * document, and every number it gives must be the constant it repeats. A changed default then
 * fails here until the documents say the new one.
 */
class DocumentedDefaultsTest {
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
}
