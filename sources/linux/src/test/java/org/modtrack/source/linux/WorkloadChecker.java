package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks the results of a workload against the writers' own logs (the ground truth).
 *
 * <p>A change is a logged operation that changed a file's content or a name; it ended at {@code e}.
 * The result that must name it is the first blessed one whose query started after {@code e} (a query
 * that started earlier may or may not have seen it, so it may also be named by any blessed result
 * that returned after {@code e} up to that one). Unblessed results do not count: what they named
 * must come again. It is named if an entry has one of the paths the file had from {@code e} to that
 * result (or a renamed file's old path) as its path or its {@code from}, or a renamed, deleted or
 * rescan directory entry is that path or one of its ancestors. An operation outside every interval
 * in which a tracker ran (a gap) is excused by a result that says continuity was lost.
 *
 * <p>An entry is a false positive if no change to a file that ever had its path (or, for a
 * directory entry, a path below it) overlaps the time from the start of the previous blessed query
 * to this result's return.
 */
final class WorkloadChecker {
    /** Kinds that change nothing. */
    static final Set<String> READS = Set.of("read");

    /** One logged operation; {@code b} is the new path of a rename, link or directory move, else null. */
    record Op(long start, long end, String kind, String a, String b) {
        static Op parse(String line) {
            String[] f = line.split(" ");
            return new Op(Long.parseLong(f[0]), Long.parseLong(f[1]), f[2], f[3], f.length > 4 ? f[4] : null);
        }
    }

    /** One result as the consumer saw it; {@code start}/{@code returned} are System.nanoTime() around query(). */
    record Observation(long start, long returned, boolean blessed, boolean intact, boolean recovered,
                       List<PathChange> changes) {}

    /** A time span in which a tracker ran (from its mark to its end). */
    record Span(long from, long to) {
        boolean holds(Op op) {
            return op.start() >= from && op.end() <= to;
        }
    }

    /** What the check found. */
    record Report(int changes, int reads, int missed, int excusedByLostContinuity, int entries, int falsePositives,
                  int readFilesReported, List<String> firstMisses, List<String> firstFalsePositives) {
        double falsePositiveRate() {
            return entries == 0 ? 0 : (double) falsePositives / entries;
        }

        String summary() {
            return String.format("%d changes, %d reads, %d missed, %d excused by lost continuity, %d entries, %d false"
                    + " positives (%.2f%%), %d entries for files that were only read",
                    changes, reads, missed, excusedByLostContinuity, entries, falsePositives,
                    100 * falsePositiveRate(), readFilesReported);
        }
    }

    private static final class Name {
        final String path;
        final long from;
        long to = Long.MAX_VALUE;

        Name(String path, long from) {
            this.path = path;
            this.from = from;
        }
    }

    private static final class Node {
        final List<Name> names = new ArrayList<>();
    }

    private record Change(Op op, Node node, List<String> oldPaths) {}

    private final List<Change> changes = new ArrayList<>();
    private final Set<String> readPaths = new HashSet<>();
    private int reads;

    private WorkloadChecker(List<Op> ops) {
        List<Op> sorted = new ArrayList<>(ops);
        sorted.sort(Comparator.comparingLong(Op::end)); // stable: one writer's equal times keep their order
        Map<String, Node> byPath = new HashMap<>();
        for (Op op : sorted) {
            apply(op, byPath);
        }
    }

    /** Reads every {@code *.log} in {@code logs}. */
    static List<Op> readLogs(List<Path> logs) throws IOException {
        List<Op> ops = new ArrayList<>();
        for (Path log : logs) {
            for (String line : Files.readAllLines(log)) {
                if (!line.isBlank()) {
                    ops.add(Op.parse(line));
                }
            }
        }
        return ops;
    }

    static Report check(List<Op> ops, List<Observation> results, List<Span> tracked) {
        return new WorkloadChecker(ops).check(results, tracked);
    }

    private void apply(Op op, Map<String, Node> byPath) {
        long e = op.end();
        switch (op.kind()) {
            case "read" -> {
                reads++;
                readPaths.add(op.a());
            }
            case "unchanged" -> {
                // a truncate to the size the file had: nothing changed, so nothing need be named
            }
            case "create", "mkdir" -> {
                Node n = new Node();
                name(n, op.a(), e, byPath);
                changes.add(new Change(op, n, List.of()));
            }
            case "link" -> {
                Node n = existing(op.a(), op, byPath);
                name(n, op.b(), e, byPath);
                changes.add(new Change(op, n, List.of()));
            }
            case "rename" -> {
                Node n = existing(op.a(), op, byPath);
                Node victim = byPath.get(op.b());
                if (victim != null) {
                    unname(victim, op.b(), e, byPath);
                }
                unname(n, op.a(), e, byPath);
                name(n, op.b(), e, byPath);
                changes.add(new Change(op, n, List.of(op.a())));
            }
            case "dirmove" -> {
                Node dir = existing(op.a(), op, byPath);
                List<String> moved = byPath.keySet().stream().filter(p -> p.startsWith(op.a() + "/")).toList();
                for (String p : moved) {
                    Node n = byPath.get(p);
                    unname(n, p, e, byPath);
                    name(n, op.b() + p.substring(op.a().length()), e, byPath);
                }
                unname(dir, op.a(), e, byPath);
                name(dir, op.b(), e, byPath);
                changes.add(new Change(op, dir, List.of(op.a())));
            }
            case "delete" -> {
                Node n = existing(op.a(), op, byPath);
                unname(n, op.a(), e, byPath);
                changes.add(new Change(op, n, List.of()));
            }
            default -> changes.add(new Change(op, existing(op.a(), op, byPath), List.of()));
        }
    }

    private static Node existing(String path, Op op, Map<String, Node> byPath) {
        Node n = byPath.get(path);
        if (n == null) {
            throw new IllegalStateException("the log names a path no earlier operation made: " + op);
        }
        return n;
    }

    private static void name(Node n, String path, long at, Map<String, Node> byPath) {
        n.names.add(new Name(path, at));
        byPath.put(path, n);
    }

    private static void unname(Node n, String path, long at, Map<String, Node> byPath) {
        for (Name name : n.names) {
            if (name.path.equals(path) && name.to == Long.MAX_VALUE) {
                name.to = at;
            }
        }
        byPath.remove(path);
    }

    private Report check(List<Observation> results, List<Span> tracked) {
        List<Set<String>> exact = new ArrayList<>();
        List<Set<String>> prefixes = new ArrayList<>();
        List<Set<String>> listed = new ArrayList<>();
        for (Observation r : results) {
            Set<String> x = new HashSet<>();
            Set<String> p = new HashSet<>();
            Set<String> l = new HashSet<>();
            listed.add(l);
            for (PathChange c : r.changes()) {
                if (c.kind() == PathChange.Kind.LIST) {
                    l.add(c.path()); // covers itself and its direct children only
                    continue;
                }
                x.add(c.path());
                if (c.from() != null) {
                    x.add(c.from());
                }
                if (c.directory() && c.kind() != PathChange.Kind.MODIFIED && c.kind() != PathChange.Kind.CREATED) {
                    p.add(c.path());
                    if (c.from() != null) {
                        p.add(c.from());
                    }
                }
            }
            exact.add(x);
            prefixes.add(p);
        }
        int missed = 0;
        int excused = 0;
        List<String> misses = new ArrayList<>();
        for (Change c : changes) {
            long e = c.op().end();
            int first = 0;
            while (first < results.size() && results.get(first).returned() <= e) {
                first++;
            }
            int last = first;
            while (last < results.size() && !(results.get(last).blessed() && results.get(last).start() > e)) {
                last++;
            }
            boolean named = false;
            boolean lost = false;
            if (last < results.size()) {
                // Any name it had up to the result: the result names an object where the consumer
                // has it (docs/protocol.md), which can be a name from before the change.
                Set<String> paths = pathsBetween(c, Long.MIN_VALUE, results.get(last).returned());
                for (int j = first; j <= last && !named; j++) {
                    Observation r = results.get(j);
                    named = r.blessed() && covers(paths, exact.get(j), prefixes.get(j), listed.get(j));
                    lost |= !r.intact();
                }
            }
            boolean gap = tracked.stream().noneMatch(s -> s.holds(c.op()));
            if (!named && last < results.size() && bornAndGoneBetween(c.node(), results, first, last)) {
                continue; // not in the consumer's view, not in the file system at the result: nothing to name
            }
            if (!named && gap && lost) {
                excused++;
            } else if (!named) {
                missed++;
                if (misses.size() < 10) {
                    misses.add(c.op() + (last < results.size() ? " not named by result " + last + " (or "
                            + first + ".." + last + "): paths " + pathsBetween(c, e, results.get(last).returned())
                            + "; entries there for any name it ever had: " + alike(results.get(last), c)
                            + "; other entries in its directories: " + nearby(results.get(last), pathsBetween(c, e, results.get(last).returned()))
                            + "; operations on its paths by anything: " + changes.stream()
                                    .filter(o -> pathsBetween(c, e, results.get(results.size() - 1).returned()).contains(o.op().a())
                                            || pathsBetween(c, e, results.get(results.size() - 1).returned()).contains(o.op().b()))
                                    .map(o -> o.op().end() + " " + o.op().kind() + " " + o.op().a()
                                            + (o.op().b() == null ? "" : " " + o.op().b())).toList()
                            + "; its operations: " + changes.stream().filter(o -> o.node() == c.node())
                                    .map(o -> o.op().end() + " " + o.op().kind() + " " + o.op().a()
                                            + (o.op().b() == null ? "" : " " + o.op().b())).toList()
                            : " (no blessed result started after it)") + (gap ? " [in a gap]" : ""));
                }
            }
        }
        return falsePositives(results, missed, excused, misses);
    }

    /**
     * Whether the file is in neither the consumer's view nor the file system at the result: created
     * after the last blessed result before {@code first} started and not named by it (so the
     * consumer does not have it), and gone before result {@code last} returned (a result names the
     * file system as it is when it is made; one made and gone again before then is not mentioned at
     * all: docs/protocol.md).
     */
    private static boolean bornAndGoneBetween(Node n, List<Observation> results, int first, int last) {
        long born = Long.MAX_VALUE;
        long gone = Long.MIN_VALUE;
        Set<String> names = new HashSet<>();
        for (Name name : n.names) {
            born = Math.min(born, name.from);
            gone = Math.max(gone, name.to);
            names.add(name.path);
        }
        for (int j = first - 1; j >= 0; j--) {
            Observation view = results.get(j);
            if (view.blessed()) {
                if (born <= view.start() || view.changes().stream().anyMatch(c -> names.contains(c.path()))) {
                    return false;
                }
                break;
            }
        }
        return gone < results.get(last).returned();
    }

    private static List<PathChange> alike(Observation r, Change change) {
        Set<String> names = new HashSet<>(change.oldPaths());
        change.node().names.forEach(n -> names.add(n.path));
        return r.changes().stream().filter(c -> names.contains(c.path()) || names.contains(c.from())).toList();
    }

    private static List<String> nearby(Observation r, Set<String> paths) {
        Set<String> dirs = new HashSet<>();
        paths.forEach(p -> dirs.add(Path.of(p).getParent().toString()));
        return r.changes().stream().filter(c -> dirs.contains(Path.of(c.path()).getParent().toString()))
                .map(c -> c.kind() + " " + Path.of(c.path()).getFileName()
                        + (c.from() == null ? "" : " from " + c.from()) + (c.directory() ? "/" : ""))
                .toList();
    }

    private static Set<String> pathsBetween(Change c, long from, long to) {
        Set<String> paths = new HashSet<>(c.oldPaths());
        for (Name n : c.node().names) {
            if (n.from <= to && n.to >= from) {
                paths.add(n.path);
            }
        }
        return paths;
    }

    private static boolean covers(Set<String> paths, Set<String> exact, Set<String> prefixes, Set<String> listed) {
        for (String p : paths) {
            if (exact.contains(p) || listed.contains(p) || parent(p) != null && listed.contains(parent(p))) {
                return true;
            }
            for (String a = p; a != null; a = parent(a)) {
                if (prefixes.contains(a)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? null : path.substring(0, slash);
    }

    private Report falsePositives(List<Observation> results, int missed, int excused, List<String> misses) {
        NavigableMap<String, List<Op>> byPath = new TreeMap<>();
        for (Change c : changes) {
            Set<String> paths = new HashSet<>(c.oldPaths());
            c.node().names.forEach(n -> paths.add(n.path));
            for (String p : paths) {
                byPath.computeIfAbsent(p, k -> new ArrayList<>()).add(c.op());
            }
        }
        int entries = 0;
        int fp = 0;
        int readReported = 0;
        List<String> firstFp = new ArrayList<>();
        long windowStart = Long.MIN_VALUE;
        for (int j = 0; j < results.size(); j++) {
            Observation r = results.get(j);
            for (PathChange c : r.changes()) {
                entries++;
                if (readPaths.contains(c.path())) {
                    readReported++;
                }
                List<Op> candidates = new ArrayList<>(byPath.getOrDefault(c.path(), List.of()));
                if (c.from() != null) {
                    candidates.addAll(byPath.getOrDefault(c.from(), List.of()));
                }
                if (c.directory()) {
                    byPath.subMap(c.path() + "/", c.path() + "0").values().forEach(candidates::addAll);
                }
                long ws = windowStart;
                if (candidates.stream().noneMatch(op -> op.end() >= ws && op.start() <= r.returned())) {
                    fp++;
                    if (firstFp.size() < 10) {
                        firstFp.add("result " + j + ": " + c);
                    }
                }
            }
            if (r.blessed()) {
                windowStart = r.start();
            }
        }
        return new Report(changes.size(), reads, missed, excused, entries, fp, readReported, misses, firstFp);
    }
}
