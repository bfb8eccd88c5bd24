package org.modtrack.daemon.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.modtrack.daemon.Protocol;
import org.modtrack.daemon.Request;
import org.modtrack.engine.journal.ConsumerState;

/**
 * The reference client of the daemon's protocol (docs/protocol.md): one connection, one request at
 * a time. Every method returns the daemon's response object, or throws {@link DaemonException}
 * when the daemon answered with an error.
 */
public final class DaemonClient implements AutoCloseable {
    /** Receives the lines of a streamed response, one at a time. */
    @FunctionalInterface
    public interface LineHandler {
        void line(JsonNode line) throws IOException;
    }

    private final SocketChannel channel;
    private final BufferedReader in;

    private DaemonClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8), 1 << 16);
    }

    /** Connects to the daemon's socket; the failure is one sentence naming the socket. */
    public static DaemonClient connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return new DaemonClient(ch);
        } catch (IOException e) {
            ch.close();
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new IOException("cannot reach the modtrack daemon at " + socket + " (" + why
                    + "): is it running, and may this user use its socket?", e);
        }
    }

    public JsonNode hello() throws IOException {
        return call(new Request.Hello());
    }

    /** The whole result of a query of {@code root} by the default consumer, with its {@code changes} array. */
    public JsonNode query(String root) throws IOException {
        return query(root, ConsumerState.DEFAULT);
    }

    /** The whole result of a query of {@code root} by {@code consumer}, with its {@code changes} array. */
    public JsonNode query(String root, String consumer) throws IOException {
        return query(root, consumer, false);
    }

    /**
     * Like {@link #query(String, String)}; with {@code compact}, its entries in the compact form, as
     * the daemon sent them (docs/protocol.md, <i>Compact entries</i>; {@link CompactEntries#expand}
     * gives the full form).
     */
    public JsonNode query(String root, String consumer, boolean compact) throws IOException {
        return call(new Request.Query(root, consumer, false, compact));
    }

    /**
     * A streamed query by the default consumer: {@code handler} gets the header line, each change
     * line, and the end line, as they arrive; nothing is held in memory. Returns the end line.
     */
    public JsonNode queryStream(String root, LineHandler handler) throws IOException {
        return queryStream(root, ConsumerState.DEFAULT, handler);
    }

    /** Like {@link #queryStream(String, LineHandler)}, by {@code consumer}. */
    public JsonNode queryStream(String root, String consumer, LineHandler handler) throws IOException {
        return queryStream(root, consumer, false, handler);
    }

    /**
     * Like {@link #queryStream(String, String, LineHandler)}; with {@code compact}, {@code handler}
     * gets the entries in the compact form, as the daemon sent them ({@link #queryStreamCompact}
     * hands them on in the full form).
     */
    public JsonNode queryStream(String root, String consumer, boolean compact, LineHandler handler) throws IOException {
        send(new Request.Query(root, consumer, true, compact));
        return readUntilEnd(handler);
    }

    /**
     * Like {@link #queryStream(String, String, LineHandler)}, but the daemon sends its entries in
     * the compact form (a third of the bytes where the root's path is long: docs/protocol.md,
     * <i>Compact entries</i>), and {@code handler} gets each in the full form all the same
     * ({@link CompactEntries#expand}).
     */
    public JsonNode queryStreamCompact(String root, String consumer, LineHandler handler) throws IOException {
        String[] resultRoot = {null};
        return queryStream(root, consumer, true, line -> {
            JsonNode type = line.get("type");
            if (type == null) {
                if (resultRoot[0] == null) {
                    throw new IOException("the daemon sent an entry before its header: " + line);
                }
                handler.line(CompactEntries.expand(resultRoot[0], line, true));
                return;
            }
            if ("header".equals(type.asText())) {
                resultRoot[0] = line.path("root").asText();
            }
            handler.line(line);
        });
    }

    public JsonNode bless(String root, long snapshot) throws IOException {
        return bless(root, ConsumerState.DEFAULT, snapshot);
    }

    /** {@code consumer} has acted on result {@code snapshot} of {@code root}. */
    public JsonNode bless(String root, String consumer, long snapshot) throws IOException {
        return call(new Request.Bless(root, consumer, snapshot));
    }

    /** The consumers of {@code root}: {@code {"root": ..., "consumers": [...]}}. */
    public JsonNode consumers(String root) throws IOException {
        return call(new Request.Consumers(root, Request.Consumers.Action.LIST, null, null, null));
    }

    /**
     * Adds consumer {@code name} to {@code root}, starting from now; {@code owner} and {@code group}
     * (a user and a group, by name or number; null: none) may act as it besides root and the daemon's user.
     */
    public JsonNode addConsumer(String root, String name, String owner, String group) throws IOException {
        return call(new Request.Consumers(root, Request.Consumers.Action.ADD, name, owner, group));
    }

    /** Removes consumer {@code name} of {@code root}; what only it kept is discarded. */
    public JsonNode removeConsumer(String root, String name) throws IOException {
        return call(new Request.Consumers(root, Request.Consumers.Action.REMOVE, name, null, null));
    }

    public JsonNode status(String root) throws IOException {
        return call(new Request.Status(root));
    }

    /** Watches {@code root} until the daemon ends the watch or the handler throws; returns the last line. */
    public JsonNode watch(String root, long intervalMs, LineHandler handler) throws IOException {
        return watch(root, ConsumerState.DEFAULT, intervalMs, handler);
    }

    /** Like {@link #watch(String, long, LineHandler)}, showing what {@code consumer}'s results hold. */
    public JsonNode watch(String root, String consumer, long intervalMs, LineHandler handler) throws IOException {
        send(new Request.Watch(root, consumer, intervalMs));
        return readUntilEnd(handler);
    }

    private JsonNode readUntilEnd(LineHandler handler) throws IOException {
        while (true) {
            JsonNode line = read();
            handler.line(line);
            if ("end".equals(line.path("type").asText())) {
                return line;
            }
        }
    }

    /** Stops the daemon cleanly; with {@code releaseQueue}, its queue keepers let their groups go. */
    public JsonNode stop(boolean releaseQueue) throws IOException {
        return call(new Request.Stop(releaseQueue));
    }

    /** Sends a request and reads its one-line response. */
    public JsonNode call(Request request) throws IOException {
        send(request);
        return read();
    }

    /** Sends a request line. */
    public void send(Request request) throws IOException {
        sendRaw(Protocol.line(request.toJson()));
    }

    /** Sends bytes as they are (tests use it for malformed requests). */
    public void sendRaw(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    /** Reads one response line; an error response is thrown as {@link DaemonException}. */
    public JsonNode read() throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("the modtrack daemon closed the connection without an answer.");
        }
        JsonNode n = Protocol.MAPPER.readTree(line);
        JsonNode error = n.get("error");
        if (error != null) {
            throw new DaemonException(error.path("code").asText(), error.path("message").asText());
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
