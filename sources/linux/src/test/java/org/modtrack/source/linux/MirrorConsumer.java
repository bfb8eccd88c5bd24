package org.modtrack.source.linux;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A consumer on a real file system that keeps a mirror of it (each path's kind, inode and content
 * digest) and applies each result exactly as docs/protocol.md (*Applying a result*) tells a client
 * writer to: entry after entry, in the order given, reading each path when it gets to it. It counts
 * what it reads, and how much of that it already had as it was.
 */
final class MirrorConsumer {
    /** What the mirror knows of one path. */
    record Copy(boolean directory, Object inode, long size, long mtimeNanos, long digest) {
        boolean sameStat(Copy other) {
            return other != null && directory == other.directory && Objects.equals(inode, other.inode)
                    && size == other.size && mtimeNanos == other.mtimeNanos;
        }
    }

    private final Path root;
    private final TreeMap<String, Copy> view = new TreeMap<>();
    private long reads;
    private long unchangedReads;
    private long unchangedFileReads;
    private long unchangedAfterCarry; // of those, reads of a path the result before named as carried
    private Set<String> lastCarried = Set.of();
    private Set<String> carriedBefore = Set.of();
    // Of the unchanged reads, those of a version written after the checkpoint of the result that
    // read it: the consumer reads files as they are when it gets to them, so a write just after a
    // checkpoint is read early, and the next result (rightly: it changed since that checkpoint)
    // makes it read the same version again.
    private long unchangedReadEarly;
    private final Map<String, Long> unchangedByEntry = new TreeMap<>(); // "kind file|directory": unchanged reads
    private String applying = "";
    private long unchangedWrittenDuringQuery; // written while the result that read it was made (checkpoint or after)
    /**
     * Of the other unchanged reads, those of a version written within the scan's watermark margin
     * before the query of the result that read it ({@link Reconciliation#MARGIN_NANOS}, and the
     * coarse clock's lag the checkpoint's time has: {@link #COARSE_CLOCK_LAG_NANOS}): the next
     * result's scan names such a file again by design.
     */
    private long unchangedWrittenInMargin;
    /** The coarse clock's lag behind the fine one, as far as this machine shows it (up to 6.6 ms against a 4 ms tick). */
    private static final long COARSE_CLOCK_LAG_NANOS = 10_000_000L;
    private final Map<String, long[]> readIn = new HashMap<>(); // path: {began, returned} of the query whose result read it
    private long beganWallNanos = Long.MAX_VALUE;
    private boolean listsByName; // the result being applied: its listings ask for names only
    private long returnedWallNanos = Long.MAX_VALUE;
    private long repeatedPaths;

    private MirrorConsumer(Path root) {
        this.root = root;
    }

    /** A first full copy of {@code root}, made before the first query. */
    static MirrorConsumer copyOf(Path root) throws IOException {
        MirrorConsumer m = new MirrorConsumer(root);
        m.readTree(root.toString());
        return m;
    }

    /** A copy of this consumer's mirror (what it goes back to when it loses what it applied). */
    MirrorConsumer copy() {
        MirrorConsumer c = new MirrorConsumer(root);
        c.view.putAll(view);
        return c;
    }

    /**
     * This mirror as a copy of the same file system mounted at {@code newRoot} (a power-cut test
     * mounts the crashed image elsewhere). Its counters start from zero.
     */
    MirrorConsumer rebased(Path newRoot) {
        MirrorConsumer c = new MirrorConsumer(newRoot);
        String from = root.toString();
        view.forEach((p, copy) -> c.view.put(newRoot + p.substring(from.length()), copy));
        return c;
    }

    /** A result whose continuity was lost: besides its entries, the consumer reads the whole root again. */
    void rescanRoot() throws IOException {
        forget(root.toString());
        readTree(root.toString());
    }

    long reads() {
        return reads;
    }

    /**
     * Of the unchanged reads, those of a path the result before had named as {@code carried}: a write
     * in progress at a checkpoint is reported again by the next result, changed or not.
     */
    long unchangedAfterCarry() {
        return unchangedAfterCarry;
    }

    /** Of the unchanged reads, those of a version the result before had already read (written after its checkpoint). */
    long unchangedReadEarly() {
        return unchangedReadEarly;
    }

    /**
     * Of the unchanged reads, those of a version written while the query of the result that read it
     * ran (at its checkpoint, or after it while its result was made), so possibly after its checkpoint.
     */
    long unchangedWrittenDuringQuery() {
        return unchangedWrittenDuringQuery;
    }

    /** The unchanged reads by the kind of entry that made them. */
    Map<String, Long> unchangedByEntry() {
        return unchangedByEntry;
    }

    long unchangedReads() {
        return unchangedReads;
    }

    /** Of the unchanged reads, those of files (and symbolic links), not directories. */
    long unchangedFileReads() {
        return unchangedFileReads;
    }

    /**
     * The unchanged reads no result could have spared: those of a path the result before named as
     * carried, and those of a version written once the query of the result that read it had begun
     * (its checkpoint follows within milliseconds). The consumer reads a file as it is when it
     * gets to it, so it may read such a version early, and the next result rightly names the file
     * again: it changed since that checkpoint.
     */
    long unchangedReadsInevitable() {
        return unchangedAfterCarry + unchangedReadEarly + unchangedWrittenDuringQuery;
    }

    /** Of the unchanged reads not inevitable, those of a version written within the scan's watermark margin before its query. */
    long unchangedWrittenInMargin() {
        return unchangedWrittenInMargin;
    }

    /** Entries that named a path an earlier entry of the same result had named. */
    long repeatedPaths() {
        return repeatedPaths;
    }

    /** Applies a result's entries one after another. */
    void apply(List<PathChange> changes, boolean listsByName) throws IOException {
        apply(changes, listsByName, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /**
     * Applies a result's entries one after another; {@code listsByName}: its listings ask for names
     * only (the result's {@code listsByName}); {@code beganWallNanos} and {@code returnedWallNanos}:
     * the wall clock (ns since the epoch) when its query began (before its checkpoint) and returned.
     */
    void apply(List<PathChange> changes, boolean listsByName, long beganWallNanos, long returnedWallNanos)
            throws IOException {
        this.listsByName = listsByName;
        this.beganWallNanos = beganWallNanos;
        this.returnedWallNanos = returnedWallNanos;
        Set<String> seen = new HashSet<>();
        carriedBefore = lastCarried;
        Set<String> carried = new HashSet<>();
        Set<String> linked = new HashSet<>();
        for (PathChange c : changes) {
            if (c.carried()) {
                carried.add(c.path());
            }
            applying = c.kind() + (c.directory() ? " directory" : " file") + (c.carried() ? " carried" : "")
                    + (c.recovered() ? " recovered" : "");
            if (!seen.add(c.path())) {
                repeatedPaths++;
            }
            switch (c.kind()) {
                case DELETED -> forget(c.path());
                case RENAMED -> {
                    if (view.containsKey(c.from())) {
                        move(c.from(), c.path());
                        Copy moved = view.get(c.path());
                        if (c.changed() || !moved.sameStat(stat(c.path()))) {
                            read(c.path());
                        }
                    } else if (c.directory()) {
                        forget(c.path());
                        readTree(c.path());
                    } else {
                        forget(c.path());
                        read(c.path());
                    }
                }
                case CREATED -> {
                    forget(c.path());
                    read(c.path());
                }
                case MODIFIED -> read(c.path());
                case RESCAN -> {
                    forget(c.path());
                    readTree(c.path());
                }
                case LIST -> list(c.path());
            }
            boolean unchanged = c.kind() == PathChange.Kind.DELETED || (c.kind() == PathChange.Kind.RENAMED && !c.changed());
            if (c.links() > 1 && !c.directory() && !unchanged) {
                linked.add(c.path());
            }
        }
        applying = "other name of a linked file";
        readOtherLinks(linked);
        lastCarried = carried;
    }

    /**
     * A file is one entry, under one of its names: after the entries, the other names the mirror
     * holds of the files named with more than one link are read too, found by inode in the mirror
     * itself (docs/protocol.md, <em>Applying a result</em>).
     */
    private void readOtherLinks(Set<String> linked) throws IOException {
        Set<Object> inodes = new HashSet<>();
        for (String p : linked) {
            Copy c = view.get(p);
            if (c != null && c.inode() != null) {
                inodes.add(c.inode());
            }
        }
        if (inodes.isEmpty()) {
            return;
        }
        List<String> others = new ArrayList<>(); // keys first: reading may remove entries, and TreeMap reuses removed ones
        for (Map.Entry<String, Copy> e : view.entrySet()) {
            if (!linked.contains(e.getKey()) && !e.getValue().directory() && inodes.contains(e.getValue().inode())) {
                others.add(e.getKey());
            }
        }
        for (String p : others) {
            read(p);
        }
    }

    /** The first difference from a fresh copy of the file system, or null. */
    String differenceFromFileSystem() throws IOException {
        List<String> d = differencesFromFileSystem(1);
        return d.isEmpty() ? null : d.get(0);
    }

    /** Up to {@code max} differences from a fresh copy of the file system, in path order. */
    List<String> differencesFromFileSystem(int max) throws IOException {
        MirrorConsumer fresh = copyOf(root);
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Copy> e : view.entrySet()) {
            Copy there = fresh.view.get(e.getKey());
            if (there == null || there.directory != e.getValue().directory
                    || (!there.directory && there.digest != e.getValue().digest)) {
                out.add(e.getKey() + ": mirror " + e.getValue() + ", file system " + there);
            }
        }
        for (String p : fresh.view.keySet()) {
            if (!view.containsKey(p)) {
                out.add(p + ": missing in the mirror, " + fresh.view.get(p) + " on the file system");
            }
        }
        out.sort(null);
        return out.subList(0, Math.min(max, out.size()));
    }

    private NavigableMap<String, Copy> below(String path) {
        String prefix = path + "/";
        return view.subMap(prefix, true, prefix + Character.MAX_VALUE, false);
    }

    private void forget(String path) {
        view.remove(path);
        below(path).clear();
    }

    private void move(String from, String to) {
        TreeMap<String, Copy> moving = new TreeMap<>(below(from));
        Copy self = view.get(from);
        forget(from);
        forget(to);
        view.put(to, self);
        moving.forEach((p, c) -> view.put(to + p.substring(from.length()), c));
    }

    /** Reads one path again; gone by now, it is forgotten (a later result says where it went). */
    private void read(String path) throws IOException {
        Copy before = view.get(path);
        Copy now = stat(path);
        if (now == null) {
            forget(path);
            return;
        }
        if (!now.directory) {
            now = withDigest(path, now);
            if (now == null) {
                forget(path);
                return;
            }
        }
        reads++;
        if (now.equals(before)) {
            unchangedReads++;
            if (!now.directory()) {
                unchangedFileReads++;
            }
            unchangedByEntry.merge(applying + (now.directory() ? " (a directory)" : ""), 1L, Long::sum);
            if (carriedBefore.contains(path)) {
                unchangedAfterCarry++;
            } else {
                long[] query = readIn.getOrDefault(path, new long[] {Long.MAX_VALUE, Long.MAX_VALUE});
                if (before.mtimeNanos() > query[1]) {
                    unchangedReadEarly++;
                } else if (before.mtimeNanos() > query[0]) {
                    unchangedWrittenDuringQuery++;
                } else if (before.mtimeNanos() > query[0] - Reconciliation.MARGIN_NANOS - COARSE_CLOCK_LAG_NANOS) {
                    unchangedWrittenInMargin++;
                }
            }
        }
        readIn.put(path, new long[] {beganWallNanos, returnedWallNanos});
        view.put(path, now);
    }

    /**
     * Reads a path and everything below it, as the file system is while it walks: an entry gone by
     * the time it gets there is skipped (a later result names where it went).
     */
    private void readTree(String path) throws IOException {
        read(path);
        Copy self = view.get(path);
        if (self == null || !self.directory) {
            return;
        }
        List<Path> children;
        try (Stream<Path> list = Files.list(Path.of(path))) {
            children = list.toList();
        } catch (NoSuchFileException | UncheckedIOException e) {
            return;
        }
        for (Path child : children) {
            readTree(child.toString());
        }
    }

    /** Results that name directories: the directory's own attributes, its entries, its files' contents. */
    private void list(String path) throws IOException {
        read(path);
        Copy self = view.get(path);
        if (self == null || !self.directory) {
            return;
        }
        Set<String> present = new HashSet<>();
        try (Stream<Path> children = Files.list(Path.of(path))) {
            for (Path child : (Iterable<Path>) children::iterator) {
                present.add(child.toString());
            }
        } catch (NoSuchFileException | UncheckedIOException e) {
            forget(path);
            return;
        }
        for (String known : List.copyOf(view.subMap(path + "/", true, path + "/" + Character.MAX_VALUE, false).keySet())) {
            if (known.indexOf('/', path.length() + 1) < 0 && !present.contains(known)) {
                forget(known);
            }
        }
        for (String child : present) {
            Copy had = view.get(child);
            if (listsByName && had != null) {
                continue; // kept: if it changed, an entry of its own says so
            }
            Copy now = stat(child);
            if (now != null && now.directory && (had == null || !had.directory)) {
                forget(child);
                readTree(child); // a subdirectory new to the consumer is read whole
            } else if (now != null && !now.directory) {
                read(child);
            }
        }
    }

    private static Copy stat(String path) throws IOException {
        try {
            // The inode number, not the file key (which holds the device too): a copy of the same file
            // system mounted elsewhere keeps its inodes (MirrorConsumer.rebased).
            Map<String, Object> a = Files.readAttributes(Path.of(path), "unix:ino,isDirectory,size,lastModifiedTime",
                    LinkOption.NOFOLLOW_LINKS);
            boolean directory = (Boolean) a.get("isDirectory");
            Instant mtime = ((FileTime) a.get("lastModifiedTime")).toInstant();
            return new Copy(directory, a.get("ino"), directory ? 0 : (Long) a.get("size"),
                    mtime.getEpochSecond() * 1_000_000_000L + mtime.getNano(), 0);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static Copy withDigest(String path, Copy stat) throws IOException {
        CRC32C crc = new CRC32C();
        long length = 0;
        if (Files.isSymbolicLink(Path.of(path))) {
            // A symbolic link's copy is its target, never what it points to (which may not exist).
            try {
                byte[] target = Files.readSymbolicLink(Path.of(path)).toString().getBytes(StandardCharsets.UTF_8);
                crc.update(target);
                return new Copy(false, stat.inode(), stat.size(), stat.mtimeNanos(), crc.getValue() ^ ((long) target.length << 32) ^ 1);
            } catch (NoSuchFileException | NotLinkException e) {
                return null; // gone or replaced by now: a later result names it
            }
        }
        try (InputStream in = Files.newInputStream(Path.of(path))) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                crc.update(buffer, 0, n);
                length += n;
            }
        } catch (NoSuchFileException e) {
            return null;
        }
        return new Copy(false, stat.inode(), stat.size(), stat.mtimeNanos(), crc.getValue() ^ (length << 32));
    }
}
