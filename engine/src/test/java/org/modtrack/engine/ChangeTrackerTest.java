package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The protocol's rules, one by one, on a real state directory. */
class ChangeTrackerTest {
    @TempDir
    Path state;

    private static final FileId A = FileId.ofPath("/data/a");
    private static final FileId B = FileId.ofPath("/data/b");
    private static final FileId C = FileId.ofPath("/data/c");

    private static TrackerConfig config() {
        return TrackerConfig.defaults().withSnapshotBytes(4096, 1 << 20).withBarrierTimeout(Duration.ofMillis(200));
    }

    static Set<String> paths(QueryResult r) {
        return r.changes().stream().map(c -> c.file().path()).collect(Collectors.toSet());
    }

    private static void write(ChangeTracker t, FileId f) throws IOException {
        t.postWrite(t.preWrite(f).token());
    }

    @Test
    void secondIntentInAPeriodIsAlreadyRecordedAndWritesNothing() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            WriteTicket first = t.preWrite(A);
            WriteTicket second = t.preWrite(A);
            assertFalse(first.alreadyRecorded());
            assertTrue(second.alreadyRecorded());
            assertEquals(1, t.stats().records());
            assertTrue(t.postWrite(first.token()));
            assertTrue(t.postWrite(second.token()));
            assertFalse(t.postWrite(first.token()), "a token ends once");
        }
    }

    private static Set<String> freed(QueryResult r) {
        return r.changes().stream().filter(ChangedFile::freed).map(c -> c.file().path()).collect(Collectors.toSet());
    }

    @Test
    void aFreedFileIsNotedOnItsRecordInMemoryOnly() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            assertFalse(t.recordFreed(A), "no record of A: nothing to note it on");
            t.recordChange(A, Change.DELETED, null, false);
            t.recordChange(B, Change.DELETED, null, false);
            assertTrue(t.recordFreed(A));
            QueryResult first = t.query();
            assertEquals(Set.of("/data/a", "/data/b"), paths(first));
            assertEquals(Set.of("/data/a"), freed(first));
            assertEquals(Set.of("/data/a"), freed(t.query()), "an unblessed record keeps its note");
        }
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            QueryResult recovered = t.query();
            assertEquals(Set.of("/data/a", "/data/b"), paths(recovered));
            assertEquals(Set.of(), freed(recovered), "not journaled: after a restart, whoever names the result looks");
        }
    }

    @Test
    void queryReturnsTheChangesAndTheNewIdAndResetsAlreadyRecorded() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            write(t, A);
            write(t, B);
            QueryResult r = t.query();
            assertEquals(Set.of("/data/a", "/data/b"), paths(r));
            assertEquals(0, r.lastBlessed());
            assertEquals(2, r.snapshot());
            assertTrue(r.continuity().intact());
            assertFalse(r.recovered());
            assertFalse(t.preWrite(A).alreadyRecorded(), "the checkpoint resets the already-recorded state");
        }
    }

    @Test
    void unblessedChangesAreReturnedAgainAndBlessDiscardsThem() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            write(t, A);
            QueryResult first = t.query();
            write(t, B);
            QueryResult second = t.query();
            assertEquals(Set.of("/data/a", "/data/b"), paths(second), "at least once: A was never blessed");
            t.bless(second.snapshot());
            write(t, C);
            QueryResult third = t.query();
            assertEquals(second.snapshot(), third.lastBlessed());
            assertEquals(Set.of("/data/c"), paths(third));
            assertTrue(first.snapshot() < second.snapshot());
        }
    }

    @Test
    void intentDuringAPeriodAfterAQuerySurvivesTheBlessOfThatQuery() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            write(t, A);
            QueryResult r = t.query();
            write(t, A); // a new write after the result: must be reported again
            t.bless(r.snapshot());
            assertEquals(Set.of("/data/a"), paths(t.query()));
        }
    }

    @Test
    void badBlessesAreRefusedAndChangeNothing() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            write(t, A);
            QueryResult r1 = t.query();
            QueryResult r2 = t.query();
            BlessException never = assertThrows(BlessException.class, () -> t.bless(r2.snapshot() + 5));
            assertTrue(never.getMessage().contains("never returned"), never.getMessage());
            t.bless(r2.snapshot());
            t.bless(r2.snapshot()); // twice is harmless
            BlessException older = assertThrows(BlessException.class, () -> t.bless(r1.snapshot()));
            assertTrue(older.getMessage().contains("older than consumer default's last blessed"), older.getMessage());
            assertEquals(r2.snapshot(), t.stats().keptFrom());
        }
    }

    @Test
    void aWriteThatNeverEndsIsCarriedAndDoesNotHangTheCheckpoint() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            WriteTicket stuck = t.preWrite(A);
            write(t, B);
            QueryResult r = t.query();
            assertEquals(Set.of("/data/a", "/data/b"), paths(r));
            assertEquals(1, r.carriedCount());
            assertTrue(r.changes().stream().filter(ChangedFile::carried).allMatch(c -> c.file().equals(A)));
            assertTrue(r.barrierWait().compareTo(Duration.ofMillis(200)) >= 0, "waited for the timeout");
            t.bless(r.snapshot());
            QueryResult again = t.query();
            assertEquals(Set.of("/data/a"), paths(again), "a write still in flight is reported until it ends");
            t.postWrite(stuck.token());
            t.bless(again.snapshot());
            QueryResult after = t.query();
            assertEquals(Set.of("/data/a"), paths(after), "carried into the period after the last checkpoint");
            t.bless(after.snapshot());
            assertEquals(Set.of(), paths(t.query()));
        }
    }

    @Test
    void aDirectoryCarriedIntoAPeriodIsStillRecordedAsADirectoryWrittenThere() throws Exception {
        FileId dir = FileId.ofPath("/data/dir");
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            WriteTicket scope = t.preWrite(dir, Access.SCOPE); // its record still syncing: in flight at the checkpoint
            QueryResult r = t.query(); // the barrier times out: carried into the new period, as written
            t.bless(r.snapshot());
            assertEquals(0, t.recordChange(dir, Change.WRITTEN, null, true),
                    "a repeat: the carry of a scope says it is a directory, written in this period");
            t.postWrite(scope.token());
            ChangedFile listed = t.query().changes().stream().filter(c -> c.file().equals(dir)).findFirst().orElseThrow();
            assertTrue(listed.directory() && listed.changes().contains(Change.WRITTEN), listed.toString());
        }
    }

    /**
     * A directory known only by its scope record (and a carry of it) is still a directory after a
     * restart, which knows entries from their records alone: results that name directories list it.
     */
    @Test
    void aResultOfMoreRecordsThanTheBoundIsRefusedAndComesWholeOnceAllowed() throws Exception {
        FileId d = FileId.ofPath("/data/d");
        long blessed;
        try (ChangeTracker t = ChangeTracker.open(state, config().withMaxResultRecords(2))) {
            write(t, A);
            write(t, B);
            QueryResult first = t.query();
            assertEquals(Set.of("/data/a", "/data/b"), paths(first), "at the bound: answered");
            blessed = first.snapshot();
            t.bless(blessed);
            write(t, A);
            write(t, B);
            write(t, C);
            ResultTooLargeException e = assertThrows(ResultTooLargeException.class, t::query);
            assertEquals(3, e.records());
            assertEquals(2, e.bound());
            write(t, d); // after the refused checkpoint: kept with the rest
            assertThrows(ResultTooLargeException.class, t::query, "still too large");
            assertThrows(BlessException.class, () -> t.bless(blessed + 1), "a refused result's id was never issued");
        }
        try (ChangeTracker t = ChangeTracker.open(state, config().withMaxResultRecords(4))) {
            QueryResult all = t.query();
            assertEquals(Set.of("/data/a", "/data/b", "/data/c", "/data/d"), paths(all), "every record kept through the refusals");
            assertEquals(blessed, all.lastBlessed());
            assertTrue(all.continuity().intact());
            assertFalse(all.recovered(), "a clean stop after refusals is clean");
        }
    }

    @Test
    void aResultItsAdmissionRefusesIsRefusedAndComesWholeOnceAdmitted() throws Exception {
        List<Long> asked = new ArrayList<>();
        AtomicBoolean room = new AtomicBoolean(true);
        ResultAdmission admission = (records, weight) -> {
            asked.add(weight);
            if (!room.get()) {
                throw new ResultTooLargeException(records, weight, 10, 9);
            }
        };
        try (ChangeTracker t = ChangeTracker.open(state, config().withMaxResultRecords(10).withResultAdmission(admission))) {
            t.recordChange(A, Change.RENAMED, "/data/a0", false);
            write(t, B);
            long blessed = t.query().snapshot();
            assertEquals(List.of(3L), asked, "asked once, with the weight the bound counts (a record with names twice)");
            t.bless(blessed);
            write(t, C);
            room.set(false);
            ResultTooLargeException e = assertThrows(ResultTooLargeException.class, t::query);
            assertEquals(9, e.heldByOthers());
            write(t, A); // after the refused checkpoint: kept with the rest
            assertThrows(BlessException.class, () -> t.bless(blessed + 1), "a refused result's id was never issued");
            room.set(true);
            QueryResult all = t.query();
            assertEquals(Set.of("/data/a", "/data/c"), paths(all), "every record kept through the refusal");
            assertEquals(blessed, all.lastBlessed());
            assertTrue(all.continuity().intact());
            t.bless(all.snapshot());
        }
    }

    @Test
    void aRecordWithNamesCountsTwiceAgainstTheBound() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config().withMaxResultRecords(3))) {
            t.recordChange(A, Change.RENAMED, "/data/a0", false);
            write(t, B);
            assertEquals(Set.of("/data/a", "/data/b"), paths(t.query()), "a renamed file and a written one: 3");
            t.recordChange(C, Change.RENAMED, "/data/c0", false);
            ResultTooLargeException e = assertThrows(ResultTooLargeException.class, t::query);
            assertEquals(3, e.records());
            assertEquals(5, e.weight());
        }
    }

    @Test
    void aScopedDirectoryIsStillADirectoryAfterARestart() throws Exception {
        FileId dir = FileId.ofPath("/data/dir");
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            WriteTicket scope = t.preWrite(dir, Access.SCOPE);
            t.query(); // carried: the scope is still in progress
            t.postWrite(scope.token());
        }
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            ChangedFile entry = t.query().changes().stream().filter(c -> c.file().equals(dir)).findFirst().orElseThrow();
            assertTrue(entry.directory() && entry.changes().contains(Change.WRITTEN), entry.toString());
        }
    }

    /**
     * A deletion first recorded with no path (read after its directory was gone), then named (once
     * the directory's own deletion came): the name is in the journal, so a restart still has it.
     */
    @Test
    void aNameGivenToAChangeRecordedWithoutOneSurvivesARestart() throws Exception {
        FileId nameless = FileId.ofHandle(7, 1, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, null, null);
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            assertTrue(t.recordChange(nameless, Change.DELETED, null, false) > 0);
            assertTrue(t.recordChange(nameless.withHint("/data/gone/f", null), Change.DELETED, null, false) > 0,
                    "the name is journaled, though the deletion was already recorded");
            assertEquals(0, t.recordChange(nameless.withHint("/data/gone/f", null), Change.DELETED, null, false),
                    "a name already journaled is not written again");
        }
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            ChangedFile entry = t.query().changes().stream().filter(c -> c.file().equals(nameless)).findFirst().orElseThrow();
            assertEquals("/data/gone/f", entry.file().path(), entry.toString());
        }
    }

    /**
     * A file created and removed, whose nameless record (its link count falling as it was removed)
     * is journaled after its named ones: a restart keeps its name, as the live run did, so a result
     * after recovery removes it where the consumer may have it instead of rescanning the root.
     */
    @Test
    void aNamelessRecordAfterANamedOneKeepsTheNameThroughARestart() throws Exception {
        FileId named = FileId.ofHandle(7, 1, new byte[] {8, 7, 6, 5, 4, 3, 2, 1}, "/data/.cookie-1", null);
        FileId nameless = named.withHint(null, null);
        String live;
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.recordChange(named, Change.CREATED, null, false);
            t.recordChange(named, Change.DELETED, null, false);
            assertTrue(t.recordChange(nameless, Change.ATTRIBUTES, null, false) > 0, "an attribute change is journaled");
            live = t.query().changes().stream().filter(c -> c.file().equals(named)).findFirst().orElseThrow().file().path();
        }
        assertEquals("/data/.cookie-1", live, "the live run keeps the name");
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            ChangedFile entry = t.query().changes().stream().filter(c -> c.file().equals(named)).findFirst().orElseThrow();
            assertEquals(live, entry.file().path(), entry.toString());
        }
    }

    /**
     * A file with two names (a hard link), both removed in one period: both names are journaled,
     * so a restart still removes it at each; only the first used to be, and the result after a
     * SIGKILL left the second in the consumer's view.
     */
    @Test
    void bothNamesOfAHardLinkedFileRemovedInOnePeriodSurviveARestart() throws Exception {
        FileId first = FileId.ofHandle(7, 1, new byte[] {9, 9, 9, 9, 1, 1, 1, 1}, "/data/h403", null);
        FileId second = first.withHint("/data/h438", null);
        Set<String> live;
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.bless(t.query().snapshot());
            assertTrue(t.recordChange(first, Change.DELETED, null, false) > 0);
            assertTrue(t.recordChange(second, Change.DELETED, null, false) > 0, "the second name is journaled");
            t.recordChange(second.withHint(null, null), Change.ATTRIBUTES, null, false);
            live = names(t.query().changes().stream().filter(c -> c.file().equals(first)).findFirst().orElseThrow());
        }
        assertEquals(Set.of("/data/h403", "/data/h438"), live, "the live run knows both names");
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            ChangedFile entry = t.query().changes().stream().filter(c -> c.file().equals(first)).findFirst().orElseThrow();
            assertEquals(live, names(entry), entry.toString());
        }
    }

    /** The paths an entry says the file had: its hint and its former names. */
    private static Set<String> names(ChangedFile c) {
        Set<String> names = new TreeSet<>(c.formerNames());
        if (c.file().path() != null) {
            names.add(c.file().path());
        }
        return names;
    }

    @Test
    void aCheckpointWaitsForWritesInProgressOfTheClosingPeriod() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config().withBarrierTimeout(Duration.ofSeconds(30)))) {
            WriteTicket w = t.preWrite(A);
            Thread ender = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                t.postWrite(w.token());
            });
            QueryResult r = t.query();
            ender.join();
            assertEquals(0, r.carriedCount());
            assertTrue(r.barrierWait().compareTo(Duration.ofMillis(50)) >= 0, "waited for the write");
        }
    }

    @Test
    void recoveryAfterACrashReturnsEveryUnblessedRecordAndSaysRecovered() throws Exception {
        long issued;
        ChangeTracker t = ChangeTracker.open(state, config());
        write(t, A);
        issued = t.query().snapshot();
        write(t, B);
        t.abandon();

        try (ChangeTracker again = ChangeTracker.open(state, config())) {
            assertFalse(again.previousRunWasClean());
            QueryResult r = again.query();
            assertTrue(r.recovered());
            assertEquals(Set.of("/data/a", "/data/b"), paths(r));
            again.bless(issued); // a result returned before the crash may still be blessed
            QueryResult next = again.query();
            assertEquals(Set.of("/data/b"), paths(next));
            assertTrue(next.recovered(), "B was recorded before the crash and is still unblessed");
            again.bless(next.snapshot());
            assertFalse(again.query().recovered());
        }
    }

    private static Set<Change> changesOf(QueryResult r, FileId f) {
        return r.changes().stream().filter(c -> c.file().equals(f)).findFirst().orElseThrow().changes();
    }

    @Test
    void scopesRecordedAheadAreDurableAlreadyRecordedAndLeaveNothingInProgress() throws Exception {
        FileId a = FileId.ofPath("/data/a");
        FileId b = FileId.ofPath("/data/b");
        ChangeTracker t = ChangeTracker.open(state, config());
        t.preRecord(List.of(a, b, a), Access.SCOPE);
        assertEquals(2, t.stats().records(), "one record per directory");
        assertEquals(0, t.stats().writesInProgress());
        WriteTicket first = t.preWrite(a, Access.SCOPE);
        t.postWrite(first.token());
        assertTrue(first.alreadyRecorded(), "the first access finds its directory recorded");
        t.preRecord(List.of(b), Access.SCOPE);
        assertEquals(2, t.stats().records(), "recording ahead again in the same period adds nothing");
        t.abandon();
        try (ChangeTracker after = ChangeTracker.open(state, config())) {
            QueryResult recovered = after.query();
            assertEquals(Set.of(Change.SCOPE), changesOf(recovered, a), "recorded before preRecord returned");
            assertEquals(Set.of(Change.SCOPE), changesOf(recovered, b));
        }
    }

    @Test
    void aScopeIsRecordedOncePerPeriodApartFromTheFileLevelIntentsAndSurvivesACrash() throws Exception {
        FileId dir = FileId.ofPath("/data");
        ChangeTracker t = ChangeTracker.open(state, config());
        WriteTicket first = t.preWrite(dir, Access.SCOPE);
        t.postWrite(first.token());
        assertFalse(first.alreadyRecorded());
        WriteTicket again = t.preWrite(dir, Access.SCOPE);
        t.postWrite(again.token());
        assertTrue(again.alreadyRecorded(), "one record per directory per period");
        assertEquals(1, t.stats().records());
        QueryResult r = t.query();
        assertEquals(Set.of(Change.SCOPE), changesOf(r, dir));
        WriteTicket next = t.preWrite(dir, Access.SCOPE);
        t.postWrite(next.token());
        assertFalse(next.alreadyRecorded(), "a new period records the scope again");
        t.abandon();
        try (ChangeTracker after = ChangeTracker.open(state, config())) {
            QueryResult recovered = after.query();
            assertTrue(recovered.recovered());
            assertEquals(Set.of(Change.SCOPE), changesOf(recovered, dir), "the directory to rescan survives a crash");
        }
    }

    @Test
    void aFileLevelIntentDoesNotMakeAScopeLookRecorded() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            write(t, A);
            WriteTicket scope = t.preWrite(A, Access.SCOPE);
            t.postWrite(scope.token());
            assertFalse(scope.alreadyRecorded());
            assertEquals(Set.of(Change.WRITTEN, Change.SCOPE), changesOf(t.query(), A));
        }
    }

    @Test
    void aWriteRecordedAfterTheFactIsReportedOncePerPeriodAndSurvivesACrash() throws Exception {
        ChangeTracker t = ChangeTracker.open(state, config());
        t.recordChange(A, Change.WRITTEN, null, false);
        assertEquals(1, t.stats().records());
        t.recordChange(A, Change.WRITTEN, null, false);
        assertEquals(1, t.stats().records(), "a repeat in the period adds nothing");
        write(t, B);
        t.recordChange(B, Change.WRITTEN, null, false);
        assertEquals(2, t.stats().records(), "announced before: nothing to add");
        QueryResult r = t.query();
        assertEquals(Set.of(Change.WRITTEN), changesOf(r, A));
        assertThrows(IllegalArgumentException.class, () -> t.recordChange(A, Change.SCOPE, null, false));
        assertThrows(IllegalArgumentException.class, () -> t.recordChange(A, Change.READ, null, false));
        t.abandon();
        try (ChangeTracker after = ChangeTracker.open(state, config())) {
            assertEquals(Set.of(Change.WRITTEN), changesOf(after.query(), A));
        }
    }

    @Test
    void aCleanStopIsNotARecovery() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config().withDurability(Durability.PROCESS))) {
            write(t, A);
        }
        try (ChangeTracker t = ChangeTracker.open(state, config().withDurability(Durability.PROCESS))) {
            assertTrue(t.previousRunWasClean());
            QueryResult r = t.query();
            assertFalse(r.recovered());
            assertEquals(Set.of("/data/a"), paths(r));
        }
    }

    @Test
    void continuityLossIsReportedUntilAResultThatReportedItIsBlessed() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.markContinuityLost("the event queue overflowed.");
            QueryResult r = t.query();
            assertFalse(r.continuity().intact());
            assertTrue(r.continuity().reason().contains("overflowed"));
            assertFalse(t.query().continuity().intact(), "still unblessed");
            t.bless(r.snapshot());
            assertTrue(t.query().continuity().intact());
        }
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            assertTrue(t.query().continuity().intact(), "a restored continuity stays restored");
        }
    }

    @Test
    void aStateDirectoryCannotBeOpenedTwice() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            IOException e = assertThrows(IOException.class, () -> ChangeTracker.open(state, config()));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
    }

    @Test
    void tooManyWritesInProgressIsAClearError() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config().withMaxWritesInProgress(2))) {
            t.preWrite(A);
            t.preWrite(B);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.preWrite(C));
            assertTrue(e.getMessage().contains("too many writes in progress"), e.getMessage());
        }
    }

    private static FileId handle(int n, String path) {
        return FileId.ofHandle(9, 1, new byte[] {(byte) n, 1, 2, 3}, path, null);
    }

    private static ChangedFile only(QueryResult r, FileId f) {
        return r.changes().stream().filter(c -> c.file().equals(f)).findFirst().orElseThrow();
    }

    @Test
    void aReadIsRecordedDurablyButReportedAsReadUnlessAWriteFollows() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.postWrite(t.preWrite(A, Access.READ).token());
            t.postWrite(t.preWrite(B, Access.READ).token());
            WriteTicket again = t.preWrite(B, Access.WRITE);
            assertTrue(again.alreadyRecorded(), "a recorded read stands for the period (an ignore mark may follow)");
            t.postWrite(again.token());
            QueryResult r = t.query();
            assertEquals(Set.of(Change.READ), only(r, A).changes());
            assertEquals(Set.of(Change.WRITTEN), only(r, B).changes());
            assertEquals(2, t.stats().records(), "the write after the read needed no second record");
        }
    }

    @Test
    void namespaceChangesAreReportedWithTheRenameSourceTheConsumerLastSaw() throws Exception {
        FileId f = handle(1, "/m/p1");
        FileId dir = handle(2, "/m/newdir");
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.recordChange(f, Change.CREATED, null, false);
            t.recordChange(handle(1, "/m/p1"), Change.RENAMED, "/m/p0", false);
            t.recordChange(dir, Change.RENAMED, "/m/olddir", true);
            QueryResult r1 = t.query();
            ChangedFile c = only(r1, f);
            assertEquals(Set.of(Change.CREATED, Change.RENAMED), c.changes());
            assertEquals("/m/p0", c.renamedFrom());
            assertTrue(only(r1, dir).directory());
            t.recordChange(handle(1, "/m/p2"), Change.RENAMED, "/m/p1", false);
            t.bless(r1.snapshot());
            QueryResult r2 = t.query();
            ChangedFile after = only(r2, f);
            assertEquals(Set.of(Change.RENAMED), after.changes(), "the creation was in a blessed period");
            assertEquals("/m/p1", after.renamedFrom(), "the consumer last saw it at p1");
            assertEquals("/m/p2", after.file().path());
        }
    }

    @Test
    void recoveryRebuildsEveryKindOfChange() throws Exception {
        FileId f = handle(3, "/m/x");
        ChangeTracker t = ChangeTracker.open(state, config());
        t.postWrite(t.preWrite(A, Access.READ).token());
        t.postWrite(t.preWrite(B).token());
        t.recordChange(f, Change.CREATED, null, false);
        t.recordChange(handle(3, "/m/y"), Change.RENAMED, "/m/x", false);
        t.recordChange(handle(3, "/m/y"), Change.DELETED, null, false);
        t.close(); // clean, so that the after-the-fact records are synced
        try (ChangeTracker again = ChangeTracker.open(state, config())) {
            QueryResult r = again.query();
            assertEquals(Set.of(Change.READ), only(r, A).changes());
            assertEquals(Set.of(Change.WRITTEN), only(r, B).changes());
            ChangedFile x = only(r, f);
            assertEquals(Set.of(Change.CREATED, Change.RENAMED, Change.DELETED), x.changes());
            assertEquals("/m/x", x.renamedFrom());
            assertEquals("/m/y", x.file().path());
        }
    }

    @Test
    void aReadFileKeepsTheStampFromItsFirstUnblessedRecord() throws Exception {
        StatStamp before = new StatStamp(7, 10, 1_000, 1_000);
        StatStamp later = new StatStamp(7, 11, 2_000, 2_000); // written under an ignore mark, then read again
        FileId first = FileId.ofHandle(1, 1, new byte[] {7}, "/m/r", before);
        FileId second = FileId.ofHandle(1, 1, new byte[] {7}, "/m/r2", later);
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.postWrite(t.preWrite(first, Access.READ).token());
            t.postWrite(t.preWrite(second, Access.READ).token()); // already recorded
            t.recordChange(second.withHint("/m/r3", null), Change.ATTRIBUTES, null, false);
            QueryResult r1 = t.query();
            t.postWrite(t.preWrite(second, Access.READ).token()); // recorded again in the next period
            QueryResult r2 = t.query(); // nothing blessed: still the first stamp
            for (QueryResult r : List.of(r1, r2)) {
                ChangedFile c = only(r, first);
                assertEquals(before, c.file().stamp(), "the baseline is the stamp before the hidden write");
            }
            assertEquals("/m/r2", only(r2, first).file().path(), "the path hint is the newest");
        }
    }

    @Test
    void aFileRemembersTheNamesItHadSinceTheLastBlessedResult() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            t.postWrite(t.preWrite(handle(5, "/m/a")).token());
            t.recordChange(handle(5, "/m/b"), Change.RENAMED, "/m/a", false);
            t.postWrite(t.preWrite(handle(5, "/m/link")).token()); // written through a hard link
            QueryResult r1 = t.query();
            ChangedFile c = only(r1, handle(5, "/m/link"));
            assertEquals(List.of("/m/a", "/m/b"), c.formerNames());
            assertEquals("/m/link", c.file().path());
            t.recordChange(handle(5, "/m/c"), Change.RENAMED, "/m/link", false); // after r1 was made
            t.bless(r1.snapshot());
            assertEquals(List.of("/m/link"), only(t.query(), handle(5, "/m/c")).formerNames(),
                    "only the names the file had before the blessed result was made are forgotten");
        }
    }

    @Test
    void everyNameAFileWasRenamedFromIsOneOfItsNamesWithinTheBound() throws Exception {
        try (ChangeTracker t = ChangeTracker.open(state, config())) {
            // A file with links at /m/a, /m/w and /m/x: renamed from /m/a, written through /m/w,
            // then renamed from /m/x, a name the tracker never saw it under before.
            t.recordChange(handle(5, "/m/b"), Change.RENAMED, "/m/a", false);
            t.postWrite(t.preWrite(handle(5, "/m/w")).token());
            t.recordChange(handle(5, "/m/y"), Change.RENAMED, "/m/x", false);
            for (int i = 0; i < 10_000; i++) {
                t.recordChange(handle(5, "/m/z" + (i + 1)), Change.RENAMED, "/m/z" + i, false);
            }
            ChangedFile c = only(t.query(), handle(5, "/m/z10000"));
            assertEquals("/m/a", c.renamedFrom(), "where the consumer has it: the first rename since the last bless");
            assertTrue(c.formerNames().contains("/m/x"), c.formerNames().toString());
            assertEquals(ChangedFile.MAX_FORMER_NAMES, c.formerNames().size(), "bounded: " + c.formerNames());
            assertTrue(c.moreNames() || !c.namesLostIn().isEmpty(), "names past the bound are not silently dropped");
        }
    }
}
