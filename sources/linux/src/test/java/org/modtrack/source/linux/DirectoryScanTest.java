package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.modtrack.source.linux.LinuxSourceTest.sh;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.FileId;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Statx;
import org.modtrack.testing.LoopMount;

/** Files named by a scan of their recorded directory ({@link LinuxSourceOptions.Naming#SCAN}) on real loop-mounted file systems. */
class DirectoryScanTest {
    private static final long MIB = 1 << 20;
    private static final LinuxSourceOptions SCAN = LinuxSourceOptions.defaults().withNaming(LinuxSourceOptions.Naming.SCAN);

    @TempDir
    Path state;

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "DirectoryScanTest skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    /** "kind path" (and " from X" for a rename), relative to the mount, in the result's order. */
    private static List<String> entries(LinuxResult r, Path mount) {
        return r.changes().stream().map(c -> c.kind().name().toLowerCase() + " " + rel(mount, c.path())
                + (c.from() == null ? "" : " from " + rel(mount, c.from()))).sorted().toList();
    }

    private static String rel(Path mount, String path) {
        String r = mount.relativize(Path.of(path)).toString();
        return r.isEmpty() ? "." : r;
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    void namesEveryChangedFileAndNoUnchangedOne(String fsType) throws Exception {
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> LoopMount.unavailableReason(fsType).get());
        try (LoopMount m = LoopMount.create(fsType, fsType.equals("xfs") ? 300 * MIB : 128 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "mkdir written created deleted from to chmodded truncated read-only quiet linked;"
                    + " for d in written deleted from chmodded truncated read-only quiet linked; do echo seed > $d/f; echo seed > $d/g; done; sync; sleep 0.3");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), SCAN)) {
                source.bless(source.query().snapshot());
                sh(root, "echo more >> written/f; echo new > created/n; rm deleted/f; mv from/f to/f;"
                        + " chmod 600 chmodded/f; truncate -s 0 truncated/f; cat read-only/f > /dev/null;"
                        + " mkdir made; echo z > made/z; ln -s f linked/s;"
                        + " sleep 0.3"); // past the margin before the checkpoint, so the next result need not name them again
                LinuxResult r = source.query();
                assertTrue(r.continuity().intact(), r.continuity().toString());
                assertEquals(List.of("created linked/s", "created made", "created made/z", "created created/n",
                        "deleted deleted/f", "modified chmodded/f", "modified truncated/f", "modified written/f",
                        "renamed to/f from from/f").stream().sorted().toList(), entries(r, root),
                        "each changed file by name (the rename's ctime makes it changed too), no sibling g, no read");
                source.bless(r.snapshot());

                sh(root, "echo again >> written/g");
                assertEquals(List.of("modified written/g"), entries(source.query(), root), "only what changed after the bless");
            }
        }
    }

    @Test
    void aDirectoryIsMutedAfterItsFirstChangeAndItsFilesAreStillNamed() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "mkdir busy; echo old > busy/untouched; sync; sleep 0.3");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), SCAN)) {
                source.bless(source.query().snapshot());
                long mutedBefore = source.eventCounts().directoriesMuted();
                sh(root, "echo x > busy/n0");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (source.eventCounts().directoriesMuted() == mutedBefore && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                long eventsBefore = source.eventCounts().notification();
                int files = 2_000;
                sh(root, "i=1; while [ $i -lt " + files + " ]; do echo x > busy/n$i; i=$((i+1)); done; rm busy/n7; mv busy/n8 busy/m8;"
                        + " sleep 0.3");
                LinuxResult r = source.query();
                long events = source.eventCounts().notification() - eventsBefore;
                // Unmuted, each file raises three events (create, modify, close); muted, only the removal and the rename.
                assertTrue(events < files / 10, events + " notification events for " + files + " files: the mute did not hold");
                assertEquals(mutedBefore + 1, source.eventCounts().directoriesMuted(), "busy muted once");
                List<String> got = entries(r, root);
                // A removal and a rename are events, named as such: n7 was made unseen, so its removal
                // names a path the consumer may not have, which costs it nothing.
                assertEquals(files, got.size(), got.size() + " entries: " + got.subList(0, Math.min(20, got.size())));
                for (int i = 0; i < files; i++) {
                    String expected = i == 7 ? "deleted busy/n7" : i == 8 ? "renamed busy/m8 from busy/n8" : "created busy/n" + i;
                    assertTrue(got.contains(expected), expected + " is missing");
                }
                source.bless(r.snapshot());

                sh(root, "echo again >> busy/n1");
                assertEquals(List.of("modified busy/n1"), entries(source.query(), root), "the checkpoint's flush unmuted it");
                assertEquals(mutedBefore + 2, source.eventCounts().directoriesMuted(), "muted again in its new period");
            }
        }
    }

    @Test
    void aDirectoryAboveTheLineKeepsAnEventPerChild() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 256 * MIB)) {
            Path root = m.mountPoint();
            // 20,000 names of 20 bytes: an ext4 directory of about 600 KiB, above the line.
            sh(root, "mkdir big; cd big && seq -f 'entry-%014.0f' 1 20000 | xargs touch; sync");
            assertTrue(Statx.statx(Statx.AT_FDCWD, root.resolve("big").toString(), 0, Statx.STATX_SIZE).size()
                    > DirectoryScan.LINE_BYTES, "the directory is not above the line");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), SCAN)) {
                source.bless(source.query().snapshot());
                long mutedBefore = source.eventCounts().directoriesMuted();
                sh(root, "echo x >> big/entry-00000000000005; echo y > big/new");
                LinuxResult r = source.query();
                assertEquals(List.of("created big/new", "modified big/entry-00000000000005"), entries(r, root));
                assertEquals(mutedBefore, source.eventCounts().directoriesMuted(), "a directory above the line is not muted");
            }
        }
    }

    @Test
    void withoutAWatermarkItCanTrustEachRecordedDirectoryIsRescanned() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB); TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            Path root = m.mountPoint();
            sh(root, "mkdir d e; echo x > d/f; sync");
            FileHandles.FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, root.resolve("d").toString(), 0);
            ChangedFile marker = new ChangedFile(FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(),
                    root.resolve("d").toString(), null), Set.of(Change.WRITTEN), null, true, false, false);
            Namespace.Where where = new Namespace.Where(root.resolve("d").toString(), false, true, 2, null);
            DirectoryScan untrusted = new DirectoryScan(fs, root, OptionalLong.empty(), false, "the wall clock was set back", false, Long.MAX_VALUE);
            DirectoryScan.Expanded x = untrusted.expand(List.of(marker), List.of(where), Map::of);
            assertEquals(List.of(root.resolve("d").toString()), x.rescans());
            assertEquals(List.of(), x.files(), "the directory's record gives way to its rescan");

            DirectoryScan trusted = new DirectoryScan(fs, root, OptionalLong.of(0), false, "", true, Long.MAX_VALUE);
            DirectoryScan.Expanded y = trusted.expand(List.of(marker), List.of(where), Map::of).withScanNamedAsRecords();
            assertEquals(List.of(), y.rescans());
            assertEquals(2, y.files().size(), "a walk's listing stays beside the file it names: " + y.files());
            assertEquals(Map.of(root.resolve("d").toString(), true, root.resolve("d/f").toString(), false),
                    new TreeMap<>(Map.of(y.now().get(0).path(), y.files().get(0).directory(), y.now().get(1).path(),
                            y.files().get(1).directory())));
        }
    }

    @Test
    void aConsumerThatBlessesEachResultFindsNothingLeftOnceNothingChanges() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            LinuxSourceTest.shPastTheMargin(root, "mkdir -p em/d em/e; for i in 1 2 3 4 5; do echo $i > em/f$i; done; echo x > em/d/x; sync");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), SCAN)) {
                source.bless(source.query().snapshot());
                String[] rounds = {
                    "cd em; mv f1 f2; mv f3 f4; mv f5 f3; mv f2 t; mv f4 f2; mv t f4; echo new > f1; echo more >> f3",
                    "cd em; mv d d2; echo y >> d2/x; rm -r e; mkdir e; echo z > e/z; ln f1 e/f1-link; ln -s f3 s; echo tmp > gone; rm gone",
                    "cd em; mv d2 t; mv e d2; mv t e; : > f3; rm s; ln -s f2 s",
                    "cd em; ln f4 f4-link; sync",
                    "cd em; echo w >> f4-link",
                };
                for (String round : rounds) {
                    LinuxSourceTest.sh(root, round);
                    LinuxResult r = source.query();
                    source.bless(r.snapshot());
                }
                LinuxResult last = source.query();
                assertEquals(List.of(), entries(last, root), "nothing changed since the last bless");
            }
        }
    }

    /**
     * Across a reboot an overwrite in place may have reached the disk without its new ctime: a
     * directory scope recorded before the reboot (a pre-content record, durable before its children
     * were written) names every entry, and a marker of the notification reader, or a scope recorded
     * in this run, keeps the ctime filter.
     */
    @Test
    void acrossARebootADirectoryScopeRecordedBeforeItIsReadWhole() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB); TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            Path root = m.mountPoint();
            sh(root, "mkdir s w l; for d in s w l; do echo x > $d/old1; echo x > $d/old2; done; sync");
            long watermark = System.currentTimeMillis() * 1_000_000L + 10_000_000_000L; // after every ctime here
            ChangedFile scope = record(fs, root.resolve("s"), Set.of(Change.SCOPE), true);
            ChangedFile marker = record(fs, root.resolve("w"), Set.of(Change.WRITTEN), true);
            ChangedFile liveScope = record(fs, root.resolve("l"), Set.of(Change.SCOPE), false);
            List<Namespace.Where> where = List.of(dirAt(root.resolve("s")), dirAt(root.resolve("w")), dirAt(root.resolve("l")));

            DirectoryScan rebooted = new DirectoryScan(fs, root, OptionalLong.of(watermark), true, "", false, Long.MAX_VALUE);
            DirectoryScan.Expanded x = rebooted.expand(List.of(scope, marker, liveScope), where, Map::of).withScanNamedAsRecords();
            Set<String> named = new TreeSet<>();
            for (int i = 0; i < x.files().size(); i++) {
                if (!x.files().get(i).directory()) {
                    named.add(root.relativize(Path.of(x.now().get(i).path())).toString());
                    assertEquals(Set.of(Change.WRITTEN), x.files().get(i).changes(), "born before the watermark: not created");
                }
            }
            assertEquals(Set.of("s/old1", "s/old2"), named, "only the scope recorded before the reboot is read whole");
            assertTrue(x.files().contains(scope), "the scope's own record stays: " + x.files());

            DirectoryScan sameBoot = new DirectoryScan(fs, root, OptionalLong.of(watermark), false, "", false, Long.MAX_VALUE);
            DirectoryScan.Expanded y = sameBoot.expand(List.of(scope, marker, liveScope), where, Map::of).withScanNamedAsRecords();
            assertTrue(y.files().stream().noneMatch(f -> !f.directory()), "within a boot the ctime filter holds: " + y.files());
        }
    }

    /**
     * A file nothing else in the result names is known by its path, without a handle; one that a
     * record or the resolver's memory may name (its inode number matches), or with other links, gets
     * its handle, and a recorded one is merged into its record.
     */
    @Test
    void aFileOnlyTheScanNamesIsKnownByItsPathAndAnyOtherByItsHandle() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB); TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            Path root = m.mountPoint();
            // d was born before the watermark (one born since names its entries without a stat each,
            // aDirectoryBornSinceTheWatermarkNamesEveryEntryAsMade), its files after it.
            long watermark = watermarkAfter(root, "mkdir d e");
            sh(root, "for f in plain linked recorded known; do echo x > d/$f; done; ln d/linked e/other; sync");
            ChangedFile dir = record(fs, root.resolve("d"), Set.of(Change.WRITTEN), false);
            ChangedFile recorded = fileRecord(fs, root.resolve("d/recorded"), Set.of(Change.ATTRIBUTES));
            FileId known = fileRecord(fs, root.resolve("d/known"), Set.of()).file();
            Namespace.Where recordedWhere = fileAt(root.resolve("d/recorded"));
            DirectoryScan scan = new DirectoryScan(fs, root, OptionalLong.of(watermark), false, "", false, Long.MAX_VALUE);

            DirectoryScan.Expanded scanned = scan.expand(List.of(dir, recorded), List.of(dirAt(root.resolve("d")), recordedWhere),
                    Map::of, Set.of(known));
            assertEquals(1, scanned.scanNamed().size(), "only d/plain is known by its path: " + scanned.scanNamed());
            assertTrue(scanned.scanNamed().contains(root.resolve("d/plain").toString()));
            DirectoryScan.Expanded x = scanned.withScanNamedAsRecords();
            Map<String, ChangedFile> byName = new TreeMap<>();
            for (int i = 0; i < x.files().size(); i++) {
                if (!x.files().get(i).directory()) {
                    assertEquals(null, byName.put(root.relativize(Path.of(x.now().get(i).path())).toString(), x.files().get(i)),
                            "one entry per file: " + x.files());
                }
            }
            assertEquals(Set.of("d/plain", "d/linked", "d/recorded", "d/known"), byName.keySet());
            assertEquals(FileId.ofPath(root.resolve("d/plain").toString()), byName.get("d/plain").file(), "no handle asked for");
            assertTrue(byName.get("d/linked").file().hasHandle(), "another link: its handle tells its names apart");
            assertEquals(known, byName.get("d/known").file(), "what the resolver remembers is recognized");
            assertEquals(recorded.file(), byName.get("d/recorded").file());
            assertEquals(Set.of(Change.ATTRIBUTES, Change.WRITTEN), byName.get("d/recorded").changes(), "merged into its record");
        }
    }

    /**
     * A directory born at or after the watermark holds nothing the consumer has: every entry that is
     * not a directory is named as made without a stat of its own, while an object the result knows
     * keeps its handle and record: one moved in (its rename's record), and a name linked in (the
     * link count's attribute change, which the reader records by handle, names the object), and a
     * directory born before keeps the ctime filter.
     */
    @Test
    void aDirectoryBornSinceTheWatermarkNamesEveryEntryAsMade() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB); TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            Path root = m.mountPoint();
            long watermark = watermarkAfter(root, "mkdir old; echo x > old/quiet; echo x > old/linked; echo x > old/moved");
            sh(root, "mkdir new new/sub; echo y > new/a; : > new/b; ln old/linked new/link; ln -s a new/s; mkfifo new/p;"
                    + " mv old/moved new/moved; echo z > new/sub/f");
            ChangedFile moved = fileRecord(fs, root.resolve("new/moved"), Set.of(Change.RENAMED));
            ChangedFile linked = fileRecord(fs, root.resolve("old/linked"), Set.of(Change.ATTRIBUTES));
            DirectoryScan scan = new DirectoryScan(fs, root, OptionalLong.of(watermark), false, "", false, Long.MAX_VALUE);
            DirectoryScan.Expanded x = scan.expand(
                    List.of(record(fs, root.resolve("new"), Set.of(Change.WRITTEN), false),
                            record(fs, root.resolve("old"), Set.of(Change.WRITTEN), false), moved, linked),
                    List.of(dirAt(root.resolve("new")), dirAt(root.resolve("old")), fileAt(root.resolve("new/moved")),
                            fileAt(root.resolve("old/linked"))), Map::of);
            assertEquals(Set.of(root.resolve("new/a").toString(), root.resolve("new/b").toString(),
                    root.resolve("new/s").toString(), root.resolve("new/p").toString()), scanNamed(x.scanNamed(), root),
                    "every entry of new that is not a directory and that the result does not know, by its path");
            assertEquals(5, x.entriesStatted(), "only new/sub, new/link and new/moved of new, and old's two entries, stat'ed");
            x = x.withScanNamedAsRecords();
            Map<String, ChangedFile> byName = new TreeMap<>();
            for (int i = 0; i < x.files().size(); i++) {
                if (!x.files().get(i).directory()) {
                    assertEquals(null, byName.put(root.relativize(Path.of(x.now().get(i).path())).toString(), x.files().get(i)),
                            "one entry per file: " + x.files());
                }
            }
            assertEquals(Set.of("new/a", "new/b", "new/s", "new/p", "new/moved", "old/linked"), byName.keySet(),
                    "no subdirectory, and of old only the file whose link count changed");
            for (String made : List.of("new/a", "new/b", "new/s", "new/p")) {
                assertEquals(Set.of(Change.CREATED, Change.WRITTEN), byName.get(made).changes(), made);
            }
            assertEquals(moved.file(), byName.get("new/moved").file(), "an object the result knows keeps its record");
            assertEquals(Set.of(Change.RENAMED, Change.WRITTEN), byName.get("new/moved").changes());
            assertEquals(linked.file(), byName.get("old/linked").file());
            assertEquals(Set.of(Change.ATTRIBUTES, Change.WRITTEN), byName.get("old/linked").changes(), "born before the watermark");
            assertEquals(List.of(root.resolve("new/link").toString()), x.otherNames().stream().map(Namespace.Where::path).toList(),
                    "the name linked in is the linked object's other name");
        }
    }

    /**
     * Runs {@code commands} in {@code root}, then returns a watermark after every ctime they set and
     * before every later one: a file's ctime, 50 ms (several clock ticks) after them and before what follows.
     */
    private static long watermarkAfter(Path root, String commands) throws Exception {
        sh(root, commands + "; sync; sleep 0.05; touch mark; sleep 0.05");
        return Statx.statx(Statx.AT_FDCWD, root.resolve("mark").toString(), 0, Statx.STATX_CTIME).ctimeNanos();
    }

    private static Set<String> scanNamed(ScanNamedFiles named, Path root) {
        Set<String> paths = new TreeSet<>();
        for (String p : List.of("new/a", "new/b", "new/s", "new/p", "new/link", "new/moved", "new/sub", "old/quiet", "old/linked")) {
            if (named.contains(root.resolve(p).toString())) {
                paths.add(root.resolve(p).toString());
            }
        }
        return paths;
    }

    private static Namespace.Where fileAt(Path file) {
        return new Namespace.Where(file.toString(), false, false, 1, null);
    }

    /**
     * A name that left a recorded directory since the checkpoint and is not listed is named
     * removed, unless a record of the result was renamed away from it: that record moves or
     * removes it. The departures go back to before the closing period's last events were read, so
     * a rename the result records is often among them, and its old name came as a second entry.
     */
    @Test
    void aDepartedNameIsRemovedUnlessARecordOfTheResultWasRenamedAwayFromIt() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB); TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            Path root = m.mountPoint();
            long watermark = watermarkAfter(root, "mkdir d; echo x > d/renamed; echo x > d/gone");
            sh(root, "mv d/renamed d/moved; rm d/gone");
            ChangedFile dir = record(fs, root.resolve("d"), Set.of(Change.WRITTEN), false);
            FileHandles.FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, root.resolve("d/moved").toString(), 0);
            ChangedFile moved = new ChangedFile(FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(),
                    root.resolve("d/moved").toString(), null), Set.of(Change.RENAMED), root.resolve("d/renamed").toString(),
                    false, false, false);
            DirectoryScan scan = new DirectoryScan(fs, root, OptionalLong.of(watermark), false, "", false, Long.MAX_VALUE);
            DirectoryScan.Expanded x = scan.expand(List.of(dir, moved), List.of(dirAt(root.resolve("d")), fileAt(root.resolve("d/moved"))),
                    () -> Map.of(dir.file(), List.of("renamed", "gone")));
            assertEquals(List.of(root.resolve("d/gone").toString()), x.removals(), "the rename's record takes d/renamed away");
        }
    }

    private static ChangedFile fileRecord(TrackedFilesystem fs, Path file, Set<Change> changes) throws Exception {
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, file.toString(), 0);
        return new ChangedFile(FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(), file.toString(), null), changes, null,
                false, false, false);
    }

    private static ChangedFile record(TrackedFilesystem fs, Path dir, Set<Change> changes, boolean recovered) throws Exception {
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, dir.toString(), 0);
        return new ChangedFile(FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(), dir.toString(), null), changes, null,
                true, false, recovered);
    }

    private static Namespace.Where dirAt(Path dir) {
        return new Namespace.Where(dir.toString(), false, true, 2, null);
    }

    /**
     * ext4 with 128-byte inodes keeps whole seconds on disk, so a ctime read back after its inode
     * left memory may be up to a second earlier than the one a scan would have seen: its margin
     * grows by a second there, and only there.
     */
    @Test
    void theMarginGrowsWhereTheDiskKeepsWholeSeconds() throws Exception {
        try (LoopMount fine = LoopMount.create("ext4", 64 * MIB); TrackedFilesystem fs = TrackedFilesystem.holding(fine.mountPoint())) {
            assertEquals(1, fs.timestampGranularityNanos(), "ext4 with the default 256-byte inodes keeps nanoseconds");
            assertEquals(Reconciliation.MARGIN_NANOS, Reconciliation.marginNanos(fs));
        }
        try (LoopMount coarse = LoopMount.create("ext4", 64 * MIB, List.of("-I", "128"));
             TrackedFilesystem fs = TrackedFilesystem.holding(coarse.mountPoint())) {
            assertEquals(1_000_000_000L, fs.timestampGranularityNanos(), "128-byte inodes keep seconds");
            assertTrue(Reconciliation.marginNanos(fs) >= Reconciliation.MARGIN_NANOS + 999_999_999L);
        }
        if (LoopMount.unavailableReason("xfs").isEmpty()) {
            try (LoopMount xfs = LoopMount.create("xfs", 300 * MIB); TrackedFilesystem fs = TrackedFilesystem.holding(xfs.mountPoint())) {
                assertEquals(1, fs.timestampGranularityNanos());
            }
        }
    }
}
