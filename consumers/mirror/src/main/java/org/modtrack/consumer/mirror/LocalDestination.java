package org.modtrack.consumer.mirror;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.modtrack.daemon.client.ResultApplier;

/**
 * A local directory kept equal to a watched root: each step of a result is done on it directly. A
 * file is copied to a temporary name beside its place, synced and renamed into place, with the
 * source's modification time, so that a later stat can tell it is current; the directories changed
 * are synced before the result is blessed ({@link #makeDurable}).
 */
final class LocalDestination implements ResultApplier.Copy {
    private static final String TEMPORARY_SUFFIX = ".modtrack-copy";
    private final Path source;
    private final Path destination;
    private final Set<Path> changedDirectories = new HashSet<>();
    // Files a listing or a whole read copied while this result is applied: an entry of their own
    // later in the same result reads them again only if a stat says they changed since.
    private final Set<String> copiedByListing = new HashSet<>();
    private final MirrorStats stats;

    LocalDestination(Path source, Path destination, MirrorStats stats) {
        this.source = source;
        this.destination = destination;
        this.stats = stats;
    }

    /** Where {@code path} (an absolute path under the source) goes in the destination. */
    private Path target(String path) {
        return target(Path.of(path));
    }

    /**
     * Where {@code p} goes in the destination. Paths, not strings, below here: a name the source
     * lists whose bytes are not UTF-8 has no string that leads back to it, and only the path
     * keeps its bytes.
     */
    private Path target(Path p) {
        if (!p.startsWith(source)) {
            throw new IllegalArgumentException("a result named " + p + ", which is not under " + source + ".");
        }
        return destination.resolve(source.relativize(p));
    }

    @Override
    public boolean holds(String path) {
        return Files.exists(target(path), LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void forget(String path) throws IOException {
        forget(Path.of(path));
    }

    private void forget(Path p) throws IOException {
        Path t = target(p);
        if (t.equals(destination)) {
            clear(t);
            return;
        }
        if (removeTree(t)) {
            stats.removed++;
            changedDirectories.add(t.getParent());
        }
    }

    @Override
    public void move(String from, String to) throws IOException {
        Path a = target(from);
        Path b = target(to);
        removeTree(b);
        Files.createDirectories(b.getParent());
        try {
            Files.move(a, b, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
            throw new IOException("could not move " + a + " to " + b + ": " + e.getMessage(), e);
        }
        stats.moved++;
        changedDirectories.add(a.getParent());
        changedDirectories.add(b.getParent());
    }

    /** Removes the temporary copy of {@code path} a stopped run may have left beside it. */
    void removeTemporary(String path) throws IOException {
        Path t = target(path);
        if (!t.equals(destination) && Files.deleteIfExists(t.resolveSibling(t.getFileName() + TEMPORARY_SUFFIX))) {
            changedDirectories.add(t.getParent());
        }
    }

    @Override
    public void read(String path) throws IOException {
        if (copiedByListing.contains(path) && current(path)) {
            return; // copied after the checkpoint by this result's listing: as new as the entry asks
        }
        read(Path.of(path));
    }

    private void read(Path s) throws IOException {
        Path t = target(s);
        PosixFileAttributes a = attributes(s);
        if (a == null) {
            forget(s); // gone by now: a later result says where it went
            return;
        }
        if (a.isDirectory()) {
            if (!Files.isDirectory(t, LinkOption.NOFOLLOW_LINKS)) {
                removeTree(t);
                Files.createDirectories(t);
                changedDirectories.add(t.getParent());
            }
            Files.getFileAttributeView(t, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(a.permissions());
        } else if (a.isSymbolicLink()) {
            Path link = Files.readSymbolicLink(s);
            removeTree(t);
            Files.createDirectories(t.getParent());
            Files.createSymbolicLink(t, link);
            changedDirectories.add(t.getParent());
        } else if (a.isRegularFile()) {
            copyFile(s, t, a);
        } // sockets, devices and pipes are not mirrored
    }

    private void copyFile(Path s, Path t, PosixFileAttributes a) throws IOException {
        Files.createDirectories(t.getParent());
        Path temporary = t.resolveSibling(t.getFileName() + TEMPORARY_SUFFIX);
        long bytes;
        try (FileChannel in = FileChannel.open(s, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            bytes = 0;
            for (long n; (n = in.transferTo(bytes, Long.MAX_VALUE, out)) > 0; ) {
                bytes += n;
            }
            out.force(true);
        } catch (NoSuchFileException e) {
            Files.deleteIfExists(temporary);
            if (!Files.exists(s, LinkOption.NOFOLLOW_LINKS)) {
                forget(s);
                return;
            }
            throw e;
        }
        Files.getFileAttributeView(temporary, PosixFileAttributeView.class).setPermissions(a.permissions());
        Files.setLastModifiedTime(temporary, a.lastModifiedTime());
        if (Files.isDirectory(t, LinkOption.NOFOLLOW_LINKS)) {
            removeTree(t);
        }
        Files.move(temporary, t, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        changedDirectories.add(t.getParent());
        stats.filesCopied++;
        stats.bytesCopied += bytes;
    }

    @Override
    public void readTree(String path) throws IOException {
        look(path, true, false);
    }

    /**
     * Looks at directory {@code path} again, as a {@code list} entry asks: its own attributes, its
     * names (the destination's that the source no longer has go, the source's new ones are read
     * whole), and its files by a stat; a subdirectory the destination already has comes as an entry
     * of its own when its entries changed, so it is not walked.
     */
    @Override
    public void list(String path) throws IOException {
        look(path, false, false);
    }

    /** Looks at directory {@code path}'s names only: what changed below the names it keeps has entries of its own. */
    @Override
    public void listNames(String path) throws IOException {
        look(path, false, true);
    }

    /**
     * Reads {@code path}; if it is a directory, its entries, and its subdirectories too if {@code
     * deep}; with {@code namesOnly}, of the entries the destination already has, none.
     */
    private void look(String path, boolean deep, boolean namesOnly) throws IOException {
        look(Path.of(path), deep, namesOnly);
    }

    private void look(Path s, boolean deep, boolean namesOnly) throws IOException {
        Path t = target(s);
        PosixFileAttributes a = attributes(s);
        if (a == null) {
            forget(s);
            return;
        }
        boolean had = Files.isDirectory(t, LinkOption.NOFOLLOW_LINKS);
        read(s);
        if (!a.isDirectory()) {
            return;
        }
        // The destination's entries that the source no longer has go; the source's are read, a
        // file only when a stat says it is not current (as rsync's quick check does).
        Set<Path> present = new HashSet<>(); // names as paths: their bytes, whatever they decode to
        List<Path> children;
        try (Stream<Path> list = Files.list(s)) {
            children = list.toList();
        } catch (NoSuchFileException | UncheckedIOException e) {
            return; // gone or changing under the walk: a later result says what became of it
        }
        for (Path child : children) {
            present.add(child.getFileName());
        }
        Set<Path> kept = new HashSet<>();
        if (had) {
            try (Stream<Path> list = Files.list(t)) {
                for (Path entry : list.toList()) {
                    Path name = entry.getFileName();
                    if (present.contains(name)) {
                        kept.add(name);
                    } else {
                        removeTree(entry);
                        stats.removed++;
                        changedDirectories.add(t);
                    }
                }
            }
        }
        for (Path child : children) {
            if (namesOnly && kept.contains(child.getFileName())) {
                continue; // kept: if it changed, an entry of its own says so
            }
            PosixFileAttributes c = attributes(child);
            if (c == null) {
                continue;
            }
            if (c.isDirectory()) {
                if (deep || !Files.isDirectory(target(child), LinkOption.NOFOLLOW_LINKS)) {
                    look(child, true, false);
                }
            } else if (!current(child)) {
                read(child);
                copiedByListing.add(child.toString());
            }
        }
    }

    @Override
    public boolean current(String path) throws IOException {
        return current(Path.of(path));
    }

    private boolean current(Path p) throws IOException {
        PosixFileAttributes s = attributes(p);
        PosixFileAttributes t = attributes(target(p));
        if (s == null || t == null) {
            return s == null && t == null;
        }
        if (s.isDirectory() || t.isDirectory()) {
            return s.isDirectory() && t.isDirectory();
        }
        return s.isRegularFile() == t.isRegularFile() && s.size() == t.size()
                && s.lastModifiedTime().equals(t.lastModifiedTime());
    }

    /** Syncs every directory the steps changed, so that the destination survives a power loss as applied. */
    void makeDurable() throws IOException {
        for (Path d : changedDirectories) {
            if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                try (FileChannel c = FileChannel.open(d, StandardOpenOption.READ)) {
                    c.force(true);
                }
            }
        }
        changedDirectories.clear();
        copiedByListing.clear(); // the result is applied: the next one's entries are read as they say
    }

    /** The whole source into the destination (a first copy, or continuity lost). */
    void copyAll() throws IOException {
        Files.createDirectories(destination);
        look(source, true, false);
        changedDirectories.add(destination);
    }

    private static PosixFileAttributes attributes(Path p) throws IOException {
        try {
            return Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Removes {@code p} and everything below it; false if there was nothing. */
    private static boolean removeTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(p);
            return true;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                try {
                    Files.deleteIfExists(dir);
                } catch (DirectoryNotEmptyException again) {
                    removeTree(dir);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return true;
    }

    /** Empties the destination's top directory (forgetting the root itself keeps the directory). */
    private void clear(Path t) throws IOException {
        if (!Files.isDirectory(t)) {
            return;
        }
        try (Stream<Path> list = Files.list(t)) {
            for (Path child : list.toList()) {
                removeTree(child);
                stats.removed++;
            }
        }
        changedDirectories.add(t);
    }
}
