package org.modtrack.source.linux;

import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.RandomAccess;
import java.util.Set;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.FileId;

/**
 * The files a result's scans alone name and that nothing else in the result or the resolver's
 * memory can be ({@link DirectoryScan.Identities}: one link, an inode number no record has, found
 * where its directory was recorded), kept as each directory's sorted names ({@link NameList})
 * instead of a record and a location per file. Each such file gets exactly one entry:
 * {@code created} if it was born at or after the watermark (and the record of its directory was
 * made in this run), else
 * {@code modified}; it never moves, and no other entry can depend on it (it is a file, and no other
 * object is at its path).
 *
 * <p>Why not as records: at a million changed files, the record, identity, location and listing
 * entry of each were 310 MB of the daemon's live heap while the answer was made (jcmd
 * GC.class_histogram during benchmarks/peers/answer --files 1000000), and the planner's items and
 * entries as much again. Here a file is its name in a sorted array, and its entry is made when it is
 * read ({@link #ordered}).
 *
 * <p>Only for results in which no directory moved ({@link ResultResolver}): a file below a moved
 * directory may be where the consumer has another object, and the resolver then turns these back
 * into records ({@link #addTo}).
 */
final class ScanNamedFiles {
    static final ScanNamedFiles NONE = new ScanNamedFiles(List.of());

    /** One scanned directory's files; none is in both lists. */
    record Directory(String path, boolean recovered, NameList born, NameList written) {
        /** The directory's path with one trailing slash: a file's path is this and its name. */
        String prefix() {
            return path.endsWith("/") ? path : path + "/";
        }
    }

    private final List<Directory> directories;
    private final Map<String, Integer> byPrefix;
    private final String[] prefixes;
    /** Per directory, the files another entry of the result stands in for (set by {@link #remove}); null: none. */
    private final BitSet[] bornRemoved;
    private final BitSet[] writtenRemoved;
    private int size;

    /**
     * @param scanned each directory's files; a directory given twice (two records located at one
     *     path) has the names of both, each once
     */
    ScanNamedFiles(List<Directory> scanned) {
        Map<String, Integer> seen = new HashMap<>();
        List<Directory> kept = new ArrayList<>(scanned.size());
        for (Directory d : scanned) {
            if (d.born().size() + d.written().size() == 0) {
                continue;
            }
            Integer at = seen.putIfAbsent(d.prefix(), kept.size());
            if (at == null) {
                kept.add(d);
            } else {
                Directory first = kept.get(at);
                NameList born = NameList.union(first.born(), d.born(), NameList.EMPTY);
                kept.set(at, new Directory(first.path(), first.recovered() || d.recovered(), born,
                        NameList.union(first.written(), d.written(), born)));
            }
        }
        for (Directory d : kept) {
            size += d.born().size() + d.written().size();
        }
        this.directories = kept;
        this.byPrefix = seen;
        this.prefixes = new String[kept.size()];
        for (int i = 0; i < prefixes.length; i++) {
            prefixes[i] = kept.get(i).prefix();
        }
        this.bornRemoved = new BitSet[kept.size()];
        this.writtenRemoved = new BitSet[kept.size()];
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The files named (less those {@link #remove}d). */
    int size() {
        return size;
    }

    /** Whether a file of these is at {@code path}. */
    boolean contains(String path) {
        return find(path) != null;
    }

    /**
     * Takes the file at {@code path} out, if one of these is there: another entry of the result
     * names that path (an object located there when its records were looked up, replaced since).
     */
    boolean remove(String path) {
        int[] at = find(path);
        if (at == null) {
            return false;
        }
        BitSet[] removed = at[1] == 0 ? bornRemoved : writtenRemoved;
        if (removed[at[0]] == null) {
            removed[at[0]] = new BitSet();
        }
        removed[at[0]].set(at[2]);
        size--;
        return true;
    }

    /** Directory, array (0 born, 1 written) and index of the file at {@code path}; null if none. */
    private int[] find(String path) {
        if (size == 0 || path == null) {
            return null;
        }
        int slash = path.lastIndexOf('/');
        Integer d = slash < 0 ? null : byPrefix.get(path.substring(0, slash + 1));
        if (d == null) {
            return null;
        }
        String name = path.substring(slash + 1);
        Directory dir = directories.get(d);
        int i = dir.born().indexOf(name);
        if (i >= 0 && !isSet(bornRemoved[d], i)) {
            return new int[] {d, 0, i};
        }
        i = dir.written().indexOf(name);
        if (i >= 0 && !isSet(writtenRemoved[d], i)) {
            return new int[] {d, 1, i};
        }
        return null;
    }

    private static boolean isSet(BitSet bits, int i) {
        return bits != null && bits.get(i);
    }

    /**
     * Appends these files to {@code files} and {@code now} as the records and locations the scan
     * made of them before they were kept this way (for a result in which a directory moved).
     */
    void addTo(List<ChangedFile> files, List<Namespace.Where> now) {
        for (int d = 0; d < directories.size(); d++) {
            Directory dir = directories.get(d);
            add(dir, dir.born(), bornRemoved[d], EnumSet.of(Change.CREATED, Change.WRITTEN), files, now);
            add(dir, dir.written(), writtenRemoved[d], EnumSet.of(Change.WRITTEN), files, now);
        }
    }

    private static void add(Directory dir, NameList names, BitSet removed, Set<Change> changes, List<ChangedFile> files,
                            List<Namespace.Where> now) {
        String prefix = dir.prefix();
        for (int i = 0; i < names.size(); i++) {
            if (!isSet(removed, i)) {
                String path = prefix + names.name(i);
                files.add(new ChangedFile(FileId.ofPath(path), changes, null, false, false, dir.recovered()));
                now.add(new Namespace.Where(path, false, false, 1, null));
            }
        }
    }

    /** The directories, for a report of a failed plan: the first few and how many files. */
    @Override
    public String toString() {
        List<String> first = new ArrayList<>();
        for (int d = 0; d < Math.min(5, directories.size()); d++) {
            Directory dir = directories.get(d);
            first.add(dir.path() + " (" + dir.born().size() + " born, " + dir.written().size() + " written)");
        }
        return size + " files named by scans in " + directories.size() + " directories " + first;
    }

    /**
     * These files' entries, in the order a consumer applies them once the moves and creations of
     * the rest of the result are done: the new files, shallow ones first, then by path (as the
     * planner orders creations); then the ones the consumer has, by path. A file at or below one
     * of {@code rescans} has no entry (the rescan reads it). A file the consumer has below a
     * directory the rest of the result has it read whole ({@code readWhole}, a created or rescanned
     * directory: what the consumer had below it is forgotten) is read as {@code created}.
     */
    Ordered ordered(List<String> rescans, Set<String> readWhole) {
        Set<String> topRescans = new HashSet<>(rescans);
        Map<String, Set<String>> rescannedFiles = new HashMap<>(); // a rescan of a file's own path (rare), by directory
        for (String r : rescans) {
            int slash = r.lastIndexOf('/');
            if (slash >= 0 && byPrefix.containsKey(r.substring(0, slash + 1))) {
                rescannedFiles.computeIfAbsent(r.substring(0, slash + 1), k -> new HashSet<>()).add(r.substring(slash + 1));
            }
        }
        List<Run> creations = new ArrayList<>();
        List<Run> stays = new ArrayList<>();
        for (int d = 0; d < directories.size(); d++) {
            Directory dir = directories.get(d);
            if (atOrBelowAny(d, topRescans)) {
                continue;
            }
            Set<String> rescanned = rescannedFiles.getOrDefault(prefixes[d], Set.of());
            boolean forgotten = !readWhole.isEmpty() && atOrBelowAny(d, readWhole);
            Run born = new Run(d, 0, !dir.recovered() || forgotten ? PathChange.Kind.CREATED : PathChange.Kind.MODIFIED,
                    dir.born(), bornRemoved[d], rescanned);
            Run written = new Run(d, 1, forgotten ? PathChange.Kind.CREATED : PathChange.Kind.MODIFIED, dir.written(),
                    writtenRemoved[d], rescanned);
            for (Run run : List.of(born, written)) {
                if (run.length() > 0) {
                    (run.kind() == PathChange.Kind.CREATED && !forgotten ? creations : stays).add(run);
                }
            }
        }
        List<Run> runs = new ArrayList<>(creations);
        runs.addAll(stays);
        long[] order = new long[size];
        int n = merge(creations, 0, true, order, 0);
        n = merge(stays, creations.size(), false, order, n);
        return new Ordered(runs, n == order.length ? order : Arrays.copyOf(order, n));
    }

    /**
     * One array of a directory's files, as the entries of one kind, less the removed ones and those
     * a rescan of their own path reads.
     */
    private final class Run {
        final int directory;
        final int array;
        final PathChange.Kind kind;
        final String prefix;
        /** {@link #prefix} as UTF-8, to compare paths with names as their bytes. */
        final byte[] prefixBytes;
        final int depth;
        final NameList names;
        final int[] kept;

        Run(int directory, int array, PathChange.Kind kind, NameList names, BitSet removed, Set<String> rescanned) {
            this.directory = directory;
            this.array = array;
            this.kind = kind;
            this.prefix = prefixes[directory];
            this.prefixBytes = prefix.getBytes(StandardCharsets.UTF_8);
            this.depth = ResultPlanner.depth(prefix);
            this.names = names;
            int[] k = new int[names.size()];
            int n = 0;
            for (int i = 0; i < names.size(); i++) {
                if (!isSet(removed, i) && (rescanned.isEmpty() || !rescanned.contains(names.name(i)))) {
                    k[n++] = i;
                }
            }
            this.kept = n == names.size() ? null : Arrays.copyOf(k, n);
        }

        PathChange.Kind kind() {
            return kind;
        }

        int length() {
            return kept == null ? names.size() : kept.length;
        }

        /** The index in {@link #names} of this run's {@code i}th file. */
        int index(int i) {
            return kept == null ? i : kept[i];
        }

        boolean recovered() {
            return directories.get(directory).recovered();
        }
    }

    /** A run being merged: its next file. */
    private static final class Cursor {
        final Run run;
        final int id;
        int next;

        Cursor(Run run, int id) {
            this.run = run;
            this.id = id;
        }
    }

    /**
     * Merges {@code runs} (each sorted by path, no two at one path) into {@code order} from
     * {@code at}, by (depth, path) if {@code byDepth}, else by path; each element is the run's
     * number ({@code firstId} and up, shifted up 32 bits) and the file's position in the run. Runs of one directory
     * do not interleave with others at the same depth, and nested directories' runs interleave only
     * where one is a prefix of the other; so the merge takes whole stretches of a run while its
     * next path sorts before every other run's next one.
     */
    private static int merge(List<Run> runs, int firstId, boolean byDepth, long[] order, int at) {
        Comparator<Cursor> cmp = (a, b) -> {
            if (byDepth && a.run.depth != b.run.depth) {
                return Integer.compare(a.run.depth, b.run.depth);
            }
            return comparePaths(a.run, a.run.index(a.next), b.run, b.run.index(b.next));
        };
        PriorityQueue<Cursor> queue = new PriorityQueue<>(Math.max(1, runs.size()), cmp);
        for (int i = 0; i < runs.size(); i++) {
            if (runs.get(i).length() > 0) {
                queue.add(new Cursor(runs.get(i), firstId + i));
            }
        }
        int n = at;
        while (!queue.isEmpty()) {
            Cursor c = queue.poll();
            Cursor rival = queue.peek();
            // The rest of the run comes before the rival's next file, and so before every other
            // run's, if neither directory is below the other (the paths differ in their
            // directories) or the rival is deeper: the usual case, with no comparison per file.
            boolean whole = rival == null || (byDepth && c.run.depth < rival.run.depth)
                    || (!c.run.prefix.startsWith(rival.run.prefix) && !rival.run.prefix.startsWith(c.run.prefix));
            do {
                order[n++] = ((long) c.id << 32) | c.next;
                c.next++;
            } while (c.next < c.run.length() && (whole || cmp.compare(c, rival) < 0));
            if (c.next < c.run.length()) {
                assert cmp.compare(c, rival) != 0 : "two files at " + c.run.prefix + c.run.names.name(c.run.index(c.next));
                queue.add(c);
            }
        }
        return n;
    }

    /**
     * The path of run {@code a}'s name {@code i} compared with that of run {@code b}'s name {@code j}
     * as {@link String#compareTo} compares them, without making either: their UTF-8 bytes
     * ({@link NameList#compare}).
     */
    private static int comparePaths(Run a, int i, Run b, int j) {
        NameList na = a.names;
        NameList nb = b.names;
        if (a.prefix.equals(b.prefix)) {
            return NameList.compare(na.bytes(), na.start(i), na.end(i), nb.bytes(), nb.start(j), nb.end(j));
        }
        byte[] pa = a.prefixBytes;
        byte[] pb = b.prefixBytes;
        int la = pa.length + na.end(i) - na.start(i);
        int lb = pb.length + nb.end(j) - nb.start(j);
        for (int k = 0; k < Math.min(la, lb); k++) {
            byte x = k < pa.length ? pa[k] : na.bytes()[na.start(i) + k - pa.length];
            byte y = k < pb.length ? pb[k] : nb.bytes()[nb.start(j) + k - pb.length];
            if (x != y) {
                return NameList.rank(x) - NameList.rank(y);
            }
        }
        return la - lb;
    }

    /** Whether directory {@code d} or one above it, up to the root "/", is one of {@code tops}. */
    private boolean atOrBelowAny(int d, Set<String> tops) {
        String prefix = prefixes[d];
        return tops.contains("/") || ResultPlanner.atOrBelowAny(prefix.length() > 1 ? prefix.substring(0, prefix.length() - 1) : "/", tops);
    }

    /**
     * The entries of {@link #ordered}, each made when it is read: a million of them are never all
     * objects at once.
     */
    final class Ordered extends AbstractList<PathChange> implements RandomAccess {
        private final List<Run> runs;
        private final long[] order;
        /** Each directory's run of each array (born, written), or -1. */
        private final int[] runOf;

        private Ordered(List<Run> runs, long[] order) {
            this.runs = runs;
            this.order = order;
            this.runOf = new int[directories.size() * 2];
            Arrays.fill(runOf, -1);
            for (int i = 0; i < runs.size(); i++) {
                runOf[runs.get(i).directory * 2 + runs.get(i).array] = i;
            }
        }

        @Override
        public PathChange get(int index) {
            return new PathChange(prefix(index) + name(index), kind(index), null, false, false, recovered(index), 1);
        }

        /** Entry {@code index}'s directory, as a path ending in a slash: its path is that and its {@link #name}. */
        String prefix(int index) {
            return runOf(index).prefix;
        }

        /** Entry {@code index}'s name in its directory. */
        String name(int index) {
            Run run = runOf(index);
            return run.names.name(run.index((int) order[index]));
        }

        /** The names entry {@code index}'s name is one of ({@link #nameIndex}): to take its bytes as they are. */
        NameList names(int index) {
            return runOf(index).names;
        }

        /** Where entry {@code index}'s name is in its {@link #names}. */
        int nameIndex(int index) {
            return runOf(index).index((int) order[index]);
        }

        PathChange.Kind kind(int index) {
            return runOf(index).kind;
        }

        boolean recovered(int index) {
            return runOf(index).recovered();
        }

        private Run runOf(int index) {
            return runs.get((int) (order[index] >>> 32));
        }

        @Override
        public int size() {
            return order.length;
        }

        /** Whether one of these entries names {@code path}. */
        boolean names(String path) {
            return runAt(path) != null;
        }

        /** Whether one of these entries has the consumer read {@code path} as new: what it had below is forgotten. */
        boolean readAsNew(String path) {
            Run run = runAt(path);
            return run != null && run.kind == PathChange.Kind.CREATED;
        }

        /** The run whose entry names {@code path}; null if none does. */
        private Run runAt(String path) {
            int[] at = find(path);
            int r = at == null ? -1 : runOf[at[0] * 2 + at[1]];
            if (r < 0) {
                return null;
            }
            Run run = runs.get(r);
            return run.kept == null || Arrays.binarySearch(run.kept, at[2]) >= 0 ? run : null;
        }
    }
}
