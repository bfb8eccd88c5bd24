package org.modtrack.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.modtrack.posix.Fanotify.FAN_ALLOW;
import static org.modtrack.posix.Fanotify.FAN_CLASS_NOTIF;
import static org.modtrack.posix.Fanotify.FAN_CLASS_PRE_CONTENT;
import static org.modtrack.posix.Fanotify.FAN_CLOEXEC;
import static org.modtrack.posix.Fanotify.FAN_CREATE;
import static org.modtrack.posix.Fanotify.FAN_DENY;
import static org.modtrack.posix.Fanotify.FAN_MARK_ADD;
import static org.modtrack.posix.Fanotify.FAN_MARK_FILESYSTEM;
import static org.modtrack.posix.Fanotify.FAN_NONBLOCK;
import static org.modtrack.posix.Fanotify.FAN_PRE_ACCESS;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modtrack.testing.LoopMount;

/**
 * fanotify_init, fanotify_mark and responses against the kernel, on a loop-mounted ext4 only:
 * a permission mark on any other filesystem could block writers a test does not own.
 */
class FanotifyTest {
    private static final int EVENT_F_FLAGS = Posix.O_RDONLY | Posix.O_LARGEFILE | Posix.O_CLOEXEC;
    private LoopMount mount;
    private final List<Integer> groups = new ArrayList<>();

    @BeforeEach
    void mount() throws IOException {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(), () -> "skipped: " + LoopMount.unavailableReason("ext4").get());
        mount = LoopMount.create("ext4", 32L << 20);
    }

    /** Groups close before the unmount: closing a group releases anything still waiting for it. */
    @AfterEach
    void cleanUp() throws IOException {
        for (int group : groups) {
            Posix.close(group, "fanotify group");
        }
        if (mount != null) {
            mount.close();
        }
    }

    @Test
    void aNotificationGroupReportsTheCreatedNameWithItsDirectorysHandle() throws Exception {
        int group = group(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | Fanotify.FAN_REPORT_DFID_NAME);
        Fanotify.mark(group, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CREATE, Statx.AT_FDCWD, mount.mountPoint().toString());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(4096, 8);
            assertEquals(-1, Posix.read(group, buffer), "nothing yet: EAGAIN");
            Files.writeString(mount.mountPoint().resolve("hello"), "x");
            FanotifyEvents events = new FanotifyEvents().reset(buffer, Posix.read(group, buffer));
            assertTrue(events.next());
            assertEquals(FAN_CREATE, events.mask());
            assertEquals(Fanotify.FAN_NOFD, events.fd());
            assertEquals(ProcessHandle.current().pid(), events.pid());
            assertTrue(events.nextInfo());
            assertEquals(Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME, events.infoType());
            assertEquals("hello", events.name());
            assertEquals(Posix.statfs(mount.mountPoint().toString()).fsid(), events.fsid());
            assertEquals(mount.mountPoint().toString(), resolve(events.handleType(), events.handleBytes()));
        }
    }

    @Test
    void aPreContentEventWaitsForTheAnswerAndADenyCarriesItsErrno() throws Exception {
        Path file = Files.writeString(mount.mountPoint().resolve("data"), "content");
        int group = group(FAN_CLASS_PRE_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | Fanotify.FAN_REPORT_TID);
        Fanotify.mark(group, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_PRE_ACCESS, Statx.AT_FDCWD, mount.mountPoint().toString());

        CompletableFuture<String> allowed = CompletableFuture.supplyAsync(() -> read(file));
        assertTrue(answerUntilDone(group, allowed, FAN_ALLOW) >= 1, "a read raises at least one event");
        assertEquals("content", allowed.get(10, TimeUnit.SECONDS));

        CompletableFuture<String> denied = CompletableFuture.supplyAsync(() -> read(file));
        assertEquals(1, answerUntilDone(group, denied, Fanotify.FAN_DENY_ERRNO(Errno.EIO)), "the first denial ends the read");
        ExecutionException e = assertThrows(ExecutionException.class, () -> denied.get(10, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, e.getCause().getCause());
        assertTrue(e.getCause().getCause().getMessage().contains("Input/output error"), e.getCause().getCause().getMessage());
    }

    @Test
    void failuresSayWhatWasAsked() throws Exception {
        PosixException init = assertThrows(PosixException.class,
                () -> Fanotify.init(FAN_CLASS_PRE_CONTENT | Fanotify.FAN_REPORT_FID, EVENT_F_FLAGS));
        assertEquals("fanotify_init(0x208, 0x88000) failed: EINVAL (Invalid argument)", init.getMessage());
        int group = group(FAN_CLASS_NOTIF | FAN_CLOEXEC);
        PosixException mark = assertThrows(PosixException.class, () -> Fanotify.mark(group,
                FAN_MARK_ADD | Fanotify.FAN_MARK_REMOVE, Fanotify.FAN_MODIFY, Statx.AT_FDCWD, mount.mountPoint().toString()));
        assertEquals("fanotify_mark(FAN_MARK_ADD|FAN_MARK_REMOVE, FAN_MODIFY) of " + mount.mountPoint() + " on group fd "
                + group + " failed: EINVAL (Invalid argument)", mark.getMessage());
        PosixException respond = assertThrows(PosixException.class, () -> Fanotify.respond(group, 12345, FAN_ALLOW));
        assertTrue(respond.getMessage().startsWith("fanotify response 0x1 to event fd 12345 on group fd " + group + " failed: "),
                respond.getMessage());
    }

    @Test
    void namesAndResponseValuesMatchTheUapi() {
        assertEquals("FAN_PRE_ACCESS|FAN_ONDIR", Fanotify.maskNames(FAN_PRE_ACCESS | Fanotify.FAN_ONDIR));
        assertEquals("FAN_MODIFY|0x80000000", Fanotify.maskNames(Fanotify.FAN_MODIFY | 0x80000000L));
        assertEquals("FAN_MARK_ADD|FAN_MARK_FILESYSTEM", Fanotify.markFlagNames(FAN_MARK_ADD | FAN_MARK_FILESYSTEM));
        assertEquals("FAN_MARK_INODE", Fanotify.markFlagNames(0));
        assertEquals(0x05000002, Fanotify.FAN_DENY_ERRNO(Errno.EIO));
        assertEquals(FAN_DENY, Fanotify.FAN_DENY_ERRNO(0));
        assertEquals(0x1E00, Fanotify.FAN_REPORT_DFID_NAME_TARGET);
        assertTrue(Fanotify.isPermissionEvent(FAN_PRE_ACCESS));
        assertTrue(!Fanotify.isPermissionEvent(FAN_CREATE));
    }

    private int group(int flags) throws PosixException {
        int fd = Fanotify.init(flags, EVENT_F_FLAGS);
        groups.add(fd);
        return fd;
    }

    /**
     * Answers every pre-content event with {@code response} until {@code access} is done (a read
     * raises several: one per read call, the one at end of file included); returns how many.
     */
    private static int answerUntilDone(int group, CompletableFuture<?> access, int response) throws PosixException {
        int answered = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(4096, 8);
            FanotifyEvents events = new FanotifyEvents();
            while (!access.isDone() && System.nanoTime() < deadline) {
                if (Posix.poll(new int[] {group}, Posix.POLLIN, 20)[0] == 0) {
                    continue;
                }
                events.reset(buffer, Math.max(0, Posix.read(group, buffer)));
                while (events.next()) {
                    assertEquals(FAN_PRE_ACCESS, events.mask());
                    try {
                        Fanotify.respond(group, events.fd(), response);
                        answered++;
                    } finally {
                        Posix.close(events.fd(), "event fd");
                    }
                }
            }
        }
        return answered;
    }

    private String resolve(int handleType, byte[] handle) throws PosixException {
        int mountFd = Posix.open(mount.mountPoint().toString(), Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
        try {
            int fd = FileHandles.openByHandleAt(mountFd, handleType, handle, Posix.O_PATH | Posix.O_CLOEXEC);
            try {
                return Posix.readlink("/proc/self/fd/" + fd);
            } finally {
                Posix.close(fd, "handle");
            }
        } finally {
            Posix.close(mountFd, mount.mountPoint().toString());
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
