package org.modtrack.posix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
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
                byte[] copied = new byte[list.nameLength() + 3];
                list.copyName(copied, 3);
                assertEquals(name, new String(copied, 3, list.nameLength(), StandardCharsets.UTF_8));
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
            byte[] raw = new byte[list.nameLength()];
            list.copyName(raw, 0);
            assertArrayEquals(new byte[] {'a', (byte) 0xff, 'b'}, raw, "the name's own bytes");
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

    @Test
    void namesReadAsNumbersAndLinkTargetsReadWhereTheEntriesAre() throws Exception {
        // Enough entries with long names that the small buffer takes many getdents64 calls.
        Map<String, Long> numbers = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            String pad = "0".repeat(12);
            Files.writeString(tmp.resolve(pad + i), "");
            numbers.put(pad + i, (long) i);
            Files.writeString(tmp.resolve("not-a-number-" + "x".repeat(40) + i), "");
            numbers.put("not-a-number-" + "x".repeat(40) + i, -1L);
        }
        Files.writeString(tmp.resolve("12a"), "");
        numbers.put("12a", -1L);
        Files.writeString(tmp.resolve("9".repeat(19)), ""); // past what a long holds as read here
        numbers.put("9".repeat(19), -1L);
        String target = "/" + "t".repeat(100);
        Files.createSymbolicLink(tmp.resolve("7"), Path.of(target));
        numbers.put("7", 7L);
        Map<String, Long> read = new HashMap<>();
        try (DirectoryReader list = DirectoryReader.openSmall(tmp.toString());
             Arena arena = Arena.ofConfined()) {
            MemorySegment whole = arena.allocate(4096);
            MemorySegment cut = arena.allocate(8);
            while (list.next()) {
                read.put(list.name(), list.number());
                if (list.name().equals("7")) {
                    int n = list.readlink(whole);
                    assertEquals(target, new String(whole.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
                    assertEquals(8, list.readlink(cut), "as much of the target as fits");
                    assertEquals(target.substring(0, 8), new String(cut.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
                } else if (list.name().equals("12a")) {
                    assertEquals(Errno.EINVAL, assertThrows(PosixException.class, () -> list.readlink(whole)).errno(),
                            "a file is not a link");
                }
            }
        }
        assertEquals(numbers, read);
    }
}
