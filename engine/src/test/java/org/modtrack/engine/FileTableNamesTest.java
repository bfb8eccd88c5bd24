package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.testing.Seeded;

/**
 * A file's renames and former names ({@link FileTable.Names}, which keeps the first of each in
 * fields and the others in arrays) against lists that keep them all plainly: the same answers after
 * any mix of renames, names remembered, copies and blesses.
 */
@ExtendWith(Seeded.class)
class FileTableNamesTest {
    /** The plain model: every kept rename and former name in a list. */
    private static final class Model {
        final List<long[]> renameSnapshots = new ArrayList<>(); // {snapshot}
        final List<String> renameFroms = new ArrayList<>();
        final List<String> formerNames = new ArrayList<>();
        final List<Long> formerUntil = new ArrayList<>();

        void renamed(long snapshot, String from) {
            if (renameSnapshots.isEmpty() || renameSnapshots.getLast()[0] != snapshot) {
                renameSnapshots.add(new long[] {snapshot});
                renameFroms.add(from);
            }
        }

        /** Whether the name was kept (else the real one counts it as lost, which this model does not follow). */
        void rememberName(String name, long snapshot) {
            int at = formerNames.indexOf(name);
            if (at >= 0) {
                formerUntil.set(at, Math.max(formerUntil.get(at), snapshot));
            } else if (formerNames.size() < ChangedFile.MAX_FORMER_NAMES) {
                formerNames.add(name);
                formerUntil.add(snapshot);
            }
        }

        void forgetBefore(long id) {
            for (int i = renameSnapshots.size() - 1; i >= 0; i--) {
                if (renameSnapshots.get(i)[0] < id) {
                    renameSnapshots.remove(i);
                    renameFroms.remove(i);
                }
            }
            for (int i = formerNames.size() - 1; i >= 0; i--) {
                if (formerUntil.get(i) < id) {
                    formerNames.remove(i);
                    formerUntil.remove(i);
                }
            }
        }

        boolean renamedSince(long kept) {
            return renameSnapshots.stream().anyMatch(s -> s[0] >= kept);
        }

        String firstRenameFrom(long kept) {
            for (int i = 0; i < renameSnapshots.size(); i++) {
                if (renameSnapshots.get(i)[0] >= kept) {
                    return renameFroms.get(i);
                }
            }
            throw new AssertionError("no rename since " + kept);
        }

        List<String> formerNamesFrom(long kept) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < formerNames.size(); i++) {
                if (formerUntil.get(i) >= kept) {
                    out.add(formerNames.get(i));
                }
            }
            return out;
        }
    }

    @Test
    void answersAsListsOfEveryRenameAndFormerNameWould(SplittableRandom random) {
        for (int round = 0; round < 3_000; round++) {
            FileTable.Names names = new FileTable.Names();
            Model model = new Model();
            long snapshot = 1 + random.nextInt(5);
            long blessed = 0;
            int steps = 1 + random.nextInt(random.nextInt(4) == 0 ? 60 : 6);
            for (int step = 0; step < steps; step++) {
                String where = "round " + round + ", step " + step;
                switch (random.nextInt(10)) {
                    case 0, 1, 2 -> {
                        // Names from a small set, so that one comes back; sometimes not known.
                        String from = random.nextInt(12) == 0 ? null : "/d" + random.nextInt(3) + "/f" + random.nextInt(12);
                        if (from != null) {
                            names.rememberName(from, snapshot);
                            model.rememberName(from, snapshot);
                        }
                        names.renamed(snapshot, from);
                        model.renamed(snapshot, from);
                    }
                    case 3, 4 -> {
                        String name = "/d" + random.nextInt(3) + "/g" + random.nextInt(12);
                        names.rememberName(name, snapshot);
                        model.rememberName(name, snapshot);
                    }
                    case 5, 6 -> snapshot += 1 + random.nextInt(2);
                    case 7 -> {
                        blessed = Math.min(snapshot, blessed + 1 + random.nextInt(3));
                        names.forgetBefore(blessed);
                        model.forgetBefore(blessed);
                    }
                    case 8 -> names = names.copy();
                    default -> { } // only look
                }
                for (long kept = Math.max(0, blessed - 1); kept <= snapshot + 1; kept++) {
                    assertEquals(model.renamedSince(kept), names.renamedSince(kept), where + ", kept from " + kept);
                    if (model.renamedSince(kept)) {
                        assertEquals(model.firstRenameFrom(kept), names.firstRenameFrom(kept), where + ", kept from " + kept);
                    }
                    assertEquals(model.formerNamesFrom(kept), names.formerNamesFrom(kept), where + ", kept from " + kept);
                }
            }
        }
    }
}
