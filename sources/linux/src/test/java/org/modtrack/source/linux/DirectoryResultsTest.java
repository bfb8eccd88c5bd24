package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.modtrack.source.linux.LinuxSourceTest.sh;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.testing.LoopMount;

/** Results that name directories ({@link LinuxSourceOptions.Detail#DIRECTORIES}) on real loop-mounted file systems. */
class DirectoryResultsTest {
    private static final long MIB = 1 << 20;
    private static final LinuxSourceOptions DIRECTORIES =
            LinuxSourceOptions.defaults().withDetail(LinuxSourceOptions.Detail.DIRECTORIES);

    @TempDir
    Path state;

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "DirectoryResultsTest skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    /** Kind by path relative to the mount ("." for the mount itself). */
    private static Map<String, PathChange.Kind> kinds(LinuxResult r, Path mount) {
        Map<String, PathChange.Kind> out = new TreeMap<>();
        for (PathChange c : r.changes()) {
            String rel = mount.relativize(Path.of(c.path())).toString();
            out.put(rel.isEmpty() ? "." : rel, c.kind());
        }
        return out;
    }

    private static Map<String, PathChange.Kind> listed(String... dirs) {
        Map<String, PathChange.Kind> out = new TreeMap<>();
        for (String d : dirs) {
            out.put(d, PathChange.Kind.LIST);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    void namesEveryDirectoryWhoseEntriesOrFilesChangedAndNothingElse(String fsType) throws Exception {
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> LoopMount.unavailableReason(fsType).get());
        try (LoopMount m = LoopMount.create(fsType, fsType.equals("xfs") ? 300 * MIB : 128 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "mkdir written created deleted from to chmodded truncated read-only quiet;"
                    + " for d in written deleted from chmodded truncated read-only quiet; do echo seed > $d/f; done; sync");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), DIRECTORIES)) {
                sh(root, "echo more >> written/f; echo new > created/n; rm deleted/f; mv from/f to/f;"
                        + " chmod 600 chmodded/f; truncate -s 0 truncated/f; cat read-only/f > /dev/null;"
                        + " mkdir made; echo z > made/z");
                LinuxResult r = source.query();
                assertTrue(r.continuity().intact(), r.continuity().toString());
                assertEquals(listed(".", "written", "created", "deleted", "from", "to", "chmodded", "truncated", "made"),
                        kinds(r, root), "each directory whose entries or files changed, once, and no file");
                assertTrue(r.changes().stream().allMatch(PathChange::directory), r.changes().toString());
                source.bless(r.snapshot());

                sh(root, "echo again >> written/f");
                assertEquals(listed("written"), kinds(source.query(), root), "only what changed after the bless");
            }
        }
    }

    @Test
    void aDirectoryIsMutedAfterItsFirstChangeUntilTheNextCheckpoint() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "mkdir busy; sync");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), DIRECTORIES)) {
                long mutedBefore = source.eventCounts().directoriesMuted();
                sh(root, "echo x > busy/n0");
                // The first change mutes the directory once the reader has recorded it: wait for that,
                // so that how fast the reader runs beside the shell (a loaded machine) does not matter.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (source.eventCounts().directoriesMuted() == mutedBefore && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                long eventsBefore = source.eventCounts().notification();
                int files = 2_000;
                sh(root, "i=1; while [ $i -lt " + files + " ]; do echo x > busy/n$i; i=$((i+1)); done");
                LinuxResult r = source.query();
                long events = source.eventCounts().notification() - eventsBefore;
                // Unmuted, each file raises three events (create, modify, close); muted, none should come.
                assertTrue(events < files / 10, events + " notification events for " + files + " files: the mute did not hold");
                assertEquals(mutedBefore + 1, source.eventCounts().directoriesMuted(), "busy muted once");
                assertEquals(listed("busy"), kinds(r, root));
                source.bless(r.snapshot());

                sh(root, "echo again >> busy/n1");
                assertEquals(listed("busy"), kinds(source.query(), root), "the checkpoint's flush unmuted it");
                assertEquals(mutedBefore + 2, source.eventCounts().directoriesMuted(), "muted again in its new period");
            }
        }
    }

    @Test
    void aDirectorysOwnAttributeChangeIsItsOwnListingNotItsParents() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "mkdir -p p/d p/e; sync");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), DIRECTORIES)) {
                source.bless(source.query().snapshot());
                sh(root, "chmod 700 p/e"); // the kernel names it as e's own event (".")
                assertEquals(listed("p/e"), kinds(source.query(), root), "e's listing covers e itself");
            }
        }
    }

    @Test
    void aRemovedTreeIsNamedByItsParentsListingAndItsOwnDeletionWithoutARescan() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "mkdir -p keep tree/a/b; for d in tree tree/a tree/a/b; do echo seed > $d/f; done; sync");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), DIRECTORIES)) {
                sh(root, "echo touch >> tree/a/f"); // recorded before it goes: named by its last path
                sh(root, "rm -rf tree");
                LinuxResult r = source.query();
                assertTrue(r.continuity().intact(), r.continuity().toString());
                Map<String, PathChange.Kind> k = kinds(r, root);
                assertEquals(PathChange.Kind.LIST, k.get("."), "the tree's parent lists it gone: " + k);
                // The tree's own removal is an entry of its parent's, which the listing covers; what was
                // recorded below it while it existed may be removed as well (the order of the events
                // the reader meets decides), never read.
                k.forEach((path, kind) -> assertTrue(path.equals(".") || kind == PathChange.Kind.DELETED, k.toString()));
                assertTrue(k.values().stream().allMatch(kind -> kind == PathChange.Kind.LIST || kind == PathChange.Kind.DELETED),
                        "no rescan: " + k);
                assertTrue(k.keySet().stream().allMatch(p -> p.equals(".") || p.startsWith("tree")), k.toString());
            }
        }
    }

    @Test
    void directoryResultsNeedDirectoryRecords() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DIRECTORIES.withGranularity(LinuxSourceOptions.Granularity.FILE));
        assertEquals("results that name directories need directory records (granularity DIRECTORY).", e.getMessage());
        assertEquals(Set.of(LinuxSourceOptions.Detail.FILES), Set.of(LinuxSourceOptions.defaults().detail()));
    }
}
