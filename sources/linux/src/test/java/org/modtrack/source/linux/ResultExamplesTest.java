package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.testing.LoopMount;

/**
 * The examples of docs/protocol.md (*Applying a result*), on ext4: after each set of commands, the
 * result is exactly the entries the document shows, in its order, with files named by a scan (the
 * default) and by their events.
 */
class ResultExamplesTest {
    private static final long MIB = 1L << 20;

    @TempDir
    Path state;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "echo 1 > n1                      | mv n1 n18; echo new > n1          | renamed n18 from n1 changed, created n1 | renamed n18 from n1 unchanged, created n1",
        "echo a > a; echo b > b; echo c > c | mv b c; mv a b                | renamed c from b unchanged, renamed b from a unchanged | renamed c from b unchanged, renamed b from a unchanged",
        "echo a > a; echo b > b           | mv a t; mv b a; mv t b            | renamed a from b unchanged, created b, deleted t | renamed a from b unchanged, created b, deleted t",
        "mkdir d; echo f > d/f            | mv d e; echo x >> e/f             | renamed e from d unchanged, modified e/f | renamed e from d unchanged, modified e/f",
        "mkdir d; echo 0 > d/g0           | rm -r d; mkdir d; echo y > d/g    | created d, created d/g | created d, created d/g",
        "echo keep > k                    | echo tmp > t; rm t                | deleted t | ''",
    })
    void theDocumentsExamplesAreWhatResultsSay(String before, String commands, String byScan, String byEvents) throws Exception {
        for (LinuxSourceOptions.Naming naming : LinuxSourceOptions.Naming.values()) {
            String expected = naming == LinuxSourceOptions.Naming.SCAN ? byScan : byEvents;
            assertEquals(expected, said(before, commands, naming), commands + " (files named by " + naming.cliName() + ")");
        }
    }

    private String said(String before, String commands, LinuxSourceOptions.Naming naming) throws Exception {
        Path stateOfRun = Files.createTempDirectory(state, naming.cliName());
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            LinuxSourceTest.shPastTheMargin(root, before + "; sync");
            try (LinuxSource source = LinuxSource.open(root, stateOfRun, TrackerConfig.defaults(),
                    LinuxSourceOptions.defaults().withNaming(naming))) {
                source.bless(source.query().snapshot());
                LinuxSourceTest.sh(root, commands);
                LinuxResult r = source.query();
                List<String> said = new ArrayList<>();
                for (PathChange c : r.changes()) {
                    String path = root.relativize(Path.of(c.path())).toString();
                    said.add(c.kind().wireName() + " " + path + (c.from() == null ? ""
                            : " from " + root.relativize(Path.of(c.from())) + (c.changed() ? " changed" : " unchanged")));
                }
                return String.join(", ", said);
            }
        }
    }
}
