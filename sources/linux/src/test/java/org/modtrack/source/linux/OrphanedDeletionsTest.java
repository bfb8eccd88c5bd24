package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.FileId;

/** Deletions in directories already gone: kept, resolved by the directory's own deletion, and handed to a successor. */
class OrphanedDeletionsTest {
    private static FileId handle(int n) {
        return FileId.ofHandle(7, 1, new byte[] {(byte) n, 1, 2, 3, 4, 5, 6, 7}, null, null);
    }

    @Test
    void orphansSavedByOneReaderAreNamedByTheNextWhenTheirDirectoryGoes() throws Exception {
        OrphanedDeletions first = new OrphanedDeletions();
        first.add(handle(1), new OrphanedDeletions.Orphan(handle(2), "file", false));
        first.add(handle(1), new OrphanedDeletions.Orphan(handle(3), "sub", true));
        first.add(handle(3), new OrphanedDeletions.Orphan(handle(4), "deep", false));
        byte[] saved = first.encode(Handover.ORPHANS_BYTES);

        OrphanedDeletions next = new OrphanedDeletions();
        assertTrue(next.restore(saved));
        assertEquals(3, next.waiting());
        List<String> named = new ArrayList<>();
        next.resolve(handle(1), "/data/gone", (child, path, directory) -> named.add(path + (directory ? "/" : "")));
        assertEquals(List.of("/data/gone/file", "/data/gone/sub/", "/data/gone/sub/deep"), named);
        assertEquals(0, next.waiting());
    }

    @Test
    void nothingSavedRestoresToNothingAndMalformedBytesAddNothing() {
        OrphanedDeletions o = new OrphanedDeletions();
        assertTrue(o.restore(new byte[0]));
        assertEquals(0, o.waiting());
        assertFalse(o.restore(new byte[] {0, 0, 0, 1, 9}), "a directory cut short");
        assertEquals(0, o.waiting());
    }

    @Test
    void moreThanTheRoomAllowsIsNotEncoded() {
        OrphanedDeletions o = new OrphanedDeletions();
        for (int i = 0; i < 100; i++) {
            o.add(handle(1), new OrphanedDeletions.Orphan(handle(2), "name-" + i, false));
        }
        assertNull(o.encode(256));
        assertTrue(o.encode(Handover.ORPHANS_BYTES).length > 256);
    }
}
