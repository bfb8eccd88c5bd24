package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.posix.Posix;
import org.modtrack.testing.LoopMount;

/**
 * A SIGKILLed tracker must exit, so that the kernel answers its writers: the order in which a dying
 * process's fanotify groups are released decides whether it can. A writer waiting for a permission
 * answer pins the marks of every group on its file, also a notification group's ignore mark (a
 * muted file or directory), and releasing that notification group waits, uninterruptibly, until
 * nothing pins its marks. Released before the pre-content group, it waits for an answer only the
 * pre-content group's release would give: the process never exits and the writer waits forever.
 * Seen once in WorkloadTest (the dying tracker's last thread in {@code fsnotify_destroy_group}).
 */
class GroupReleaseOrderTest {
    private static final long MIB = 1 << 20;
    /** The child: makes both groups in the order asked, marks the file, never answers. */
    private static final String GROUPS = """
            import ctypes, os, sys, time
            libc = ctypes.CDLL(None, use_errno=True)
            libc.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
            libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
            mnt, order = sys.argv[1], sys.argv[2]
            def group(kind):
                flags = 0x8 | 0x1 if kind == 'pre' else 0x1 | 0x1e00  # PRE_CONTENT | CLOEXEC; NOTIF | DFID_NAME_TARGET
                fd = libc.fanotify_init(flags, os.O_RDONLY)
                if fd < 0: sys.exit('fanotify_init: errno %d' % ctypes.get_errno())
                return fd
            fds = {}
            for kind in order.split(','):
                fds[kind] = group(kind)
            def mark(fd, flags, mask, path):
                if libc.fanotify_mark(fd, flags, mask, -100, path.encode()) != 0:
                    sys.exit('fanotify_mark: errno %d' % ctypes.get_errno())
            mark(fds['pre'], 0x1 | 0x100, 0x00100000, mnt)          # ADD | FILESYSTEM, FAN_PRE_ACCESS
            mark(fds['notif'], 0x1 | 0x100, 0x2, mnt)               # ADD | FILESYSTEM, FAN_MODIFY
            mark(fds['notif'], 0x1 | 0x400 | 0x40, 0x2, mnt + '/f')  # ADD | IGNORE | SURV_MODIFY: f muted
            print('ready', fds['pre'], fds['notif'], flush=True)
            time.sleep(600)
            """;

    @TempDir
    Path scratch;

    @BeforeAll
    static void requireLoopMountsAndPython() throws Exception {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "GroupReleaseOrderTest skipped: " + LoopMount.unavailableReason("ext4").get());
        assumeTrue(ChildScript.available(), "GroupReleaseOrderTest skipped: python3 is not installed");
    }

    /**
     * Whether a process holding both groups (created in {@code order}) exits within 3 s of SIGKILL
     * while a writer waits for its pre-content group. Kills the writer afterwards either way, which
     * lets a hung process go.
     */
    private boolean exitsWhileAWriterWaits(String order) throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 32 * MIB)) {
            Path root = m.mountPoint();
            Files.writeString(root.resolve("f"), "seed\n");
            Path script = scratch.resolve("groups.py");
            Files.writeString(script, GROUPS);
            Process groups = new ProcessBuilder(ChildScript.PYTHON, script.toString(), root.toString(), order)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Process writer = null;
            try {
                String ready = new BufferedReader(new InputStreamReader(groups.getInputStream(), StandardCharsets.UTF_8))
                        .readLine();
                assertTrue(ready != null && ready.startsWith("ready"), "the child said " + ready);
                writer = new ProcessBuilder("sh", "-c", "echo more >> " + root.resolve("f")).start();
                awaitWaitingForAnswer(writer.pid());
                groups.destroyForcibly();
                boolean exited = groups.waitFor(3, TimeUnit.SECONDS);
                writer.destroyForcibly();
                assertTrue(writer.waitFor(30, TimeUnit.SECONDS), "the writer's wait is killable");
                assertTrue(groups.waitFor(30, TimeUnit.SECONDS), "the groups' process exits once nothing waits");
                return exited;
            } finally {
                groups.destroyForcibly().waitFor();
                if (writer != null) {
                    writer.destroyForcibly().waitFor();
                }
            }
        }
    }

    /** Until some thread of {@code pid} sleeps in fanotify's permission wait, inlined in fanotify_handle_event (at most 10 s). */
    private static void awaitWaitingForAnswer(long pid) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path t : (Iterable<Path>) tasks::iterator) {
                    if (Files.readString(t.resolve("stack")).contains("fanotify_handle_event")) {
                        return;
                    }
                }
            } catch (IOException gone) {
                // not started yet, or a task ended meanwhile
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the writer never waited for the pre-content group's answer");
    }

    @Test
    void aDyingProcessReleasesItsHighestDescriptorFirstSoThePreContentGroupMustBeAbove() throws Exception {
        boolean preContentAbove = exitsWhileAWriterWaits("notif,pre");
        boolean preContentBelow = exitsWhileAWriterWaits("pre,notif");
        assertTrue(preContentAbove, "with the pre-content group's descriptor above the notification group's, a"
                + " SIGKILLed process did not exit while a writer waited: LinuxSource.numberedAbove's order is wrong"
                + " for this kernel (" + System.getProperty("os.version") + ")");
        assertFalse(preContentBelow, "with the pre-content group below, a SIGKILLed process exited while a writer"
                + " waited: the kernel no longer releases the highest descriptor first, or no longer waits for pinned"
                + " marks (" + System.getProperty("os.version") + "); keep the order, but the reason changed");
    }

    @Test
    void theSourceKeepsItsPreContentGroupAboveItsNotificationGroup() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 32 * MIB);
                LinuxSource source = LinuxSource.open(m.mountPoint(), scratch.resolve("state"), TrackerConfig.defaults())) {
            int[] groups = source.groupDescriptors();
            assertTrue(groups[0] > groups[1], "pre-content " + groups[0] + ", notification " + groups[1]);
        }
    }

    @Test
    void aDescriptorIsRenumberedAboveAnotherOnlyWhenBelowIt() throws Exception {
        int low = Posix.open("/dev/null", Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        int high = Posix.open("/dev/null", Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        int moved = LinuxSource.numberedAbove(high, low);
        try {
            assertTrue(moved > high, moved + " is not above " + high);
            assertEquals(moved, LinuxSource.numberedAbove(high - 1, moved), "already above: kept");
        } finally {
            Posix.close(moved, "/dev/null");
            Posix.close(high, "/dev/null");
        }
    }
}
