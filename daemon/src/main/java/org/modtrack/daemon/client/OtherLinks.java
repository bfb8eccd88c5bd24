package org.modtrack.daemon.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The other names of the files a result names with more than one link. A result lists a file once,
 * under one of its names; a consumer that keeps copies by path must read its other names too when
 * its contents or attributes may have changed (docs/protocol.md, <em>Applying a result</em>). This
 * finds them with one walk of the root for the whole result, by device and inode number, and only
 * when the result has such an entry.
 */
public final class OtherLinks {
    private final Set<String> named = new LinkedHashSet<>();

    /** Notes one entry of a result: a file with more than one link whose contents may have changed. */
    public void note(JsonNode change) {
        String kind = change.path("kind").asText();
        boolean unchanged = kind.equals("deleted") || (kind.equals("renamed") && !change.path("changed").asBoolean());
        if (change.path("links").asLong() > 1 && !change.path("directory").asBoolean() && !unchanged) {
            named.add(change.path("path").asText());
        }
    }

    /** Whether no noted entry asks for a walk. */
    public boolean isEmpty() {
        return named.isEmpty();
    }

    /**
     * Walks {@code root} (not following symbolic links) and returns, in walk order, every path other
     * than the noted ones that is a name of a noted file, as the file system is now. A noted path
     * that is gone or is no longer a file with other links is skipped: a later result names it.
     */
    public List<String> find(Path root) throws IOException {
        Set<Object> files = new HashSet<>();
        for (String p : named) {
            try {
                BasicFileAttributes a = Files.readAttributes(Path.of(p), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (a.isRegularFile() && a.fileKey() != null) {
                    files.add(a.fileKey());
                }
            } catch (NoSuchFileException e) {
                // gone by now
            }
        }
        List<String> out = new ArrayList<>();
        if (files.isEmpty()) {
            return out;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes a) {
                if (a.isRegularFile() && files.contains(a.fileKey()) && !named.contains(file.toString())) {
                    out.add(file.toString());
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // gone or changing under the walk: a later result names it
            }
        });
        return out;
    }
}
