package org.modtrack.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** statx agrees with what the JDK reads through stat(2), and reads the birth time and mount id it adds. */
class StatxTest {
    @TempDir
    Path tmp;

    @Test
    void agreesWithTheJdk() throws Exception {
        Path file = Files.writeString(tmp.resolve("f"), "12345");
        Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2001-02-03T04:05:06.123456789Z")));
        Files.createLink(tmp.resolve("g"), file);
        Statx st = Statx.statx(Statx.AT_FDCWD, file.toString(), Statx.AT_STATX_SYNC_AS_STAT,
                Statx.STATX_BASIC_STATS | Statx.STATX_BTIME | Statx.STATX_MNT_ID);

        assertEquals(Statx.STATX_BASIC_STATS, st.mask() & Statx.STATX_BASIC_STATS);
        assertEquals(5, st.size());
        assertEquals(2, st.nlink());
        assertEquals(((Number) Files.getAttribute(file, "unix:ino")).longValue(), st.ino());
        assertEquals(((Number) Files.getAttribute(file, "unix:mode")).intValue(), st.mode());
        assertEquals(((Number) Files.getAttribute(file, "unix:uid")).intValue(), st.uid());
        assertEquals(Instant.parse("2001-02-03T04:05:06.123456789Z"), instant(st.mtimeNanos()));
        assertEquals(((FileTime) Files.getAttribute(file, "unix:ctime")).to(TimeUnit.NANOSECONDS), st.ctimeNanos());
        long dev = ((Number) Files.getAttribute(file, "unix:dev")).longValue();
        assertEquals(dev, makedev(st.devMajor(), st.devMinor()));
        assertTrue(st.isRegularFile());
        assertFalse(st.isDirectory());
        if ((st.mask() & Statx.STATX_BTIME) != 0) {
            assertTrue(st.btimeNanos() > 0 && st.btimeNanos() <= st.ctimeNanos());
        }
        assertTrue((st.mask() & Statx.STATX_MNT_ID) != 0 && st.mountId() > 0);
    }

    @Test
    void anOpenDescriptorWithAnEmptyPath() throws Exception {
        int fd = Posix.open(tmp.toString(), Posix.O_PATH | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
        try {
            Statx st = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_TYPE | Statx.STATX_INO);
            assertTrue(st.isDirectory());
            assertEquals(((Number) Files.getAttribute(tmp, "unix:ino")).longValue(), st.ino());
        } finally {
            Posix.close(fd, tmp.toString());
        }
    }

    @Test
    void aSymbolicLinkItselfWithNoFollow() throws Exception {
        Path link = Files.createSymbolicLink(tmp.resolve("link"), tmp);
        Statx st = Statx.statx(Statx.AT_FDCWD, link.toString(), Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_TYPE | Statx.STATX_INO);
        assertEquals(((Number) Files.getAttribute(link, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue(), st.ino());
        assertEquals(0120000, st.mode() & 0170000);
    }

    @Test
    void nothingAtAPathIsAnAnswerWhenAskedIfItExists() throws Exception {
        Path file = Files.writeString(tmp.resolve("f"), "12345");
        assertEquals(5, Statx.statxIfExists(Statx.AT_FDCWD, file.toString(), 0, Statx.STATX_SIZE).size());
        assertNull(Statx.statxIfExists(Statx.AT_FDCWD, tmp.resolve("missing").toString(), 0, Statx.STATX_TYPE));
        assertNull(Statx.statxIfExists(Statx.AT_FDCWD, file.resolve("below-a-file").toString(), 0, Statx.STATX_TYPE),
                "ENOTDIR: nothing can be there either");
        PosixException badFd = assertThrows(PosixException.class, () -> Statx.statxIfExists(12345, "", Statx.AT_EMPTY_PATH, 0));
        assertEquals(Errno.EBADF, badFd.errno(), "any other error still fails");
    }

    @Test
    void failuresSayWhichFile() {
        PosixException e = assertThrows(PosixException.class,
                () -> Statx.statx(Statx.AT_FDCWD, tmp.resolve("missing").toString(), 0, Statx.STATX_BASIC_STATS));
        assertEquals("statx of " + tmp.resolve("missing") + " failed: ENOENT (No such file or directory)", e.getMessage());
        PosixException badFd = assertThrows(PosixException.class, () -> Statx.statx(12345, "", Statx.AT_EMPTY_PATH, 0));
        assertEquals("statx of fd 12345 failed: EBADF (Bad file descriptor)", badFd.getMessage());
    }

    private static Instant instant(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }

    /** glibc's makedev, which is how the JDK's unix:dev is built from major and minor. */
    private static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }
}
