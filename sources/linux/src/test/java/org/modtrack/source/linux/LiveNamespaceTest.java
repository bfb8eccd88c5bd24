package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.FileId;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Statx;
import org.modtrack.testing.LoopMount;
import org.modtrack.testing.Seeded;

/**
 * Where a recorded file is now: at the name it was seen at when a {@code statx} there finds its
 * inode number, else wherever its handle leads, on every file system whose mkfs is here; and what
 * is at many paths at once, which must be what is at each.
 */
@ExtendWith(Seeded.class)
class LiveNamespaceTest {
    private static final long MIB = 1L << 20;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    void aFileIsFoundWhereItWasSeenOrWhereItWentSinceOrNowhere(String fsType) throws Exception {
        onANewFilesystem(fsType, (fs, namespace, root) -> {
            Path stays = Files.writeString(root.resolve("stays"), "a");
            Path moves = Files.writeString(root.resolve("moves"), "b");
            Path replaced = Files.writeString(root.resolve("replaced"), "c");
            Path removed = Files.writeString(root.resolve("removed"), "d");
            Path dir = Files.createDirectory(root.resolve("dir"));
            ChangedFile staysRecord = written(fs, stays);
            ChangedFile movesRecord = written(fs, moves);
            ChangedFile replacedRecord = written(fs, replaced);
            ChangedFile removedRecord = written(fs, removed);
            ChangedFile dirRecord = written(fs, dir);

            Files.move(moves, root.resolve("moved"));
            Files.move(replaced, root.resolve("aside"));
            Files.writeString(root.resolve("other"), "e");
            Files.move(root.resolve("other"), replaced, StandardCopyOption.REPLACE_EXISTING); // another file at its name
            Files.delete(removed);

            Namespace.Where w = namespace.locate(staysRecord);
            assertEquals(stays.toString(), w.path());
            assertEquals(1, w.links());
            assertEquals(Statx.statx(Statx.AT_FDCWD, stays.toString(), 0, Statx.STATX_INO).ino(), w.stamp().inode());
            assertEquals(root.resolve("moved").toString(), namespace.locate(movesRecord).path(), "renamed since it was seen");
            assertEquals(root.resolve("aside").toString(), namespace.locate(replacedRecord).path(),
                    "its name now holds another file");
            assertTrue(namespace.locate(removedRecord).gone(), "removed");
            Namespace.Where d = namespace.locate(dirRecord);
            assertEquals(dir.toString(), d.path());
            assertTrue(d.directory());
        });
    }

    /**
     * A renamed file is found at its new name without opening its handle, but only when the name's
     * handle is its own: ext4 gives a freed inode number out again at once, so a file removed after
     * its rename and a new one made at that name share the number, and only the handle's generation
     * tells them apart.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    void aRenamedFileIsItsNewNamesOnlyIfTheNamesHandleIsItsOwn(String fsType) throws Exception {
        onANewFilesystem(fsType, (fs, namespace, root) -> {
            Path kept = Files.move(Files.writeString(root.resolve("a"), "a"), root.resolve("b"));
            ChangedFile keptRecord = renamed(fs, kept, "a");
            Path replaced = Files.move(Files.writeString(root.resolve("c"), "c"), root.resolve("d"));
            ChangedFile replacedRecord = renamed(fs, replaced, "c");
            long number = Statx.statx(Statx.AT_FDCWD, replaced.toString(), 0, Statx.STATX_INO).ino();
            Files.delete(replaced);
            Files.writeString(replaced, "new"); // on ext4 most likely the same inode number, with another generation

            Namespace.Where w = namespace.locate(keptRecord);
            assertEquals(kept.toString(), w.path());
            assertEquals(Statx.statx(Statx.AT_FDCWD, kept.toString(), 0, Statx.STATX_INO).ino(), w.stamp().inode());
            Namespace.Where gone = namespace.locate(replacedRecord);
            assertTrue(gone.gone(), "the name holds another file"
                    + (number == Statx.statx(Statx.AT_FDCWD, replaced.toString(), 0, Statx.STATX_INO).ino()
                    ? ", with the renamed file's inode number" : "") + ": " + gone);
        });
    }

    /**
     * Where {@code locateAll} finds each of many files is where {@code locate} finds it alone,
     * though it looks names up in their directory opened once: files renamed in one directory, more
     * than one thread takes at once, some renamed again since, removed, or removed with a new file
     * made at the name; files of a directory renamed since whose path now holds another directory
     * with files of the same names; of a directory replaced by a file, and by a symbolic link to a
     * directory holding files of the same names.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    void manyFilesAreEachFoundWhereEachAloneIsFound(String fsType, SplittableRandom random) throws Exception {
        onANewFilesystem(fsType, (fs, namespace, root) -> {
            List<ChangedFile> records = new ArrayList<>();
            Path many = Files.createDirectory(root.resolve("many"));
            for (int i = 0; i < 2_500; i++) { // more than a thread looks at before it takes more
                records.add(renamed(fs, Files.move(Files.writeString(many.resolve("f" + i), "x"), many.resolve("r" + i)), "f" + i));
            }
            for (String name : List.of("moved", "file", "link")) {
                Path d = Files.createDirectory(root.resolve(name));
                for (int i = 0; i < 20; i++) {
                    records.add(renamed(fs, Files.move(Files.writeString(d.resolve("f" + i), "x"), d.resolve("r" + i)), "f" + i));
                }
            }
            for (int i = 0; i < 2_500; i++) {
                Path r = many.resolve("r" + i);
                switch (random.nextInt(8)) {
                    case 0 -> Files.move(r, many.resolve("again" + i));
                    case 1 -> Files.delete(r);
                    case 2 -> {
                        Files.delete(r);
                        Files.writeString(r, "new"); // on ext4 most likely the same inode number
                    }
                    default -> { }
                }
            }
            Files.move(root.resolve("moved"), root.resolve("elsewhere"));
            Path other = Files.createDirectory(root.resolve("moved"));
            Path target = Files.createDirectory(root.resolve("target"));
            for (int i = 0; i < 20; i++) {
                Files.writeString(other.resolve("r" + i), "other");
                Files.writeString(target.resolve("r" + i), "other");
            }
            Files.move(root.resolve("file"), root.resolve("file-moved"));
            Files.writeString(root.resolve("file"), "a file where the directory was");
            Files.move(root.resolve("link"), root.resolve("link-moved"));
            Files.createSymbolicLink(root.resolve("link"), target);

            List<Namespace.Where> all = namespace.locateAll(records);
            assertEquals(records.size(), all.size());
            for (int i = 0; i < records.size(); i++) {
                Namespace.Where alone = namespace.locate(records.get(i));
                Namespace.Where w = all.get(i);
                String what = records.get(i).file().path();
                assertEquals(alone.path(), w.path(), what);
                assertEquals(alone.gone(), w.gone(), what);
                assertEquals(alone.directory(), w.directory(), what);
                assertEquals(alone.links(), w.links(), what);
                assertEquals(alone.stamp() == null ? null : alone.stamp().inode(), w.stamp() == null ? null : w.stamp().inode(), what);
                if (what.contains("/moved/") || what.contains("/file/") || what.contains("/link/")) {
                    assertFalse(w.gone(), what);
                    assertFalse(w.path().startsWith(root.resolve("moved") + "/") || w.path().startsWith(root.resolve("link") + "/"),
                            what + " is not the file of the same name in the directory now at its path: " + w.path());
                }
            }
        });
    }

    /**
     * What {@code atAll} says of each path is what {@code at} says of it, whether its directory is
     * listed once for many paths, gone with everything below it, too large to list for the few
     * paths asked about in it, a symbolic link or a file, or holds a name that only a
     * {@code statx} may look up: files, directories and symbolic links, present, removed, never made,
     * asked about twice and out of their directory's order.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    void whatIsAtManyPathsIsWhatIsAtEach(String fsType, SplittableRandom random) throws Exception {
        onANewFilesystem(fsType, (fs, namespace, root) -> {
            List<String> paths = new ArrayList<>();
            // Many names: files (about half removed again), directories, links to each and to nothing.
            Path many = Files.createDirectory(root.resolve("many"));
            for (int i = 0; i < 300; i++) {
                Path f = Files.writeString(many.resolve("f" + i), "x");
                if (random.nextBoolean()) {
                    Files.delete(f);
                }
            }
            for (int i = 0; i < 20; i++) {
                Files.createDirectory(many.resolve("d" + i));
            }
            Files.createSymbolicLink(many.resolve("to-file"), many.resolve("f0"));
            Files.createSymbolicLink(many.resolve("to-dir"), many.resolve("d0"));
            Files.createSymbolicLink(many.resolve("to-nothing"), many.resolve("nothing"));
            Files.writeString(many.resolve("\uFFFD"), "x"); // U+FFFD itself, in UTF-8
            // A name that is not UTF-8 ("a", then byte 0xFF), which a listing decodes to "a\uFFFD":
            // no path names it, and a statx of "a\uFFFD" finds nothing.
            Process touch = new ProcessBuilder("sh", "-c", "touch \"$0\"/a\"$(printf '\\377')\"", many.toString())
                    .inheritIO().start();
            assertEquals(0, touch.waitFor());
            List<String> manyNames = new ArrayList<>(List.of("to-file", "to-dir", "to-nothing", "\uFFFD", "a\uFFFD", "never"));
            for (int i = 0; i < 300; i++) {
                manyNames.add("f" + i);
            }
            for (int i = 0; i < 25; i++) {
                manyNames.add("d" + i);
            }
            // A tree removed whole.
            Path gone = Files.createDirectory(root.resolve("gone"));
            List<String> goneNames = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                Files.writeString(gone.resolve("g" + i), "x");
                goneNames.add("g" + i);
            }
            try (Stream<Path> below = Files.list(gone)) {
                for (Path p : below.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(gone);
            // A large directory with few of its names asked about, and an emptied one.
            Path large = Files.createDirectory(root.resolve("large"));
            for (int i = 0; i < 5_000; i++) {
                Files.createFile(large.resolve("long-enough-name-" + i));
            }
            List<String> largeNames = new ArrayList<>();
            for (int i = 0; i < 70; i++) {
                largeNames.add("long-enough-name-" + random.nextInt(10_000));
            }
            Path emptied = Files.createDirectory(root.resolve("emptied"));
            List<String> emptiedNames = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                Files.delete(Files.writeString(emptied.resolve("e" + i), "x"));
                emptiedNames.add("e" + i);
            }
            // A link to a directory and a file where a directory would be: a statx looks through the first.
            Files.createSymbolicLink(root.resolve("link"), many);
            Files.writeString(root.resolve("file"), "x");
            List<String> throughLink = manyNames.subList(0, 100);
            List<String> belowFile = goneNames;

            addAll(paths, many, shuffled(manyNames, random));
            addAll(paths, gone, goneNames);
            addAll(paths, large, largeNames);
            addAll(paths, emptied, emptiedNames);
            addAll(paths, root.resolve("link"), throughLink);
            addAll(paths, root.resolve("file"), belowFile);
            addAll(paths, many, manyNames.subList(0, 80)); // asked about again, after other directories
            paths.add(root.resolve("many").toString());
            paths.add(root.resolve("gone").toString());

            List<Namespace.Occupant> each = new ArrayList<>();
            for (String p : paths) {
                each.add(namespace.at(p));
            }
            assertEquals(each, namespace.atAll(paths));
            assertEquals(Namespace.Occupant.DIRECTORY, namespace.at(many.resolve("d3").toString()));
            assertEquals(Namespace.Occupant.FILE, namespace.at(many.resolve("to-dir").toString()), "the link itself");
            assertEquals(Namespace.Occupant.DIRECTORY, namespace.at(root.resolve("link").resolve("d3").toString()),
                    "through a link above it");

            // Which directories are listed once (or found gone), and which are not, with the same answers.
            assertListed(true, namespace, gone, goneNames, "gone: nothing below it");
            assertListed(true, namespace, emptied, emptiedNames, "emptied");
            assertListed(true, namespace, many, manyNames, "many names");
            assertListed(false, namespace, large, largeNames, "too large for 70 names");
            assertListed(false, namespace, root.resolve("link"), throughLink, "a link, which a statx looks through");
            assertListed(false, namespace, root.resolve("file"), belowFile, "a file");
        });
    }

    @Test
    void runsArePathsThatFollowOneAnotherInOneDirectory() {
        assertArrayEquals(new int[] {0, 2, 3, 4, 5, 6}, LiveNamespace.runsByDirectory(
                List.of("/a/x", "/a/y", "/b/x", "/a/z", "/x", "/ab/c")));
        assertArrayEquals(new int[] {0}, LiveNamespace.runsByDirectory(List.of()));
        assertArrayEquals(new int[] {0, 1, 2}, LiveNamespace.runsByDirectory(List.of("/a/b/c", "/a/bc")));
    }

    /** Whether {@code dir} is listed for {@code names}, and if it is, that each answer is {@code at}'s. */
    private static void assertListed(boolean listed, LiveNamespace namespace, Path dir, List<String> names, String what) {
        List<String> paths = new ArrayList<>();
        addAll(paths, dir, names);
        Namespace.Occupant[] out = new Namespace.Occupant[paths.size()];
        assertEquals(listed, namespace.lookIntoListing(paths, 0, paths.size(), out), what);
        for (int i = 0; listed && i < paths.size(); i++) {
            assertEquals(namespace.at(paths.get(i)), out[i], paths.get(i));
        }
    }

    private static void addAll(List<String> paths, Path dir, List<String> names) {
        for (String name : names) {
            paths.add(dir.resolve(name).toString());
        }
    }

    private static List<String> shuffled(List<String> names, SplittableRandom random) {
        List<String> out = new ArrayList<>(names);
        for (int i = out.size() - 1; i > 0; i--) {
            Collections.swap(out, i, random.nextInt(i + 1));
        }
        return out;
    }

    /** A record of a write to {@code p}, seen at its present name. */
    /** The record of a file renamed to {@code p} from {@code from} in its directory, as the notification group makes it. */
    /** Runs {@code test} on a new file system of {@code fsType}: skipped without root, or where that file system cannot be made. */
    private static void onANewFilesystem(String fsType, FilesystemTest test) throws Exception {
        assumeTrue(LoopMount.isRoot(), "loop mounts and open_by_handle_at need root");
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> "skipped: " + LoopMount.unavailableReason(fsType).get());
        try (LoopMount m = LoopMount.create(fsType, 320 * MIB);
             TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            test.run(fs, new LiveNamespace(fs, m.mountPoint().toString()), m.mountPoint());
        }
    }

    /** A test's body on a file system of its own. */
    private interface FilesystemTest {
        void run(TrackedFilesystem fs, LiveNamespace namespace, Path root) throws Exception;
    }

    private static ChangedFile renamed(TrackedFilesystem fs, Path p, String from) throws Exception {
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, p.toString(), 0);
        FileId id = FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(), p.toString(), null);
        return new ChangedFile(id, Set.of(Change.RENAMED), p.resolveSibling(from).toString(), false, false, false);
    }

    private static ChangedFile written(TrackedFilesystem fs, Path p) throws Exception {
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, p.toString(), 0);
        FileId id = FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(), p.toString(), null);
        return new ChangedFile(id, Set.of(Change.WRITTEN), null, Files.isDirectory(p), false, false);
    }
}
