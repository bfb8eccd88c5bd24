package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
 * the file system. Each history is a fresh tree ({@link #OPS} operations), a first copy, then rounds of
 * writes ({@link #OPS_A_ROUND} operations each) and a query; a failure names the seed that replays it
 * ({@code -DnameReuse.history=SEED} replays one history alone).
 *
 * <p>A round is short so that results stay precise: a file renamed through more names than a record
 * keeps, in more directories than it keeps, makes its result rescan the whole root
 * ({@code ChangedFile.MAX_FORMER_NAMES}, {@code MAX_LOST_DIRECTORIES}), which any consumer's copy
 * survives. With 300 operations a round every result was such a rescan; with 60, about one in twelve.
 */
@ExtendWith(Seeded.class)
class NameReuseTest {
    private static final long MIB = 1L << 20;
    private static final int HISTORIES = Integer.getInteger("nameReuse.histories", 4);
    private static final int CYCLES = 3;
    /** Rounds of {@link #everyResultBringsTheConsumersCopyToTheFileSystem}. */
    private static final int ROUNDS = 6;
    private static final int OPS = 300;
    private static final int OPS_A_ROUND = 60;
    /** Histories of {@link #resultsAskedAgainBeforeABlessBringTheBlessedCopyToTheFileSystem}. */
    private static final int HISTORIES_ASKED_AGAIN = Integer.getInteger("nameReuse.historiesAskedAgain", 2);
    /** Operations a round there: as short as the other test's, for the same reason. */
    private static final int OPS_ASKED_AGAIN = 30;
    /** File names a directory there: enough for a directory the workload makes to be kept ({@link BornListings#MIN_NAMES}). */
    private static final int NAMES_ASKED_AGAIN = 2 * BornListings.MIN_NAMES;

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
        int results = 0;
        int rootRescans = 0;
        for (int h = 0; h < (only != null ? 1 : HISTORIES); h++) {
            long seed = only != null ? only : random.nextLong();
            try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
                Path root = m.mountPoint();
                Command.run(NameReuseWorkload.command(root, seed, OPS, 200));
                try (LinuxSource source = LinuxSource.open(root, Files.createTempDirectory(state, "h"), TrackerConfig.defaults())) {
                    source.bless(source.query().snapshot());
                    MirrorConsumer consumer = MirrorConsumer.copyOf(root);
                    for (int round = 1; round <= ROUNDS; round++) {
                        Command.run(NameReuseWorkload.command(root, seed + round, OPS_A_ROUND, 0));
                        LinuxResult r = source.query();
                        assertApplied(r, consumer, root, "history seed " + seed + " (replay it alone: -DnameReuse.history="
                                + seed + "), round " + round);
                        results++;
                        rootRescans += r.changes().size() == 1 && r.changes().get(0).kind() == PathChange.Kind.RESCAN ? 1 : 0;
                        source.bless(r.snapshot());
                    }
                }
            }
        }
        // A result that rescans the root fits any copy: most must name what changed for the test to mean anything.
        assertTrue(2 * rootRescans <= results, rootRescans + " of " + results + " results rescanned the whole root");
    }

    /**
     * The same histories, over more file names a directory, with a consumer that asks again before
     * it blesses: after each round of writes a result, a few more writes, then a second result, each
     * applied to the copy the consumer blessed. The second names the new directories that did not
     * change since the first from the first's listings ({@link BornListings}). Four new directories
     * of 40 files are made in each round, which the workload does not touch: between the results,
     * three get a random change each, or none, and one stays quiet, so that some are named from
     * kept listings (one whose files took the inode numbers of objects the result knows is listed
     * again instead).
     */
    @Test
    void resultsAskedAgainBeforeABlessBringTheBlessedCopyToTheFileSystem(SplittableRandom random) throws Exception {
        Long only = Long.getLong("nameReuse.history");
        int histories = only != null ? 1 : HISTORIES_ASKED_AGAIN;
        int reused = 0;
        for (int h = 0; h < histories; h++) {
            long seed = only != null ? only : random.nextLong();
            try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
                Path root = m.mountPoint();
                Command.run(NameReuseWorkload.command(root, seed, OPS, 200, NAMES_ASKED_AGAIN));
                try (LinuxSource source = LinuxSource.open(root, Files.createTempDirectory(state, "h"), TrackerConfig.defaults())) {
                    source.bless(source.query().snapshot());
                    MirrorConsumer blessed = MirrorConsumer.copyOf(root);
                    for (int cycle = 1; cycle <= CYCLES; cycle++) {
                        String said = "history seed " + seed + " (replay it alone: -DnameReuse.history=" + seed + "), cycle " + cycle;
                        Command.run(NameReuseWorkload.command(root, seed + cycle, OPS_ASKED_AGAIN, 0, NAMES_ASKED_AGAIN));
                        LinuxSourceTest.shPastTheMargin(root, "for d in a b c q; do mkdir n" + cycle + "$d;"
                                + " for i in $(seq 1 40); do echo $i > n" + cycle + "$d/g$i; done; done");
                        assertApplied(source.query(), blessed.copy(), root, said + ", first result");
                        Command.run(NameReuseWorkload.command(root, seed + 1000 + cycle, OPS_ASKED_AGAIN / 3, 0, NAMES_ASKED_AGAIN));
                        LinuxSourceTest.sh(root, changesInTheNewDirectories(new SplittableRandom(seed + cycle), cycle));
                        LinuxResult again = source.query();
                        reused += source.bornListings().lastReused();
                        MirrorConsumer view = blessed.copy();
                        assertApplied(again, view, root, said + ", asked again");
                        source.bless(again.snapshot());
                        blessed = view;
                    }
                }
            }
        }
        assertTrue(reused > 0, "no directory named from a kept listing: the quiet new directories were all listed again");
    }

    /**
     * One change, or none, in each of the round's new directories between the two results: one that
     * leaves its entries as they were (a file written) or one that changes them (a file made,
     * removed, renamed, moved to the next directory, or linked there), which a kept listing must
     * not hide.
     */
    private static String changesInTheNewDirectories(SplittableRandom random, int cycle) {
        StringBuilder script = new StringBuilder();
        String[] dirs = {"n" + cycle + "a", "n" + cycle + "b", "n" + cycle + "c"};
        for (int d = 0; d < dirs.length; d++) {
            String dir = dirs[d];
            String next = dirs[(d + 1) % dirs.length];
            int f = 1 + random.nextInt(40);
            script.append(switch (random.nextInt(7)) {
                case 0 -> "";
                case 1 -> "echo more >> " + dir + "/g" + f + ";";
                case 2 -> "echo new > " + dir + "/new;";
                case 3 -> "rm -f " + dir + "/g" + f + ";";
                case 4 -> "mv " + dir + "/g" + f + " " + dir + "/h" + f + " 2>/dev/null || true;";
                case 5 -> "mv " + dir + "/g" + f + " " + next + "/m" + f + " 2>/dev/null || true;";
                default -> "ln " + dir + "/g" + f + " " + next + "/l" + f + " 2>/dev/null || true;";
            });
        }
        return script.append(" true").toString();
    }

    /** Applies {@code r} to {@code consumer}, whose copy must then equal the file system. */
    private static void assertApplied(LinuxResult r, MirrorConsumer consumer, Path root, String said) throws Exception {
        consumer.apply(r.changes(), r.listsByName());
        List<String> differences = consumer.differencesFromFileSystem(10);
        assertEquals(List.of(), differences, () -> said + ": " + r.changes().size() + " entries" + (r.changes().size() > 50 ? ""
                : ": " + r.changes().stream().map(e -> e.kind().wireName() + " " + root.relativize(Path.of(e.path()))
                        + (e.from() == null ? "" : " from " + root.relativize(Path.of(e.from()))) + " links " + e.links()).toList()));
    }
}
