package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.FileId;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Statx;
import org.modtrack.testing.LoopMount;

/**
 * Where a recorded file is now: at the name it was seen at when a {@code statx} there finds its
 * inode number, else wherever its handle leads, on every file system whose mkfs is here.
 */
class LiveNamespaceTest {
    private static final long MIB = 1L << 20;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    void aFileIsFoundWhereItWasSeenOrWhereItWentSinceOrNowhere(String fsType) throws Exception {
        assumeTrue(LoopMount.isRoot(), "loop mounts and open_by_handle_at need root");
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> "skipped: " + LoopMount.unavailableReason(fsType).get());
        try (LoopMount m = LoopMount.create(fsType, 320 * MIB);
             TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            LiveNamespace namespace = new LiveNamespace(fs);
            Path root = m.mountPoint();
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
        }
    }

    /** A record of a write to {@code p}, seen at its present name. */
    private static ChangedFile written(TrackedFilesystem fs, Path p) throws Exception {
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, p.toString(), 0);
        FileId id = FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(), p.toString(), null);
        return new ChangedFile(id, Set.of(Change.WRITTEN), null, Files.isDirectory(p), false, false);
    }
}
