package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.FileId;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.Statx;
import org.modtrack.testing.LoopMount;

/**
 * A flush that keeps the marks of the directories recorded ahead, on a real group: which inode
 * marks the group holds is read from {@code /proc/self/fdinfo} (one {@code fanotify ino:...} line
 * per inode mark), so no access needs to happen. A notification group: nothing ever waits for it.
 */
class IgnoreMarksTest {
    private static final long MIB = 1 << 20;

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "IgnoreMarksTest skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    /** The inode numbers (hex, as fdinfo prints them) of the group's inode marks. */
    private static Set<String> markedInodes(int group) throws Exception {
        Set<String> out = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + group))) {
            if (line.startsWith("fanotify ino:")) {
                out.add(line.substring("fanotify ino:".length()).split(" ")[0]);
            }
        }
        return out;
    }

    private static String inode(Path p) throws Exception {
        return Long.toHexString(Statx.statx(Statx.AT_FDCWD, p.toString(), 0, Statx.STATX_INO).ino());
    }

    private static FileId idOf(Path p) throws Exception {
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, p.toString(), 0);
        return FileId.ofHandle(1, h.handleType(), h.handle(), p.toString(), null);
    }

    private static int notificationGroup() throws Exception {
        return Fanotify.init(Fanotify.FAN_CLASS_NOTIF | Fanotify.FAN_CLOEXEC | Fanotify.FAN_REPORT_DFID_NAME_TARGET,
                Posix.O_RDONLY | Posix.O_CLOEXEC);
    }

    private static int openDirectory(Path d) throws Exception {
        return Posix.open(d.toString(), Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
    }

    /** Marks the children of each directory, as a handler does. */
    private static void markChildren(IgnoreMarks marks, Path... dirs) throws Exception {
        for (Path d : dirs) {
            int fd = openDirectory(d);
            try {
                assertTrue(marks.ignoreChildren(fd, idOf(d), marks.epoch()));
            } finally {
                Posix.close(fd, d.toString());
            }
        }
    }

    @Test
    void aFlushKeepsTheDirectoriesAskedForAndRemovesTheRest() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 32 * MIB)) {
            Path root = m.mountPoint();
            Path a = Files.createDirectory(root.resolve("a"));
            Path b = Files.createDirectory(root.resolve("b"));
            Path f = Files.writeString(root.resolve("f"), "x");
            int group = notificationGroup();
            int mountFd = openDirectory(root);
            try {
                IgnoreMarks marks = new IgnoreMarks(group, root, Fanotify.FAN_MODIFY);
                markChildren(marks, a, b);
                int ffd = Posix.open(f.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
                assertTrue(marks.ignore(ffd, idOf(f), marks.epoch()));
                Posix.close(ffd, f.toString());
                assertEquals(Set.of(inode(a), inode(b), inode(f)), markedInodes(group));

                long before = marks.epoch();
                assertEquals(Set.of(idOf(a)), marks.flushExcept(mountFd, Set.of(idOf(a))));
                assertTrue(marks.epoch() > before, "a new epoch");
                assertEquals(Set.of(inode(a)), markedInodes(group), "only a's mark stays");

                // a, kept, belongs to the new epoch: the next flush keeping nothing removes it
                assertEquals(Set.of(), marks.flushExcept(mountFd, Set.of(idOf(b))));
                assertEquals(Set.of(), markedInodes(group));
            } finally {
                Posix.close(mountFd, root.toString());
                Posix.close(group, "the group");
            }
        }
    }

    @Test
    void aMarkThatCannotBeNamedMakesTheFlushAFullOneAndNoMarkOfARemovedDirectoryOutlivesIt() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 32 * MIB)) {
            Path root = m.mountPoint();
            Path a = Files.createDirectory(root.resolve("a"));
            Path gone = Files.createDirectory(root.resolve("gone"));
            int group = notificationGroup();
            int mountFd = openDirectory(root);
            int goneFd = -1;
            try {
                IgnoreMarks marks = new IgnoreMarks(group, root, Fanotify.FAN_MODIFY);
                // A mark without a handle to name it again: the flush cannot know it is removed.
                markChildren(marks, a);
                int fd = openDirectory(a);
                assertTrue(marks.ignoreChildren(fd, FileId.ofPath(a.toString()), marks.epoch()));
                Posix.close(fd, a.toString());
                assertEquals(Set.of(), marks.flushExcept(mountFd, Set.of(idOf(a))), "a full flush keeps nothing");
                assertEquals(Set.of(), markedInodes(group));

                // A directory removed while open keeps its mark: whether the flush reaches it by
                // handle (ext4 here) or falls back to a full flush, the mark must not outlive it.
                markChildren(marks, a, gone);
                String goneInode = inode(gone);
                goneFd = openDirectory(gone);
                Files.delete(gone);
                assertTrue(markedInodes(group).contains(goneInode), "the open, removed directory keeps its mark");
                Set<FileId> kept = marks.flushExcept(mountFd, Set.of(idOf(a)));
                assertFalse(markedInodes(group).contains(goneInode), "no mark outlives the flush");
                assertEquals(kept.isEmpty() ? Set.of() : Set.of(inode(a)), markedInodes(group), "kept: " + kept);
            } finally {
                if (goneFd >= 0) {
                    Posix.close(goneFd, "gone");
                }
                Posix.close(mountFd, root.toString());
                Posix.close(group, "the group");
            }
        }
    }
}
