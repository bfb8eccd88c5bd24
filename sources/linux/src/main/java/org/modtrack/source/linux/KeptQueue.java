package org.modtrack.source.linux;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.posix.Errno;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.UnixSockets;

/**
 * The tracker's side of a {@link QueueKeeper}: finds the keeper of its state directory (starting
 * one if there is none), takes the notification group it keeps, or gives it the group to keep.
 * The connection stays open while the tracker runs: its end, however the tracker ends, is how the
 * keeper learns that the group is orphaned.
 */
final class KeptQueue implements QueueHolder {
    private static final Logger LOG = Logger.getLogger(KeptQueue.class.getName());
    static final String DIRECTORY = "keeper";
    private static final String LOG_FILE = "keeper.log";
    private static final long LOG_MAX_BYTES = 1 << 20;
    /** How long a newly started keeper may take to listen (a JVM start: about 0.3 s here). */
    private static final long START_MILLIS = 15_000;
    private static final long RETRY_MILLIS = 20;
    /**
     * The keeper's JVM: small and quiet. It runs nothing hot, so the interpreter alone (no compiler
     * thread, no code cache: 43 MB resident instead of 51, 22 MB of it its own), a serial collector,
     * no perf-data sampling, and no monitor deflation checks four times a second
     * (AsyncDeflationInterval=0), which were most of its wake-ups (docs/benchmarks.md, <i>Idle</i>):
     * that check only paces deflation once the inflated monitors pass 90% of the JVM's estimate of
     * 1,024 a thread, which one thread that never contends a lock cannot reach; JDK 25's deflation
     * thread still wakes once a minute (GuaranteedAsyncDeflationInterval) and deflates what is idle.
     * Idle, it used no CPU tick in 40 s (docs/linux-source.md).
     */
    private static final List<String> KEEPER_JVM = List.of("-Xmx16m", "-Xms4m", "-Xss512k", "-XX:+UseSerialGC",
            "-XX:-UsePerfData", "-Xint", "-Xshare:auto", "-XX:+UnlockDiagnosticVMOptions",
            "-XX:AsyncDeflationInterval=0", "--enable-native-access=ALL-UNNAMED");

    private final int connection;
    private volatile boolean closed; // the connection is closed: this tracker's hold has ended
    private final int keeperPid;

    private KeptQueue(int connection, int keeperPid) {
        this.connection = connection;
        this.keeperPid = keeperPid;
    }

    /**
     * Connects to the keeper of {@code stateDirectory}, starting one (which keeps an orphaned group
     * for {@code keep}) if nobody listens.
     */
    static KeptQueue attach(Path stateDirectory, Duration keep) throws IOException {
        Path directory = stateDirectory.resolve(DIRECTORY);
        requirePrivateDirectory(directory);
        Path socket = directory.resolve(QueueKeeper.SOCKET);
        int c = tryConnect(socket);
        if (c < 0) {
            Process keeper = start(directory, keep);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MILLIS);
            while ((c = tryConnect(socket)) < 0) {
                if (!keeper.isAlive()) {
                    throw new IOException("the queue keeper exited at once (status " + keeper.exitValue() + "; see "
                            + directory.resolve(LOG_FILE) + ")");
                }
                if (System.nanoTime() > deadline) {
                    keeper.destroy();
                    throw new IOException("the queue keeper did not listen on " + socket + " within " + START_MILLIS
                            + " ms (see " + directory.resolve(LOG_FILE) + ")");
                }
                sleep(RETRY_MILLIS);
            }
        }
        try {
            return new KeptQueue(c, UnixSockets.peer(c).pid());
        } catch (IOException | RuntimeException e) {
            Posix.close(c, socket.toString());
            throw e;
        }
    }

    /**
     * Tells the keeper of {@code stateDirectory}, if one runs and nobody holds its group, to close
     * the group and exit; false if there was none to tell (or it refused: a tracker holds the group).
     */
    static boolean releaseIfRunning(Path stateDirectory) throws IOException {
        int c = tryConnect(stateDirectory.resolve(DIRECTORY).resolve(QueueKeeper.SOCKET));
        if (c < 0) {
            return false;
        }
        KeptQueue k = new KeptQueue(c, UnixSockets.peer(c).pid());
        try {
            return k.ask("release").text().equals("released");
        } finally {
            k.close();
        }
    }

    /** The group the keeper holds, this process's copy of it; empty if it holds none. */
    @Override
    public Optional<Group> take() throws IOException {
        UnixSockets.Message answer = ask("take");
        String text = answer.text();
        if (text.startsWith("group ") && answer.fds().length == 1) {
            return Optional.of(Group.parse(answer.fds()[0], text.substring(6)));
        }
        UnixSockets.closeAll(answer.fds());
        if (text.equals("empty")) {
            return Optional.empty();
        }
        throw new IOException("the queue keeper (pid " + keeperPid + ") " + text);
    }

    /** Gives the keeper {@code group} to hold (it closes any other it held). */
    @Override
    public void keep(Group group) throws IOException {
        UnixSockets.Message answer = ask("keep " + group.meta(), group.fd());
        if (!answer.text().startsWith("kept ")) {
            throw new IOException("the queue keeper (pid " + keeperPid + ") " + answer.text());
        }
    }

    /**
     * Gives the keeper a copy of the pre-content group to hold while this process lives: when it
     * dies, the keeper removes the power lease at {@code lease} before the group's writers go on
     * ({@link PowerLease}).
     */
    void guard(int preContentGroup, Path lease) throws IOException {
        UnixSockets.Message answer = ask("guard " + lease, preContentGroup);
        if (!answer.text().equals("guarded")) {
            throw new IOException("the queue keeper (pid " + keeperPid + ") " + answer.text());
        }
    }

    /** Takes the copy back (a clean stop, which removed the lease itself). */
    void unguard() throws IOException {
        UnixSockets.Message answer = ask("unguard");
        if (!answer.text().equals("unguarded")) {
            throw new IOException("the queue keeper (pid " + keeperPid + ") " + answer.text());
        }
    }

    /** The connection to the keeper: it hangs up when the keeper dies. */
    int connection() {
        return connection;
    }

    /** The keeper's process id. */
    int keeperPid() {
        return keeperPid;
    }

    /** Whether the keeper still runs. */
    boolean keeperAlive() {
        // The hang-up first: a keeper killed is alive to the JDK until this JVM's reaper has waited
        // for it, and while it exits, though its connection hung up (and the power lease went with
        // it) already. The next result must replace it then, not after the reap (found by
        // RebootTest on a loaded machine).
        return !hungUp() && processAlive();
    }

    /**
     * Waits, at most {@code millis}, until the keeper's process has ended (gone, or a zombie: every
     * descriptor it had is closed, its listening socket too), so that a successor is not the dying
     * keeper itself: a connection to its socket while it exits is reset (found by RebootTest). A
     * keeper that hung up but lives on is waited for no longer than that.
     */
    void awaitEnded(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (processAlive() && !ProcFs.ended(keeperPid) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    /** Whether the keeper's process exists, as the JDK sees it (a zombie does). */
    private boolean processAlive() {
        return ProcessHandle.of(keeperPid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Whether the keeper's end of the connection is closed (it died, or closed it): it keeps nothing for this tracker. */
    private boolean hungUp() {
        if (closed) {
            return true; // the descriptor's number may be another file's by now
        }
        try {
            short r = Posix.poll(new int[] {connection}, new short[] {0}, 0)[0];
            return (r & (Posix.POLLHUP | Posix.POLLERR | Posix.POLLNVAL)) != 0;
        } catch (PosixException e) {
            return false; // the process is looked at instead
        }
    }

    @Override
    public String kind() {
        return "keeper";
    }

    @Override
    public OptionalInt pid() {
        return keeperAlive() ? OptionalInt.of(keeperPid) : OptionalInt.empty();
    }

    /** Tells the keeper to close the group and exit: nobody will take it over. */
    void release() throws IOException {
        try {
            ask("release");
        } finally {
            close();
        }
    }

    /** Ends this tracker's hold: the keeper keeps the group for its keep time, for a successor. */
    @Override
    public void close() throws PosixException {
        closed = true;
        try {
            UnixSockets.shutdown(connection); // the keeper sees the end now, though a watcher polls it
        } finally {
            Posix.close(connection, "the connection to the queue keeper");
        }
    }

    private UnixSockets.Message ask(String request, int... fds) throws IOException {
        UnixSockets.send(connection, request, fds);
        if (Posix.poll(new int[] {connection}, Posix.POLLIN, (int) START_MILLIS)[0] == 0) {
            throw new IOException("the queue keeper (pid " + keeperPid + ") did not answer '" + request + "'");
        }
        UnixSockets.Message answer = UnixSockets.receive(connection);
        if (answer == null) {
            throw new IOException("the queue keeper (pid " + keeperPid + ") closed the connection");
        }
        return answer;
    }

    private static int tryConnect(Path socket) throws PosixException {
        try {
            return UnixSockets.connect(socket);
        } catch (PosixException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ECONNREFUSED) {
                return -1;
            }
            throw e;
        }
    }

    /** Starts a keeper in a session of its own (a terminal's Ctrl-C must not end it with the tracker). */
    private static Process start(Path directory, Duration keep) throws IOException {
        Path log = directory.resolve(LOG_FILE);
        if (Files.exists(log) && Files.size(log) > LOG_MAX_BYTES) {
            Files.move(log, directory.resolve(LOG_FILE + ".old"), StandardCopyOption.REPLACE_EXISTING);
        }
        List<String> command = new ArrayList<>();
        Path setsid = Path.of("/usr/bin/setsid");
        if (Files.isExecutable(setsid)) {
            command.add(setsid.toString());
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(KEEPER_JVM);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(QueueKeeper.class.getName());
        command.add(directory.toString());
        command.add(Long.toString(Math.max(1, keep.toSeconds())));
        LOG.fine(() -> "starting the queue keeper: " + command);
        return new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /**
     * Makes {@code directory} (if needed) and checks that only its owner, this process's user, may
     * enter it: whoever can reach the keeper's socket could otherwise ask for a descriptor that
     * learns every file name of the file system. Returns the owner's uid.
     */
    static int requirePrivateDirectory(Path directory) throws IOException {
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rwx------");
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(ownerOnly));
            Files.setPosixFilePermissions(directory, ownerOnly); // the umask may have taken bits away, never added
        }
        int owner = ((Number) Files.getAttribute(directory, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue();
        int me = effectiveUid();
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(directory, LinkOption.NOFOLLOW_LINKS);
        if (owner != me || !ownerOnly.containsAll(permissions)) {
            throw new IOException("the queue keeper's directory " + directory + " must belong to uid " + me
                    + " and be closed to everyone else (it is uid " + owner + ", "
                    + PosixFilePermissions.toString(permissions) + "): fix or remove it");
        }
        return me;
    }

    private static int effectiveUid() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return Integer.parseInt(line.substring(4).strip().split("\\s+")[1]);
            }
        }
        throw new IOException("no Uid line in /proc/self/status");
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the queue keeper", e);
        }
    }

    /** Logs and swallows a failure of an optional step: without a keeper, a restart is a gap, as before. */
    static void warn(String what, Exception e) {
        LOG.log(Level.WARNING, what + ": " + e.getMessage() + "; a restart will find by a walk what changed", e);
    }
}
