package org.modtrack.engine;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child program of {@link ProcessCrashTest}: a tracker with writers and a consumer that runs
 * until its process is killed.
 *
 * <p>Usage: {@code CrashWorkload STATE_DIR DATA_DIR MIRROR_DIR POWER|PROCESS SEED WRITER_THREADS}.
 *
 * <p>Each writer loops forever: picks one of the {@link #FILES} files of DATA_DIR, calls
 * {@code preWrite}, pauses a little (so that checkpoints often find writes in progress), modifies
 * the file (overwrite, append, truncate, overwrite a range, now and then delete it), then calls
 * {@code postWrite}. Every modification writes a stamp unique to this run and write, so every write
 * changes the file's bytes. The consumer loops: {@code query()}, pause, copy every reported file
 * from DATA_DIR to MIRROR_DIR (a missing data file is deleted from the mirror), {@code bless}, pause.
 * The barrier timeout is picked from SEED too: some runs wait for every write, some carry the
 * writes still in progress into the next period.
 *
 * <p>Prints {@link #READY} on stdout once every writer has finished a write and the consumer has
 * blessed a result, then a {@code stats} line (counts and mean query and bless times) every 100 ms. Any unexpected exception is printed on
 * stderr and ends the process with status {@link #FAILED}: the test, which expects to kill a live
 * process, then reports it. The process also ends if its parent does, so that it never outlives
 * the test. All choices come from SEED; the interleaving does not.
 */
public final class CrashWorkload {
    /** How many files the data directory holds: {@link #fileName}(0) to {@code fileName(FILES - 1)}. */
    static final int FILES = 200;
    /** The line that says the workload is running. */
    static final String READY = "READY";
    /** The exit status after an unexpected exception. */
    static final int FAILED = 3;
    /** The exit status when the parent process (the test's JVM) is gone. */
    static final int ORPHANED = 4;
    /** Files grow by appends; past this size an append overwrites the whole file instead. */
    private static final int MAX_FILE_BYTES = 16 * 1024;

    private final ChangeTracker tracker;
    private final Path data;
    private final Path mirror;
    private final long seed;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong results = new AtomicLong();
    private final AtomicLong copies = new AtomicLong();
    private final AtomicLong carried = new AtomicLong();
    private final AtomicLong queryNanos = new AtomicLong();
    private final AtomicLong barrierNanos = new AtomicLong();
    private final AtomicLong blessNanos = new AtomicLong();

    private CrashWorkload(ChangeTracker tracker, Path data, Path mirror, long seed) {
        this.tracker = tracker;
        this.data = data;
        this.mirror = mirror;
        this.seed = seed;
    }

    /** The name of data file {@code i}, the same in the data and the mirror directory. */
    static String fileName(int i) {
        return String.format(Locale.ROOT, "f%03d", i);
    }

    /** The tracker configuration of the test that recovers after the workload. */
    static TrackerConfig config(Durability durability) {
        return config(durability, Duration.ofSeconds(5));
    }

    /** The tracker configuration of the workload. */
    static TrackerConfig config(Durability durability, Duration barrierTimeout) {
        return TrackerConfig.defaults().withDurability(durability).withBarrierTimeout(barrierTimeout)
                .withSnapshotBytes(64 * 1024, 64L << 20);
    }

    /**
     * The barrier timeouts a workload picks from: never carry (a checkpoint waits for every write),
     * carry the long writes, carry every write still in progress.
     */
    private static final Duration[] BARRIER_TIMEOUTS = {Duration.ofSeconds(5), Duration.ofMillis(3), Duration.ZERO};

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: CrashWorkload STATE_DIR DATA_DIR MIRROR_DIR POWER|PROCESS SEED WRITER_THREADS");
            System.exit(2);
        }
        Path state = Path.of(args[0]);
        Path data = Path.of(args[1]).toAbsolutePath().normalize();
        Path mirror = Path.of(args[2]).toAbsolutePath().normalize();
        Durability durability = Durability.valueOf(args[3]);
        long seed = Long.parseLong(args[4]);
        int writers = Integer.parseInt(args[5]);

        Thread.setDefaultUncaughtExceptionHandler((t, e) -> die(t.getName(), e));
        // Never outlive the test: if its JVM dies without killing us, stop too.
        ProcessHandle.current().parent().ifPresent(p -> p.onExit().thenRun(() -> Runtime.getRuntime().halt(ORPHANED)));
        SplittableRandom root = new SplittableRandom(seed);
        Duration barrierTimeout = BARRIER_TIMEOUTS[root.nextInt(BARRIER_TIMEOUTS.length)];
        ChangeTracker tracker = ChangeTracker.open(state, config(durability, barrierTimeout));
        CrashWorkload w = new CrashWorkload(tracker, data, mirror, seed);
        CountDownLatch started = new CountDownLatch(writers + 1);
        for (int i = 0; i < writers; i++) {
            int index = i;
            SplittableRandom random = root.split();
            Thread.ofPlatform().name("writer-" + i).start(() -> w.writeForever(index, random, started));
        }
        SplittableRandom consumerRandom = root.split();
        Thread.ofPlatform().name("consumer").start(() -> w.consumeForever(consumerRandom, started));
        started.await();
        PrintStream out = System.out;
        out.println(READY);
        out.flush();
        while (true) {
            Thread.sleep(100);
            long r = Math.max(1, w.results.get());
            out.printf(Locale.ROOT, "stats barrier timeout %d ms, writes=%d results=%d copies=%d carried=%d;"
                    + " per result: query %.1f ms (barrier %.1f ms), bless %.1f ms%n", barrierTimeout.toMillis(),
                    w.writes.get(), w.results.get(), w.copies.get(), w.carried.get(), w.queryNanos.get() / 1e6 / r,
                    w.barrierNanos.get() / 1e6 / r, w.blessNanos.get() / 1e6 / r);
            out.flush();
        }
    }

    private static void die(String where, Throwable e) {
        System.err.println("CrashWorkload: unexpected failure in " + where + ":");
        e.printStackTrace(System.err);
        System.err.flush();
        Runtime.getRuntime().halt(FAILED);
    }

    private enum Op { OVERWRITE, APPEND, TRUNCATE, RANGE, DELETE }

    private void writeForever(int index, SplittableRandom random, CountDownLatch started) {
        try {
            long n = 0;
            while (true) {
                Path file = data.resolve(fileName(random.nextInt(FILES)));
                Op op = pickOp(random);
                String stamp = "<" + Long.toHexString(seed) + ":" + index + ":" + n++ + ">";
                WriteTicket ticket = tracker.preWrite(FileId.ofPath(file));
                try {
                    // A write in progress across a checkpoint is what the barrier must handle. Some
                    // pauses outlast a whole checkpoint (its fsyncs take a few ms), so that without
                    // the barrier the consumer would copy the file before the write lands.
                    pause(random, 4, random.nextInt(4) == 0 ? 20_000 : 2_000);
                    modify(file, op, stamp, random);
                } finally {
                    tracker.postWrite(ticket.token());
                }
                writes.incrementAndGet();
                if (n == 1) {
                    started.countDown();
                }
                pause(random, 2, 1_000);
            }
        } catch (Throwable e) {
            die(Thread.currentThread().getName(), e);
        }
    }

    private static Op pickOp(SplittableRandom random) {
        int p = random.nextInt(100);
        if (p < 25) {
            return Op.OVERWRITE;
        } else if (p < 50) {
            return Op.APPEND;
        } else if (p < 70) {
            return Op.TRUNCATE;
        } else if (p < 98) {
            return Op.RANGE;
        }
        return Op.DELETE;
    }

    /** Returns at once one time in {@code skipOneIn}; otherwise sleeps 1 µs to {@code maxMicros}. */
    private static void pause(SplittableRandom random, int skipOneIn, int maxMicros) throws InterruptedException {
        if (random.nextInt(skipOneIn) == 0) {
            return;
        }
        Thread.sleep(Duration.ofNanos(random.nextLong(1_000, maxMicros * 1_000L + 1)));
    }

    /** Changes {@code file}'s bytes; every operation but delete writes {@code stamp}. A missing file is created. */
    private static void modify(Path file, Op op, String stamp, SplittableRandom random) throws IOException {
        if (op == Op.DELETE) {
            Files.deleteIfExists(file);
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (op == Op.APPEND && size > MAX_FILE_BYTES) {
                op = Op.OVERWRITE;
            }
            switch (op) {
                case OVERWRITE -> {
                    ch.truncate(0);
                    writeFully(ch, content(stamp, random, 4096), 0);
                }
                case APPEND -> writeFully(ch, content(stamp, random, 1024), size);
                case TRUNCATE -> {
                    long length = random.nextLong(size + 1);
                    ch.truncate(length);
                    writeFully(ch, content(stamp, random, 0), length);
                }
                case RANGE -> writeFully(ch, content(stamp, random, 512), random.nextLong(size + 1));
                default -> throw new AssertionError(op);
            }
        }
    }

    private static ByteBuffer content(String stamp, SplittableRandom random, int maxExtra) {
        byte[] head = stamp.getBytes(StandardCharsets.US_ASCII);
        int extra = maxExtra == 0 ? 0 : random.nextInt(maxExtra + 1);
        ByteBuffer b = ByteBuffer.allocate(head.length + extra);
        b.put(head);
        for (int i = 0; i < extra; i++) {
            b.put((byte) ('a' + random.nextInt(26)));
        }
        return b.flip();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            position += ch.write(b, position);
        }
    }

    private void consumeForever(SplittableRandom random, CountDownLatch started) {
        try {
            boolean first = true;
            while (true) {
                long t0 = System.nanoTime();
                QueryResult result = tracker.query();
                long t1 = System.nanoTime();
                queryNanos.addAndGet(t1 - t0);
                barrierNanos.addAndGet(result.barrierWait().toNanos());
                carried.addAndGet(result.carriedCount());
                // A consumer takes its time to act on a result: a tracker that forgot the result's
                // records before the bless loses them if it is killed now.
                pause(random, 8, 20_000);
                for (ChangedFile c : result.changes()) {
                    copyToMirror(data, mirror, Path.of(c.file().path()));
                    copies.incrementAndGet();
                }
                long t2 = System.nanoTime();
                tracker.bless(result.snapshot());
                blessNanos.addAndGet(System.nanoTime() - t2);
                results.incrementAndGet();
                if (first) {
                    first = false;
                    started.countDown();
                }
                pause(random, 2, 2_000);
            }
        } catch (Throwable e) {
            die(Thread.currentThread().getName(), e);
        }
    }

    /**
     * Makes the mirror's copy of {@code file} (a file of {@code data}) what the file holds now; a
     * missing file is removed from the mirror. The consumer's one action on a result.
     */
    static void copyToMirror(Path data, Path mirror, Path file) throws IOException {
        if (!data.equals(file.getParent())) {
            throw new IllegalStateException("a result names " + file + ", which is not a file of " + data + ".");
        }
        Path target = mirror.resolve(file.getFileName());
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            Files.deleteIfExists(target);
            return;
        }
        Files.write(target, bytes);
    }
}
