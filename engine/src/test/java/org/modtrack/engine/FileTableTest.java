package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.testing.Seeded;

/**
 * The packed table against a plain map, over random identities (short and long handles, path
 * identities, non-ASCII names, two file systems), hint changes, removals and compactions.
 */
@ExtendWith(Seeded.class)
class FileTableTest {
    /** What the table should hold for one identity. */
    private record Model(String hint, StatStamp stamp, int highest) {}

    private static FileId randomFile(SplittableRandom r, int n) {
        int i = r.nextInt(n);
        String dir = "/d" + (i % 7) + (i % 3 == 0 ? "/ü" : "");
        String path = dir + "/f" + i + (i % 5 == 0 ? "-é" : "");
        return switch (i % 4) {
            case 0 -> FileId.ofPath(path);
            case 1 -> FileId.ofHandle(1, 1, new byte[] {(byte) i, (byte) (i >> 8), 3, 4, 5, 6, 7, 8}, path,
                    new StatStamp(i, r.nextLong(), 3, 4));
            case 2 -> FileId.ofHandle(2, 77, bytes(i, 20), r.nextInt(4) == 0 ? null : path, null);
            default -> FileId.ofHandle(1, 1, bytes(i, 1 + i % 8), path, new StatStamp(i, 2, 3, 4));
        };
    }

    private static byte[] bytes(int i, int n) {
        byte[] b = new byte[n];
        for (int k = 0; k < n; k++) {
            b[k] = (byte) (i * 31 + k);
        }
        return b;
    }

    @Test
    void behavesLikeAMap(SplittableRandom r) {
        FileTable t = new FileTable();
        Map<FileId, Model> model = new HashMap<>();
        int n = 50 + r.nextInt(3000);
        for (int step = 0; step < 20_000; step++) {
            FileId f = randomFile(r, n);
            int op = r.nextInt(100);
            if (op < 70) {
                int e = t.find(f);
                Model m = model.get(f);
                assertEquals(m == null, e < 0, "found " + f);
                if (e < 0) {
                    e = t.add(f);
                    t.setId(e, FileTable.HIGHEST, step);
                    model.put(f, new Model(f.path(), f.stamp(), step));
                } else {
                    t.sighted(e, f, true, step, true);
                    t.setId(e, FileTable.HIGHEST, step);
                    String hint = f.hasHandle() && f.path() == null ? m.hint() : f.path();
                    model.put(f, new Model(hint, m.stamp() != null ? m.stamp() : f.stamp(), step));
                }
            } else if (op < 71) {
                int cut = step - r.nextInt(2000);
                t.retain(e -> t.id(e, FileTable.HIGHEST) >= cut);
                model.values().removeIf(m -> m.highest() < cut);
            }
        }
        t.checkInvariants();
        assertEquals(model.size(), t.size());
        for (var m : model.entrySet()) {
            int e = t.find(m.getKey());
            assertTrue(e >= 0, "lost " + m.getKey());
            FileId got = t.fileId(e);
            assertEquals(m.getKey(), got);
            assertEquals(m.getValue().hint(), got.path(), "hint of " + m.getKey());
            assertEquals(m.getValue().stamp(), got.stamp(), "stamp of " + m.getKey());
            assertEquals(m.getValue().highest(), t.id(e, FileTable.HIGHEST));
        }
    }

    @Test
    void aFileRenamedOverAndOverKeepsItsArenaBounded() {
        FileTable t = new FileTable();
        List<FileId> files = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            files.add(FileId.ofHandle(1, 1, bytes(i, 8), "/a/f" + i, null));
            t.add(files.get(i));
        }
        String longName = "x".repeat(3000);
        for (int round = 0; round < 2000; round++) {
            for (int i = 0; i < 10; i++) {
                int e = t.find(files.get(i));
                t.sighted(e, files.get(i).withHint("/b/" + longName + round, null), true, round, true);
            }
        }
        // 20,000 hints of 3 KB were replaced: far beyond 1 MiB, so the arena was compacted on the way.
        assertTrue(!t.wantsCompaction(), "compacted");
        t.checkInvariants();
        assertEquals("/b/" + longName + 1999, t.hint(t.find(files.get(3))));
        assertEquals(ChangedFile.MAX_FORMER_NAMES, t.rareOrNull(t.find(files.get(3))).formerNames.length);
    }
}
