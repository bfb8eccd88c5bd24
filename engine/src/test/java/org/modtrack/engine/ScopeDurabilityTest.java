package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.storage.DirectoryStorage;

/**
 * A directory's scope stands for all its children: a second child's access, which finds the scope
 * recorded in the open period, must wait for that record to be durable like the first, since the
 * directory's ignore mark will let every later child write go on unannounced. (It took the file
 * level's record period, which a scope alone has not, and went on at once: the simulator's model
 * of a power loss found a child written under the mark and named by nothing after the reboot.)
 */
class ScopeDurabilityTest {
    private static final FileId DIR = FileId.ofPath("/data/d");

    @TempDir
    Path state;

    @Test
    void aScopeFoundRecordedWaitsForItsRecord() throws Exception {
        TrackerCore core = TrackerCore.open(DirectoryStorage.open(state), TrackerConfig.defaults().withDurability(Durability.POWER));
        TrackerCore.Intent first = core.preWrite(DIR, Access.SCOPE);
        assertFalse(first.alreadyRecorded());
        assertTrue(first.lsn() > 0);
        assertFalse(core.journal().isAcknowledged(first.lsn()), "nothing synced yet");

        TrackerCore.Intent second = core.preWrite(DIR, Access.SCOPE);
        assertTrue(second.alreadyRecorded());
        assertEquals(first.lsn(), second.lsn(), "the second access waits for the scope's record, not for nothing");
        assertFalse(core.journal().isAcknowledged(second.lsn()));
        core.postWrite(first.token());
        core.postWrite(second.token());
        core.close();
    }
}
