package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modtrack.engine.DirectSteps.DIRECT;
import static org.modtrack.engine.DirectSteps.query;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.storage.DirectoryStorage;

/**
 * A change recorded after the fact while a checkpoint runs belongs to that checkpoint's result. A
 * creation, deletion, rename or attribute change is not repeated once that result is blessed (the
 * consumer has applied it; a rename repeated from where it no longer has the file would be applied
 * wrongly); a content change is, as an intent recorded then is (later writes may rely on it).
 */
class ChangesDuringACheckpointTest {
    @TempDir
    Path state;

    private static final FileId A = FileId.ofHandle(1, 1, new byte[] {1, 2, 3, 4}, "/data/a", null);
    private static final FileId B = FileId.ofPath("/data/b");

    @Test
    void aRenameDuringACheckpointIsInItsResultAndNotAfterItsBless() throws IOException {
        try (DirectoryStorage storage = DirectoryStorage.open(state)) {
            TrackerCore core = TrackerCore.open(storage, TrackerConfig.defaults().withDurability(Durability.PROCESS));
            try {
                CheckpointSteps.begin(core, DIRECT, "default", 0);
                core.recordChange(A.withHint("/data/a2", null), Change.RENAMED, "/data/a", false);
                core.recordChange(B, Change.WRITTEN, null, false);
                QueryResult during = CheckpointSteps.finish(core, DIRECT, lsn -> { }, List.of(), 0);
                assertEquals(2, during.changes().size(), during.toString());
                assertTrue(during.changes().stream().anyMatch(c -> c.file().equals(A) && c.changes().equals(Set.of(Change.RENAMED))
                        && "/data/a".equals(c.renamedFrom())), during.toString());
                CheckpointSteps.bless(core, DIRECT, "default", during.snapshot(), 0);

                QueryResult after = query(core);
                assertEquals(1, after.changes().size(), "only the content change comes again: " + after);
                assertEquals(B, after.changes().getFirst().file());
                assertEquals(Set.of(Change.WRITTEN), after.changes().getFirst().changes());
            } catch (BlessException e) {
                throw new AssertionError(e);
            } finally {
                core.close();
            }
        }
    }
}
