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
 * identities, non-ASCII names, two file systems), hint changes, side columns set and taken away,
 * removals, compactions and copies.
 */
@ExtendWith(Seeded.class)
class FileTableTest {
    /** What the table should hold for one identity: its side columns' values in {@link #SIDE}'s order. */
    private record Model(String hint, StatStamp stamp, int highest, List<Integer> side) {}

    private static final int[] SIDE = {FileTable.DELETED_IN, FileTable.ATTRIBUTES_IN, FileTable.SCOPE_IN};

    /** Sets each side column of entry {@code e} to 0 or {@code step} at random, or leaves it; returns the values. */
    private static List<Integer> setSide(FileTable t, int e, List<Integer> before, int step, SplittableRandom r) {
        List<Integer> after = new ArrayList<>(before);
        for (int k = 0; k < SIDE.length; k++) {
            int choice = r.nextInt(8);
            if (choice < 2) {
                int value = choice == 0 ? 0 : step;
                t.setId(e, SIDE[k], value);
                after.set(k, value);
            }
        }
        return after;
    }

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
                    model.put(f, new Model(f.path(), f.stamp(), step, setSide(t, e, List.of(0, 0, 0), step, r)));
                } else {
                    t.sighted(e, f, true, step, true);
                    t.setId(e, FileTable.HIGHEST, step);
                    String hint = f.hasHandle() && f.path() == null ? m.hint() : f.path();
                    model.put(f, new Model(hint, m.stamp() != null ? m.stamp() : f.stamp(), step,
                            setSide(t, e, m.side(), step, r)));
                }
            } else if (op < 71) {
                int cut = step - r.nextInt(2000);
                t.retain(e -> t.id(e, FileTable.HIGHEST) >= cut);
                model.values().removeIf(m -> m.highest() < cut);
            }
        }
        // A copy of every entry, as a result being built gives a changed entry, holds the same.
        FileTable copy = new FileTable();
        for (int e = 0; e < t.size(); e++) {
            copy.copyFrom(t, e);
        }
        for (FileTable table : List.of(t, copy)) {
            table.checkInvariants();
            assertEquals(model.size(), table.size());
            for (var m : model.entrySet()) {
                int e = table.find(m.getKey());
                assertTrue(e >= 0, "lost " + m.getKey());
                FileId got = table.fileId(e);
                assertEquals(m.getKey(), got);
                assertEquals(m.getValue().hint(), got.path(), "hint of " + m.getKey());
                assertEquals(m.getValue().stamp(), got.stamp(), "stamp of " + m.getKey());
                assertEquals(m.getValue().highest(), table.id(e, FileTable.HIGHEST));
                for (int k = 0; k < SIDE.length; k++) {
                    assertEquals((long) m.getValue().side().get(k), table.id(e, SIDE[k]), "side column " + k + " of " + m.getKey());
                }
            }
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
        assertEquals(ChangedFile.MAX_FORMER_NAMES, t.namesOrNull(t.find(files.get(3))).formerNamesFrom(0).size());
    }
}
