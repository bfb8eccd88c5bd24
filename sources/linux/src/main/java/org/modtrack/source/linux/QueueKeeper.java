package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.UnixSockets;

/**
 * The keeper: a small process that holds a tracker's notification group open, so that the kernel
 * keeps queueing creations, deletions, renames and content changes while the tracking process is
 * gone (killed, crashed, restarting), and hands the group to the next one. {@link KeptQueue} is the
 * tracker's side; docs/linux-source.md, <i>Restarts without a gap</i>, the design.
 *
 * <p>It holds at most one group, for one state directory, and serves a {@code SOCK_SEQPACKET}
 * socket in that directory. Messages, one line each:
 * <ul>
 *   <li>{@code keep META} with the group's descriptor: hold this group (replacing one held, which
 *       is closed). Answer {@code kept PID}.</li>
 *   <li>{@code take}: answer {@code group META} with a copy of the descriptor, or {@code empty}.</li>
 *   <li>{@code release}: close the group and exit. Answer {@code released}.</li>
 *   <li>{@code guard LEASE} with the holder's pre-content group (it makes its sender the holder, as
 *       {@code keep} does; under systemd, whose descriptor store keeps the notification group, it
 *       is all a tracker asks of its keeper): hold a copy
 *       of it while the holder lives, and when the holder's connection ends (its process ended,
 *       however), remove the power lease file LEASE durably before closing that copy, so that no
 *       writer waiting on the group goes on unrecorded while the lease still stands
 *       ({@link PowerLease}). Answer {@code guarded}.</li>
 *   <li>{@code unguard}: close the copy (the holder removed the lease itself: a clean stop).
 *       Answer {@code unguarded}.</li>
 * </ul>
 * The connection that sent {@code keep} or {@code take} is the holder's: while it is open, nobody
 * else may take or keep ({@code refused held by pid N}). When it closes (its process ended, however),
 * the keeper waits up to its keep time for a successor, then closes the group and exits: writers
 * never wait on it, since a notification group makes nobody wait, and a queue nobody will read is
 * not kept. It also closes the group when its file system is unmounted.
 *
 * <p>Security: the descriptor lets its holder learn every file name of the file system. The socket
 * lives in a directory that only the keeper's user may enter, and every peer's uid is checked
 * ({@code SO_PEERCRED}) against the keeper's own: anyone else is refused.
 */
public final class QueueKeeper {
    static final String SOCKET = "keeper.socket";
    /** A request must arrive this soon after its connection, so that one silent peer cannot stall the keeper. */
    private static final int REQUEST_MILLIS = 2_000;
    /** The longest the writers a dead tracker held wait for the removal of its power lease. */
    private static final long LEASE_REMOVAL_MILLIS = 2_000;

    private final Path socket;
    private final long keepNanos;
    private final int uid;
    private int listening = -1;
    private int holder = -1;
    private int holderPid;
    private int held = -1;
    private String heldMeta;
    private int guard = -1; // a copy of the holder's pre-content group, while it lives
    private volatile Path guardedLease; // read by the exit hook too
    private long orphanedAt = System.nanoTime();

    private QueueKeeper(Path socket, Duration keep, int uid) {
        this.socket = socket;
        this.keepNanos = keep.toNanos();
        this.uid = uid;
    }

    /** {@code QueueKeeper DIRECTORY KEEP_SECONDS}: serves DIRECTORY/keeper.socket until it has nothing to hold. */
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: QueueKeeper DIRECTORY KEEP_SECONDS");
            System.exit(2);
        }
        Path directory = Path.of(args[0]);
        int uid = KeptQueue.requirePrivateDirectory(directory);
        QueueKeeper keeper = new QueueKeeper(directory.resolve(SOCKET), Duration.ofSeconds(Long.parseLong(args[1])), uid);
        // Under systemd the service's processes are stopped together when the tracker dies: a
        // SIGTERM may come before the connection's end is read, and the lease must go first anyway.
        Runtime.getRuntime().addShutdownHook(new Thread(keeper::unguardAtExit, "keeper-exit"));
        keeper.serve();
    }

    private void serve() throws IOException {
        Files.deleteIfExists(socket); // the caller found nobody listening on it
        listening = UnixSockets.listen(socket, 4);
        // POLLPRI (and POLLERR) once each time the mount table changes; POLLIN always, so not asked for.
        int mounts = Posix.open(MountInfo.FILE.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        log("keeping notification groups for " + socket.getParent() + " (pid " + ProcessHandle.current().pid() + ")");
        try {
            while (true) {
                int timeout = -1;
                if (holder < 0) {
                    long left = keepNanos - (System.nanoTime() - orphanedAt);
                    if (left <= 0) {
                        log(held >= 0 ? "nobody took the group within " + TimeUnit.NANOSECONDS.toSeconds(keepNanos)
                                + " s: closing it (the next start finds by a walk what changed)" : "nothing to keep");
                        return;
                    }
                    timeout = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left));
                }
                int[] fds = holder >= 0 ? new int[] {mounts, listening, holder} : new int[] {mounts, listening};
                short[] events = holder >= 0 ? new short[] {Posix.POLLPRI, Posix.POLLIN, Posix.POLLIN}
                        : new short[] {Posix.POLLPRI, Posix.POLLIN};
                short[] ready = Posix.poll(fds, events, timeout);
                if ((ready[0] & Posix.POLLPRI) != 0 && held >= 0 && !mounted(heldMeta)) {
                    log("the file system of the group (" + heldMeta + ") is no longer mounted: closing the group");
                    return;
                }
                if (holder >= 0 && ready[2] != 0) {
                    if (fromHolder()) {
                        return;
                    }
                    continue;
                }
                if (ready[1] != 0 && fromNewcomer()) {
                    return;
                }
            }
        } finally {
            unguard(true);
            closeQuietly(mounts);
            closeQuietly(held);
            closeQuietly(holder);
            closeQuietly(listening);
            Files.deleteIfExists(socket);
        }
    }

    /**
     * Whether the superblock the group's meta names ({@code sb=MAJOR:MINOR}; {@code dev=} for a group
     * kept without it) is mounted anywhere: a
     * group whose file system is gone has nothing left to queue, and holding it would only keep the
     * keeper alive past a test's or an operator's unmount. True if the meta names no device, or the
     * mount table cannot be read.
     */
    static boolean mounted(String meta) {
        QueueHolder.Group group = QueueHolder.Group.parse(-1, meta);
        String device = group.superblock().isEmpty() ? group.device() : group.superblock();
        if (device.isEmpty()) {
            return true;
        }
        try {
            long dev = MountInfo.device(device);
            for (MountInfo m : MountInfo.parseAll(Files.readAllLines(MountInfo.FILE))) {
                if (m.superblockDev() == dev) {
                    return true;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return true; // cannot tell: keep it (the keep time still bounds it)
        }
    }

    /** A message (or the end) from the holder's connection; true to exit. */
    private boolean fromHolder() throws PosixException {
        UnixSockets.Message m;
        try {
            m = UnixSockets.receive(holder);
        } catch (PosixException e) {
            m = null;
        }
        if (m == null) {
            unguard(true); // first: the writers it held wait for this
            log("the holder (pid " + holderPid + ") is gone: keeping the group for "
                    + TimeUnit.NANOSECONDS.toSeconds(keepNanos) + " s");
            closeQuietly(holder);
            holder = -1;
            orphanedAt = System.nanoTime();
            return false;
        }
        return answer(holder, m);
    }

    /** A new connection's one request; true to exit. */
    private boolean fromNewcomer() throws PosixException {
        int c = UnixSockets.accept(listening);
        if (c < 0) {
            return false;
        }
        boolean keepConnection = false;
        try {
            if (Posix.poll(new int[] {c}, Posix.POLLIN, REQUEST_MILLIS)[0] == 0) {
                return false;
            }
            // Read before any answer: closing a connection with its request unread would reset it,
            // and the peer would never see why it was refused.
            UnixSockets.Message m = UnixSockets.receive(c);
            if (m == null) {
                return false;
            }
            UnixSockets.Peer peer = UnixSockets.peer(c);
            if (peer.uid() != uid) {
                UnixSockets.closeAll(m.fds());
                log("refused pid " + peer.pid() + ": uid " + peer.uid() + " is not the keeper's (" + uid + ")");
                sendQuietly(c, "refused uid " + peer.uid() + " may not hold this group");
                return false;
            }
            String request = m.text();
            boolean claims = request.equals("take") || request.startsWith("keep ") || request.startsWith("guard ");
            if ((claims || request.equals("release")) && holder >= 0) {
                UnixSockets.closeAll(m.fds());
                sendQuietly(c, "refused held by pid " + holderPid);
                return false;
            }
            if (claims) {
                holder = c;
                holderPid = peer.pid();
                keepConnection = true;
            }
            return answer(c, m);
        } catch (PosixException e) {
            log("a request failed: " + e.getMessage());
            return false;
        } finally {
            if (!keepConnection) {
                closeQuietly(c);
            }
        }
    }

    /** At a SIGTERM: the lease goes before the guard the process's end closes. */
    private void unguardAtExit() {
        Path lease = guardedLease;
        if (lease != null) {
            try {
                if (PowerLease.remove(lease)) {
                    log("removed the power lease " + lease + " (the keeper is stopping)");
                }
            } catch (IOException | RuntimeException e) {
                log("COULD NOT REMOVE the power lease " + lease + " at exit (" + e.getMessage() + ")");
            }
        }
    }

    /**
     * Closes the guard, if one is held, having removed its lease first when {@code holderGone}: the
     * holder can no longer record, and the writers waiting on the group go on once it closes. The
     * copy is closed even if the removal failed: writers must never wait on a dead tracker.
     */
    private void unguard(boolean holderGone) {
        if (guard < 0) {
            return;
        }
        if (holderGone) {
            // On a thread, waited for a bounded time: the state directory's disk may be what stalled
            // the tracker, and the writers waiting on the group must not wait on that disk forever.
            Path lease = guardedLease;
            Thread removal = Thread.ofPlatform().daemon().name("lease-removal").start(() -> {
                try {
                    if (PowerLease.remove(lease)) {
                        log("removed the power lease " + lease + " (its tracker is gone)");
                    }
                } catch (IOException | RuntimeException e) {
                    log("COULD NOT REMOVE the power lease " + lease + " (" + e.getMessage() + "): after a power"
                            + " loss the next start would trust a walk it must not; remove it by hand");
                }
            });
            try {
                if (!removal.join(Duration.ofMillis(LEASE_REMOVAL_MILLIS))) {
                    log("the power lease " + lease + " was not removed within " + LEASE_REMOVAL_MILLIS + " ms (its disk"
                            + " stalls): letting the writers go on; until it is, a power loss would be walked unsoundly");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeQuietly(guard);
        guard = -1;
        guardedLease = null;
    }

    private boolean answer(int c, UnixSockets.Message m) throws PosixException {
        String request = m.text();
        if (request.startsWith("guard ")) {
            if (c != holder || m.fds().length != 1) {
                UnixSockets.closeAll(m.fds());
                sendQuietly(c, "refused only the holder guards, with one descriptor");
                return false;
            }
            unguard(false);
            guard = m.fds()[0];
            guardedLease = Path.of(request.substring(6));
            log("guarding the pre-content group of pid " + holderPid + " (lease " + guardedLease + ")");
            UnixSockets.send(c, "guarded");
            return false;
        }
        if (request.startsWith("keep ") && m.fds().length == 1) {
            if (held >= 0) {
                closeQuietly(held);
            }
            held = m.fds()[0];
            heldMeta = request.substring(5);
            log("keeping the group of pid " + holderPid + " (" + heldMeta + ")");
            UnixSockets.send(c, "kept " + ProcessHandle.current().pid());
            return false;
        }
        UnixSockets.closeAll(m.fds());
        switch (request) {
            case "take" -> {
                if (held >= 0) {
                    log("handing the group to pid " + holderPid);
                    UnixSockets.send(c, "group " + heldMeta, held);
                } else {
                    UnixSockets.send(c, "empty");
                }
                return false;
            }
            case "unguard" -> {
                if (c != holder) {
                    sendQuietly(c, "refused only the holder takes its guard back");
                    return false;
                }
                unguard(false);
                sendQuietly(c, "unguarded");
                return false;
            }
            case "release" -> {
                log("released");
                sendQuietly(c, "released");
                return true;
            }
            default -> {
                sendQuietly(c, "refused unknown request");
                return false;
            }
        }
    }

    private static void sendQuietly(int c, String text) {
        try {
            UnixSockets.send(c, text);
        } catch (PosixException e) {
            // the peer is gone: nothing to tell
        }
    }

    private static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                Posix.close(fd, "a keeper descriptor");
            } catch (PosixException e) {
                // nothing more to release
            }
        }
    }

    private static void log(String line) {
        System.err.println(Instant.now() + " keeper: " + line);
    }
}
