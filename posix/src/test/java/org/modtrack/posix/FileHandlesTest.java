package org.modtrack.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ArrayList;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.posix.FileHandles.FileHandle;
import org.modtrack.testing.LoopMount;

/** name_to_handle_at and open_by_handle_at: a handle outlives a rename, and resolves to the current path. */
class FileHandlesTest {
    @TempDir
    Path tmp;

    @Test
    void theHandleOfAPathAndOfItsDescriptorAreTheSame() throws Exception {
        Path file = Files.writeString(tmp.resolve("f"), "x");
        FileHandle byPath = FileHandles.nameToHandleAt(Statx.AT_FDCWD, file.toString(), 0);
        int fd = Posix.open(file.toString(), Posix.O_PATH | Posix.O_CLOEXEC, 0);
        try {
            FileHandle byFd = FileHandles.nameToHandleAt(fd, "", Statx.AT_EMPTY_PATH);
            assertEquals(byPath, byFd);
            assertEquals(byPath.hashCode(), byFd.hashCode());
        } finally {
            Posix.close(fd, file.toString());
        }
        assertTrue(byPath.handle().length > 0 && byPath.handle().length <= FileHandles.MAX_HANDLE_SZ);
        assertEquals(Statx.statx(Statx.AT_FDCWD, file.toString(), 0, Statx.STATX_MNT_ID).mountId(), byPath.mountId());
        assertNotEquals(byPath, FileHandles.nameToHandleAt(Statx.AT_FDCWD, tmp.toString(), 0), "a different file");
    }

    /** A name names a handle's file when its own handle is that one: the same bytes and type; never when it is gone. */
    @Test
    void aNameNamesTheFileWhoseHandleItHasAndNoOther() throws Exception {
        Path file = Files.writeString(tmp.resolve("f"), "x");
        Path other = Files.writeString(tmp.resolve("g"), "y");
        FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, file.toString(), 0);
        assertTrue(FileHandles.namesHandle(Statx.AT_FDCWD, file.toString(), 0, h.handleType(), h.handle()));
        assertFalse(FileHandles.namesHandle(Statx.AT_FDCWD, other.toString(), 0, h.handleType(), h.handle()), "another file");
        assertFalse(FileHandles.namesHandle(Statx.AT_FDCWD, file.toString(), 0, h.handleType() + 1, h.handle()), "another type");
        byte[] shorter = Arrays.copyOf(h.handle(), h.handle().length - 1);
        assertFalse(FileHandles.namesHandle(Statx.AT_FDCWD, file.toString(), 0, h.handleType(), shorter), "another length");
        Path renamed = Files.move(file, tmp.resolve("renamed"));
        assertTrue(FileHandles.namesHandle(Statx.AT_FDCWD, renamed.toString(), 0, h.handleType(), h.handle()), "renamed: the same file");
        assertFalse(FileHandles.namesHandle(Statx.AT_FDCWD, file.toString(), 0, h.handleType(), h.handle()), "nothing there");
        String deep = tmp + "/" + "x".repeat(12_000);
        assertFalse(FileHandles.namesHandle(Statx.AT_FDCWD, deep, 0, h.handleType(), h.handle()),
                "a path longer than the thread's buffer: asked all the same, and nothing there");
    }

    /**
     * The inode number read out of a handle is the one {@code statx} gives, for a file, a directory
     * and a symbolic link, on every file system whose mkfs is here, and so is a btrfs handle's
     * subvolume (in a subvolume below the top-level one too, whose numbers repeat the top-level's);
     * a handle type of unknown layout gives neither.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    void theInodeNumberInAHandleIsStatxs(String fsType) throws Exception {
        assumeTrue(LoopMount.isRoot(), "loop mounts need root");
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> "skipped: " + LoopMount.unavailableReason(fsType).get());
        try (LoopMount m = LoopMount.create(fsType, 320L << 20)) {
            Path dir = Files.createDirectory(m.mountPoint().resolve("d"));
            Path file = Files.writeString(dir.resolve("f"), "x");
            Path link = Files.createSymbolicLink(dir.resolve("l"), file);
            List<Path> paths = new ArrayList<>(List.of(dir, file, link));
            if (fsType.equals("btrfs")) {
                Path sub = m.mountPoint().resolve("sub");
                assertEquals(0, new ProcessBuilder("btrfs", "subvolume", "create", sub.toString())
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor());
                paths.add(Files.writeString(sub.resolve("f"), "y"));
            }
            for (Path p : paths) {
                FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, p.toString(), 0);
                Statx st = Statx.statx(Statx.AT_FDCWD, p.toString(), Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_INO | Statx.STATX_SUBVOL);
                assertEquals(st.ino(), FileHandles.inodeNumber(h.handleType(), h.handle()), fsType + " " + p + " " + h);
                long subvolume = (st.mask() & Statx.STATX_SUBVOL) != 0 ? st.subvolume() : -1;
                assertEquals(subvolume, FileHandles.subvolume(h.handleType(), h.handle()), fsType + " " + p + " " + h);
            }
        }
        assertEquals(-1, FileHandles.inodeNumber(0xff, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
        assertEquals(-1, FileHandles.subvolume(0xff, new byte[16]));
    }

    @Test
    void aHandleOpensTheFileUnderItsCurrentName() throws Exception {
        assumeTrue(LoopMount.isRoot(), "open_by_handle_at needs CAP_DAC_READ_SEARCH");
        Path file = Files.writeString(tmp.resolve("before"), "x");
        FileHandle handle = FileHandles.nameToHandleAt(Statx.AT_FDCWD, file.toString(), 0);
        Path renamed = Files.move(file, tmp.resolve("after"));
        int mountFd = Posix.open(tmp.toString(), Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
        try {
            int fd = FileHandles.openByHandleAt(mountFd, handle, Posix.O_PATH | Posix.O_CLOEXEC);
            try {
                assertEquals(renamed.toString(), Posix.readlink("/proc/self/fd/" + fd));
            } finally {
                Posix.close(fd, renamed.toString());
            }
            int again = FileHandles.openByHandleAtIfExists(mountFd, handle.handleType(), handle.handle(),
                    Posix.O_PATH | Posix.O_CLOEXEC);
            assertTrue(again >= 0, "a live file opens either way");
            Posix.close(again, renamed.toString());
            Files.delete(renamed);
            assertEquals(-1, FileHandles.openByHandleAtIfExists(mountFd, handle.handleType(), handle.handle(),
                    Posix.O_PATH | Posix.O_CLOEXEC), "a gone file is an answer, not an error");
            PosixException gone = assertThrows(PosixException.class,
                    () -> FileHandles.openByHandleAt(mountFd, handle, Posix.O_PATH | Posix.O_CLOEXEC));
            assertEquals(Errno.ESTALE, gone.errno());
            assertTrue(gone.getMessage().startsWith("open_by_handle_at of handle type " + handle.handleType() + " "),
                    gone.getMessage());
            assertTrue(gone.getMessage().endsWith(" on mount fd " + mountFd + " failed: ESTALE (Stale file handle)"),
                    gone.getMessage());
        } finally {
            Posix.close(mountFd, tmp.toString());
        }
    }

    @Test
    void theMountDescriptorMayNotBeAnOPathOne() throws Exception {
        assumeTrue(LoopMount.isRoot(), "open_by_handle_at needs CAP_DAC_READ_SEARCH");
        Path file = Files.writeString(tmp.resolve("f"), "x");
        FileHandle handle = FileHandles.nameToHandleAt(Statx.AT_FDCWD, file.toString(), 0);
        int pathFd = Posix.open(tmp.toString(), Posix.O_PATH | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
        try {
            PosixException e = assertThrows(PosixException.class,
                    () -> FileHandles.openByHandleAt(pathFd, handle, Posix.O_PATH | Posix.O_CLOEXEC));
            assertEquals(Errno.EBADF, e.errno(), "the kernel looks the mount descriptor up without O_PATH files");
            PosixException ifExists = assertThrows(PosixException.class, () -> FileHandles.openByHandleAtIfExists(pathFd,
                    handle.handleType(), handle.handle(), Posix.O_PATH | Posix.O_CLOEXEC));
            assertEquals(Errno.EBADF, ifExists.errno(), "any other error still fails");
        } finally {
            Posix.close(pathFd, tmp.toString());
        }
    }

    @Test
    void failuresSayWhichFile() {
        PosixException e = assertThrows(PosixException.class,
                () -> FileHandles.nameToHandleAt(Statx.AT_FDCWD, tmp.resolve("missing").toString(), 0));
        assertEquals("name_to_handle_at of " + tmp.resolve("missing") + " failed: ENOENT (No such file or directory)",
                e.getMessage());
        PosixException tooLong = assertThrows(PosixException.class,
                () -> FileHandles.openByHandleAt(Statx.AT_FDCWD, 1, new byte[129], Posix.O_PATH));
        assertEquals(Errno.EINVAL, tooLong.errno());
    }

    @Test
    void aHandleIsImmutableAndPrintable() throws Exception {
        byte[] bytes = {1, 2, (byte) 0xff};
        FileHandle h = new FileHandle(1, bytes, 7);
        bytes[0] = 9;
        assertEquals(1, h.handle()[0]);
        h.handle()[1] = 9;
        assertEquals(2, h.handle()[1]);
        assertEquals("FileHandle[type 1, 0102ff, mount 7]", h.toString());
    }
}
