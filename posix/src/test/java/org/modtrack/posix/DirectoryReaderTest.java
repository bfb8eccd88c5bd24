package org.modtrack.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A directory read with getdents64 lists what the JDK lists, and stats and names each entry where it is. */
class DirectoryReaderTest {
    @TempDir
    Path tmp;

    @Test
    void listsEveryEntryAcrossManyReadsWithItsTypeStatusAndHandle() throws Exception {
        // Long names, so that the entries take several getdents64 calls (about 270 bytes each).
        Set<String> made = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            String name = i + "-" + "x".repeat(250);
            Files.writeString(tmp.resolve(name), "" + i);
            made.add(name);
        }
        Files.createDirectory(tmp.resolve("sub"));
        Files.writeString(tmp.resolve("short"), "s");
        Files.createSymbolicLink(tmp.resolve("link"), tmp.resolve("short"));
        made.addAll(Set.of("sub", "short", "link"));

        Map<String, Long> seen = new HashMap<>();
        try (DirectoryReader list = DirectoryReader.open(tmp.toString())) {
            while (list.next()) {
                String name = list.name();
                assertFalse(name.equals(".") || name.equals(".."), "dot entries are skipped");
                assertEquals(tmp + "/" + name, list.childPath());
                Statx st = list.statx(Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_BASIC_STATS);
                assertEquals(list.inode(), st.ino(), name);
                assertEquals(name.equals("sub"), st.isDirectory(), name);
                assertEquals(name.equals("sub"), list.type() == DirectoryReader.DT_DIR, name);
                if (!name.equals("link")) {
                    assertEquals(FileHandles.nameToHandleAt(Statx.AT_FDCWD, list.childPath(), 0), list.handle(), name);
                }
                assertEquals(null, seen.put(name, st.ino()), "listed twice: " + name);
            }
            assertFalse(list.next(), "the end stays the end");
        }
        assertEquals(made, seen.keySet());
        assertEquals(((Number) Files.getAttribute(tmp.resolve("short"), "unix:ino")).longValue(), seen.get("short"));
    }

    @Test
    void anEntryRemovedAfterItWasReadFailsWithEnoent() throws Exception {
        Files.writeString(tmp.resolve("a"), "a");
        try (DirectoryReader list = DirectoryReader.open(tmp.toString())) {
            assertTrue(list.next());
            Files.delete(tmp.resolve("a"));
            PosixException e = assertThrows(PosixException.class, () -> list.statx(0, Statx.STATX_INO));
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().contains(tmp + "/a"), e.getMessage());
            assertEquals(Errno.ENOENT, assertThrows(PosixException.class, list::handle).errno());
        }
    }

    @Test
    void aNameThatIsNotUtf8IsStatedByItsOwnBytes() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "touch \"$(printf 'a\\377b')\"").directory(tmp.toFile()).start();
        assertEquals(0, p.waitFor());
        try (DirectoryReader list = DirectoryReader.open(tmp.toString())) {
            assertTrue(list.next());
            assertEquals("a\uFFFDb", list.name());
            assertTrue(list.statx(Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_TYPE).isRegularFile());
            assertFalse(list.next());
        }
    }

    @Test
    void onlyADirectoryOpensAndASymbolicLinkIsNotFollowed() throws Exception {
        Files.writeString(tmp.resolve("file"), "f");
        Files.createDirectory(tmp.resolve("dir"));
        Files.createSymbolicLink(tmp.resolve("link"), tmp.resolve("dir"));
        assertEquals(Errno.ENOTDIR, assertThrows(PosixException.class, () -> DirectoryReader.open(tmp + "/file")).errno());
        int linked = assertThrows(PosixException.class, () -> DirectoryReader.open(tmp + "/link")).errno();
        assertTrue(linked == Errno.ELOOP || linked == Errno.ENOTDIR, Errno.describe(linked));
        assertEquals(Errno.ENOENT, assertThrows(PosixException.class, () -> DirectoryReader.open(tmp + "/none")).errno());
        DirectoryReader empty = DirectoryReader.open(tmp + "/dir");
        assertFalse(empty.next());
        empty.close();
        empty.close();
        assertThrows(IllegalStateException.class, empty::next);
    }
}
