package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
 * A result is built from records frozen when its checkpoint ends, without the writers' lock:
 * writes during the build change copies, which join the table when the build ends.
 */
class ResultBuildWindowTest {
    @TempDir
    Path state;

    private static final FileId A = FileId.ofPath("/data/a");
    private static final FileId B = FileId.ofPath("/data/b");

    private static void write(TrackerCore core, FileId f, Access access) throws IOException {
        core.postWrite(core.preWrite(f, access).token());
    }

    @Test
    void writesDuringTheBuildAreNotInTheResultButInTheNext() throws Exception {
        try (DirectoryStorage storage = DirectoryStorage.open(state);
             var closer = new AutoCloseable() {
                 TrackerCore core = TrackerCore.open(storage, TrackerConfig.defaults().withDurability(Durability.PROCESS));

                 @Override
                 public void close() throws IOException {
                     core.close();
                 }
             }) {
            TrackerCore core = closer.core;
            write(core, A, Access.READ);
            CheckpointSteps.begin(core, DIRECT, "default", 0);
            TrackerCore.Finished finished = CheckpointSteps.close(core, DIRECT, List.of(), 0);

            write(core, A, Access.WRITE); // changes A's frozen entry: a copy takes it
            write(core, B, Access.WRITE); // a new entry
            assertTrue(core.recordFreed(B)); // noted on the copy too
            core.checkInvariants();
            assertEquals(2, core.stats().trackedFiles());
            assertThrows(IllegalStateException.class, () -> core.commitControl(finished.control().withBlessed("default", 2, 0, 2)),
                    "no bless discards what a result is built from");

            QueryResult r = CheckpointSteps.issue(core, DIRECT, lsn -> { }, finished);
            assertEquals(1, r.changes().size(), r.toString());
            assertEquals(Set.of(Change.READ), r.changes().getFirst().changes(), "A as it was when the checkpoint ended");
            assertFalse(r.changes().getFirst().freed());
            core.checkInvariants();

            QueryResult next = query(core);
            assertEquals(2, next.changes().size(), next.toString());
            assertTrue(next.changes().stream().allMatch(ChangedFile::written), next.toString());
            assertEquals(List.of(B), next.changes().stream().filter(ChangedFile::freed).map(ChangedFile::file).toList(),
                    "a note made while the result was built is merged back with its entry");
            assertEquals(2, core.stats().trackedFiles());
        }
    }
}
