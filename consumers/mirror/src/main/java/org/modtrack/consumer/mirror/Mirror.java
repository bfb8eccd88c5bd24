package org.modtrack.consumer.mirror;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.modtrack.daemon.Protocol;
import org.modtrack.daemon.client.DaemonClient;
import org.modtrack.daemon.client.DaemonException;
import org.modtrack.daemon.client.OtherLinks;
import org.modtrack.daemon.client.ResultApplier;

/**
 * Keeps a destination equal to a watched root, one query/apply/bless cycle at a time: the job
 * people run lsyncd for, without a full rsync at every start.
 *
 * <p>A cycle: query the root (the result's lines are kept in the state directory first), apply the
 * result to the destination (a local directory step by step, as docs/protocol.md says, or any rsync
 * destination path by path), make the destination durable, and only then bless the result. The
 * first cycle queries, copies the whole tree, then blesses: what changed while it copied is in the
 * next result. Stopped at any moment, the next run resumes the result it was applying from the
 * entry it had reached (applying an entry twice does no harm), and blesses only what it applied. A
 * file named with more than one link has its other names found (one walk of the source for the
 * whole result, only when it has such an entry) and read too.
 */
public final class Mirror {
    /** How many entries are applied between two saves of the progress (with the destination made durable). */
    private static final int ENTRIES_PER_SAVE = 1000;
    /** The longest between two saves of the progress. */
    private static final long NANOS_PER_SAVE = 1_000_000_000L;

    /** Connects to the daemon. */
    @FunctionalInterface
    public interface Connector {
        DaemonClient connect() throws IOException;
    }

    private final Connector daemon;
    private final Path source;
    private final String destination;
    private final boolean rsync;
    private final Path stateDirectory;
    private final String consumer;

    /**
     * @param source the watched root, absolute
     * @param destination a local directory, or with {@code rsync} any rsync destination
     * @param rsync whether to apply results with rsync rather than step by step on a local directory
     * @param stateDirectory where the mirror keeps its state (not below the source)
     * @param consumer the root's consumer the mirror queries and blesses as (one of its own, so that
     *     other tools of the root bless on their own)
     */
    public Mirror(Connector daemon, Path source, String destination, boolean rsync, Path stateDirectory, String consumer) {
        this.daemon = daemon;
        this.consumer = consumer;
        this.source = source;
        this.destination = destination;
        this.rsync = rsync;
        this.stateDirectory = stateDirectory;
        if (!rsync) {
            Path d = Path.of(destination).toAbsolutePath().normalize();
            if (d.startsWith(source) || source.startsWith(d)) {
                throw new IllegalArgumentException("the destination " + d + " and the source " + source
                        + " must not contain one another.");
            }
        }
        if (stateDirectory.toAbsolutePath().normalize().startsWith(source)) {
            throw new IllegalArgumentException("the mirror's state directory " + stateDirectory + " must not be below the source "
                    + source + ": its own writes would be changes.");
        }
    }

    /** Whether {@code destination} names a remote rsync destination ({@code host:path}, {@code rsync://}). */
    public static boolean isRemote(String destination) {
        int colon = destination.indexOf(':');
        int slash = destination.indexOf('/');
        return destination.startsWith("rsync://") || (colon > 0 && (slash < 0 || colon < slash));
    }

    /**
     * Runs one cycle and says what it did. The query and the bless each use a connection of their
     * own: applying can take longer than the daemon lets a connection stay idle.
     */
    public MirrorStats cycle() throws IOException, InterruptedException {
        long start = System.nanoTime();
        MirrorStats stats = new MirrorStats();
        MirrorState state = MirrorState.load(stateDirectory, source.toString(), destination);
        if (!state.initialized) {
            firstCopy(state, stats);
        } else {
            if (state.applying == 0 || !Files.exists(state.result)) {
                JsonNode header = query(state.result);
                state.applying = header.path("snapshot").asLong();
                state.next = 0;
                state.save(source.toString(), destination);
            } else {
                stats.resumed = true;
            }
            apply(state, stats);
            bless(state);
            stats.result = state.applying;
            state.applying = 0;
            state.next = 0;
            state.save(source.toString(), destination);
            Files.deleteIfExists(state.result);
        }
        stats.nanos = System.nanoTime() - start;
        return stats;
    }

    /** Blesses the result the state says was applied; a refused bless drops it, so the next cycle queries again. */
    private void bless(MirrorState state) throws IOException {
        try (DaemonClient c = daemon.connect()) {
            c.bless(source.toString(), consumer, state.applying);
        } catch (DaemonException e) {
            if (!"bless-refused".equals(e.code())) {
                throw e;
            }
            // The daemon does not know this result (any more): what was applied stays, and the next
            // cycle asks for everything since the last blessed result, which holds it.
            long refused = state.applying;
            state.applying = 0;
            state.next = 0;
            state.save(source.toString(), destination);
            Files.deleteIfExists(state.result);
            throw new IOException("the daemon refused to bless result " + refused + " (" + e.getMessage()
                    + "); the next cycle queries again.", e);
        }
    }

    /** The first cycle: query (to have a result to bless), copy everything, bless. */
    private void firstCopy(MirrorState state, MirrorStats stats) throws IOException, InterruptedException {
        JsonNode header = query(state.result);
        copyAll(stats);
        state.applying = header.path("snapshot").asLong();
        bless(state);
        stats.result = state.applying;
        stats.fullCopy = true;
        state.initialized = true;
        state.applying = 0;
        state.next = 0;
        state.save(source.toString(), destination);
        Files.deleteIfExists(state.result);
    }

    private void copyAll(MirrorStats stats) throws IOException, InterruptedException {
        if (rsync) {
            new RsyncDestination(source, destination, stats).copyAll();
        } else {
            LocalDestination local = new LocalDestination(source, Path.of(destination), stats);
            local.copyAll();
            local.makeDurable();
        }
    }

    /** Streams a query's lines into {@code file} (synced before the result is used) and returns its header. */
    private JsonNode query(Path file) throws IOException {
        JsonNode[] header = new JsonNode[1];
        long[] changes = new long[1];
        try (DaemonClient c = daemon.connect();
             FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
             OutputStream out = Channels.newOutputStream(channel);
             BufferedWriter w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16)) {
            JsonNode end = c.queryStream(source.toString(), consumer, line -> {
                switch (line.path("type").asText()) {
                    case "header" -> header[0] = line;
                    case "change" -> changes[0]++;
                    default -> { }
                }
                w.write(Protocol.text(Protocol.line(line)));
                w.write('\n');
            });
            w.flush();
            channel.force(true);
            if (header[0] == null || end.path("count").asLong(-1) != changes[0]) {
                throw new IOException("the daemon's answer to the query was incomplete (" + changes[0] + " changes, the end line says "
                        + end.path("count").asText("nothing") + ").");
            }
        }
        return header[0];
    }

    /** Applies the kept result from the entry the state says was reached, saving progress as it goes. */
    private void apply(MirrorState state, MirrorStats stats) throws IOException, InterruptedException {
        JsonNode header = null;
        LocalDestination local = rsync ? null : new LocalDestination(source, Path.of(destination), stats);
        RsyncDestination remote = rsync ? new RsyncDestination(source, destination, stats) : null;
        OtherLinks otherLinks = new OtherLinks(); // noted from every entry, applied or not: a resumed run walks again
        long index = 0;
        long lastSave = System.nanoTime();
        try (BufferedReader r = Files.newBufferedReader(state.result, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                JsonNode n = Protocol.MAPPER.readTree(line);
                switch (n.path("type").asText()) {
                    case "header" -> header = n;
                    case "change" -> {
                        otherLinks.note(n);
                        if (local != null && stats.resumed) {
                            local.removeTemporary(n.path("path").asText()); // a copy the stopped run left half done
                        }
                        if (index >= state.next) {
                            if (local != null) {
                                ResultApplier.applyOne(n, local);
                            } else {
                                remote.note(n);
                            }
                            stats.entries++;
                        }
                        index++;
                        if (local != null && (index % ENTRIES_PER_SAVE == 0 || System.nanoTime() - lastSave > NANOS_PER_SAVE)
                                && index > state.next) {
                            local.makeDurable();
                            state.next = index;
                            state.save(source.toString(), destination);
                            lastSave = System.nanoTime();
                        }
                    }
                    default -> { }
                }
            }
        }
        if (header == null) {
            throw new IOException("the kept result " + state.result + " has no header line.");
        }
        stats.recovered = header.path("recovered").asBoolean();
        stats.continuity = header.path("continuity").asText();
        if (!otherLinks.isEmpty()) {
            // A file is one entry, under one of its names: its other names are read too.
            for (String other : otherLinks.find(source)) {
                if (local != null) {
                    local.read(other); // not only if a stat says so: a chmod changes neither size nor mtime
                } else {
                    remote.noteFile(other);
                }
                stats.otherLinks++;
            }
        }
        if (remote != null) {
            remote.sync();
        }
        if (ResultApplier.asksForRescan(header)) {
            copyAll(stats); // what the reason names is below the root
            stats.fullCopy = true;
        }
        if (local != null) {
            local.makeDurable();
        }
    }
}
