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
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.posix.Posix;
import org.modtrack.source.linux.rules.RebootRule;

/**
 * The power lease: a file in the state directory that stands while every write to the tracked file
 * system is recorded durably before it proceeds, so that after a power loss or a kernel crash the
 * next start may find what changed by a walk since the last blessed checkpoint
 * ({@link RebootRule}) instead of answering "rescan everything".
 *
 * <p>Written (synced, with its directory) once the tracker records with {@code power} durability,
 * its start's walk (if it had a gap) is durable, and a keeper holds a copy of the pre-content group
 * as a guard ({@link QueueKeeper}). Removed (the removal synced) before any write can proceed
 * unrecorded again: by a clean stop before it closes its groups, by the keeper when the tracking
 * process dies (the keeper's copy keeps the group, and with it every writer's pending permission
 * event, until the removal is on disk), and by the tracker when its keeper dies. What it cannot
 * cover: every modtrack process killed at once (nobody removes it) followed by a power loss before
 * the next start; docs/linux-source.md, <i>Reboots and power losses</i>.
 *
 * <p>One line: the boot id, the wall-clock nanoseconds and the wall clock less the monotonic one
 * (milliseconds) when it was written, as {@link CheckpointTimes} keeps them, so that a clock set
 * back between it and a checkpoint shows.
 */
final class PowerLease implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PowerLease.class.getName());
    static final String FILE = "power-lease";

    private final Path state;
    private final int preContentGroup;
    private KeptQueue guard; // guarded by this: the keeper holding a copy of the group, null while no lease stands
    private boolean ownsGuard; // guarded by this: the connection is this lease's alone (a keeper for the guard only)
    private long generation; // guarded by this: a watcher of an older keeper's connection does nothing
    private boolean closed; // guarded by this
    private ClockWatch clock; // guarded by this: started with the first lease
    /**
     * The longest one wait of the keeper's watcher lasts (a bound; it wakes at once when the
     * connection is shut down, {@link KeptQueue#close}): one wake-up per this while idle.
     */
    private static final int WATCH_MILLIS = 60_000;

    /** A lease read back: when and in which boot it was written. */
    record Lease(CheckpointTimes.Entry time) {
        String bootId() {
            return time.bootId();
        }
    }

    /** The lease of {@code state}, not standing yet, for a tracker whose pre-content group is {@code preContentGroup}. */
    PowerLease(Path state, int preContentGroup) {
        this.state = state;
        this.preContentGroup = preContentGroup;
    }

    /**
     * Has {@code keeper} guard the pre-content group, then writes the lease. Call it only once every
     * write is recorded durably before it proceeds and every record made so far is durable. False
     * (having logged why, with no lease standing) if the keeper would not guard.
     *
     * @param owned whether the connection is the lease's to close (a keeper started for the guard
     *     alone, as under systemd), not the notification group's holder
     */
    synchronized boolean grant(KeptQueue keeper, boolean owned) throws IOException {
        if (closed || guard != null) {
            if (owned) {
                keeper.close();
            }
            return guard != null;
        }
        try {
            keeper.guard(preContentGroup, state.resolve(FILE));
        } catch (IOException e) {
            LOG.log(Level.WARNING, "the queue keeper would not guard the pre-content group: no power lease, so a"
                    + " reboot will be answered with a rescan", e);
            if (owned) {
                keeper.close();
            }
            return false;
        }
        guard = keeper;
        ownsGuard = owned;
        long mine = ++generation;
        if (clock == null) {
            clock = ClockWatch.start(this::renew); // before the write: a step from then on shows
        }
        write(state);
        Thread.ofPlatform().daemon().name("power-lease-watch").start(() -> watch(keeper, mine));
        return true;
    }

    private synchronized boolean current(long mine) {
        return generation == mine && !closed;
    }

    /** Whether a lease stands (written by this tracker and not removed since). */
    synchronized boolean standing() {
        return guard != null;
    }

    /**
     * Removes the lease when the guarding keeper dies: this tracker's own death would otherwise let
     * writers go on unrecorded with the lease standing. Waits on the connection's hang-up alone
     * (no events asked for, so it never takes an answer meant for a request). A poll holds its
     * descriptor's socket open, so the connection is shut down before it is closed
     * ({@link KeptQueue#close}), which wakes this; else the keeper would not see this tracker go.
     */
    private void watch(KeptQueue keeper, long mine) {
        try {
            while (current(mine)) {
                short r = Posix.poll(new int[] {keeper.connection()}, new short[] {0}, WATCH_MILLIS)[0];
                if ((r & (Posix.POLLHUP | Posix.POLLERR | Posix.POLLNVAL)) != 0) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "watching the keeper's connection failed", e);
        }
        synchronized (this) {
            if (generation == mine && guard != null) {
                revokeLocked("the queue keeper (pid " + keeper.keeperPid() + ") died");
            }
        }
    }

    /** Removes the lease (synced) and takes the guard back, before anything may proceed unrecorded. */
    synchronized void revoke(String why) {
        revokeLocked(why);
    }

    private void revokeLocked(String why) {
        generation++;
        try {
            if (remove(state.resolve(FILE))) {
                LOG.info(() -> "power lease removed: " + why);
            }
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "COULD NOT REMOVE the power lease " + state.resolve(FILE) + " (" + why + "): after a"
                    + " power loss the next start would trust a walk it must not; remove it by hand", e);
        }
        KeptQueue k = guard;
        guard = null;
        if (k != null && k.keeperAlive()) {
            try {
                k.unguard();
            } catch (IOException e) {
                LOG.log(Level.FINE, "the keeper did not give the guard back; it closes it when this process ends", e);
            }
        }
        if (k != null && ownsGuard) {
            try {
                k.close(); // a keeper for the guard alone: nothing to keep, it exits
            } catch (IOException e) {
                LOG.log(Level.FINE, "closing the connection to the guard's keeper failed", e);
            }
        }
    }

    /**
     * Writes the lease again, with the time now, if one stands: the wall clock was set back by
     * {@code backMillis}, and the lease must no longer vouch for a checkpoint taken before
     * ({@link CheckpointTimes.Entry#steppedBackBetween}). Changes made between the step and this
     * are not covered across a reboot: a window of the clock watch's wake-up and one fsync.
     */
    synchronized void renew(long backMillis) {
        if (guard == null) {
            return;
        }
        try {
            write(state);
            LOG.info(() -> "power lease renewed: the wall clock was set back by " + backMillis + " ms");
        } catch (IOException e) {
            revokeLocked("the wall clock was set back, and the lease could not be renewed (" + e.getMessage() + ")");
        }
    }

    /** Removes the lease for good: a clean stop, before the groups close. */
    @Override
    public synchronized void close() {
        closed = true;
        revokeLocked("a clean stop");
        if (clock != null) {
            clock.close();
        }
    }

    /**
     * At a start: removes the lease a previous run left. One of this boot's is stale (its tracker
     * died unguarded, with every modtrack process, and writes may have gone on unrecorded since);
     * one of another boot has been read already, and the start trusts its reboot from the times it
     * keeps ({@link CheckpointTimes#trustAcrossReboot}).
     */
    static void clearAtStart(Path state) throws IOException {
        remove(state.resolve(FILE));
    }

    /** The lease standing in {@code state}, if any (an unreadable one counts as none: the safe side). */
    static Optional<Lease> load(Path state) throws IOException {
        try {
            String[] f = Files.readString(state.resolve(FILE), StandardCharsets.UTF_8).strip().split(" ");
            if (f.length != 3) {
                return Optional.empty();
            }
            return Optional.of(new Lease(new CheckpointTimes.Entry(-1, Long.parseLong(f[1]), f[0], Long.parseLong(f[2]), false)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Writes the lease for this boot, now, and syncs it and its directory. */
    static void write(Path state) throws IOException {
        CheckpointTimes.Entry now = CheckpointTimes.now(-1);
        String line = now.bootId() + " " + now.wallNanos() + " " + now.offsetMillis() + "\n";
        Path tmp = state.resolve(FILE + ".tmp");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                c.write(bytes);
            }
            c.force(false);
        }
        Files.move(tmp, state.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Posix.fsyncDirectory(state.toString());
    }

    /**
     * Removes the lease at {@code file} and syncs its directory; nothing if it is not there.
     * Returns whether one stood.
     */
    static boolean remove(Path file) throws IOException {
        boolean stood = Files.deleteIfExists(file);
        if (stood) {
            Posix.fsyncDirectory(file.getParent().toString());
        }
        return stood;
    }
}
