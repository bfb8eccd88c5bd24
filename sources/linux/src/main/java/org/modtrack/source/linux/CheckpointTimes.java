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
import org.modtrack.posix.Posix;
import org.modtrack.source.linux.rules.RebootRule;

/**
 * When each recent result's checkpoint began, on the wall clock, kept in the state directory
 * before the result is returned: after an unclean stop, the time the last blessed result's
 * checkpoint began bounds what can have changed since (every change after it has a ctime at or after
 * it, less the clock's granularity), so a walk can find those changes by ctime
 * ({@link Reconciliation}).
 *
 * <p>Each line: result id, wall-clock nanoseconds before its checkpoint began, the boot id, the
 * wall clock less the monotonic clock then (milliseconds), and {@code coarse}: the time was read
 * from the coarse wall clock, which file timestamps are stamped from. The same boot and an offset
 * that did not go back prove the wall clock was not stepped back since, which would give later
 * changes earlier ctimes. A line without the last field holds a time read from the fine clock,
 * which a change after it may be stamped earlier than ({@link #FINE_CLOCK_EXTRA_MARGIN_NANOS}).
 * The file holds the last {@link #KEPT} results and is replaced atomically, and with {@code power}
 * durability synced before a result is returned: a reboot keeps it, and a time taken
 * in another boot is trusted where a power lease stood at the reboot ({@link PowerLease},
 * {@link RebootRule}). Result 0 is the time this state began tracking (taken before the first
 * marks were placed): the consumer's view before any bless, and kept however many results follow.
 */
final class CheckpointTimes {
    static final String FILE = "checkpoint-times";
    /** Results kept: more than a consumer leaves unblessed in practice; an older one falls back to a rescan. */
    static final int KEPT = 256;
    /** The last field of a line whose time was read from the coarse clock. */
    private static final String COARSE = "coarse";
    /**
     * How far back the wall clock may have been stepped since and still be trusted. The wall clock
     * less the monotonic one moves only when the wall clock is stepped (NTP's slewing adjusts both)
     * or the machine sleeps (the monotonic clock stops: the offset grows, which is safe).
     */
    static final long STEP_TOLERANCE_MILLIS = 5;

    /**
     * Added to the margin for a time read from the fine wall clock: a change after it may be
     * stamped from the coarse clock up to that clock's lag earlier, which a late tick stretches past
     * the tick itself (up to 6.6 ms against a 4 ms tick here, docs/kernel-facts.md). The margin
     * such times were taken with, less {@link Reconciliation#MARGIN_NANOS}.
     */
    static final long FINE_CLOCK_EXTRA_MARGIN_NANOS = 90_000_000L;

    /**
     * How close two readings of the monotonic clock around one of the wall clock must be for the
     * offset to count ({@link #offsetMillis}), and how many tries it gets to be that close.
     */
    static final long OFFSET_READ_BOUND_NANOS = 100_000;
    static final int OFFSET_READ_ATTEMPTS = 100;

    /**
     * One result's checkpoint time; {@code coarse}: {@code wallNanos} was read from the coarse
     * clock ({@link Posix#CLOCK_REALTIME_COARSE}), else from the fine one.
     */
    record Entry(long snapshot, long wallNanos, String bootId, long offsetMillis, boolean coarse) {
        /** The monotonic clock's reading then, in nanoseconds: comparable with another entry's of the same boot. */
        long monotonicNanos() {
            return wallNanos - offsetMillis * 1_000_000L;
        }

        /** Whether the wall clock was set back by more than the tolerance between this and {@code other} (one boot). */
        boolean steppedBackBetween(Entry other) {
            Entry first = monotonicNanos() <= other.monotonicNanos() ? this : other;
            Entry last = first == this ? other : this;
            return steppedBack(first.offsetMillis(), last.offsetMillis());
        }

        /** What is subtracted from {@link #wallNanos} to bound the ctimes of later changes, given {@code marginNanos} for a coarse time. */
        long watermarkNanos(long marginNanos) {
            return wallNanos - marginNanos - (coarse ? 0 : FINE_CLOCK_EXTRA_MARGIN_NANOS);
        }
    }

    /**
     * Where a change since a checkpoint is found: the wall-clock time its ctime is at or after,
     * and whether that time was taken in an earlier boot (a scan then reads recorded directories
     * whole, {@link RebootRule#scanFiltersByCtime}).
     */
    record Since(long nanos, boolean acrossReboot) {}

    /**
     * A reboot across which times are trusted: the power lease that stood when boot
     * {@code lease.bootId()} went down, read by a start in boot {@code into}. Kept with the times,
     * so that later starts in the same boot (after a SIGKILL, once that lease is gone) still trust
     * them.
     */
    record Trust(CheckpointTimes.Entry lease, String into) {}

    /** Reboots kept: one is all a consumer that blesses once per boot needs. */
    static final int TRUSTS_KEPT = 4;

    private final Path file;
    private final boolean durable;
    private final Deque<Entry> entries = new ArrayDeque<>();
    private final Deque<Trust> trusts = new ArrayDeque<>();

    private CheckpointTimes(Path file, boolean durable) {
        this.file = file;
        this.durable = durable;
    }

    /**
     * The times kept in {@code state}; none if the file is missing or unreadable (a rescan covers that).
     *
     * @param durable whether each update is synced before it counts ({@code power} durability)
     */
    static CheckpointTimes load(Path state, boolean durable) throws IOException {
        CheckpointTimes t = new CheckpointTimes(state.resolve(FILE), durable);
        try {
            for (String line : Files.readAllLines(t.file, StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                try {
                    if (f.length == 5 && f[0].equals("trust")) {
                        t.trusts.addLast(new Trust(new Entry(-1, Long.parseLong(f[2]), f[1], Long.parseLong(f[3]), false), f[4]));
                    } else if (f.length == 4 || f.length == 5 && f[4].equals(COARSE)) {
                        t.entries.addLast(new Entry(Long.parseLong(f[0]), Long.parseLong(f[1]), f[2], Long.parseLong(f[3]),
                                f.length == 5));
                    }
                } catch (NumberFormatException e) {
                    // a torn line cannot be: the file is replaced whole; ignore it anyway
                }
            }
        } catch (NoSuchFileException e) {
            // no result yet
        }
        return t;
    }

    /**
     * What to note of a checkpoint about to begin, taken before it begins. The time is the coarse
     * clock's: every change after this reading is stamped at or after it (ctimes come from that
     * clock, or from the fine one, which is never behind it), however late the kernel's tick.
     */
    static Entry now(long snapshot) throws IOException {
        long coarse = Posix.clockNanos(Posix.CLOCK_REALTIME_COARSE);
        return new Entry(snapshot, coarse, Boot.currentId(), offsetMillis(), true);
    }

    /**
     * Whether the wall clock was set back by more than {@link #STEP_TOLERANCE_MILLIS} between two
     * readings of {@link #offsetMillis} in one boot, {@code before} the earlier.
     */
    static boolean steppedBack(long before, long after) {
        return after < before - STEP_TOLERANCE_MILLIS;
    }

    /**
     * The wall clock less the monotonic one, in milliseconds: it falls only when the wall clock is
     * set back (NTP's slewing moves both). The wall clock is read between two readings of the
     * monotonic one, until they are at most {@link #OFFSET_READ_BOUND_NANOS} apart (the closest
     * pair after {@link #OFFSET_READ_ATTEMPTS}): a thread preempted between the two clocks would
     * otherwise read an offset off by as long as it waited, and a step back of up to that much more
     * than {@link #STEP_TOLERANCE_MILLIS} would go unseen.
     */
    static long offsetMillis() {
        long closest = Long.MAX_VALUE;
        long offset = 0;
        for (int attempt = 0; attempt < OFFSET_READ_ATTEMPTS && closest > OFFSET_READ_BOUND_NANOS; attempt++) {
            long before = System.nanoTime();
            long wall = System.currentTimeMillis();
            long after = System.nanoTime();
            if (after - before < closest) {
                closest = after - before;
                offset = wall - (before + (after - before) / 2) / 1_000_000L;
            }
        }
        return offset;
    }

    /**
     * Trusts, from now on, the times taken in the boot of {@code lease}, the power lease that stood
     * when the machine went down, as far as {@link RebootRule#walkAcrossReboot} allows for each.
     */
    synchronized void trustAcrossReboot(PowerLease.Lease lease) throws IOException {
        trusts.addLast(new Trust(lease.time(), Boot.currentId()));
        while (trusts.size() > TRUSTS_KEPT) {
            trusts.removeFirst();
        }
        store();
    }

    /** Whether a time is kept for result {@code snapshot}. */
    synchronized boolean has(long snapshot) {
        return entries.stream().anyMatch(e -> e.snapshot() == snapshot);
    }

    /**
     * Keeps {@code e} (for the result {@code snapshot}) before that result is returned. Replaced
     * whole by a rename, so a crash leaves the old file or the new one. Synced if durable (two
     * fsyncs a query): a time lost to a power loss would make the next result rescan what a walk
     * could have found; else only the page cache keeps it, which a killed process does not lose.
     */
    synchronized void record(long snapshot, Entry e) throws IOException {
        entries.addLast(new Entry(snapshot, e.wallNanos(), e.bootId(), e.offsetMillis(), e.coarse()));
        while (entries.size() > KEPT) {
            Entry oldest = entries.removeFirst();
            if (oldest.snapshot() == 0) { // the start stays
                Entry next = entries.removeFirst();
                entries.addFirst(oldest);
                assert next.snapshot() != 0 : "one start";
            }
        }
        store();
    }

    private void store() throws IOException {
        StringBuilder text = new StringBuilder();
        for (Entry x : entries) {
            text.append(x.snapshot()).append(' ').append(x.wallNanos()).append(' ').append(x.bootId()).append(' ')
                    .append(x.offsetMillis()).append(x.coarse() ? " " + COARSE : "").append('\n');
        }
        for (Trust t : trusts) {
            text.append("trust ").append(t.lease().bootId()).append(' ').append(t.lease().wallNanos()).append(' ')
                    .append(t.lease().offsetMillis()).append(' ').append(t.into()).append('\n');
        }
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                c.write(bytes);
            }
            if (durable) {
                c.force(false);
            }
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (durable) {
            Posix.fsyncDirectory(file.getParent().toString());
        }
    }

    /**
     * The wall-clock nanoseconds from which every change since result {@code snapshot}'s checkpoint
     * has a ctime at or after (its time less {@code marginNanos}), or why there is none: an unknown
     * result, a wall clock set back since, or another boot where no power lease stood at the reboot
     * ({@link RebootRule#walkAcrossReboot}).
     */
    synchronized Optional<Since> since(long snapshot, long marginNanos, StringBuilder whyNot) throws IOException {
        for (Entry e : entries) {
            if (e.snapshot() == snapshot) {
                Entry now = now(0);
                if (!e.bootId().equals(now.bootId())) {
                    return acrossReboot(e, now.bootId(), marginNanos, whyNot);
                }
                if (steppedBack(e.offsetMillis(), now.offsetMillis())) {
                    whyNot.append("the wall clock was set back by ").append(e.offsetMillis() - now.offsetMillis())
                            .append(" ms since result ").append(snapshot);
                    return Optional.empty();
                }
                return Optional.of(new Since(e.watermarkNanos(marginNanos), false));
            }
        }
        whyNot.append(snapshot == 0 ? "nothing was blessed yet, and the time tracking began is not kept"
                : "no time is kept for result " + snapshot);
        return Optional.empty();
    }

    private Optional<Since> acrossReboot(Entry e, String currentBoot, long marginNanos, StringBuilder whyNot)
            throws IOException {
        Entry lease = null;
        for (Trust t : trusts) {
            if (t.into().equals(currentBoot) && t.lease().bootId().equals(e.bootId())) {
                lease = t.lease();
            }
        }
        if (lease == null) {
            whyNot.append("the machine rebooted since result ").append(e.snapshot())
                    .append(", and no power lease of that boot stood when it went down");
            return Optional.empty();
        }
        if (lease.steppedBackBetween(e)) {
            whyNot.append("the wall clock was set back between result ").append(e.snapshot())
                    .append("'s checkpoint and the power lease, in the boot before the last reboot");
            return Optional.empty();
        }
        Boot boot = Boot.current();
        if (!RebootRule.walkAcrossReboot(lease.bootId(), e.bootId(), e.wallNanos(), boot.startedWallNanos())) {
            whyNot.append("this boot began at ").append(Instant.ofEpochSecond(0, boot.startedWallNanos()))
                    .append(" by the wall clock, before result ").append(e.snapshot()).append("'s checkpoint at ")
                    .append(Instant.ofEpochSecond(0, e.wallNanos())).append(": the clock cannot be trusted");
            return Optional.empty();
        }
        return Optional.of(new Since(e.watermarkNanos(marginNanos), true));
    }
}
