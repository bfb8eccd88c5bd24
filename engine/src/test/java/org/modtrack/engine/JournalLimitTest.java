package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.journal.JournalFullException;

/**
 * The bound on the snapshots a consumer that never blesses makes the tracker keep
 * ({@link TrackerConfig#maxJournalBytes()}): records are refused at it, a query is refused while a
 * result waits to be blessed, nothing recorded is lost, and a bless makes room again.
 */
class JournalLimitTest {
    private static final long LIMIT = 64 * 1024;

    @TempDir
    Path state;

    private static TrackerConfig config() {
        return TrackerConfig.defaults().withSnapshotBytes(4096, 1 << 20).withMaxJournalBytes(LIMIT)
                .withBarrierTimeout(Duration.ofMillis(100));
    }

    private static FileId file(int i) {
        return FileId.ofPath("/data/f" + i);
    }

    /** Writes files from {@code from} on until the journal refuses one; returns the first refused index. */
    private static int writeUntilFull(ChangeTracker t, int from, int atMost, Set<String> recorded) throws IOException {
        long inProgress = t.stats().writesInProgress();
        for (int i = from; i < from + atMost; i++) {
            WriteTicket ticket;
            try {
                ticket = t.preWrite(file(i));
            } catch (JournalFullException e) {
                assertTrue(e.getMessage().contains("bless a result"), e.getMessage());
                assertEquals(inProgress, t.stats().writesInProgress(), "a refused write is not registered");
                return i;
            }
            recorded.add(file(i).path());
            t.postWrite(ticket.token());
        }
        return -1;
    }

    @Test
    void aConsumerThatNeverBlessesHitsTheLimitAndABlessMakesRoom() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            Set<String> recorded = new HashSet<>();
            int next = 0;
            QueryResult last = null;
            JournalFullException noQuery = null;
            for (int round = 0; round < 1000 && noQuery == null; round++) {
                int refused = writeUntilFull(t, next, 150, recorded);
                next = refused < 0 ? next + 150 : refused;
                try {
                    last = t.query(); // never blessed
                } catch (JournalFullException e) {
                    noQuery = e; // the snapshots reached the limit: the next query would add one more
                }
            }
            assertTrue(noQuery != null, "the journal filled up");
            assertTrue(last != null, "at least one result was made before the limit");
            assertTrue(t.stats().liveSnapshots() > 2, "it took several unblessed snapshots: " + t.stats());
            int refused = writeUntilFull(t, next, 100_000, recorded);
            assertTrue(refused >= 0, "records are refused at the limit");

            QueryResult waiting = last;
            noQuery = assertThrows(JournalFullException.class, t::query);
            assertTrue(noQuery.getMessage().contains("bless result " + waiting.snapshot()), noQuery.getMessage());

            t.bless(waiting.snapshot());
            QueryResult after = t.query();
            assertTrue(ChangeTrackerTest.paths(after).containsAll(
                    recorded.stream().filter(p -> !ChangeTrackerTest.paths(waiting).contains(p)).toList()),
                    "everything recorded after the blessed result is still reported");
            t.bless(after.snapshot());
            t.postWrite(t.preWrite(file(refused)).token()); // recording resumes
            assertEquals(Set.of(file(refused).path()), ChangeTrackerTest.paths(t.query()));
        }
    }

    @Test
    void aQueryIsAllowedAtTheLimitWhenNoResultWaitsToBeBlessed() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            Set<String> recorded = new HashSet<>();
            int refused = writeUntilFull(t, 0, 100_000, recorded);
            assertTrue(refused > 0, "one period filled the journal");
            WriteTicket inFlight = null;
            QueryResult r = t.query(); // nothing to bless: a query is the only way on
            assertEquals(recorded, ChangeTrackerTest.paths(r));
            assertThrows(JournalFullException.class, t::query, "now a result waits to be blessed");
            t.bless(r.snapshot());
            inFlight = t.preWrite(file(refused));
            QueryResult carried = t.query();
            assertEquals(1, carried.carriedCount(), "a write in flight is carried, limit or not");
            t.postWrite(inFlight.token());
        }
    }

    @Test
    void aWriteInFlightAtTheLimitIsCarried() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            WriteTicket stuck = t.preWrite(file(-1));
            int refused = writeUntilFull(t, 0, 100_000, new HashSet<>());
            assertTrue(refused > 0);
            QueryResult r = t.query();
            assertEquals(1, r.carriedCount(), "the CARRIED record is exempt from the limit");
            assertTrue(ChangeTrackerTest.paths(r).contains(file(-1).path()));
            t.postWrite(stuck.token());
        }
    }

    @Test
    void recoveryKeepsStateOverALoweredLimitAndRefusesOnlyNewRecords() throws Exception {
        Set<String> recorded = new HashSet<>();
        try (ChangeTracker t = ChangeTracker.open(state, config().withMaxJournalBytes(4 * LIMIT))) {
            assertEquals(-1, writeUntilFull(t, 0, 3000, recorded));
            t.query();
        }
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            int refused = writeUntilFull(t, 5000, 100_000, recorded);
            assertTrue(refused >= 5000, "the open snapshot may fill what it has, not grow");
            assertTrue(refused - 5000 < 4096 / 20, "records of at least 20 bytes filled the first 4096 bytes: " + refused);
            JournalFullException noQuery = assertThrows(JournalFullException.class, t::query);
            assertTrue(noQuery.getMessage().contains("bless result 2"), noQuery.getMessage());
            t.bless(2);
            QueryResult r = t.query();
            assertTrue(r.continuity().intact(), "nothing was lost, only refused");
            t.bless(r.snapshot());
            t.postWrite(t.preWrite(file(refused)).token());
        }
    }

    @Test
    void theLimitMustHoldTwoNewSnapshots() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrackerConfig.defaults().withMaxJournalBytes(1 << 20));
        assertTrue(e.getMessage().contains("at least two new snapshots"), e.getMessage());
    }
}
