package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.testing.Seeded;

/**
 * A restart knows every name a file was made at, removed from or renamed to: for random histories
 * of a few files recorded the way a kernel source records them (creations and removals at names,
 * hard links' second names, attribute changes that come without a name, writes through any name,
 * renames, checkpoints in between), the names each entry of a result has after the journal is read
 * back (its hint and former names) include all of those, as the live run's do. A name lost this way
 * is a path where a result after a crash does not remove a file the consumer still has. (Names seen
 * only through writes are not journaled again: the handle says where a live file is.)
 */
@ExtendWith(Seeded.class)
class RecoveredNamesTest {
    private static final int HISTORIES = 200;
    private static final int STEPS = 40;
    private static final int FILES = 4;
    private static final String[] NAMES = {"/d/a", "/d/b", "/d/c", "/e/a", "/e/b"};

    @TempDir
    Path scratch;

    @Test
    void aRestartKnowsEveryNameAFileWasMadeRemovedOrRenamedAt(SplittableRandom random) throws Exception {
        for (int h = 0; h < HISTORIES; h++) {
            Path state = Files.createDirectory(scratch.resolve("h" + h));
            history(state, random.split(), h);
        }
    }

    private static void history(Path state, SplittableRandom r, int h) throws Exception {
        List<FileId> files = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            files.add(FileId.ofHandle(1, 1, new byte[] {(byte) i, 0, 0, 0, 1, 2, 3, 4}, null, null));
        }
        TrackerConfig config = TrackerConfig.defaults().withSnapshotBytes(4096, 1 << 20).withBarrierTimeout(Duration.ofMillis(200));
        Map<FileId, TreeSet<String>> live;
        Map<FileId, TreeSet<String>> places = new HashMap<>(); // the names each file was made, removed or renamed at
        List<String> steps = new ArrayList<>();
        try (ChangeTracker t = ChangeTracker.open(state, config)) {
            t.bless(t.query().snapshot());
            for (int s = 0; s < STEPS; s++) {
                FileId f = files.get(r.nextInt(FILES));
                String name = NAMES[r.nextInt(NAMES.length)];
                int kind = r.nextInt(6);
                if (kind == 0 || kind == 1 || kind == 5) {
                    places.computeIfAbsent(f, x -> new TreeSet<>()).add(name);
                }
                switch (kind) {
                    case 0 -> t.recordChange(f.withHint(name, null), Change.CREATED, null, false);
                    case 1 -> t.recordChange(f.withHint(name, null), Change.DELETED, null, false);
                    case 2 -> t.recordChange(f.withHint(null, null), Change.ATTRIBUTES, null, false);
                    case 3 -> t.postWrite(t.preWrite(f.withHint(name, null)).token());
                    case 4 -> t.recordChange(f.withHint(name, null), Change.WRITTEN, null, false);
                    default -> t.recordChange(f.withHint(name, null), Change.RENAMED, NAMES[r.nextInt(NAMES.length)], false);
                }
                steps.add(s + ": " + kind + " " + f + " at " + name);
                if (r.nextInt(10) == 0) {
                    t.query(); // a checkpoint: later records go to the next period
                }
            }
            live = names(t.query());
        }
        try (ChangeTracker t = ChangeTracker.open(state, config)) {
            Map<FileId, TreeSet<String>> recovered = names(t.query());
            for (Map.Entry<FileId, TreeSet<String>> e : places.entrySet()) {
                TreeSet<String> before = live.getOrDefault(e.getKey(), new TreeSet<>());
                TreeSet<String> after = recovered.getOrDefault(e.getKey(), new TreeSet<>());
                assertTrue(before.containsAll(e.getValue()) && after.containsAll(e.getValue()), () -> "history " + h + ": "
                        + e.getKey() + " was made, removed or renamed at " + e.getValue() + "; names live " + before
                        + ", after a restart " + after + "; steps:\n" + String.join("\n", steps));
            }
            assertEquals(live.keySet(), recovered.keySet(), "history " + h + ": the same files");
        }
    }

    private static Map<FileId, TreeSet<String>> names(QueryResult r) {
        Map<FileId, TreeSet<String>> names = new HashMap<>(); // FileId equality is the handle, not the hint
        for (ChangedFile c : r.changes()) {
            TreeSet<String> n = new TreeSet<>(c.formerNames());
            if (c.file().path() != null) {
                n.add(c.file().path());
            }
            names.put(c.file(), n);
        }
        return names;
    }
}
