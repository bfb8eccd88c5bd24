package org.modtrack.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * What {@link LoopMount} and {@link TmpfsMount} share: their temporary directories, unmounting with
 * retries, and a shutdown hook that cleans up whatever a test forgot to close.
 */
final class TempMounts {
    /** Every fixture directory is {@code /tmp/modtrack-loop-*}, so bin/lib/clean-stale-loops.sh recognises leftovers. */
    static final String DIR_PREFIX = "modtrack-loop-";
    /** The file in each directory naming the process that made it (its pid), which cleanup of stale mounts spares while it lives. */
    static final String OWNER_FILE = "owner.pid";
    private static final Path TMP = Path.of("/tmp");
    private static final int UMOUNT_ATTEMPTS = 10;
    private static final long UMOUNT_RETRY_MILLIS = 200;
    private static final Set<AutoCloseable> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(TempMounts::closeAllOnExit));
    }

    private TempMounts() {}

    /** A fresh {@code /tmp/modtrack-loop-NNNN} directory. */
    static Path newDirectory() throws IOException {
        Path d = Files.createTempDirectory(TMP, DIR_PREFIX);
        // bin/lib/clean-stale-loops.sh leaves alone what a living process owns: a test run in another checkout.
        Files.writeString(d.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
        return d;
    }

    /** Whether this process runs with effective uid 0 (from /proc, so it needs no native call). */
    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return "0".equals(line.split("\\s+")[2]);
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** Throws a one-sentence error when not root; {@code purpose} says what needed it. */
    static void requireRoot(String purpose) throws IOException {
        if (!isRoot()) {
            throw new IOException("cannot " + purpose + ": mounting needs root (effective uid 0), and this process is not root.");
        }
    }

    static void register(AutoCloseable mount) {
        OPEN.add(mount);
    }

    static void unregister(AutoCloseable mount) {
        OPEN.remove(mount);
    }

    /**
     * Unmounts {@code mountPoint}, retrying while it is busy (a process that just exited may still
     * hold it for a moment); as a last resort detaches it lazily and says so on stderr.
     */
    static void unmount(Path mountPoint) throws IOException {
        IOException last = null;
        for (int attempt = 1; attempt <= UMOUNT_ATTEMPTS; attempt++) {
            try {
                Command.run("umount", mountPoint.toString());
                return;
            } catch (IOException e) {
                last = e;
                sleep(UMOUNT_RETRY_MILLIS);
            }
        }
        System.err.println("modtrack-testing: " + mountPoint + " stayed busy after " + UMOUNT_ATTEMPTS
                + " attempts (" + last.getMessage() + "); detaching it lazily with umount -l.");
        Command.run("umount", "-l", mountPoint.toString());
    }

    /** Deletes {@code dir} and everything in it; call only once nothing is mounted inside. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) {
            paths = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    /** {@code first} with {@code next} added as suppressed, or {@code next} if there was no first failure. */
    static IOException combine(IOException first, IOException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeAllOnExit() {
        for (AutoCloseable mount : List.copyOf(OPEN)) {
            try {
                System.err.println("modtrack-testing: cleaning up " + mount + ", which a test left open.");
                mount.close();
            } catch (Exception e) {
                System.err.println("modtrack-testing: could not clean up " + mount + ": " + e.getMessage());
            }
        }
    }
}
