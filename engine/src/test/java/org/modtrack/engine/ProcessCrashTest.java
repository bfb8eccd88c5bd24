package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.testing.Seeded;

/**
 * The invariant under a real crash: a child JVM ({@link CrashWorkload}) runs a tracker with writers
 * and a consumer that mirrors the data directory, and is killed with SIGKILL at a random moment.
 * Then this JVM recovers the tracker and checks that every file whose data differs from the
 * mirror is in the first result, which must say it was recovered; acts on it as the consumer, and
 * checks that a clean stop afterwards is seen as one. Rounds alternate power and process durability.
 *
 * <p>What it catches, measured by breaking the engine on purpose: a checkpoint that neither waits
 * for writes in progress nor carries them, results discarded before the bless, the "already
 * recorded" state kept across a checkpoint, a bless that forgets the open period, a recovery that
 * skips the newest snapshot, a checkpoint that gives up on a write without carrying it (only rounds
 * with a short barrier timeout can show that one): each failed 10 runs of 10, most in the first
 * round or two. A checkpoint that does not wait but carries what is in flight is no break: that is
 * a barrier timeout of zero, which is safe. What it cannot catch: a missing fsync. A killed process leaves the page cache
 * behind, so records that were written but never synced still reach recovery: only a power loss,
 * or a disk that drops unsynced bytes (the simulation module's purpose), tells
 * {@link Durability#POWER} from {@link Durability#PROCESS}.
 *
 * <p>{@code -Dmodtrack.crash.rounds=N} runs N rounds instead of {@value #DEFAULT_ROUNDS} (for a soak).
 */
@ExtendWith(Seeded.class)
class ProcessCrashTest {
    private static final int DEFAULT_ROUNDS = 10;
    private static final long READY_TIMEOUT_MILLIS = 30_000;
    /** How Java reports the exit status of a process killed by SIGKILL (128 + 9). */
    private static final int KILLED = 137;

    @TempDir
    Path tmp;

    private record Round(int number, int of, Durability durability, long childSeed, int writers, int runMillis) {
        @Override
        public String toString() {
            return "round " + number + "/" + of + " (" + durability + " durability, " + writers + " writers, child seed "
                    + childSeed + ", killed " + runMillis + " ms after it was ready)";
        }
    }

    @Test
    void everyChangeMadeBeforeAKillIsInTheFirstResultAfterIt(SplittableRandom random) throws Exception {
        Path state = tmp.resolve("state");
        Path data = Files.createDirectory(tmp.resolve("data"));
        Path mirror = Files.createDirectory(tmp.resolve("mirror"));
        Path logs = Files.createDirectory(tmp.resolve("logs"));
        for (int i = 0; i < CrashWorkload.FILES; i++) {
            String name = CrashWorkload.fileName(i);
            Files.writeString(data.resolve(name), "initial content of " + name + "\n");
            Files.copy(data.resolve(name), mirror.resolve(name));
        }
        int rounds = Integer.getInteger("modtrack.crash.rounds", DEFAULT_ROUNDS);
        for (int n = 1; n <= rounds; n++) {
            Round round = new Round(n, rounds, n % 2 == 1 ? Durability.POWER : Durability.PROCESS, random.nextLong(),
                    random.nextInt(2, 5), random.nextInt(300, 1501));
            String stats = runAndKill(round, state, data, mirror, logs);
            String where = round + ", child's last " + stats;
            recoverAndCheck(where, round.durability(), state, data, mirror);
            checkCleanStop(where, round.durability(), state);
        }
    }

    /** Starts the workload, waits until it is ready, lets it run, kills it. Returns its last stats line. */
    private static String runAndKill(Round round, Path state, Path data, Path mirror, Path logs)
            throws IOException, InterruptedException {
        Path out = logs.resolve("child-" + round.number() + ".out");
        Path err = logs.resolve("child-" + round.number() + ".err");
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-ea", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                CrashWorkload.class.getName(),
                state.toString(), data.toString(), mirror.toString(), round.durability().name(),
                Long.toString(round.childSeed()), Integer.toString(round.writers()))
                .directory(logs.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        Process child = builder.start();
        boolean exited;
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MILLIS);
            while (!Files.readString(out).contains(CrashWorkload.READY + "\n")) {
                if (!child.isAlive()) {
                    fail(round + ": the workload exited with status " + child.exitValue() + " before it was ready: "
                            + Files.readString(err));
                }
                if (System.nanoTime() > deadline) {
                    fail(round + ": the workload was not ready after " + READY_TIMEOUT_MILLIS + " ms: " + Files.readString(err));
                }
                Thread.sleep(5);
            }
            Thread.sleep(round.runMillis());
            if (!child.isAlive()) {
                fail(round + ": the workload exited with status " + child.exitValue() + " before it was killed: "
                        + Files.readString(err));
            }
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block, no clean stop
            exited = child.waitFor(30, TimeUnit.SECONDS);
        }
        assertTrue(exited, round + ": the workload did not exit within 30 s of SIGKILL");
        assertEquals(KILLED, child.exitValue(), round + ": the workload was not ended by SIGKILL but exited on its own: "
                + Files.readString(err));
        List<String> lines = Files.readAllLines(out);
        return lines.reversed().stream().filter(l -> l.startsWith("stats ")).findFirst().orElse("stats: none");
    }

    /**
     * Recovers the tracker the workload left, checks the first result, acts on it as the consumer
     * (copy every reported file to the mirror, bless) and stops the tracker cleanly.
     */
    private static void recoverAndCheck(String where, Durability durability, Path state, Path data, Path mirror)
            throws Exception {
        Set<String> stale = differing(data, mirror);
        try (ChangeTracker tracker = ChangeTracker.open(state, CrashWorkload.config(durability))) {
            assertFalse(tracker.previousRunWasClean(), where + ": a killed tracker did not stop cleanly");
            QueryResult result = tracker.query();
            assertTrue(result.recovered(), where + ": the first result after a kill must say it was recovered");
            assertTrue(result.continuity().intact(), where + ": a process kill loses nothing the disk has, yet: "
                    + result.continuity());
            Set<String> reported = result.changes().stream().map(c -> c.file().path())
                    .collect(Collectors.toCollection(TreeSet::new));
            List<String> missed = new ArrayList<>();
            for (String name : stale) {
                if (!reported.contains(FileId.ofPath(data.resolve(name)).path())) {
                    missed.add(name);
                }
            }
            assertTrue(missed.isEmpty(), where + ": " + missed.size() + " of the " + stale.size()
                    + " files whose data differs from the mirror are missing from the first result after the kill"
                    + " (which reports " + reported.size() + " files): " + missed.subList(0, Math.min(10, missed.size())));
            for (String path : reported) {
                CrashWorkload.copyToMirror(data, mirror, Path.of(path));
            }
            tracker.bless(result.snapshot());
            System.out.println(where + ": " + stale.size() + " files differed from the mirror, the recovered result ("
                    + result.snapshot() + ", last blessed " + result.lastBlessed() + ") reported " + reported.size()
                    + " (" + result.carriedCount() + " carried)");
        }
        assertEquals(Set.of(), differing(data, mirror), where + ": after copying the recovered result, the mirror"
                + " must equal the data");
    }

    /** After a clean close, the next open says so and its first result is not a recovery. */
    private static void checkCleanStop(String where, Durability durability, Path state) throws Exception {
        try (ChangeTracker tracker = ChangeTracker.open(state, CrashWorkload.config(durability))) {
            assertTrue(tracker.previousRunWasClean(), where + ": the recovering tracker was closed cleanly");
            QueryResult result = tracker.query();
            assertFalse(result.recovered(), where + ": after a clean stop the first result is not a recovery");
            assertTrue(result.continuity().intact(), where + ": " + result.continuity());
            tracker.bless(result.snapshot());
        }
    }

    /** The names of the files whose bytes differ between {@code data} and {@code mirror} (present in one only counts). */
    private static Set<String> differing(Path data, Path mirror) throws IOException {
        Set<String> out = new TreeSet<>();
        for (int i = 0; i < CrashWorkload.FILES; i++) {
            String name = CrashWorkload.fileName(i);
            if (!Arrays.equals(readOrNull(data.resolve(name)), readOrNull(mirror.resolve(name)))) {
                out.add(name);
            }
        }
        return out;
    }

    private static byte[] readOrNull(Path file) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
