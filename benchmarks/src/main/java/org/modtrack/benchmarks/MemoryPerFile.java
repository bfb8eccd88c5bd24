package org.modtrack.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.StatStamp;
import org.modtrack.engine.TrackerConfig;

/**
 * Heap per changed file in one period: records {@code N} files as the Linux source would (an
 * 8-byte ext4 handle, a path hint of about 30 characters, a stamp), then measures the live heap
 * after full collections, and times one query over them. Not a JMH benchmark: it measures space,
 * and the times it prints are single runs.
 *
 * <p>Two measures of space: {@code heapBytesPerFile}, the growth of the heap used after
 * {@code System.gc()} (what the daemon's figures measure too; it moves by about 4 bytes a file
 * from one run to the next with where the collector leaves objects), and {@code liveBytesPerFile},
 * the growth of the objects a class histogram ({@code jcmd PID GC.class_histogram}) counts, less
 * the collector's filler arrays: the bytes the objects take, the same in every run.
 *
 * <p>Four ways a file is recorded, each in its own tracker and its own JVM (measured one after the
 * other in one JVM, the second case's figure moved by up to 5 bytes a file with where the first
 * left the collector's dead space):
 *
 * <ul>
 *   <li>{@code modified}: announced before the write ({@code preWrite}, {@code postWrite}), as the
 *       pre-content group records a write to an existing file;
 *   <li>{@code created}: recorded after the fact as created, then written
 *       ({@code recordChange(file, CREATED)}, {@code recordChange(file, WRITTEN)}), as the
 *       notification group records a new file with the default directory records;
 *   <li>{@code deleted}: recorded as deleted ({@code recordChange(file, DELETED)}), as a removal's
 *       event is with every naming;
 *   <li>{@code renamed}: recorded as renamed in its directory ({@code recordChange(file, RENAMED,
 *       from)}, the file's hint its new name), as a rename's event is with every naming.
 * </ul>
 *
 * <p>Usage: {@code java -cp ... org.modtrack.benchmarks.MemoryPerFile [files
 * [modified|created|deleted|renamed|all]]} (default 1,000,000, all).
 */
public final class MemoryPerFile {
    private MemoryPerFile() {}

    /** How each file is recorded. */
    private enum Case {
        MODIFIED,
        CREATED,
        DELETED,
        RENAMED
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        String which = args.length > 1 ? args[1] : "all";
        if (!which.equals("all")) {
            measure(Case.valueOf(which.toUpperCase()), n);
            return;
        }
        for (Case c : Case.values()) {
            List<String> command = new ArrayList<>();
            command.add(ProcessHandle.current().info().command().orElseThrow());
            command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments()); // -Xmx, the collector
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), MemoryPerFile.class.getName(),
                    Integer.toString(n), c.name().toLowerCase()));
            int status = new ProcessBuilder(command).inheritIO().start().waitFor();
            if (status != 0) {
                throw new IllegalStateException("the " + c.name().toLowerCase() + " case failed: exit status " + status);
            }
        }
    }

    private static void measure(Case c, int n) throws Exception {
        Path state = Files.createTempDirectory("modtrack-memory");
        try (ChangeTracker t = ChangeTracker.open(state, TrackerConfig.defaults().withDurability(Durability.PROCESS))) {
            long before = liveHeap();
            long objectsBefore = liveObjects();
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                record(t, c, file(i));
            }
            long recordNanos = System.nanoTime() - start;
            long after = liveHeap();
            long objectsAfter = liveObjects();
            long q = System.nanoTime();
            QueryResult r = t.query();
            long queryNanos = System.nanoTime() - q;
            System.out.printf("case=%s files=%d heapBytesPerFile=%.1f liveBytesPerFile=%.1f recordMs=%d queryMs=%d"
                    + " changes=%d journalBytes=%d%n", c.name().toLowerCase(), n, (after - before) / (double) n,
                    (objectsAfter - objectsBefore) / (double) n, recordNanos / 1_000_000, queryNanos / 1_000_000,
                    r.changes().size(), t.stats().journalBytes());
        } finally {
            try (var files = Files.walk(state)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static FileId file(int i) {
        byte[] handle = ByteBuffer.allocate(8).putInt(i).putInt(i * 31).array();
        return FileId.ofHandle(42, 1, handle, path(i), new StatStamp(i, 100, 1, 1));
    }

    private static String path(int i) {
        return "/mnt/data/dir" + (i % 1000) + "/file-" + i;
    }

    private static void record(ChangeTracker t, Case c, FileId f) throws IOException {
        switch (c) {
            case MODIFIED -> t.postWrite(t.preWrite(f).token());
            case CREATED -> {
                t.recordChange(f, Change.CREATED, null, false);
                t.recordChange(f, Change.WRITTEN, null, false);
            }
            case DELETED -> t.recordChange(f, Change.DELETED, null, false);
            case RENAMED -> {
                String from = f.path(); // a string of its own, as an event's name is
                t.recordChange(f.withHint(from.replace("/file-", "/renamed-"), f.stamp()), Change.RENAMED, from, false);
            }
        }
    }

    private static long liveHeap() throws InterruptedException {
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** The bytes of the live objects, less filler arrays, by the class histogram of this JVM (jcmd runs a full collection). */
    private static long liveObjects() throws IOException, InterruptedException {
        Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
        Path out = Files.createTempFile("modtrack-histogram", ".txt");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(ProcessHandle.current().pid()),
                    "GC.class_histogram").redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("jcmd GC.class_histogram did not answer in 120 s");
            }
            long total = -1;
            long fillers = 0;
            for (String line : Files.readAllLines(out)) {
                String[] w = line.trim().split("\\s+");
                if (line.startsWith("Total")) {
                    total = Long.parseLong(w[2]);
                } else if (line.contains("jdk.internal.vm.Filler")) {
                    fillers += Long.parseLong(w[2]);
                }
            }
            if (p.exitValue() != 0 || total < 0) {
                throw new IOException("jcmd GC.class_histogram failed: " + Files.readString(out));
            }
            return total - fillers;
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
