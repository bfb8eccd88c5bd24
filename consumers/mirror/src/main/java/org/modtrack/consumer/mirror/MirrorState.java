package org.modtrack.consumer.mirror;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;
import org.modtrack.daemon.Protocol;

/**
 * What a mirror remembers between runs, in a small JSON file replaced atomically: whether its first
 * copy is done, and which result it is applying and how far it got (the result itself is kept
 * beside it, as the query's lines), so that a run stopped at any moment resumes where it was and
 * blesses only what it applied.
 */
final class MirrorState {
    final Path file;
    final Path result;
    boolean initialized;
    long applying; // 0: none
    long next;

    private MirrorState(Path file) {
        this.file = file;
        this.result = file.resolveSibling(file.getFileName().toString().replace(".json", ".result"));
    }

    /** The state of the mirror of {@code source} to {@code destination}, in {@code directory}. */
    static MirrorState load(Path directory, String source, String destination) throws IOException {
        CRC32C crc = new CRC32C();
        crc.update((source + "\0" + destination).getBytes(StandardCharsets.UTF_8));
        String name = "mirror-" + Long.toHexString(crc.getValue()) + ".json";
        Files.createDirectories(directory);
        MirrorState s = new MirrorState(directory.resolve(name));
        try {
            JsonNode n = Protocol.MAPPER.readTree(Files.readAllBytes(s.file));
            if (!source.equals(n.path("source").asText()) || !destination.equals(n.path("destination").asText())) {
                throw new IOException(s.file + " is the state of another mirror (" + n.path("source").asText() + " to "
                        + n.path("destination").asText() + ").");
            }
            s.initialized = n.path("initialized").asBoolean();
            s.applying = n.path("applying").asLong();
            s.next = n.path("next").asLong();
        } catch (NoSuchFileException e) {
            // a mirror that never ran
        }
        return s;
    }

    /** Replaces the file atomically and durably (temporary file, fsync, rename, directory fsync). */
    void save(String source, String destination) throws IOException {
        ObjectNode n = Protocol.MAPPER.createObjectNode();
        n.put("source", source);
        n.put("destination", destination);
        n.put("initialized", initialized);
        n.put("applying", applying);
        n.put("next", next);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            c.write(ByteBuffer.wrap(Protocol.MAPPER.writeValueAsBytes(n)));
            c.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
