package org.modtrack.engine.journal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.storage.DirectoryStorage;

/**
 * A record is acknowledged only once the sync plan that took it, and every plan before that one,
 * completed: a later plan that completes first (an empty one, or one over other files) proves
 * nothing about the records an earlier plan is still syncing.
 */
class SyncPlanOrderTest {
    @TempDir
    Path tmp;

    @Test
    void aLaterPlanCompletingFirstAcknowledgesNothingTheEarlierOneHolds() throws IOException {
        try (DirectoryStorage storage = DirectoryStorage.open(tmp)) {
            Journal journal = Journal.open(storage, Durability.POWER, 4096, 1 << 20).journal();
            SnapshotWriter first = journal.createSnapshot(1);
            SnapshotWriter second = journal.createSnapshot(2);
            journal.adopt(first);
            journal.adopt(second);

            long a = journal.append(RecordType.INTENT, FileId.ofPath("/a"), first, null);
            SyncPlan running = journal.prepareSync(); // takes /a's record, and is still running
            SyncPlan empty = journal.prepareSync(); // nothing left to take
            assertTrue(empty.isEmpty());
            empty.execute();
            journal.completeSync(empty);
            assertFalse(journal.isAcknowledged(a), "an empty plan completed while the one holding the record runs");

            long b = journal.append(RecordType.CARRIED, FileId.ofPath("/b"), second, null);
            SyncPlan later = journal.prepareSync(); // takes /b's record, in another file
            later.execute();
            journal.completeSync(later);
            assertFalse(journal.isAcknowledged(a), "a later plan over another file completed first");
            assertFalse(journal.isAcknowledged(b), "records below it are still being synced");

            running.execute();
            journal.completeSync(running);
            assertTrue(journal.isAcknowledged(a));
            assertTrue(journal.isAcknowledged(b), "every plan up to the later one has completed now");
            journal.closeAll(true);
        }
    }

    @Test
    void aPlanCompletesOnce() throws IOException {
        try (DirectoryStorage storage = DirectoryStorage.open(tmp)) {
            Journal journal = Journal.open(storage, Durability.POWER, 4096, 1 << 20).journal();
            SnapshotWriter w = journal.createSnapshot(1);
            journal.adopt(w);
            journal.append(RecordType.INTENT, FileId.ofPath("/a"), w, null);
            SyncPlan plan = journal.prepareSync();
            plan.execute();
            journal.completeSync(plan);
            assertThrows(IllegalStateException.class, () -> journal.completeSync(plan));
            journal.closeAll(true);
        }
    }
}
