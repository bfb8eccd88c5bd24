package org.modtrack.daemon;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import jdk.net.UnixDomainPrincipal;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.source.linux.LinuxSourceOptions;
import org.modtrack.source.linux.SystemdStore;

/**
 * The modtrack daemon: one {@link Root} per watched path, behind a Unix domain socket that speaks
 * the protocol of docs/protocol.md. Each client has its own thread; everything a client can
 * make the daemon hold is bounded (request size, time to send a request or take a response, number
 * of clients). Queries of one root are serialized; nothing a client does blesses anything but its
 * own bless request, so a client that goes away loses nothing.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Daemon.class.getName());
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final DaemonConfig config;
    private final Map<String, Root> roots;
    private final AccessPolicy access;
    private final ServerSocketChannel server;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Semaphore slots;
    private final Thread reaper;
    /** Notified when a client connects: the reaper waits on it while none is connected. */
    private final Object clientArrived = new Object();
    private final MetricsServer metrics;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean stopping = new AtomicBoolean();
    final AtomicLong clientsAccepted = new AtomicLong();
    final AtomicLong clientsRefused = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong errors = new AtomicLong();

    private Daemon(DaemonConfig config, Map<String, Root> roots, AccessPolicy access, ServerSocketChannel server)
            throws IOException {
        this.config = config;
        this.roots = roots;
        this.access = access;
        this.server = server;
        this.slots = new Semaphore(config.maxClients());
        this.reaper = Thread.ofPlatform().daemon().name("modtrack-reaper").unstarted(this::reap);
        this.metrics = config.metricsPort() == null ? null : MetricsServer.start(config.metricsPort(), this);
    }

    /**
     * Opens every root, binds the socket and starts serving. Refuses, with one sentence, roots that
     * do not exist, two roots on one file system, a socket another daemon listens on, and whatever
     * {@code LinuxSource.open} refuses.
     */
    public static Daemon start(DaemonConfig config) throws IOException {
        List<Path> paths = distinctFilesystems(config.watches());
        AccessPolicy access = new AccessPolicy(config.group());
        TrackerConfig tracker = TrackerConfig.defaults().withDurability(config.durability())
                .withMaxJournalBytes(config.journalLimit())
                .withConsumerTimeout(config.consumerTimeout())
                .withMaxResultRecords(ResultBound.records(Runtime.getRuntime().maxMemory()));
        // One heap for every root's results: what they hold at once is bounded together.
        ResultMemory memory = new ResultMemory(tracker.maxResultRecords(), ResultMemory.waitFor(config.idleTimeout()));
        Map<String, Root> roots = new LinkedHashMap<>();
        ServerSocketChannel server = null;
        try {
            for (Path p : paths) {
                Path state = config.stateDirectory().resolve(DaemonConfig.stateName(p));
                Root root = Root.open(p, state, config.barrier(), LinuxSourceOptions.defaults()
                        .withBarrier(config.barrier().sourceBarrier()).withDetail(config.detail())
                        .withSiblingScopes(config.siblingScopes()).withHook(config.hook())
                        .withKeepQueue(config.keepQueue()).withNaming(config.naming()), tracker, memory);
                roots.put(root.path().toString(), root);
                LOG.info(() -> "tracking root=" + root.path() + " mountPoint=" + root.source().mountPoint()
                        + " state=" + state + " source=" + root.source().hook().cliName()
                        + (config.hook() == null ? " (the best this kernel offers)" : "")
                        + " durability=" + config.durability() + " barrier=" + config.barrier().wireName()
                        + " detail=" + config.detail().name().toLowerCase(Locale.ROOT)
                        + " naming=" + config.naming().cliName()
                        + " siblingScopes=" + config.siblingScopes()
                        + " queueKeptBy=" + root.source().queueHolder()
                        + root.source().keeperPid().stream().mapToObj(pid -> " (pid " + pid + ")").findFirst().orElse(""));
            }
            for (String name : SystemdStore.releaseUnclaimed()) {
                LOG.info(() -> "dropped the stored descriptor " + name + ": no watched root claims it");
            }
            server = bind(config.socket(), access.group());
            Daemon d = new Daemon(config, roots, access, server);
            d.startThreads();
            LOG.info(() -> "listening socket=" + config.socket() + " group=" + config.group()
                    + (d.metrics == null ? "" : " metrics=127.0.0.1:" + d.metrics.port()));
            notifyServiceManager("READY=1\nSTATUS=tracking " + roots.size() + " root(s)");
            // Once listening, so as not to delay it: a first client then finds the JSON mapper ready,
            // or waits for what it would have done itself.
            Thread.ofPlatform().daemon().name("modtrack-protocol-warm-up").start(Protocol::warmUp);
            return d;
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                try {
                    server.close();
                    Files.deleteIfExists(config.socket());
                } catch (IOException c) {
                    e.addSuppressed(c);
                }
            }
            for (Root r : roots.values()) {
                try {
                    r.close();
                } catch (IOException c) {
                    e.addSuppressed(c);
                }
            }
            throw e;
        }
    }

    /** The real paths of the roots; two on one file system are refused. */
    private static List<Path> distinctFilesystems(List<Path> watches) throws IOException {
        Map<Long, Path> byDev = new LinkedHashMap<>();
        for (Path w : watches) {
            Path real;
            try {
                real = w.toRealPath();
            } catch (IOException e) {
                throw new IOException("cannot watch " + w + ": it does not exist or cannot be reached.", e);
            }
            if (!Files.isDirectory(real)) {
                throw new IOException("cannot watch " + w + ": it is not a directory.");
            }
            long dev = ((Number) Files.getAttribute(real, "unix:dev")).longValue();
            Path other = byDev.putIfAbsent(dev, real);
            if (other != null) {
                throw new IllegalArgumentException("the roots " + other + " and " + real + " are on the same file system;"
                        + " one daemon watches a file system once: watch their common parent, or only one of them.");
            }
        }
        return new ArrayList<>(byDev.values());
    }

    private static ServerSocketChannel bind(Path socket, GroupPrincipal group) throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & S_IFMT) != S_IFSOCK) {
                throw new IOException(socket + " exists and is not a socket; remove it or choose another --socket.");
            }
            boolean listening;
            try {
                SocketChannel.open(UnixDomainSocketAddress.of(socket)).close();
                listening = true;
            } catch (IOException e) {
                listening = false;
            }
            if (listening) {
                throw new IOException("another modtrack daemon is already listening on " + socket
                        + "; stop it first (modtrack stop --socket " + socket + ").");
            }
            Files.delete(socket); // left by a daemon that was killed
        }
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(socket), 64);
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString(group == null ? "rw-------" : "rw-rw----"));
            if (group != null) {
                Files.getFileAttributeView(socket, PosixFileAttributeView.class).setGroup(group);
            }
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            Files.deleteIfExists(socket);
            throw e;
        }
    }

    private void startThreads() {
        reaper.start();
        Thread.ofPlatform().name("modtrack-accept").daemon().start(this::acceptLoop);
    }

    /**
     * Cuts off clients past their deadlines: it looks every eighth of the idle timeout, at most every
     * 2 s, while a client is connected, so a client is cut off within 1/8 past its timeout.
     */
    private void reap() {
        long tick = Math.max(10, Math.min(2_000, config.idleTimeout().toMillis() / 8));
        // With no client connected there is no deadline to enforce, so the reaper waits for one
        // instead of ticking: an idle daemon's wake-ups are its CPU cost (docs/benchmarks.md, *Idle*).
        // The accept loop notifies after adding a client, and the check is under the same lock, so
        // no arrival is missed; the wait is still bounded (by the idle timeout, once a minute at the
        // default), as every wait here.
        long idleWait = Math.max(tick, config.idleTimeout().toMillis());
        try {
            while (!stopping.get()) {
                synchronized (clientArrived) {
                    while (connections.isEmpty() && !stopping.get()) {
                        clientArrived.wait(idleWait);
                    }
                }
                Thread.sleep(tick);
                long now = System.nanoTime();
                for (Connection c : connections) {
                    try {
                        c.enforceDeadlines(now);
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "cutting off a client past its deadline failed", e);
                    }
                }
            }
        } catch (InterruptedException e) {
            // stopping
        }
    }

    private void acceptLoop() {
        while (!stopping.get()) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.log(Level.WARNING, "accept failed: " + e.getMessage(), e);
                continue;
            }
            if (!slots.tryAcquire()) {
                clientsRefused.incrementAndGet();
                Thread.ofVirtual().start(() -> Connection.refuse(ch, Protocol.TOO_MANY_CLIENTS,
                        "the daemon already serves " + config.maxClients() + " clients; try again later."));
                continue;
            }
            clientsAccepted.incrementAndGet();
            Connection c = new Connection(this, ch);
            connections.add(c);
            synchronized (clientArrived) {
                clientArrived.notifyAll();
            }
            // A platform thread, not a virtual one: a large result is written in thousands of pieces,
            // each of which may find the socket's buffer full; a virtual thread then parks, is woken by
            // the JDK's poller and mounted again on a carrier, where a platform thread sleeps in the
            // kernel's write. A million-entry answer took 60-80 ms of CPU to write on a platform thread
            // against 80-115 on a virtual one (benchmarks/peers/answer --files 1000000, per-thread CPU
            // read from /proc). There are at most max-clients of them, idle in a read when not asked.
            Thread.ofPlatform().name("modtrack-client").daemon().start(() -> {
                try {
                    c.run();
                } finally {
                    connections.remove(c);
                    slots.release();
                }
            });
        }
    }

    DaemonConfig config() {
        return config;
    }

    AccessPolicy access() {
        return access;
    }

    Collection<Root> roots() {
        return roots.values();
    }

    boolean stopping() {
        return stopping.get();
    }

    /** The root a request names (its real path, or the path as given), or an unknown-root error. */
    Root root(String path) throws ProtocolException {
        Root r = roots.get(path);
        if (r == null) {
            try {
                r = roots.get(Path.of(path).toRealPath().toString());
            } catch (IOException | RuntimeException e) {
                r = null;
            }
        }
        if (r == null) {
            throw new ProtocolException(Protocol.UNKNOWN_ROOT, "this daemon does not watch "
                    + RequestParser.printable(path) + "; it watches " + String.join(", ", roots.keySet()) + ".");
        }
        return r;
    }

    ObjectNode hello(UnixDomainPrincipal peer) {
        ObjectNode o = Protocol.object();
        o.put("protocol", Protocol.VERSION);
        String v = Daemon.class.getPackage().getImplementationVersion();
        o.put("server", "modtrack " + (v == null ? "development" : v));
        var list = o.putArray("roots");
        roots.keySet().forEach(list::add);
        o.put("user", peer.user().getName());
        o.put("mayStop", access.isPrivileged(peer));
        return o;
    }

    /** The socket the daemon listens on. */
    public Path socket() {
        return config.socket();
    }

    /** The metrics endpoint's port, or -1 when there is none. */
    public int metricsPort() {
        return metrics == null ? -1 : metrics.port();
    }

    /** Waits until the daemon has stopped (a {@code stop} request, or {@link #close()}). */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /**
     * Stops on another thread (a client's {@code stop} must not wait for its own connection); with
     * {@code releaseQueue}, each root's queue keeper lets its group go instead of keeping it.
     */
    void stopAsync(boolean releaseQueue) {
        if (releaseQueue) {
            for (Root r : roots.values()) {
                r.source().releaseQueueAtClose();
            }
        }
        Thread.ofPlatform().name("modtrack-stop").start(() -> {
            try {
                close();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "stopping failed: " + e.getMessage(), e);
            }
        });
    }

    /** Tells systemd (Type=notify) how the daemon is doing, if it runs as its service; a failure is logged only. */
    private static void notifyServiceManager(String state) {
        try {
            SystemdStore.notify(state);
        } catch (IOException e) {
            LOG.warning("could not tell the service manager " + state.replace('\n', ' ') + ": " + e.getMessage());
        }
    }

    /**
     * Stops cleanly: no new clients; waiting clients are told; watches end; a query in progress
     * finishes; then every source is closed (the kernel lets blocked writers go, and the engine
     * leaves its clean marker) and the socket file is removed.
     */
    @Override
    public void close() throws IOException {
        if (!stopping.compareAndSet(false, true)) {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        LOG.info("stopping");
        notifyServiceManager("STOPPING=1");
        IOException failure = null;
        try {
            server.close();
            for (Connection c : connections) {
                c.endInput();
            }
            for (Root r : roots.values()) {
                r.memory().stop(); // one for all roots: a query waiting for the heap ends now, not after its wait
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (!connections.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            for (Connection c : connections) {
                c.closeQuietly();
            }
            reaper.interrupt();
            if (metrics != null) {
                metrics.stop();
            }
            for (Root r : roots.values()) {
                try {
                    r.close();
                } catch (IOException e) {
                    failure = failure == null ? e : failure;
                }
            }
            Files.deleteIfExists(config.socket());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopped.countDown();
            LOG.info("stopped");
        }
        if (failure != null) {
            throw failure;
        }
    }
}
