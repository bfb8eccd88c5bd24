package org.modtrack.daemon;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.modtrack.engine.BlessException;
import org.modtrack.engine.ConsumerException;
import org.modtrack.engine.ResultTooLargeException;
import org.modtrack.engine.journal.ConsumerState;
import org.modtrack.source.linux.LinuxResult;
import org.modtrack.source.linux.PathChange;

/**
 * One client: reads request lines, answers each, until the client closes, times out, or sends a
 * request too large to read. Deadlines are enforced by the daemon's reaper: a client that takes
 * longer than the idle timeout to send a complete request is told and disconnected; one that does
 * not take a response within it is disconnected. Results are never blessed here except by a bless
 * request, so a client that goes away mid-result loses nothing: the next query returns it again.
 */
final class Connection {
    private static final Logger LOG = Logger.getLogger(Connection.class.getName());
    private static final int FLUSH_BYTES = 64 * 1024;
    /** Writes results: Jackson's generator, without the space it puts between top-level values (lines end with a newline instead). */
    private static final JsonFactory LINES = Protocol.MAPPER.getFactory().copy().setRootValueSeparator(null)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    /** How long a refused peer may take to send the request its refusal answers. */
    private static final Duration REFUSED_WAIT = Duration.ofSeconds(2);

    private final Daemon daemon;
    private final SocketChannel ch;
    private final ByteBuffer in = ByteBuffer.allocate(8192).flip();
    private static final long NONE = 0;

    private volatile long readDeadline = NONE;
    private volatile long writeDeadline = NONE;
    private volatile boolean timedOut;

    Connection(Daemon daemon, SocketChannel ch) {
        this.daemon = daemon;
        this.ch = ch;
    }

    /** Sends one error line to a client that will not be served, and closes it. */
    static void refuse(SocketChannel ch, String code, String message) {
        try (ch) {
            ch.write(ByteBuffer.wrap(Protocol.line(Protocol.error(code, message))));
        } catch (IOException e) {
            // it went away first
        }
    }

    void run() {
        try {
            UnixDomainPrincipal peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
            if (!daemon.access().allows(peer)) {
                LOG.warning(() -> "refused user=" + peer.user().getName() + " group=" + peer.group().getName());
                daemon.errors.incrementAndGet();
                // Answered after its request arrives: closing before the client has sent would give
                // it a broken pipe instead of the reason. Within a short wait, so that refused peers
                // cannot hold the daemon's client slots for an idle timeout each.
                if (awaitRequest(REFUSED_WAIT) != null) {
                    send(Protocol.error(Protocol.FORBIDDEN, daemon.access().refusal(peer)));
                }
                return;
            }
            while (true) {
                byte[] line = awaitRequest(daemon.config().idleTimeout());
                if (line == null) {
                    if (timedOut) {
                        daemon.errors.incrementAndGet();
                        send(Protocol.error(Protocol.IDLE_TIMEOUT, "no complete request within "
                                + daemon.config().idleTimeout().toMillis() + " ms; the connection is closed."));
                    }
                    return;
                }
                if (line.length == 0) {
                    continue;
                }
                if (line.length > daemon.config().maxRequestBytes()) {
                    daemon.errors.incrementAndGet();
                    send(Protocol.error(Protocol.REQUEST_TOO_LARGE, "a request may be at most "
                            + daemon.config().maxRequestBytes() + " bytes; the connection is closed."));
                    return;
                }
                daemon.requests.incrementAndGet();
                if (!handle(line, peer)) {
                    return;
                }
            }
        } catch (IOException e) {
            // the client went away, or did not take a response in time: nothing of its is kept
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "client handler failed: " + e, e);
        } finally {
            closeQuietly();
        }
    }

    /** Reads one request line within {@code wait}; null if the client closed or timed out. */
    private byte[] awaitRequest(Duration wait) throws IOException {
        readDeadline = deadline(wait);
        try {
            return readLine();
        } finally {
            readDeadline = NONE;
        }
    }

    /** Returns false when the connection ends after this request. */
    private boolean handle(byte[] line, UnixDomainPrincipal peer) throws IOException, InterruptedException {
        try {
            Request request = RequestParser.parse(line);
            if (daemon.stopping() && !(request instanceof Request.Hello)) {
                throw new ProtocolException(Protocol.STOPPING, "the daemon is stopping.");
            }
            switch (request) {
                case Request.Hello h -> send(daemon.hello(peer));
                case Request.Query q -> query(actingAs(daemon.root(q.root()), q.consumer(), peer), q.consumer(), q.stream(), q.compact());
                case Request.Bless b -> bless(actingAs(daemon.root(b.root()), b.consumer(), peer), b.consumer(), b.snapshot());
                case Request.Consumers c -> consumers(daemon.root(c.root()), c, peer);
                case Request.Status s -> send(Protocol.status(daemon.root(s.root())));
                case Request.Watch w -> {
                    watch(actingAs(daemon.root(w.root()), w.consumer(), peer), w.consumer(), w.intervalMs());
                    return false;
                }
                case Request.Stop s -> {
                    if (!daemon.access().isPrivileged(peer)) {
                        throw new ProtocolException(Protocol.FORBIDDEN, "only root (or the daemon's own user) may stop the daemon.");
                    }
                    LOG.info(() -> "stop requested by user=" + peer.user().getName()
                            + (s.releaseQueue() ? ", the queue keepers released" : ""));
                    send(Protocol.object().put("stopping", true));
                    daemon.stopAsync(s.releaseQueue());
                    return false;
                }
            }
        } catch (ProtocolException e) {
            daemon.errors.incrementAndGet();
            send(Protocol.error(e.code(), e.getMessage()));
        } catch (RuntimeException e) {
            daemon.errors.incrementAndGet();
            LOG.log(Level.WARNING, "request failed: " + e, e);
            send(Protocol.error(Protocol.INTERNAL, "the daemon failed on this request (" + e.getClass().getSimpleName()
                    + "); it keeps running, see its log."));
        }
        return true;
    }

    /** {@code root}, once the peer may act as its consumer {@code name}. */
    private Root actingAs(Root root, String name, UnixDomainPrincipal peer) throws ProtocolException {
        ConsumerState c = root.consumer(name).orElseThrow(() -> unknownConsumer(root, name));
        if (!daemon.access().mayActAs(peer, c)) {
            throw new ProtocolException(Protocol.FORBIDDEN, AccessPolicy.consumerRefusal(peer, c));
        }
        return root;
    }

    private static ProtocolException unknownConsumer(Root root, String name) {
        return new ProtocolException(Protocol.UNKNOWN_CONSUMER, "root " + root.path() + " has no consumer " + name
                + "; add it with: modtrack consumers add " + root.path() + " " + name);
    }

    /** {@code consumers}: lists a root's consumers, or adds or removes one. */
    private void consumers(Root root, Request.Consumers request, UnixDomainPrincipal peer) throws ProtocolException, IOException {
        String path = root.path().toString();
        switch (request.action()) {
            case LIST -> {
                ObjectNode o = Protocol.object().put("root", path);
                ArrayNode list = o.putArray("consumers");
                root.source().consumers().forEach(c -> list.add(Protocol.consumer(c)));
                send(o);
            }
            case ADD -> {
                int uid = ownerId(request.owner(), true);
                int gid = ownerId(request.group(), false);
                if (!daemon.access().isPrivileged(peer)) {
                    // Anyone else adds a consumer of their own: it may keep snapshots (up to the
                    // journal limit) but not act for another user.
                    int self = AccessPolicy.uidOf(peer.user().getName());
                    if (self < 0) {
                        throw new ProtocolException(Protocol.FORBIDDEN, "the daemon cannot tell user " + peer.user().getName()
                                + "'s uid (getent passwd), so it cannot make the consumer theirs; ask root to add it.");
                    }
                    if (uid >= 0 && uid != self || gid >= 0) {
                        throw new ProtocolException(Protocol.FORBIDDEN, "only root (or the daemon's own user) may add a consumer"
                                + " owned by another user or by a group.");
                    }
                    uid = self;
                }
                try {
                    root.source().addConsumer(request.name(), uid, gid);
                } catch (ConsumerException e) {
                    throw new ProtocolException(Protocol.CONSUMER_REFUSED, e.getMessage());
                }
                LOG.info(() -> "consumer added root=" + path + " name=" + request.name() + " by user=" + peer.user().getName());
                send(Protocol.object().put("root", path).put("added", request.name()));
            }
            case REMOVE -> {
                actingAs(root, request.name(), peer);
                try {
                    root.source().removeConsumer(request.name());
                } catch (ConsumerException e) {
                    throw unknownConsumer(root, request.name());
                }
                LOG.info(() -> "consumer removed root=" + path + " name=" + request.name() + " by user=" + peer.user().getName());
                send(Protocol.object().put("root", path).put("removed", request.name()));
            }
        }
    }

    /** The uid (or gid) {@code name} names, -1 for none; a name this system does not know is refused. */
    private static int ownerId(String name, boolean user) throws ProtocolException {
        if (name == null) {
            return -1;
        }
        int id = user ? AccessPolicy.uidOf(name) : AccessPolicy.gidOf(name);
        if (id < 0) {
            throw new ProtocolException(Protocol.BAD_REQUEST, "there is no " + (user ? "user" : "group") + " '" + name
                    + "' on this system.");
        }
        return id;
    }

    private Root.Answer resultOf(Root root, String consumer, boolean view) throws ProtocolException, InterruptedException {
        try {
            return root.query(consumer, view);
        } catch (ConsumerException e) {
            throw unknownConsumer(root, consumer); // removed meanwhile
        } catch (ResultTooLargeException e) {
            if (e.heldByOthers() > 0) {
                String why = "the result of " + root.path() + " would hold " + e.records() + " records, and the results being made"
                        + " or sent for other clients hold " + e.heldByOthers() + " of the " + e.bound() + " this daemon's heap ("
                        + (Runtime.getRuntime().maxMemory() >> 20) + " MiB) lets results hold together, still after "
                        + ResultMemory.waitFor(daemon.config().idleTimeout()).toMillis() + " ms; nothing was lost: query again (with `heap` at"
                        + " least " + ResultBound.heapMibFor(e.weight() + e.heldByOthers()) + "M they would fit together).";
                LOG.info(why);
                throw new ProtocolException(Protocol.BUSY, why);
            }
            String why = "the result of " + root.path() + " would hold " + e.records() + " records" + (e.weight() != e.records()
                    ? " (" + e.weight() + ", a file seen under other names, a renamed one, counting twice)" : "") + ", and this daemon's heap bound ("
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MiB) lets it make results of at most " + e.bound()
                    + ": raise `heap` to at least " + ResultBound.heapMibFor(e.weight())
                    + "M and restart the daemon (docs/install.md, Memory); nothing was lost.";
            LOG.warning(why);
            throw new ProtocolException(Protocol.RESULT_TOO_LARGE, why);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "query of " + root.path() + " failed: " + e.getMessage(), e);
            throw new ProtocolException(Protocol.QUERY_FAILED, "the query of " + root.path() + " failed: "
                    + RequestParser.printable(String.valueOf(e.getMessage()), RequestParser.MAX_EXPLANATION));
        }
    }

    private void query(Root root, String consumer, boolean stream, boolean compact)
            throws ProtocolException, IOException, InterruptedException {
        try (Root.Answer answer = resultOf(root, consumer, false)) { // its memory let go once it is sent, or failed to be
            sendResult(answer.result(), root, stream, compact);
        }
    }

    private void sendResult(LinuxResult r, Root root, boolean stream, boolean compact) throws IOException {
        ObjectNode head = Protocol.resultHead(root.path().toString(), r);
        if (compact) {
            head.put("compact", true);
        }
        Chunk out = new Chunk(FLUSH_BYTES + 4096);
        // Written entry by entry, in pieces of FLUSH_BYTES, with no tree per entry: either one
        // document with a "changes" array, or a line per entry between a header and an end line.
        try (JsonGenerator g = LINES.createGenerator(out)) {
            g.writeStartObject();
            if (stream) {
                g.writeStringField("type", "header");
            }
            for (var field : head.properties()) {
                g.writeFieldName(field.getKey());
                g.writeTree(field.getValue());
            }
            if (stream) {
                g.writeEndObject();
                g.writeRaw('\n');
            } else {
                g.writeArrayFieldStart("changes");
            }
            g.flush();
            write(out.contents());
            out.reset();
            // The entries in the generator's bytes, written without it (ChangeLines says why); the
            // generator, which sees none of them, closes the array or writes the end line after.
            ChangeLines lines = new ChangeLines(stream, compact ? root.path().toString() : null, r.listsByName(), FLUSH_BYTES,
                    this::write);
            r.forEachEntry(lines);
            lines.flush();
            if (stream) {
                g.writeStartObject();
                g.writeStringField("type", "end");
                g.writeNumberField("count", r.changes().size());
            } else {
                g.writeEndArray();
            }
            g.writeEndObject();
            g.writeRaw('\n');
        }
        write(out.contents());
    }

    /** A piece of a result being written: its bytes are sent from where they are, not copied out first. */
    private static final class Chunk extends ByteArrayOutputStream {
        Chunk(int size) {
            super(size);
        }

        ByteBuffer contents() {
            return ByteBuffer.wrap(buf, 0, count);
        }
    }

    private void bless(Root root, String consumer, long snapshot) throws ProtocolException, IOException {
        try {
            root.bless(consumer, snapshot);
        } catch (BlessException e) {
            throw new ProtocolException(Protocol.BLESS_REFUSED, e.getMessage());
        } catch (IOException e) {
            LOG.log(Level.WARNING, "bless of " + root.path() + " failed: " + e.getMessage(), e);
            throw new ProtocolException(Protocol.BLESS_REFUSED, "the bless of " + snapshot + " failed: "
                    + RequestParser.printable(String.valueOf(e.getMessage()), RequestParser.MAX_EXPLANATION));
        }
        LOG.info(() -> "blessed root=" + root.path() + " consumer=" + consumer + " snapshot=" + snapshot);
        ObjectNode o = Protocol.object().put("root", root.path().toString());
        if (!consumer.equals(ConsumerState.DEFAULT)) {
            o.put("consumer", consumer);
        }
        send(o.put("blessed", snapshot));
    }

    /**
     * Polls the root: when its counters moved, queries (never blesses) and sends the changes not
     * in the previous poll's result. Ends when the client closes or sends anything, or the daemon stops.
     */
    private void watch(Root root, String consumer, long intervalMs) throws IOException, InterruptedException {
        send(Protocol.object().put("type", "watching").put("root", root.path().toString()).put("intervalMs", intervalMs));
        AtomicBoolean gone = new AtomicBoolean();
        Thread reader = Thread.ofVirtual().start(() -> {
            ByteBuffer sink = ByteBuffer.allocate(256);
            try {
                while (ch.read(sink) >= 0) {
                    sink.clear();
                }
            } catch (IOException e) {
                // closed
            }
            gone.set(true);
        });
        try {
            // The previous poll's entries as sorted 64-bit hashes of kind, path and from: 8 bytes an
            // entry where a set of their strings took about 150, with a million unblessed changes
            // held from poll to poll. Two entries whose hashes collide (about 2^-64) make the second
            // go unsent to this watcher: a watch shows changes to people, it is not a result.
            long[] previous = new long[0];
            long seen = -1;
            while (!gone.get() && !daemon.stopping()) {
                long activity = root.activity();
                if (activity != seen) {
                    // read before the query: activity during it makes the next poll query again (never a miss)
                    seen = activity;
                    Root.Answer answer;
                    try {
                        answer = resultOf(root, consumer, true);
                    } catch (ProtocolException e) {
                        send(Protocol.error(e.code(), e.getMessage()));
                        return;
                    }
                    try (answer) {
                        LinuxResult r = answer.result();
                        long[] current = new long[r.changes().size()];
                        int n = 0;
                        for (PathChange c : r.changes()) {
                            long key = watchKey(c);
                            current[n++] = key;
                            if (Arrays.binarySearch(previous, key) < 0) {
                                send(Protocol.object().put("type", "change").put("snapshot", r.snapshot()).setAll(Protocol.change(c, r)));
                            }
                        }
                        Arrays.sort(current);
                        previous = current;
                    }
                }
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(intervalMs);
                while (!gone.get() && !daemon.stopping() && System.nanoTime() < until) {
                    Thread.sleep(Math.min(50, intervalMs));
                }
            }
            if (daemon.stopping()) {
                send(Protocol.object().put("type", "end").put("reason", "the daemon is stopping."));
            }
        } finally {
            reader.interrupt();
        }
    }

    /** A 64-bit FNV-1a hash of an entry's kind, path and from, each ended by a char no path holds. */
    static long watchKey(PathChange c) {
        long h = 0xcbf29ce484222325L;
        h = hash(h, c.kind().wireName());
        h = hash(h, c.path());
        return hash(h, c.from() == null ? "" : c.from());
    }

    private static long hash(long h, String s) {
        for (int i = 0; i < s.length(); i++) {
            h = (h ^ s.charAt(i)) * 0x100000001b3L;
        }
        return h * 0x100000001b3L; // then a NUL (h ^ 0), which no path holds: "a" + "bc" and "ab" + "c" differ
    }

    private void send(ObjectNode response) throws IOException {
        write(Protocol.line(response));
    }

    private void write(byte[] bytes) throws IOException {
        write(ByteBuffer.wrap(bytes));
    }

    private void write(ByteBuffer b) throws IOException {
        writeDeadline = deadline();
        try {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        } finally {
            writeDeadline = NONE;
        }
    }

    /**
     * The next line without its newline (and a trailing CR); null at end of input. A line longer
     * than the limit is returned as soon as it passes it (the caller refuses it unread).
     */
    private byte[] readLine() throws IOException {
        int max = daemon.config().maxRequestBytes();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            if (!in.hasRemaining()) {
                in.clear();
                int n = ch.read(in);
                in.flip();
                if (n < 0) {
                    return null;
                }
            }
            int start = in.position();
            for (int i = start; i < in.limit(); i++) {
                if (in.get(i) == '\n') {
                    line.write(in.array(), start, i - start);
                    in.position(i + 1);
                    byte[] out = line.toByteArray();
                    return out.length > 0 && out[out.length - 1] == '\r' ? Arrays.copyOf(out, out.length - 1) : out;
                }
            }
            line.write(in.array(), start, in.limit() - start);
            in.position(in.limit());
            if (line.size() > max) {
                return line.toByteArray();
            }
        }
    }

    private long deadline() {
        return deadline(daemon.config().idleTimeout());
    }

    private static long deadline(Duration wait) {
        long d = System.nanoTime() + wait.toNanos();
        return d == NONE ? 1 : d;
    }

    /** Called by the reaper: a request that takes too long ends the input; a response not taken closes the connection. */
    void enforceDeadlines(long now) {
        long w = writeDeadline;
        long r = readDeadline;
        if (w != NONE && now - w > 0) {
            closeQuietly();
        } else if (r != NONE && now - r > 0 && !timedOut) {
            timedOut = true;
            endInput();
        }
    }

    /** No more requests are read: a client waiting for one is answered by end of input. */
    void endInput() {
        try {
            ch.shutdownInput();
        } catch (IOException e) {
            // already closed
        }
    }

    void closeQuietly() {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
