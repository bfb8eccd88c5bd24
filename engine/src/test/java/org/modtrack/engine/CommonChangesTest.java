package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modtrack.engine.DirectSteps.DIRECT;
import static org.modtrack.engine.DirectSteps.query;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.storage.DirectoryStorage;

/**
 * The changes most files have (created, created then written, a directory recorded as written)
 * are kept in the table's pages, not in its side map of rare fields (the memory goal: at most 100
 * bytes per file), and results say the same of them as before: across a result built while files
 * change, a bless, a clean restart and a crash.
 */
class CommonChangesTest {
    @TempDir
    Path state;

    private static final FileId NEW1 = handle(1, "/m/new1"); // created, then written
    private static final FileId NEW2 = handle(2, "/m/new2"); // created
    private static final FileId DIR = handle(3, "/m/dir"); // a directory recorded as written
    private static final FileId SUB = handle(4, "/m/dir/sub"); // a directory created
    private static final FileId GONE = handle(5, "/m/gone"); // deleted: a rare field
    private static final FileId NEW3 = handle(6, "/m/new3");
    private static final FileId DIR2 = handle(7, "/m/dir2");
    private static final FileId NEW4 = handle(8, "/m/new4");
    private static final FileId DIR3 = handle(9, "/m/dir3");

    private static FileId handle(int i, String path) {
        return FileId.ofHandle(1, 1, new byte[] {(byte) i, 0, 0, 0, 0, 0, 0, 0}, path, null);
    }

    /** Each file's changes and whether it is a directory ("/" after the changes). */
    private static Map<String, String> summary(QueryResult r) {
        Map<String, String> m = new TreeMap<>();
        for (ChangedFile c : r.changes()) {
            m.put(c.file().path(), new TreeSet<>(c.changes()) + (c.directory() ? "/" : "")); // in the enum's order
        }
        return m;
    }

    @Test
    void createdFilesAndWrittenDirectoriesCostNoRareEntryAndAreReportedAsBefore() throws Exception {
        DirectoryStorage storage = DirectoryStorage.open(state);
        TrackerCore core = TrackerCore.open(storage, TrackerConfig.defaults().withDurability(Durability.PROCESS));
        // The notification group's way: after the fact.
        assertTrue(core.recordChange(NEW1, Change.CREATED, null, false) > 0);
        assertTrue(core.recordChange(NEW1, Change.WRITTEN, null, false) > 0);
        assertTrue(core.recordChange(NEW2, Change.CREATED, null, false) > 0);
        assertTrue(core.recordChange(DIR, Change.WRITTEN, null, true) > 0);
        assertTrue(core.recordChange(SUB, Change.CREATED, null, true) > 0);
        assertEquals(0, core.rareEntries(), "created files and written directories are in the pages");
        assertEquals(0, core.recordChange(NEW1, Change.WRITTEN, null, false), "already recorded");
        assertEquals(0, core.recordChange(NEW2, Change.CREATED, null, false), "already recorded");
        assertEquals(0, core.recordChange(DIR, Change.WRITTEN, null, true), "already recorded");
        assertEquals(0, core.recordChange(SUB, Change.CREATED, null, true), "already recorded");
        assertTrue(core.recordChange(SUB, Change.CREATED, null, false) > 0, "not a repeat: the earlier record was of a directory");
        core.recordChange(GONE, Change.DELETED, null, false);
        assertEquals(1, core.rareEntries(), "a deletion is a rare field");
        core.checkInvariants();
        Map<String, String> first = Map.of(
                "/m/new1", "[WRITTEN, CREATED]",
                "/m/new2", "[CREATED]",
                "/m/dir", "[WRITTEN]/",
                "/m/dir/sub", "[CREATED]/",
                "/m/gone", "[DELETED]");

        // A result built while files change: the changes go to copies of their entries.
        CheckpointSteps.begin(core, DIRECT, "default", 0);
        TrackerCore.Finished finished = CheckpointSteps.close(core, DIRECT, List.of(), 0);
        core.recordChange(NEW2, Change.WRITTEN, null, false); // a frozen entry, copied
        core.recordChange(DIR, Change.WRITTEN, null, true); // a frozen directory, copied
        core.recordChange(NEW3, Change.CREATED, null, false);
        core.recordChange(DIR2, Change.WRITTEN, null, true);
        core.checkInvariants();
        assertEquals(1, core.rareEntries(), "only the deletion, frozen");
        QueryResult r1 = CheckpointSteps.issue(core, DIRECT, lsn -> { }, finished);
        assertEquals(first, summary(r1), "as the checkpoint ended");
        assertEquals(1, core.rareEntries());

        CheckpointSteps.bless(core, DIRECT, "default", r1.snapshot(), 0);
        core.checkInvariants();
        assertEquals(0, core.rareEntries(), "the deletion was blessed");
        Map<String, String> second = Map.of(
                "/m/new2", "[WRITTEN]", // created in a blessed period
                "/m/dir", "[WRITTEN]/",
                "/m/new3", "[CREATED]",
                "/m/dir2", "[WRITTEN]/");
        assertEquals(second, summary(query(core)));

        core.close();
        storage.close();
        storage = DirectoryStorage.open(state);
        core = TrackerCore.open(storage, TrackerConfig.defaults().withDurability(Durability.PROCESS));
        core.checkInvariants();
        assertEquals(0, core.rareEntries(), "read back from the journal after a clean stop");
        assertEquals(second, summary(query(core)));

        core.recordChange(NEW4, Change.CREATED, null, false);
        core.recordChange(NEW4, Change.WRITTEN, null, false);
        core.recordChange(DIR3, Change.WRITTEN, null, true);
        core.journal().closeAll(false); // a crash: nothing synced, no clean-stop marker
        storage.close();
        try (DirectoryStorage again = DirectoryStorage.open(state)) {
            TrackerCore recovered = TrackerCore.open(again, TrackerConfig.defaults().withDurability(Durability.PROCESS));
            recovered.checkInvariants();
            assertEquals(0, recovered.rareEntries(), "recovered from the journal after a crash");
            Map<String, String> third = new TreeMap<>(second);
            third.put("/m/new4", "[WRITTEN, CREATED]");
            third.put("/m/dir3", "[WRITTEN]/");
            QueryResult r = query(recovered);
            assertTrue(r.recovered());
            assertEquals(third, summary(r));
            recovered.close();
        }
    }
}
