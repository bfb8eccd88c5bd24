package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * When each recent result's checkpoint began, on the wall clock, kept in the state directory
 * before the result is returned: after an unclean stop, the time the last blessed result's
 * checkpoint began bounds what can have changed since (every change after it has a ctime at or after
 * it, less the clock's granularity), so a walk can find those changes by ctime
 * ({@link Reconciliation}).
 *
 * <p>Each line: result id, wall-clock nanoseconds before its checkpoint began, the boot id, and the
 * wall clock less the monotonic clock then (milliseconds): the same boot and an offset that did not
 * go back prove the wall clock was not stepped back since, which would give later changes earlier
 * ctimes. The file holds the last {@link #KEPT} results and is replaced atomically. Result 0 is
 * the time this state began tracking (taken before the first marks were placed): the consumer's
 * view before any bless, and kept however many results follow.
 */
final class CheckpointTimes {
    static final String FILE = "checkpoint-times";
    /** Results kept: more than a consumer leaves unblessed in practice; an older one falls back to a rescan. */
    static final int KEPT = 256;
    /**
     * How far back the wall clock may have been stepped since and still be trusted. The wall clock
     * less the monotonic one moves only when the wall clock is stepped (NTP's slewing adjusts both)
     * or the machine sleeps (the monotonic clock stops: the offset grows, which is safe).
     */
    static final long STEP_TOLERANCE_MILLIS = 50;

    /** One result's checkpoint time. */
    record Entry(long snapshot, long wallNanos, String bootId, long offsetMillis) {}

    private static volatile String bootId;
    private final Path file;
    private final Deque<Entry> entries = new ArrayDeque<>();

    private CheckpointTimes(Path file) {
        this.file = file;
    }

    /** The times kept in {@code state}; none if the file is missing or unreadable (a rescan covers that). */
    static CheckpointTimes load(Path state) throws IOException {
        CheckpointTimes t = new CheckpointTimes(state.resolve(FILE));
        try {
            for (String line : Files.readAllLines(t.file, StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length == 4) {
                    try {
                        t.entries.addLast(new Entry(Long.parseLong(f[0]), Long.parseLong(f[1]), f[2], Long.parseLong(f[3])));
                    } catch (NumberFormatException e) {
                        // a torn line cannot be: the file is replaced whole; ignore it anyway
                    }
                }
            }
        } catch (NoSuchFileException e) {
            // no result yet
        }
        return t;
    }

    /** What to note of a checkpoint about to begin, taken before it begins. */
    static Entry now(long snapshot) throws IOException {
        Instant wall = Instant.now();
        long monotonicMillis = System.nanoTime() / 1_000_000;
        return new Entry(snapshot, wall.getEpochSecond() * 1_000_000_000L + wall.getNano(), bootId(),
                wall.toEpochMilli() - monotonicMillis);
    }

    /** Whether a time is kept for result {@code snapshot}. */
    synchronized boolean has(long snapshot) {
        return entries.stream().anyMatch(e -> e.snapshot() == snapshot);
    }

    /**
     * Keeps {@code e} (for the result {@code snapshot}) before that result is returned. Replaced
     * whole by a rename, so a crash leaves the old file or the new one; not synced: a time is only
     * trusted in the boot it was taken in, and within a boot the page cache keeps what a killed
     * process wrote (a query pays no fsync for it).
     */
    synchronized void record(long snapshot, Entry e) throws IOException {
        entries.addLast(new Entry(snapshot, e.wallNanos(), e.bootId(), e.offsetMillis()));
        while (entries.size() > KEPT) {
            Entry oldest = entries.removeFirst();
            if (oldest.snapshot() == 0) { // the start stays
                Entry next = entries.removeFirst();
                entries.addFirst(oldest);
                assert next.snapshot() != 0 : "one start";
            }
        }
        StringBuilder text = new StringBuilder();
        for (Entry x : entries) {
            text.append(x.snapshot()).append(' ').append(x.wallNanos()).append(' ').append(x.bootId()).append(' ')
                    .append(x.offsetMillis()).append('\n');
        }
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                c.write(bytes);
            }
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The wall-clock nanoseconds from which every change since result {@code snapshot}'s checkpoint
     * has a ctime at or after (its time less {@code marginNanos}), or why there is none: an unknown
     * result, another boot, or a wall clock stepped back since.
     */
    synchronized Optional<Long> since(long snapshot, long marginNanos, StringBuilder whyNot) throws IOException {
        for (Entry e : entries) {
            if (e.snapshot() == snapshot) {
                Entry now = now(0);
                if (!e.bootId().equals(now.bootId())) {
                    whyNot.append("the machine rebooted since result ").append(snapshot);
                    return Optional.empty();
                }
                if (now.offsetMillis() < e.offsetMillis() - STEP_TOLERANCE_MILLIS) {
                    whyNot.append("the wall clock was set back by ").append(e.offsetMillis() - now.offsetMillis())
                            .append(" ms since result ").append(snapshot);
                    return Optional.empty();
                }
                return Optional.of(e.wallNanos() - marginNanos);
            }
        }
        whyNot.append(snapshot == 0 ? "nothing was blessed yet, and the time tracking began is not kept"
                : "no time is kept for result " + snapshot);
        return Optional.empty();
    }

    /** This boot's id, read once: it cannot change while this process runs (every query asks). */
    private static String bootId() throws IOException {
        String id = bootId;
        if (id == null) {
            id = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
            bootId = id;
        }
        return id;
    }
}
