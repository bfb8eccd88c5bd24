package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modtrack.posix.Posix;
import org.modtrack.testing.LoopMount;
import org.modtrack.testing.TmpfsMount;

/**
 * The queue keeper as a real process: what it keeps comes back to the next holder, only to this
 * user, and it never outlives its keep time or a release. An event counter stands in for a
 * notification group: the keeper treats every descriptor alike.
 */
class KeptQueueTest {
    @TempDir
    Path state;

    @AfterEach
    void releaseTheKeeper() throws IOException {
        KeptQueue.releaseIfRunning(state);
    }

    @Test
    void aGroupKeptByOneHolderIsTheGroupTheNextTakes() throws Exception {
        int counter = Posix.eventfd(Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        int keeperPid;
        try (KeptQueue first = KeptQueue.attach(state, Duration.ofSeconds(60))) {
            keeperPid = first.keeperPid();
            assertTrue(first.keeperAlive());
            assertEquals(Optional.empty(), first.take(), "a new keeper holds nothing");
            first.keep(new QueueHolder.Group(counter, 0x1234, 99, "7:3", "7:2"));
        }
        Posix.signal(counter); // through this process's descriptor: the count the kept one must see
        Posix.close(counter, "the test's event counter");
        try (KeptQueue next = KeptQueue.attach(state, Duration.ofSeconds(60))) {
            assertEquals(keeperPid, next.keeperPid(), "the same keeper answers");
            QueueHolder.Group g = next.take().orElseThrow();
            assertEquals(0x1234, g.id());
            assertEquals(99, g.mask());
            assertEquals("7:3", g.device());
            assertEquals("7:2", g.superblock());
            assertEquals(1, readCount(g.fd()), "the descriptor taken is the one kept");
            Posix.close(g.fd(), "the taken counter");
            IOException busy = assertThrows(IOException.class, () -> {
                try (KeptQueue third = KeptQueue.attach(state, Duration.ofSeconds(60))) {
                    third.take();
                }
            });
            assertTrue(busy.getMessage().contains("held by pid " + ProcessHandle.current().pid()), busy.getMessage());
        }
    }

    /** The daemon's state directory of a root with a long path: the keeper's socket path passes sun_path's 107 bytes. */
    @Test
    void aStateDirectoryDeeperThanSunPathAllowsStillHasAKeeper() throws Exception {
        Path deep = Files.createDirectories(state.resolve("tmp-modtrack%2dloop%2dbenchTX7Na3-mnt-" + "x".repeat(40)));
        int counter = Posix.eventfd(Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        try {
            try (KeptQueue k = KeptQueue.attach(deep, Duration.ofSeconds(60))) {
                k.keep(new QueueHolder.Group(counter, 3, 3, "", ""));
            }
            try (KeptQueue again = KeptQueue.attach(deep, Duration.ofSeconds(60))) {
                QueueHolder.Group g = again.take().orElseThrow();
                assertEquals(3, g.id());
                Posix.close(g.fd(), "the taken counter");
            }
        } finally {
            Posix.close(counter, "the test's event counter");
            KeptQueue.releaseIfRunning(deep);
        }
    }

    /**
     * The keeper closes a group once its file system is unmounted, and not before: a mount or an
     * unmount elsewhere does not end it. On btrfs the root's device (stat) is not the superblock's
     * (mountinfo), and a keeper that looked for the first in mountinfo closed the group at every
     * change of the mount table, so a power lease came and went with other file systems' mounts.
     */
    @ParameterizedTest
    @ValueSource(strings = {"ext4", "btrfs"})
    void aGroupIsKeptThroughOtherMountsAndClosedOnceItsFileSystemIsUnmounted(String fsType) throws Exception {
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> LoopMount.unavailableReason(fsType).get());
        int counter = Posix.eventfd(Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        ProcessHandle keeper;
        try (LoopMount m = LoopMount.create(fsType, 128L << 20)) {
            QueueHolder.Group group;
            try (TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
                group = new QueueHolder.Group(counter, 7, 7, fs.majorMinor(), MountInfo.majorMinor(fs.superblockDev()));
            }
            try (KeptQueue k = KeptQueue.attach(state, Duration.ofSeconds(60))) {
                keeper = ProcessHandle.of(k.keeperPid()).orElseThrow();
                k.keep(group);
            } finally {
                Posix.close(counter, "the test's event counter");
            }
            try (TmpfsMount elsewhere = TmpfsMount.create(1 << 20)) {
                assertTrue(Files.isDirectory(elsewhere.mountPoint()));
            }
            // The keeper reads the mount table's change before the next connection.
            try (KeptQueue again = KeptQueue.attach(state, Duration.ofSeconds(60))) {
                QueueHolder.Group g = again.take().orElseThrow(() -> new AssertionError(
                        "the group was closed when another file system was mounted and unmounted"));
                assertEquals(group.superblock(), g.superblock());
                again.keep(g);
                Posix.close(g.fd(), "the taken counter");
            }
        }
        keeper.onExit().get(30, TimeUnit.SECONDS); // its file system unmounted: nothing left to queue
        assertFalse(keeper.isAlive());
    }

    @Test
    void anOrphanedGroupIsClosedAfterTheKeepTimeAndTheKeeperExits() throws Exception {
        int counter = Posix.eventfd(Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        ProcessHandle keeper;
        try (KeptQueue k = KeptQueue.attach(state, Duration.ofSeconds(1))) {
            keeper = ProcessHandle.of(k.keeperPid()).orElseThrow();
            k.keep(new QueueHolder.Group(counter, 1, 1, "", ""));
        } finally {
            Posix.close(counter, "the test's event counter");
        }
        keeper.onExit().get(30, TimeUnit.SECONDS); // once its keep time passed with nobody holding the group
        assertFalse(keeper.isAlive());
    }

    @Test
    void anotherUserIsRefusedEvenWhenItCanReachTheSocket() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")) && isRoot(), "needs root and setpriv");
        int counter = Posix.eventfd(Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        try (KeptQueue k = KeptQueue.attach(state, Duration.ofSeconds(60))) {
            k.keep(new QueueHolder.Group(counter, 1, 1, "", ""));
        } finally {
            Posix.close(counter, "the test's event counter");
        }
        Path directory = state.resolve(KeptQueue.DIRECTORY);
        Path socket = directory.resolve(QueueKeeper.SOCKET);
        // Open the way on purpose: the directory's mode is the first wall, the peer check the second.
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
        try {
            Process p = new ProcessBuilder("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    ChildScript.PYTHON, "-c", """
                    import socket, sys
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                    s.connect(sys.argv[1])
                    s.send(b"take")
                    msg, fds, flags, addr = socket.recv_fds(s, 4096, 4)
                    print(msg.decode(), len(fds))
                    """, socket.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals("refused uid 65534 may not hold this group 0", out);
        } finally {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void aDirectoryOthersMayEnterIsRefusedInOneSentence() throws Exception {
        Path directory = Files.createDirectory(state.resolve(KeptQueue.DIRECTORY),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        IOException e = assertThrows(IOException.class, () -> KeptQueue.attach(state, Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("closed to everyone else"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    private static long readCount(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment eight = arena.allocate(ValueLayout.JAVA_LONG);
            assertEquals(8, Posix.read(fd, eight));
            return eight.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    private static boolean isRoot() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .anyMatch(l -> l.startsWith("Uid:") && l.substring(4).strip().split("\\s+")[1].equals("0"));
    }
}
