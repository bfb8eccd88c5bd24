package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.modtrack.source.linux.LinuxSourceTest.sh;
import static org.modtrack.source.linux.LinuxSourceTest.shPastTheMargin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.posix.PosixException;
import org.modtrack.testing.LoopMount;

/**
 * A power loss or a kernel crash while tracking, played without one (no test machine can reboot):
 * every modtrack process is stopped at once and then killed, so nothing of theirs runs after the
 * "loss", and the next start takes another boot id ({@link Boot#SIMULATED}). What a real power loss
 * does to the disks (unsynced pages lost, an overwrite in place without its new ctime) is the
 * simulator's to check (docs/simulation.md); here the real source shows which answer it gives.
 */
class RebootTest {
    private static final long MIB = 1 << 20;
    private static final LinuxSourceOptions KEEPING = LinuxSourceOptions.defaults().withKeepQueue(Duration.ofSeconds(60));

    @TempDir
    Path scratch;

    /** Ends the keeper a test left (it also ends by itself at the unmount). */
    @AfterEach
    void releaseTheKeeper() throws Exception {
        try {
            KeptQueue.releaseIfRunning(scratch.resolve("state"));
        } catch (PosixException e) {
            // it exited meanwhile: the unmount ended it
        }
    }

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "RebootTest skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    /**
     * With the power lease standing at the loss, the first result after the reboot is found by a
     * walk since the last blessed checkpoint: it names what changed (a directory scope recorded
     * before the loss is read whole, since an overwrite in place may have kept its old ctime on
     * disk; so are the sibling directories recorded ahead of the writes), and nothing else.
     */
    @Test
    void aPowerLossWhileTrackingIsAnsweredByAWalkAfterTheReboot() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Path state = scratch.resolve("state");
            shPastTheMargin(root, "mkdir -p a b c x/y; for d in a b c x/y; do for f in 1 2 3; do echo seed > $d/f$f; done; done;"
                    + " echo seed > top; sync");
            try (TrackerProcess.Client tracker = keepingTracker(root, state)) {
                TrackerProcess.Result first = tracker.query();
                tracker.bless(first.snapshot());
                shPastTheMargin(root, "true"); // the seed's ctimes are before the blessed checkpoint's margin
                sh(root, "echo more >> a/f1; echo new > b/new; rm b/f2; mv c/f3 c/moved");
                assertTrue(Files.exists(state.resolve(PowerLease.FILE)), "a lease stands while a guarded tracker records durably");
                powerLoss(tracker, tracker.keeperPid());
            }
            assertTrue(Files.exists(state.resolve(PowerLease.FILE)), "nothing ran after the loss to remove the lease");
            LinuxResult r = afterReboot(root, state);
            assertTrue(r.continuity().intact(), "a walk found what changed across the reboot: " + r.continuity());
            assertNotNull(r.reconciled(), r.toString());
            assertTrue(r.reconciled().reason().contains("rebooted"), r.reconciled().reason());
            Map<String, PathChange> said = byPath(r, root);
            for (String changed : List.of("a/f1", "b/new", "c/moved")) {
                assertTrue(said.containsKey(changed), changed + " is named: " + said.keySet());
            }
            assertTrue(said.containsKey("a/f2") && said.containsKey("a/f3"),
                    "a scope recorded before the loss is read whole: " + said.keySet());
            assertTrue(said.containsKey("b/f2") || said.get("b") != null, "b/f2's removal is named or b is listed: " + said.keySet());
            assertTrue(said.containsKey("c/f3") || said.get("c") != null, "c/f3's rename is named or c is listed: " + said.keySet());
            assertTrue(said.keySet().stream().noneMatch(p -> p.startsWith("x/y")), "a directory left alone: " + said.keySet());
            assertFalse(said.containsKey("top"), "a file left alone in a directory no scope holds: " + said.keySet());
        }
    }

    /**
     * The tracking process killed alone: its keeper removes the lease before the writers it held go
     * on, so a power loss after that (writes made while no tracker ran may have kept their old
     * ctimes) is answered with a rescan.
     */
    @Test
    void aTrackerThatDiedBeforeThePowerLossLeavesNoLeaseAndTheRebootIsARescan() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Path state = scratch.resolve("state");
            shPastTheMargin(root, "mkdir a; echo seed > a/f; sync");
            try (TrackerProcess.Client tracker = keepingTracker(root, state)) {
                TrackerProcess.Result first = tracker.query();
                tracker.bless(first.snapshot());
                long keeper = tracker.keeperPid();
                tracker.kill();
                awaitGone(state.resolve(PowerLease.FILE));
                ProcessHandle.of(keeper).ifPresent(h -> {
                    h.destroyForcibly(); // the power loss ends it too
                    h.onExit().join();
                });
            }
            sh(root, "echo unrecorded >> a/f");
            LinuxResult r = afterReboot(root, state);
            assertFalse(r.continuity().intact(), r.toString());
            assertTrue(r.continuity().reason().contains("no power lease"), r.continuity().reason());
        }
    }

    /**
     * The lease stands only while a keeper guards it: a keeper killed while the tracker runs takes
     * it away at once (the tracker watches its connection), the next result's new keeper brings it
     * back, and a clean stop removes it before the groups close.
     */
    @Test
    void theLeaseFollowsItsGuard() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            Path state = scratch.resolve("state");
            Path lease = state.resolve(PowerLease.FILE);
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), KEEPING)) {
                assertTrue(Files.exists(lease));
                ProcessHandle keeper = ProcessHandle.of(source.keeperPid().orElseThrow()).orElseThrow();
                keeper.destroyForcibly();
                awaitGone(lease);
                source.query();
                assertTrue(Files.exists(lease), "the new keeper guards again");
            }
            assertFalse(Files.exists(lease), "a clean stop removes it");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(),
                    KEEPING.withKeepQueue(Duration.ZERO))) {
                assertFalse(Files.exists(lease), "without a keeper nothing would remove it at a death: none is written");
            }
        }
    }

    private TrackerProcess.Client keepingTracker(Path root, Path state) throws Exception {
        return new TrackerProcess.Client(root, state, scratch.resolve("tracker.log"), LinuxSourceOptions.defaults().answerDeadline(),
                List.of("-D" + TrackerProcess.KEEP_QUEUE_SECONDS + "=60"));
    }

    /** Stops the tracker and its keeper, then kills both: neither runs another instruction, as at a power loss. */
    private static void powerLoss(TrackerProcess.Client tracker, long keeperPid) throws Exception {
        assertTrue(keeperPid > 0, "a keeper runs");
        for (String signal : List.of("-STOP", "-KILL")) {
            assertEquals(0, new ProcessBuilder("kill", signal, Long.toString(keeperPid), Long.toString(tracker.pid()))
                    .inheritIO().start().waitFor());
        }
        tracker.kill();
        ProcessHandle.of(keeperPid).ifPresent(h -> h.onExit().join());
    }

    /** Opens the source as the first start of a new boot, which began now, and returns its first result. */
    private LinuxResult afterReboot(Path root, Path state) throws Exception {
        long now = Instant.now().getEpochSecond() * 1_000_000_000L + Instant.now().getNano();
        System.setProperty(Boot.SIMULATED, "simulated-boot-" + now + ":" + now);
        try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults(), KEEPING)) {
            return source.query();
        } finally {
            System.clearProperty(Boot.SIMULATED);
        }
    }

    private static void awaitGone(Path file) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Files.exists(file) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(Files.exists(file), file + " is removed");
    }

    private static Map<String, PathChange> byPath(LinuxResult r, Path mount) {
        Map<String, PathChange> out = new TreeMap<>();
        for (PathChange c : r.changes()) {
            out.put(mount.relativize(Path.of(c.path())).toString(), c);
        }
        return out;
    }
}
