package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.journal.ConsumerState;

/** Several consumers of one tracker: each blesses on its own, and none can hold the others back without bound. */
class ConsumersTest {
    private static final String INDEXER = "indexer";
    private static final FileId A = FileId.ofPath("/data/a");
    private static final FileId B = FileId.ofPath("/data/b");
    private static final FileId C = FileId.ofPath("/data/c");

    @TempDir
    Path state;

    private static TrackerConfig config() {
        return TrackerConfig.defaults().withSnapshotBytes(4096, 1 << 20).withBarrierTimeout(Duration.ofMillis(200));
    }

    private static void write(ChangeTracker t, FileId f) throws IOException {
        t.postWrite(t.preWrite(f).token());
    }

    private static Set<String> paths(QueryResult r) {
        return ChangeTrackerTest.paths(r);
    }

    @Test
    void eachConsumerStillGetsWhatOnlyTheOtherBlessed() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.addConsumer(INDEXER, -1, -1);
            write(t, A);
            QueryResult mine = t.query();
            QueryResult theirs = t.query(INDEXER);
            assertEquals(Set.of("/data/a"), paths(mine));
            assertEquals(Set.of("/data/a"), paths(theirs));
            assertEquals(INDEXER, theirs.consumer());
            t.bless(mine.snapshot());

            write(t, B);
            assertEquals(Set.of("/data/b"), paths(t.query()), "the default consumer blessed a away");
            QueryResult indexer = t.query(INDEXER);
            assertEquals(Set.of("/data/a", "/data/b"), paths(indexer), "the indexer did not");
            assertEquals(0, indexer.lastBlessed());
            long keptBefore = t.keptFrom();
            t.bless(INDEXER, indexer.snapshot());
            assertTrue(t.keptFrom() > keptBefore, "what both blessed is discarded: " + t.stats());
            assertEquals(Set.of(), paths(t.query(INDEXER)));
            assertEquals(Set.of("/data/b"), paths(t.query()), "the indexer's bless took nothing from the default consumer");
        }
    }

    @Test
    void aConsumerMayBlessOnlyWhatItWasGiven() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.addConsumer(INDEXER, -1, -1);
            write(t, A);
            QueryResult mine = t.query();
            BlessException other = assertThrows(BlessException.class, () -> t.bless(INDEXER, mine.snapshot()));
            assertTrue(other.getMessage().contains("was not returned to consumer " + INDEXER), other.getMessage());
            BlessException unknown = assertThrows(BlessException.class, () -> t.bless("nobody", mine.snapshot()));
            assertTrue(unknown.getMessage().contains("there is no consumer nobody"), unknown.getMessage());
            assertThrows(ConsumerException.class, () -> t.query("nobody"));
            assertEquals(Set.of("/data/a"), paths(t.query(INDEXER)), "the refused bless changed nothing");
        }
    }

    @Test
    void aNewConsumerStartsFromNowAndARemovedOneHoldsNothingBack() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            write(t, A);
            t.query(); // a's period is closed, not blessed
            t.addConsumer(INDEXER, -1, -1);
            write(t, B);
            assertEquals(Set.of("/data/b"), paths(t.query(INDEXER)), "what was recorded before it was added is not its");
            ConsumerException twice = assertThrows(ConsumerException.class, () -> t.addConsumer(INDEXER, -1, -1));
            assertTrue(twice.getMessage().contains("exists already"), twice.getMessage());
            assertThrows(ConsumerException.class, () -> t.addConsumer("bad name", -1, -1));

            QueryResult indexer = t.query(INDEXER);
            t.bless(INDEXER, indexer.snapshot());
            assertEquals(0, t.keptFrom(), "the default consumer keeps everything since tracking began");
            t.removeConsumer(ConsumerState.DEFAULT);
            assertEquals(indexer.snapshot(), t.keptFrom(), "what only the removed consumer kept is discarded");
            assertThrows(ConsumerException.class, t::query, "no default consumer any more");
            assertEquals(List.of(INDEXER), t.consumers().stream().map(ConsumerState::name).toList());
        }
    }

    @Test
    void consumersAndWhatEachKeepsSurviveARestart() throws Exception {
        long issued;
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.addConsumer(INDEXER, 1000, 100);
            write(t, A);
            t.bless(t.query().snapshot());
            issued = t.query(INDEXER).snapshot();
        }
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            ConsumerState indexer = t.consumers().stream().filter(c -> c.name().equals(INDEXER)).findFirst().orElseThrow();
            assertEquals(1000, indexer.ownerUid());
            assertEquals(100, indexer.ownerGid());
            assertEquals(List.of(issued), indexer.issued());
            assertEquals(Set.of("/data/a"), paths(t.query(INDEXER)), "the default consumer's bless did not take it");
            assertEquals(Set.of(), paths(t.query()));
            t.bless(INDEXER, issued); // a result from before the restart may still be blessed
        }
    }

    @Test
    void aViewIsNobodysToBlessAndTakesNoPlaceAmongTheResultsAConsumerMayBless() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            write(t, A);
            QueryResult mine = t.query();
            for (int i = 0; i < ConsumerState.MAX_UNBLESSED_RESULTS + 2; i++) {
                assertEquals(Set.of("/data/a"), paths(t.view(ConsumerState.DEFAULT)));
            }
            QueryResult view = t.view(ConsumerState.DEFAULT);
            assertThrows(BlessException.class, () -> t.bless(view.snapshot()));
            t.bless(mine.snapshot()); // still one of the default consumer's results
        }
    }

    @Test
    void aConsumerThatNeverBlessesIsDroppedAtTheJournalLimitAndToldSo() throws Exception {
        long limit = 64 * 1024;
        try (ChangeTracker t = ChangeTracker.open(state, config().withMaxJournalBytes(limit))) {
            t.addConsumer(INDEXER, -1, -1);
            t.query(INDEXER); // and never blessed
            int next = 0;
            QueryResult dropped = null;
            for (int round = 0; round < 200; round++) {
                for (int i = 0; i < 100; i++) {
                    write(t, FileId.ofPath("/data/f" + next++));
                }
                t.bless(t.query().snapshot()); // the default consumer keeps up
                assertTrue(t.stats().liveSnapshots() * 4096L <= limit + 2 * 4096 || t.consumers().stream()
                        .anyMatch(c -> c.lostReason().contains("was dropped")), "the limit holds: " + t.stats());
                if (t.consumers().stream().anyMatch(c -> c.name().equals(INDEXER) && c.continuityLost())) {
                    dropped = t.query(INDEXER);
                    break;
                }
            }
            assertTrue(dropped != null, "the indexer was dropped once its snapshots reached the limit: " + t.stats());
            assertFalse(dropped.continuity().intact());
            assertTrue(dropped.continuity().reason().contains("consumer indexer was dropped: the journal reached its limit"),
                    dropped.continuity().reason());
            t.bless(INDEXER, dropped.snapshot());
            write(t, C);
            QueryResult after = t.query(INDEXER);
            assertTrue(after.continuity().intact(), "blessing the result that told it restores its continuity");
            assertEquals(Set.of("/data/c"), paths(after));
            assertTrue(t.query().continuity().intact(), "the default consumer was never dropped");
        }
    }

    @Test
    void aConsumerThatStopsBlessingIsDroppedAfterTheTimeout() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config().withConsumerTimeout(Duration.ofMillis(200)))) {
            t.addConsumer(INDEXER, -1, -1);
            write(t, A);
            t.bless(t.query().snapshot());
            Thread.sleep(300); // not a time limit: the clock the timeout is measured with must pass it
            QueryResult mine = t.query(); // drops the indexer (and the default consumer, whose last bless is as old)
            assertTrue(mine.continuity().reason().contains("consumer default was dropped: it had not blessed"),
                    mine.continuity().reason());
            QueryResult indexer = t.query(INDEXER);
            assertTrue(indexer.continuity().reason().contains("consumer indexer was dropped: it had not blessed"),
                    indexer.continuity().reason());
        }
    }

    /** A journal written before consumers existed: its one consumer becomes the default one. */
    @Test
    void aControlFileOfTheFirstVersionIsReadAsTheDefaultConsumers() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            write(t, A);
            t.query();
        }
        byte[] boot = "boot-1".getBytes(StandardCharsets.UTF_8);
        int length = 8 + 4 + 4 + 8 * 4 + 3 + 1 + boot.length + 2 + 4;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("MTCTRL01".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(length);
        b.putLong(0).putLong(2).putLong(0).putLong(0); // lastBlessed, highestIssued, recoveredThrough, lostReportedIn
        b.put((byte) 1).put((byte) Durability.POWER.ordinal()).put((byte) 0);
        b.put((byte) boot.length).put(boot).putShort((short) 0);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, length - 4);
        b.putInt((int) crc.getValue());
        Files.write(state.resolve("control"), b.array());
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            assertEquals(List.of(ConsumerState.DEFAULT), t.consumers().stream().map(ConsumerState::name).toList());
            assertEquals(List.of(1L, 2L), t.consumers().getFirst().issued(), "the first version let any result up to the newest be blessed");
            QueryResult r = t.query();
            assertEquals(Set.of("/data/a"), paths(r));
            t.bless(2); // the result the first version issued may be blessed
        }
    }
}
