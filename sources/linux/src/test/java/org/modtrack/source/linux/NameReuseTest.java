package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.testing.Command;
import org.modtrack.testing.LoopMount;
import org.modtrack.testing.NameReuseWorkload;
import org.modtrack.testing.Seeded;

/**
 * Names reused every way a tree reuses them (renames over existing names, swaps, chains, directories
 * made where moved ones were, hard links, dangling symbolic links), with no writer running while a
 * result is made: after each result, applied as docs/protocol.md says, the consumer's copy equals
 * the file system. Each history is a fresh tree, a first copy, then {@link #CYCLES} rounds of writes
 * and a query; a failure names the seed that replays it ({@code -DnameReuse.history=SEED} replays one
 * history alone).
 */
@ExtendWith(Seeded.class)
class NameReuseTest {
    private static final long MIB = 1L << 20;
    private static final int HISTORIES = Integer.getInteger("nameReuse.histories", 4);
    private static final int CYCLES = 3;
    private static final int OPS = 300;

    @TempDir
    Path state;

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "NameReuseTest skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    @Test
    void everyResultBringsTheConsumersCopyToTheFileSystem(SplittableRandom random) throws Exception {
        Long only = Long.getLong("nameReuse.history");
        for (int h = 0; h < (only != null ? 1 : HISTORIES); h++) {
            long seed = only != null ? only : random.nextLong();
            try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
                Path root = m.mountPoint();
                Command.run(NameReuseWorkload.command(root, seed, OPS, 200));
                try (LinuxSource source = LinuxSource.open(root, Files.createTempDirectory(state, "h"), TrackerConfig.defaults())) {
                    source.bless(source.query().snapshot());
                    MirrorConsumer consumer = MirrorConsumer.copyOf(root);
                    for (int cycle = 1; cycle <= CYCLES; cycle++) {
                        Command.run(NameReuseWorkload.command(root, seed + cycle, OPS, 0));
                        LinuxResult r = source.query();
                        consumer.apply(r.changes(), r.listsByName());
                        List<String> differences = consumer.differencesFromFileSystem(10);
                        long history = seed;
                        int c = cycle;
                        assertEquals(List.of(), differences, () -> "history seed " + history + " (replay it alone: -DnameReuse.history="
                                + history + "), cycle " + c + ": " + r.changes().size() + " entries" + (r.changes().size() > 50 ? ""
                                : ": " + r.changes().stream().map(e -> e.kind().wireName() + " " + root.relativize(Path.of(e.path()))
                                        + (e.from() == null ? "" : " from " + root.relativize(Path.of(e.from()))) + " links " + e.links()).toList()));
                        source.bless(r.snapshot());
                    }
                }
            }
        }
    }
}
