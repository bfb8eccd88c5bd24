package org.modtrack.posix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.testing.LoopMount;

/** Posix.read, write, poll, readlink, ioctl (freeze and thaw, on a loop mount only) and statfs. */
class PosixIoTest {
    @TempDir
    Path tmp;

    @Test
    void writeThenReadFromTheCurrentPosition() throws Exception {
        Path file = tmp.resolve("f");
        try (Arena arena = Arena.ofConfined()) {
            int fd = Posix.open(file.toString(), Posix.O_CREAT | Posix.O_WRONLY | Posix.O_CLOEXEC, 0644);
            try {
                assertEquals(5, Posix.write(fd, arena.allocateFrom("hello", StandardCharsets.US_ASCII).asSlice(0, 5)));
                assertEquals(6, Posix.write(fd, arena.allocateFrom(" world", StandardCharsets.US_ASCII).asSlice(0, 6)));
            } finally {
                Posix.close(fd, file.toString());
            }
            fd = Posix.open(file.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
            try {
                MemorySegment buf = arena.allocate(64);
                assertEquals(11, Posix.read(fd, buf));
                assertEquals("hello world", new String(buf.asSlice(0, 11).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));
                assertEquals(0, Posix.read(fd, buf), "end of file");
            } finally {
                Posix.close(fd, file.toString());
            }
        }
    }

    @Test
    void nonBlockingReadSaysEmptyAndPollWaitsForData() throws Exception {
        Path fifo = tmp.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        // O_RDWR: a FIFO opened for both never reports end of file, only "no data yet".
        int fd = Posix.open(fifo.toString(), Posix.O_RDWR | Posix.O_NONBLOCK | Posix.O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16);
            assertEquals(-1, Posix.read(fd, buf), "EAGAIN is -1");
            long start = System.nanoTime();
            assertArrayEquals(new short[] {0}, Posix.poll(new int[] {fd}, Posix.POLLIN, 50));
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(45), "poll should wait out its timeout");
            Posix.write(fd, arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 42));
            short[] revents = Posix.poll(new int[] {fd, fd}, Posix.POLLIN, -1);
            assertEquals(Posix.POLLIN, revents[0]);
            assertEquals(Posix.POLLIN, revents[1]);
            assertEquals(1, Posix.read(fd, buf));
            assertEquals(42, buf.get(ValueLayout.JAVA_BYTE, 0));
        } finally {
            Posix.close(fd, fifo.toString());
        }
        short[] closed = Posix.poll(new int[] {fd}, Posix.POLLIN, 0);
        assertEquals(Posix.POLLNVAL, closed[0], "a closed descriptor is reported, not thrown");
    }

    @Test
    void readFailuresNameTheDescriptorAndErrno() throws Exception {
        Path file = tmp.resolve("w");
        int fd = Posix.open(file.toString(), Posix.O_CREAT | Posix.O_WRONLY | Posix.O_CLOEXEC, 0644);
        try (Arena arena = Arena.ofConfined()) {
            PosixException e = assertThrows(PosixException.class, () -> Posix.read(fd, arena.allocate(8)));
            assertEquals("read of up to 8 bytes from fd " + fd + " failed: EBADF (Bad file descriptor)", e.getMessage());
            assertEquals(Errno.EBADF, e.errno());
        } finally {
            Posix.close(fd, file.toString());
        }
    }

    @Test
    void readlinkReadsLinksAndProcFdEntries() throws Exception {
        Path target = Files.writeString(tmp.resolve("target"), "x");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), target);
        assertEquals(target.toString(), Posix.readlink(link.toString()));
        int fd = Posix.open(target.toString(), Posix.O_PATH | Posix.O_CLOEXEC, 0);
        try {
            assertEquals(target.toString(), Posix.readlink("/proc/self/fd/" + fd));
        } finally {
            Posix.close(fd, target.toString());
        }
        PosixException e = assertThrows(PosixException.class, () -> Posix.readlink(target.toString()));
        assertEquals("readlink of " + target + " failed: EINVAL (Invalid argument)", e.getMessage());
        String longest = "d/".repeat(2047) + "e"; // 4095 bytes: the longest target a symbolic link may have
        Path longLink = Files.createSymbolicLink(tmp.resolve("long"), Path.of(longest));
        assertEquals(longest, Posix.readlink(longLink.toString()));
    }

    @Test
    void ioctlReportsAnUnknownRequest() throws Exception {
        Path file = Files.writeString(tmp.resolve("f"), "x");
        int fd = Posix.open(file.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        try {
            PosixException e = assertThrows(PosixException.class, () -> Posix.ioctl(fd, 0x5401L /* TCGETS */, 0));
            assertEquals("ioctl 0x5401 on fd " + fd + " failed: ENOTTY (Inappropriate ioctl for device)", e.getMessage());
        } finally {
            Posix.close(fd, file.toString());
        }
    }

    /** FIFREEZE only ever on a loop mount: frozen, the filesystem blocks every writer. */
    @Test
    void freezeBlocksWritersUntilThaw() throws Exception {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(), () -> "skipped: " + LoopMount.unavailableReason("ext4").get());
        try (LoopMount mount = LoopMount.create("ext4", 32L << 20)) {
            Path file = Files.writeString(mount.mountPoint().resolve("f"), "before");
            int dir = Posix.open(mount.mountPoint().toString(), Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
            CompletableFuture<Void> writer;
            try {
                Posix.ioctl(dir, Posix.FIFREEZE, 0);
                try {
                    PosixException again = assertThrows(PosixException.class, () -> Posix.ioctl(dir, Posix.FIFREEZE, 0));
                    assertEquals(Errno.EBUSY, again.errno());
                    writer = CompletableFuture.runAsync(() -> write(file, "during"));
                    assertThrows(TimeoutException.class, () -> writer.get(300, TimeUnit.MILLISECONDS),
                            "a write to a frozen filesystem should wait");
                } finally {
                    Posix.ioctl(dir, Posix.FITHAW, 0);
                }
                writer.get(10, TimeUnit.SECONDS);
                assertEquals("during", Files.readString(file));
                PosixException notFrozen = assertThrows(PosixException.class, () -> Posix.ioctl(dir, Posix.FITHAW, 0));
                assertEquals(Errno.EINVAL, notFrozen.errno());
            } finally {
                Posix.close(dir, mount.mountPoint().toString());
            }
        }
    }

    @Test
    void statfsTellsTheFilesystemAndItsIdAgreesWithFstatfs() throws Exception {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(), () -> "skipped: " + LoopMount.unavailableReason("ext4").get());
        try (LoopMount mount = LoopMount.create("ext4", 32L << 20)) {
            StatFs byPath = Posix.statfs(mount.mountPoint().toString());
            assertEquals(StatFs.EXT4_SUPER_MAGIC, byPath.type());
            assertTrue(byPath.blocks() > 0 && byPath.freeBlocks() <= byPath.blocks());
            int fd = Posix.open(mount.mountPoint().toString(), Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
            try {
                assertEquals(byPath, Posix.fstatfs(fd));
            } finally {
                Posix.close(fd, mount.mountPoint().toString());
            }
            assertFalse(byPath.fsid() == Posix.statfs("/proc").fsid() && byPath.fsid() != 0, "different filesystems, different ids");
        }
        PosixException e = assertThrows(PosixException.class, () -> Posix.statfs(tmp.resolve("missing").toString()));
        assertEquals("statfs of " + tmp.resolve("missing") + " failed: ENOENT (No such file or directory)", e.getMessage());
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
