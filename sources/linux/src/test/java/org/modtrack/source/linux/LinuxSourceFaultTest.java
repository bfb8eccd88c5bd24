package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.Durability;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.engine.journal.JournalFullException;
import org.modtrack.posix.Posix;
import org.modtrack.testing.TmpfsMount;
import org.modtrack.testing.LoopMount;

/**
 * Barriers and faults on real file systems: the freeze barrier, the fall-back to it for io_uring
 * users, a journal that hits its limit (per snapshot, and in all for a consumer that never blesses), a journal disk that stalls or fails (device-mapper). In
 * every case no writer waits past the answer deadline and no change goes unreported without the
 * result saying continuity was lost.
 */
class LinuxSourceFaultTest {
    private static final long MIB = 1 << 20;
    /** fs.fanotify.max_queued_events as the kernel sets it: what a group gets unless modtrack raises it. */
    private static final int KERNEL_DEFAULT_QUEUE_EVENTS = 16_384;

    @TempDir
    Path state;

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "LinuxSourceFaultTest skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    /** Runs a shell script in {@code dir}; returns its exit code and output. Never waits more than {@code seconds}. */
    private static Run sh(Path dir, String script, long seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", script).directory(dir.toFile()).redirectErrorStream(true).start();
        long start = System.nanoTime();
        boolean ended = p.waitFor(seconds, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        if (!ended) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        return new Run(ended ? p.exitValue() : -1, new String(p.getInputStream().readAllBytes()), took);
    }

    private record Run(int exit, String output, Duration took) {}

    @Test
    void theFreezeBarrierIsAlwaysCorrectAndSaysSo() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            try (LinuxSource source = LinuxSource.open(m.mountPoint(), state, TrackerConfig.defaults(),
                    LinuxSourceOptions.defaults().withBarrier(LinuxSourceOptions.Barrier.FREEZE))) {
                assertEquals(0, sh(m.mountPoint(), "echo a > a; echo b > b", 30).exit());
                LinuxResult r = source.query();
                assertEquals("freeze", r.barrier());
                assertEquals(2, r.changes().size(), r.toString());
                assertEquals(0, sh(m.mountPoint(), "echo c >> a", 30).exit(), "the file system was thawed");
            }
        }
    }

    @Test
    void anIoUringUserMakesTheCheckpointFreezeAndTheResultSaysWhy() throws Exception {
        assumeTrue(UringProbe.available(), "gcc builds the io_uring probe");
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB);
             LinuxSource tracker = LinuxSource.open(m.mountPoint(), state.resolve("st"), TrackerConfig.defaults());
             UringProbe user = UringProbe.start(state, m.mountPoint().resolve("ring-file"))) {
            LinuxResult r = tracker.query();
            assertTrue(r.barrier().startsWith("freeze (fallback: process " + user.pid()), r.barrier());
        }
    }

    @Test
    void aJournalAtItsLimitFailsOpenAndTheResultSaysContinuityWasLost() throws Exception {
        TrackerConfig small = TrackerConfig.defaults().withSnapshotBytes(4096, 8192);
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB);
             LinuxSource source = LinuxSource.open(m.mountPoint(), state, small)) {
            // A directory each: the files of one directory are one record (files named by a scan).
            Run run = sh(m.mountPoint(), "for i in $(seq 1 300); do mkdir d$i; echo $i > d$i/f; done", 60);
            assertEquals(0, run.exit(), "fail-open: every write went through: " + run.output());
            LinuxResult r = source.query();
            assertFalse(r.continuity().intact(), "the writes the journal could not hold are not promised");
            assertTrue(r.continuity().reason().contains("limit"), r.continuity().reason());
        }
    }

    @Test
    void aJournalAtItsLimitFailsClosedWithEio() throws Exception {
        TrackerConfig small = TrackerConfig.defaults().withSnapshotBytes(4096, 8192);
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB);
             LinuxSource source = LinuxSource.open(m.mountPoint(), state, small,
                     // File records: each new file needs a record before its write, so the limit denies one.
                     // (With directory records the 300 files need one; their after-the-fact records cannot
                     // be denied, so at the limit continuity is marked lost instead: docs/linux-source.md.)
                     LinuxSourceOptions.defaults().withFailurePolicy(LinuxSourceOptions.FailurePolicy.FAIL_CLOSED)
                             .withGranularity(LinuxSourceOptions.Granularity.FILE))) {
            Run run = sh(m.mountPoint(), "for i in $(seq 1 300); do echo $i > f$i || exit 7; done", 60);
            assertEquals(7, run.exit(), "a write was denied: " + run.output());
            assertTrue(run.output().contains("Input/output error"), run.output());
            LinuxResult r = source.query();
            // No write went through unrecorded. The creation the shell made just before its denied write
            // may not have fit either, and a creation cannot be denied (it has happened): if continuity
            // was lost, that is the only reason allowed.
            assertTrue(r.continuity().intact()
                    || r.continuity().reason().startsWith("a creation, deletion, rename or attribute change"),
                    "the only loss is after-the-fact records: " + r.continuity());
        }
    }

    @Test
    void aReadIsNeverDeniedWhenItsDirectoryCannotBeRecordedEvenFailingClosed() throws Exception {
        // Process durability: directories are recorded before any answer, reads included (docs/linux-source.md).
        TrackerConfig small = TrackerConfig.defaults().withDurability(Durability.PROCESS).withSnapshotBytes(4096, 8192);
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Files.createDirectory(m.mountPoint().resolve("r"));
            Files.writeString(m.mountPoint().resolve("r/f"), "seed\n");
            try (LinuxSource source = LinuxSource.open(m.mountPoint(), state, small,
                    LinuxSourceOptions.defaults().withFailurePolicy(LinuxSourceOptions.FailurePolicy.FAIL_CLOSED))) {
                Run fill = sh(m.mountPoint(), "for i in $(seq 1 300); do mkdir d$i; echo $i > d$i/f || exit 7; done", 60);
                assertEquals(7, fill.exit(), "a write in a directory the full journal could not record was denied: "
                        + fill.output());
                Run read = sh(m.mountPoint(), "cat r/f", 30);
                assertEquals(0, read.exit(), "a read changes nothing, so it is not denied: " + read.output());
                assertEquals("seed\n", read.output());
            }
        }
    }

    /** Small snapshots, and room for about 16 of them in all: a consumer that never blesses reaches it soon. */
    private static final TrackerConfig NEVER_BLESSED = TrackerConfig.defaults().withSnapshotBytes(4096, MIB)
            .withMaxJournalBytes(64 * 1024);

    /**
     * A consumer that never blesses: batches of writers (child processes), each followed by a query
     * whose result is not blessed, until the journal's limit refuses a query or a write. Returns the
     * last result; every batch ended on its own (none hung), and each before the limit succeeded.
     */
    private static LinuxResult queryWithoutBlessUntilTheLimit(LinuxSource source, Path dir, boolean failClosed)
            throws Exception {
        LinuxResult last = null;
        for (int round = 0; round < 200; round++) {
            // A directory each: the files of one directory are one record (files named by a scan).
            Run run = sh(dir, "for i in $(seq 1 20); do mkdir r" + round + "d$i && echo $i > r" + round + "d$i/f || exit 7; done",
                    60);
            assertTrue(run.exit() >= 0, "a writer hung: " + run.output());
            if (run.exit() == 7 && failClosed) {
                assertTrue(run.output().contains("Input/output error"), run.output());
                assertTrue(last != null, "the first query fits");
                return last; // a write over the limit was denied
            }
            assertEquals(0, run.exit(), run.output());
            try {
                last = source.query();
            } catch (JournalFullException e) {
                assertTrue(e.getMessage().contains("bless result " + last.snapshot()), e.getMessage());
                return last;
            }
        }
        throw new AssertionError("200 unblessed queries did not reach a 64 KiB journal limit");
    }

    @Test
    void aConsumerThatNeverBlessesReachesTheJournalLimitAndWritersFailOpen() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB);
             LinuxSource source = LinuxSource.open(m.mountPoint(), state, NEVER_BLESSED)) {
            LinuxResult last = queryWithoutBlessUntilTheLimit(source, m.mountPoint(), false);
            Run over = sh(m.mountPoint(), "for i in $(seq 1 300); do mkdir over$i; echo $i > over$i/f; done", 60);
            assertEquals(0, over.exit(), "fail-open: every write over the limit went through: " + over.output());
            JournalFullException refused = assertThrows(JournalFullException.class, source::query);
            assertTrue(refused.getMessage().contains("bless result " + last.snapshot()), refused.getMessage());

            source.bless(last.snapshot());
            LinuxResult lost = source.query();
            assertFalse(lost.continuity().intact(), "writes over the limit went unrecorded: " + lost.continuity());
            assertTrue(lost.continuity().reason().contains("journal limit"), lost.continuity().reason());
            source.bless(lost.snapshot());

            assertEquals(0, sh(m.mountPoint(), "echo after > after", 30).exit());
            LinuxResult resumed = source.query();
            assertTrue(resumed.continuity().intact(), "the loss was reported and blessed: " + resumed.continuity());
            assertTrue(resumed.changes().stream().anyMatch(c -> c.path().endsWith("/after")), resumed.toString());
        }
    }

    @Test
    void aConsumerThatNeverBlessesReachesTheJournalLimitAndWritersFailClosed() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB);
             LinuxSource source = LinuxSource.open(m.mountPoint(), state, NEVER_BLESSED,
                     // File records: a record before each new file's write, which the limit can deny
                     // (directory records' after-the-fact records cannot be denied: docs/linux-source.md).
                     LinuxSourceOptions.defaults().withFailurePolicy(LinuxSourceOptions.FailurePolicy.FAIL_CLOSED)
                             .withGranularity(LinuxSourceOptions.Granularity.FILE))) {
            LinuxResult last = queryWithoutBlessUntilTheLimit(source, m.mountPoint(), true);
            Run over = sh(m.mountPoint(), "for i in $(seq 1 300); do mkdir over$i && echo $i > over$i/f || exit 7; done", 60);
            assertEquals(7, over.exit(), "fail-closed: a write over the limit was denied: " + over.output());
            assertTrue(over.output().contains("Input/output error"), over.output());

            source.bless(last.snapshot());
            LinuxResult r = source.query();
            // No write went through unrecorded; a creation cannot be denied (it has happened), so if
            // continuity was lost, that is the only reason allowed.
            assertTrue(r.continuity().intact()
                    || r.continuity().reason().startsWith("a creation, deletion, rename or attribute change"),
                    "the only loss is after-the-fact records: " + r.continuity());
            source.bless(r.snapshot());

            assertEquals(0, sh(m.mountPoint(), "echo after > after", 30).exit(), "recording resumed after the bless");
            LinuxResult resumed = source.query();
            assertTrue(resumed.changes().stream().anyMatch(c -> c.path().endsWith("/after")), resumed.toString());
        }
    }

    @Test
    void aStalledJournalDiskDelaysWritersOnlyUntilTheDeadline() throws Exception {
        // The journal's file system is frozen (FIFREEZE): every write and sync to it waits, as on a
        // stalled disk. (Device-mapper, which could also fail I/O with EIO, is not in this kernel;
        // the error path is the one the journal-limit and ENOSPC tests take.)
        Duration deadline = Duration.ofMillis(300);
        try (LoopMount journalDisk = LoopMount.create("ext4", 64 * MIB);
             LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            try (LinuxSource source = LinuxSource.open(m.mountPoint(), journalDisk.mountPoint().resolve("state"),
                    TrackerConfig.defaults(), LinuxSourceOptions.defaults().withAnswerDeadline(deadline))) {
                int fd = Posix.open(journalDisk.mountPoint().toString(), Posix.O_RDONLY | Posix.O_DIRECTORY, 0);
                Run run;
                try {
                    Posix.ioctl(fd, Posix.FIFREEZE, 0);
                    try {
                        run = sh(m.mountPoint(), "echo a > a; echo b > b; cat a b", 30);
                    } finally {
                        Posix.ioctl(fd, Posix.FITHAW, 0);
                    }
                } finally {
                    Posix.close(fd, "the journal's mount point");
                }
                assertEquals(0, run.exit(), run.output());
                assertTrue(run.took().compareTo(Duration.ofSeconds(5)) < 0,
                        "writers wait for the deadline, not for the disk: " + run.took());
                LinuxResult r = source.query();
                assertFalse(r.continuity().intact(), "accesses were allowed unrecorded: " + r);
                assertTrue(r.continuity().reason().contains("deadline"), r.continuity().reason());
            }
        }
    }

    /**
     * A journal disk that starts failing with EIO for real (its loop device cut short under the file
     * system, {@link LoopMount#shrinkDevice}), after the tracker has recorded some writes; then 200
     * new files. Returns the writers' run and the tracker's query (null if the query itself failed
     * with an I/O error, which is allowed: its checkpoint cannot be written either).
     */
    private static AfterFailure writesAfterTheJournalDiskFails(LinuxSourceOptions.FailurePolicy policy) throws Exception {
        try (LoopMount journalDisk = LoopMount.create("ext4", 64 * MIB);
             LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            LinuxSource source = LinuxSource.open(m.mountPoint(), journalDisk.mountPoint().resolve("state"),
                    TrackerConfig.defaults(), LinuxSourceOptions.defaults().withAnswerDeadline(Duration.ofSeconds(2))
                            .withFailurePolicy(policy).withGranularity(LinuxSourceOptions.Granularity.FILE));
            try {
                assertEquals(0, sh(m.mountPoint(), "for i in $(seq 1 20); do echo $i > before$i; done", 60).exit());
                journalDisk.shrinkDevice(MIB);
                Run run = sh(m.mountPoint(), "for i in $(seq 1 200); do echo $i > f$i || exit 7; done", 120);
                assertTrue(run.exit() >= 0, "a writer hung past the deadline: " + run.output());
                LinuxResult r;
                try {
                    r = source.query();
                } catch (IOException e) {
                    assertTrue(e.getMessage().contains("EIO") || e.getMessage().contains("Input/output"), e.toString());
                    r = null;
                }
                return new AfterFailure(run, r);
            } finally {
                closeOnAFailedDisk(source);
                assertEquals(0, sh(m.mountPoint(), "echo after > after", 30).exit(), "the groups are closed: writers are free");
            }
        }
    }

    /** Stops a source whose journal disk failed: its clean-stop marker cannot be written, so the next start reports a crash. */
    private static void closeOnAFailedDisk(LinuxSource source) {
        try {
            source.close();
        } catch (IOException expected) {
            // the marker did not fit or could not be written
        }
    }

    private record AfterFailure(Run run, LinuxResult result) {}

    @Test
    void aJournalDiskFailingWithEioFailsOpen() throws Exception {
        AfterFailure out = writesAfterTheJournalDiskFails(LinuxSourceOptions.FailurePolicy.FAIL_OPEN);
        assertEquals(0, out.run().exit(), "fail-open: every write went through: " + out.run().output());
        LinuxResult r = out.result();
        assertTrue(r == null || !r.continuity().intact(), "EIO lost records, and the result says so: " + r);
    }

    @Test
    void aJournalDiskFailingWithEioFailsClosed() throws Exception {
        Run run = writesAfterTheJournalDiskFails(LinuxSourceOptions.FailurePolicy.FAIL_CLOSED).run();
        assertEquals(7, run.exit(), "fail-closed: a write that could not be recorded was denied: " + run.output());
        assertTrue(run.output().contains("Input/output error"), run.output());
    }

    @Test
    void aFullJournalDiskFailsOpen() throws Exception {
        TrackerConfig growing = TrackerConfig.defaults().withSnapshotBytes(4096, 64 * MIB);
        try (TmpfsMount journalDisk = TmpfsMount.create(96 * 1024);
             LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            LinuxSource source = LinuxSource.open(m.mountPoint(), journalDisk.mountPoint().resolve("state"), growing,
                    LinuxSourceOptions.defaults().withAnswerDeadline(Duration.ofSeconds(2)));
            try {
                // A directory each: the files of one directory are one record (files named by a scan).
                Run run = sh(m.mountPoint(), "for i in $(seq 1 2000); do mkdir d$i; echo $i > d$i/f; done", 120);
                assertEquals(0, run.exit(), "fail-open: every write went through: " + run.output());
                try {
                    LinuxResult r = source.query();
                    assertFalse(r.continuity().intact(), "ENOSPC lost records: " + r.continuity());
                } catch (IOException e) {
                    assertTrue(e.getMessage().contains("ENOSPC"), e.getMessage()); // the checkpoint did not fit either
                }
            } finally {
                closeOnAFailedDisk(source);
            }
            assertEquals(0, sh(m.mountPoint(), "echo after > after", 30).exit(), "the groups are closed: writers are free");
        }
    }

    @Test
    void aStoppedTrackerIsKilledByItsWatchdogSoWritersGoOn() throws Exception {
        Duration deadline = Duration.ofSeconds(1);
        Path stderr = state.resolve("tracker.err");
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            TrackerProcess.Client tracker = new TrackerProcess.Client(m.mountPoint(), state.resolve("st"), stderr, deadline);
            try {
                assertEquals(0, sh(m.mountPoint(), "echo before > before", 30).exit());
                assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(tracker.pid())).start().waitFor());
                Run run = sh(m.mountPoint(), "echo during > during; echo more >> before", 60);
                assertEquals(0, run.exit(), run.output());
                assertTrue(run.took().compareTo(Duration.ofSeconds(10)) < 0, "writers were released: " + run.took());
                assertTrue(tracker.awaitExit(10), "the watchdog killed the stopped tracker");
                assertTrue(Files.readString(stderr).contains("no heartbeat"), Files.readString(stderr));
            } finally {
                tracker.kill();
            }
            TrackerProcess.Client again = new TrackerProcess.Client(m.mountPoint(), state.resolve("st"), stderr, deadline);
            try {
                TrackerProcess.Result r = again.query();
                assertTrue(r.recovered(), "an unclean stop");
                assertTrue(r.intact() && r.reconciled() != null,
                        "the time it was stopped and dead is a gap, which a walk since tracking began covers: " + r);
                Set<String> named = r.changes().stream().map(PathChange::path).collect(Collectors.toSet());
                for (String name : List.of("before", "during")) {
                    assertTrue(named.contains(m.mountPoint().resolve(name).toString()), name + " is named: " + r.changes());
                }
            } finally {
                again.kill();
            }
        }
    }

    /**
     * A notification queue overflow (the tracker stopped while 24,000 files are renamed: more
     * events than the kernel's default queue of 16,384 holds) is found by a walk before the next
     * result: continuity stays intact, the result names the directories whose entries changed and
     * nothing in the untouched one, and a consumer that applies it as docs/protocol.md says ends
     * equal to the file system.
     */
    @Test
    void aQueueOverflowIsFoundByAWalkAndTheResultStaysPrecise() throws Exception {
        Path stderr = state.resolve("tracker.err");
        try (LoopMount m = LoopMount.create("ext4", 256 * MIB)) {
            Path root = m.mountPoint();
            assertEquals(0, sh(root, """
                    python3 -c '
                    import os
                    for d in ("a", "b", "untouched"): os.mkdir(d)
                    for i in range(24000): open("a/f%d" % i, "w").close()
                    for i in range(200): open("untouched/u%d" % i, "w").close()
                    '
                    sync""", 120).exit());
            Thread.sleep(300); // past the walk's margin: the tree made before tracking began is not named
            TrackerProcess.Client tracker = new TrackerProcess.Client(root, state.resolve("st"), stderr,
                    LinuxSourceOptions.defaults().answerDeadline(),
                    List.of("-Dmodtrack.notificationQueueEvents=" + KERNEL_DEFAULT_QUEUE_EVENTS));
            try {
                MirrorConsumer mirror = MirrorConsumer.copyOf(root);
                TrackerProcess.Result first = tracker.query();
                mirror.apply(first.changes(), first.listsByName());
                tracker.bless(first.snapshot());
                assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(tracker.pid())).start().waitFor());
                Run burst;
                try {
                    burst = sh(root, """
                            python3 -c '
                            import os
                            os.mkdir("c")
                            for i in range(24000): os.rename("a/f%d" % i, ("b/f%d" if i % 2 else "c/f%d") % i)
                            for i in range(0, 1000, 10): os.unlink("b/f%d" % (i + 1))
                            '""", 60);
                } finally {
                    assertEquals(0, new ProcessBuilder("kill", "-CONT", Long.toString(tracker.pid())).start().waitFor());
                }
                assertEquals(0, burst.exit(), burst.output());
                TrackerProcess.Result r = tracker.query();
                assertTrue(r.intact(), "found by a walk, not lost: " + r.reason());
                assertTrue(r.reconciled() != null && r.reconciled().contains("queue overflow"), "a walk ran: " + r.reconciled());
                for (PathChange c : r.changes()) {
                    assertTrue(c.kind() != PathChange.Kind.RESCAN, "nothing to rescan: " + c);
                    assertFalse(c.path().contains("/untouched/"), "nothing unchanged named: " + c);
                }
                mirror.apply(r.changes(), r.listsByName());
                assertEquals(null, mirror.differenceFromFileSystem(), "the consumer's copy equals the file system");
                System.out.printf("after a queue overflow: %d entries; %s%n", r.changes().size(), r.reconciled());
                tracker.bless(r.snapshot());
                TrackerProcess.Result next = tracker.query();
                assertTrue(next.intact() && next.reconciled() == null, "said until blessed: " + next);
            } finally {
                tracker.kill();
            }
        }
    }

    /** A writer blocked inside write() (on a frozen file system, below the pre-content hook): the srcu barrier's case. */
    private static Process blockedAppender(Path dir, String name) throws IOException {
        return new ProcessBuilder("python3", "-c", """
                import os, sys
                fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
                print("open", flush=True)
                sys.stdin.readline()
                os.write(fd, b"appended\\n")
                print("wrote", flush=True)
                """, name).directory(dir.toFile()).start();
    }

    /** Waits until {@code p}'s only thread is inside write(2) (x86-64 number 1). */
    private static void awaitInsideWrite(Process p) throws Exception {
        Path syscall = Path.of("/proc/" + p.pid() + "/syscall");
        for (int i = 0; i < 1000; i++) {
            if (Files.readString(syscall).startsWith("1 ")) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the writer never blocked inside write(): " + Files.readString(syscall));
    }

    @Test
    void theSrcuBarrierWaitsForAWriteInsideItsCallAndDoesNotWaitTwiceForAStuckOne() throws Exception {
        List<String> barrierLog = new CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger(SyscallBarrier.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                barrierLog.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(handler);
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            assertEquals(0, sh(root, "mkdir d; echo old > d/f; sync", 30).exit());
            TrackerConfig config = TrackerConfig.defaults().withBarrierTimeout(Duration.ofSeconds(2));
            try (LinuxSource source = LinuxSource.open(root, state, config)) {
                source.bless(source.query().snapshot());
                // 1. Waited for: the query returns only after the write left its call.
                Process writer = blockedAppender(root, "d/f");
                try {
                    assertEquals("open", new BufferedReader(new InputStreamReader(writer.getInputStream())).readLine());
                    assertEquals(0, sh(root, "fsfreeze -f .", 30).exit());
                    try {
                        writer.getOutputStream().write('\n');
                        writer.getOutputStream().flush();
                        awaitInsideWrite(writer);
                        LinuxResult timedOut = source.query(); // the write cannot end while frozen: carried at the deadline
                        assertTrue(timedOut.changes().stream().anyMatch(c -> c.path().endsWith("/d/f") && c.carried()),
                                timedOut::toString);
                        source.bless(timedOut.snapshot());
                        // 2. The same thread in the same call: carried again at once, not waited for.
                        LinuxResult again = source.query();
                        assertTrue(again.changes().stream().anyMatch(c -> c.path().endsWith("/d/f") && c.carried()),
                                again::toString);
                        assertTrue(barrierLog.stream().anyMatch(l -> l.contains("without waiting again")), barrierLog::toString);
                        source.bless(again.snapshot());
                    } finally {
                        sh(root, "fsfreeze -u .", 30);
                    }
                    assertTrue(writer.waitFor(30, TimeUnit.SECONDS), "the write ends once thawed");
                } finally {
                    writer.destroyForcibly();
                }
                LinuxResult after = source.query();
                assertTrue(after.changes().stream().anyMatch(c -> c.path().endsWith("/d/f")),
                        () -> "carried into this period, and written in it: " + after);
            }
        } finally {
            logger.removeHandler(handler);
        }
    }

    /** Also for a file of a btrfs subvolume below the root, whose device is not the root's. */
    @ParameterizedTest
    @ValueSource(strings = {"ext4", "btrfs subvolume"})
    void aQueryWaitsUntilAWriteInsideItsCallHasLeftIt(String where) throws Exception {
        boolean subvolume = where.equals("btrfs subvolume");
        assumeTrue(!subvolume || LoopMount.unavailableReason("btrfs").isEmpty(), () -> LoopMount.unavailableReason("btrfs").get());
        try (LoopMount m = LoopMount.create(subvolume ? "btrfs" : "ext4", (subvolume ? 128 : 64) * MIB)) {
            Path root = m.mountPoint();
            String d = subvolume ? "s/d" : "d";
            assertEquals(0, sh(root, (subvolume ? "btrfs subvolume create s > /dev/null; " : "") + "mkdir " + d + "; echo old > "
                    + d + "/f; sync", 30).exit());
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults())) {
                source.bless(source.query().snapshot());
                Process writer = blockedAppender(root, d + "/f");
                ExecutorService queries = Executors.newSingleThreadExecutor();
                try {
                    assertEquals("open", new BufferedReader(new InputStreamReader(writer.getInputStream())).readLine());
                    Future<LinuxResult> query;
                    assertEquals(0, sh(root, "fsfreeze -f .", 30).exit());
                    try {
                        writer.getOutputStream().write('\n');
                        writer.getOutputStream().flush();
                        awaitInsideWrite(writer);
                        query = queries.submit(() -> source.query());
                        Thread.sleep(500); // not a time limit: long enough for a barrier that does not wait to have returned
                        assertFalse(query.isDone(), "the checkpoint waits for the write inside its call");
                    } finally {
                        sh(root, "fsfreeze -u .", 30);
                    }
                    LinuxResult r = query.get(30, TimeUnit.SECONDS);
                    // Named; also carried, since the writer still holds it open for writing (AlwaysWritable).
                    assertTrue(r.changes().stream().anyMatch(c -> c.path().endsWith("/" + d + "/f")), r::toString);
                    assertTrue(writer.waitFor(30, TimeUnit.SECONDS));
                } finally {
                    queries.shutdownNow();
                    writer.destroyForcibly();
                }
            }
        }
    }
}
