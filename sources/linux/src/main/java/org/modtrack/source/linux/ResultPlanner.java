package org.modtrack.source.linux;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Orders a result so that a consumer may apply it entry after entry (docs/protocol.md, *Applying a
 * result*): given, for each changed object, where the consumer has it and where it is now, it
 * chooses one entry per path and an order in which applying them one at a time turns the
 * consumer's view into the file system's state.
 *
 * <p>It plans by doing: it keeps the consumer's view as a tree of the objects it knows about
 * ({@link View}) and applies each entry to it as it emits it, so an entry's {@code from} is always
 * where the consumer has the object at that point (after the directory moves before it), and the
 * view it ends with is checked against where every object is now. Moves that depend on each other
 * (a chain a→b, b→c; a name taken by another object that has not moved away yet; a directory that
 * must exist before something moves into it) are applied once nothing blocks them; a cycle (a swap)
 * is broken by letting one move replace what blocks it, after which the object it displaced is read
 * again where it is now ({@code created}, or {@code rescan} for a directory).
 */
final class ResultPlanner {
    /** The most rounds over the pending moves before the plan gives up on precision (see {@link #plan}). */
    private static final int MAX_ROUNDS_PER_ITEM = 4;

    private ResultPlanner() {}

    /**
     * One changed object.
     *
     * @param view where the consumer has it (null: it does not, because the object is new since the
     *     consumer's view, or it is not known where)
     * @param now where it is now (null: it is gone, or no longer below the watched root)
     * @param directory whether it is a directory (its moves and removals carry its subtree)
     * @param changed whether its contents or attributes changed (a file, or a directory's own
     *     attributes), so that the consumer reads it again even if it only moved
     * @param created whether it is new since the consumer's view: a new directory's contents come as
     *     entries of their own. A directory with no {@code view} that is not {@code created} (moved in
     *     from outside, or its position in the view is unknown) is a {@code rescan}.
     * @param listing a directory to list again (results that name directories): no move, a
     *     {@code list} entry where it is now
     * @param carried a write to it was in flight at the checkpoint
     * @param recovered it was recorded before an unclean stop
     * @param links its hard-link count now
     */
    record Item(String view, String now, boolean directory, boolean changed, boolean created, boolean listing,
                boolean carried, boolean recovered, int links) {}

    /**
     * A path, in the file system's namespace now, where the file system has nothing but the
     * consumer may still have something: a gone object, or a name an object had in between. Removing
     * it once every move is done is always safe: anything the consumer must keep is, by then, where
     * the file system has it.
     *
     * @param path the path
     * @param directory whether what was there was a directory
     * @param carried whether it was recorded as being written at the checkpoint
     * @param recovered whether it was recorded before an unclean stop
     */
    record Removal(String path, boolean directory, boolean carried, boolean recovered) {}

    /** {@link #plan(List, List, List)} with nothing to remove. */
    static List<PathChange> plan(List<Item> items, List<String> rescans) {
        return plan(items, List.of(), rescans);
    }

    /**
     * The entries for {@code items}, in the order to apply them; then a {@code deleted} entry for
     * each of {@code removals} (paths where the file system has nothing now, to be removed once every
     * move is done: what a gone object may have left in the consumer's view); then a {@code rescan}
     * for each of {@code rescans} (a path whose subtree the consumer must read again; nested ones
     * collapse). Every path has at most one entry.
     *
     * @throws IllegalStateException if the plan, applied to the consumer's view, does not give the
     *     state it was made for (a bug: the caller reports the result as a rescan instead)
     */
    static List<PathChange> plan(List<Item> items, List<Removal> removals, List<String> rescans) {
        List<PathChange> simple = rescans.isEmpty() && removals.size() <= MAX_REMOVALS_APART
                ? withRemovalsApart(planWithoutView(items), items, removals, null) : null;
        if (simple != null) {
            assert items.size() > View.CHECKED_UP_TO || simple.equals(planByDoing(items, removals, rescans))
                    : "the plan without the view differs from the general one for " + items;
            return simple;
        }
        return planByDoing(items, removals, rescans);
    }

    /**
     * {@link #plan(List, List, List)}, and an entry for each of {@code scanNamed}: those come once
     * every move and creation of the others is done (a file only a scan names never moves, and no
     * other entry waits for it), before the removals and the contents of the others.
     */
    static List<PathChange> plan(List<Item> items, List<Removal> removals, List<String> rescans, ScanNamedFiles scanNamed) {
        if (scanNamed.isEmpty()) {
            return plan(items, removals, rescans);
        }
        if (rescans.isEmpty() && removals.size() <= MAX_REMOVALS_APART) {
            List<PathChange> simple = planWithoutView(items);
            if (simple != null) {
                // Its creations and moves come first; a new directory is read whole, what the consumer
                // had below it forgotten.
                int arrivals = arrivals(simple);
                Set<String> readWhole = new HashSet<>();
                for (PathChange c : simple.subList(0, arrivals)) {
                    if (c.kind() == PathChange.Kind.CREATED && c.directory()) {
                        readWhole.add(c.path());
                    }
                }
                ScanNamedFiles.Ordered ordered = scanNamed.ordered(List.of(), readWhole);
                simple = withRemovalsApart(simple, items, removals, ordered);
                if (simple != null) {
                    List<PathChange> planned = new ResultEntries(simple.subList(0, arrivals), ordered,
                            simple.subList(arrivals, simple.size()));
                    assert items.size() + scanNamed.size() > View.CHECKED_UP_TO
                            || planned.equals(planByDoing(items, removals, rescans, scanNamed))
                            : "the plan without the view differs from the general one for " + items + " and " + scanNamed;
                    return planned;
                }
            }
        }
        return planByDoing(items, removals, rescans, scanNamed);
    }

    /** The general plan of {@link #plan(List, List, List, ScanNamedFiles)}, files only a scan names included. */
    private static List<PathChange> planByDoing(List<Item> items, List<Removal> removals, List<String> rescans,
                                                ScanNamedFiles scanNamed) {
        Planning p = new Planning(items, removals, topmost(rescans));
        p.structure();
        int moved = p.out.size();
        p.scanNamed = scanNamed.ordered(p.rescans, p.readWhole);
        p.contents();
        p.rescans();
        p.check();
        return new ResultEntries(p.out.subList(0, moved), p.scanNamed, p.out.subList(moved, p.out.size()));
    }

    /** The general plan: applies each entry to a view of the consumer's tree as it emits it (see the class). */
    static List<PathChange> planByDoing(List<Item> items, List<Removal> removals, List<String> rescans) {
        List<String> topRescans = topmost(rescans);
        Planning p = new Planning(items, removals, topRescans);
        p.structure();
        p.contents();
        p.rescans();
        p.check();
        return p.out;
    }

    /**
     * The plan when no entry waits for another, which is most large results (files created,
     * written, or renamed): every object is new since the consumer's view ({@code created}, with no
     * place in it), stays where the consumer has it, or is a file that moved to a name no other
     * object is at or leaves; no two at one path, nothing new above one that stays or moves, nothing
     * to remove or rescan. Then every step of the general plan is ready in its first round, so its
     * moves are the creations and the moves in its order (shallow ones first, then by path), and its
     * contents are the changed objects that stay, by path: this builds those entries without the
     * view of the consumer's tree, which took about half of the checkpoint thread's samples in a
     * profile of a million-entry answer (the daemon's CPU per answer went from 5.9-7.8 s to 3.9-5.7
     * s with it), and a map entry per path and a step per move of a million renames (their answer
     * went from 8.0 s to 6.4 s with it, 6.1 s once the checks made no substring per path:
     * benchmarks/peers/answer --workload renamed). Null when the
     * items are not that simple. Equal to the general plan's entries (checked under assertions up to
     * {@link View#CHECKED_UP_TO} items, and by {@code ResultPlannerTest}).
     */
    static List<PathChange> planWithoutView(List<Item> items) {
        int arriving = 0;
        int moved = 0;
        for (Item it : items) {
            if (it.listing() || it.now() == null || (it.view() == null && !it.created())) {
                return null;
            }
            boolean moves = it.view() != null && !it.view().equals(it.now());
            if (moves && it.directory()) {
                return null; // its subtree moves with it: the general plan
            }
            arriving += it.view() == null || moves ? 1 : 0;
            moved += moves ? 1 : 0;
        }
        // Sorted as (depth, path, item) keys, so that a comparison reads no item. Not parallelSort:
        // its pool's threads would not yield to writers as the query's thread does (ThreadNice).
        Placed[] arrivals = new Placed[arriving];
        Placed[] stays = new Placed[items.size() - arriving];
        String[] left = new String[moved]; // the names the moved files leave
        for (int o = 0, a = 0, k = 0, m = 0; o < items.size(); o++) {
            Item it = items.get(o);
            if (it.view() == null) {
                arrivals[a++] = new Placed(depth(it.now()), it.now(), o);
            } else if (!it.view().equals(it.now())) {
                arrivals[a++] = new Placed(depth(it.now()), it.now(), o);
                left[m++] = it.view();
            } else {
                stays[k++] = new Placed(0, it.now(), o);
            }
        }
        Arrays.sort(arrivals, Placed.ORDER);
        Arrays.sort(stays, Placed.ORDER);
        // No two objects at one path: sorted, repeats are neighbours within each kind; across the
        // kinds, and for an object that stays below a new one, a set of the smaller kind's paths
        // (none at all when every object is new, as in a large creation).
        if (repeats(arrivals) || repeats(stays)) {
            return null;
        }
        if (arriving > 0 && stays.length > 0 && (arriving <= stays.length
                ? staysAtOrBelow(pathsOf(arrivals), stays) : createdAtStays(pathsOf(stays), arrivals))) {
            return null;
        }
        if (moved > 0 && !movesCollideWithNothing(items, arrivals, stays, left)) {
            return null;
        }
        List<PathChange> out = new ArrayList<>(items.size());
        for (Placed p : arrivals) {
            Item it = items.get(p.item());
            if (it.view() == null) {
                out.add(new PathChange(it.now(), PathChange.Kind.CREATED, null, it.directory(), it.carried(), it.recovered(),
                        it.links()));
            } else {
                out.add(new PathChange(it.now(), PathChange.Kind.RENAMED, it.view(), it.directory(), it.carried(), it.recovered(),
                        it.links(), it.changed() || it.carried() || it.recovered()));
            }
        }
        for (Placed p : stays) {
            Item it = items.get(p.item());
            if (it.changed() || it.carried() || it.recovered()) {
                out.add(new PathChange(it.now(), PathChange.Kind.MODIFIED, null, it.directory(), it.carried(), it.recovered(),
                        it.links()));
            }
        }
        return out;
    }

    /** How many of the entries of {@link #planWithoutView} are its creations and moves: they come first. */
    private static int arrivals(List<PathChange> simple) {
        int k = 0;
        while (k < simple.size() && (simple.get(k).kind() == PathChange.Kind.CREATED || simple.get(k).kind() == PathChange.Kind.RENAMED)) {
            k++;
        }
        return k;
    }

    /** Past this many removals (a large deletion) the general plan takes them, a directory at a time. */
    static final int MAX_REMOVALS_APART = 10_000;

    /**
     * {@code simple}, the entries of {@link #planWithoutView} (null: none), with a {@code deleted}
     * entry for each of {@code removals} after its creations and moves, in path order, one for a
     * path (the first removal of a path wins, as in the general plan): what the general plan makes
     * of them when none is at, above or below another removal, or a path an item is at or the
     * consumer has it at, or a file only a scan names ({@code scanNamed}, null for none). Then no
     * removal waits for a move or takes anything an entry names along with it. Null otherwise.
     * A file made and removed in a directory whose files a scan names is such a removal (a sync
     * cookie of watchman's, an editor's temporary file): one of them sent a million renames through
     * the general plan, 6.9-8.2 s an answer, 4.2-5.1 s without it ({@code benchmarks/peers/answer
     * --files 1000000 --workload renamed --watchman}). Past {@link #MAX_REMOVALS_APART} (a large
     * deletion) the general plan takes them, as it always did: these checks are not measured at that scale.
     */
    static List<PathChange> withRemovalsApart(List<PathChange> simple, List<Item> items, List<Removal> removals,
                                                      ScanNamedFiles.Ordered scanNamed) {
        if (simple == null || removals.isEmpty()) {
            return simple;
        }
        if (removals.size() > MAX_REMOVALS_APART) {
            return null;
        }
        List<Removal> sorted = new ArrayList<>(removals);
        sorted.sort(Comparator.comparing(Removal::path)); // stable: the first removal of a path stays first
        Set<String> paths = new HashSet<>();
        Set<String> atOrAbove = new HashSet<>(); // the removals' paths and every directory above them
        for (Removal r : sorted) {
            paths.add(r.path());
            for (String a = r.path(); a != null && atOrAbove.add(a); a = parent(a)) {
                // the directories above `a` are in already once `a` was
            }
        }
        for (String p : paths) {
            String above = parent(p);
            if ((above != null && atOrBelowAny(above, paths)) || (scanNamed != null && atOrBelowAny(p, scanNamed::names))) {
                return null; // below another removal, or at or below a file a scan names
            }
        }
        String directory = null; // the directory of the item path looked at last, and whether it is at or below a removal
        boolean directoryRemoved = false;
        for (Item it : items) {
            for (int k = 0; k < 2; k++) {
                String x = k == 0 ? it.now() : it.view();
                if (x == null) {
                    continue;
                }
                if (atOrAbove.contains(x)) {
                    return null;
                }
                int slash = x.lastIndexOf('/');
                if (directory == null || slash != directory.length() || !x.startsWith(directory)) {
                    directory = slash <= 0 ? "" : x.substring(0, slash);
                    directoryRemoved = !directory.isEmpty() && atOrBelowAny(directory, paths);
                }
                if (directoryRemoved) {
                    return null;
                }
            }
        }
        int arrivals = arrivals(simple);
        List<PathChange> out = new ArrayList<>(simple.size() + sorted.size());
        out.addAll(simple.subList(0, arrivals));
        String previous = null;
        for (Removal r : sorted) {
            if (!r.path().equals(previous)) {
                out.add(new PathChange(r.path(), PathChange.Kind.DELETED, null, r.directory(), r.carried(), r.recovered(), 0));
                previous = r.path();
            }
        }
        out.addAll(simple.subList(arrivals, simple.size()));
        return out;
    }

    /**
     * Whether the moved files of {@link #planWithoutView} (whose names they leave are {@code left})
     * take no name another object is at or leaves, none moves into a new directory (which the
     * general plan reads whole until something moves in), and the names they leave are below
     * nothing new or arriving, and above nothing that arrives or stays (a file's name with
     * something below it: file systems that changed between the plan's looks). Sets of paths and of
     * the directories above them, each directory once; {@code arrivals} sorted ({@link Placed#ORDER}),
     * so that the few directories above the names left are looked for in them, not in a set of a
     * million paths made for that (a tenth of what a renames' plan allocated).
     */
    private static boolean movesCollideWithNothing(List<Item> items, Placed[] arrivals, Placed[] stays, String[] left) {
        Set<String> leftPaths = HashSet.newHashSet(left.length);
        Collections.addAll(leftPaths, left);
        if (leftPaths.size() < left.length) {
            return false; // two objects where the consumer has one
        }
        Set<String> created = new HashSet<>();
        DirectoriesAbove aboveMoveTargets = new DirectoriesAbove();
        DirectoriesAbove aboveArrivalsAndStays = new DirectoriesAbove();
        for (Placed p : arrivals) {
            if (leftPaths.contains(p.path())) {
                return false; // a name a moved file leaves is taken: the move must come first (a chain, a swap)
            }
            Item it = items.get(p.item());
            if (it.view() == null) {
                created.add(p.path());
            } else {
                aboveMoveTargets.addAbove(p.path());
            }
            aboveArrivalsAndStays.addAbove(p.path());
        }
        for (Placed p : stays) {
            if (leftPaths.contains(p.path())) {
                return false;
            }
            aboveArrivalsAndStays.addAbove(p.path()); // what stays must not be below a name left either
        }
        for (String d : aboveMoveTargets.directories) {
            if (created.contains(d)) {
                return false;
            }
        }
        for (String d : aboveArrivalsAndStays.directories) {
            if (leftPaths.contains(d)) {
                return false;
            }
        }
        DirectoriesAbove aboveLeft = new DirectoriesAbove();
        for (String v : left) {
            aboveLeft.addAbove(v);
        }
        for (String d : aboveLeft.directories) {
            if (Arrays.binarySearch(arrivals, new Placed(depth(d), d, -1), Placed.ORDER) >= 0) {
                return false; // created or moved in above what the consumer has there
            }
        }
        return true;
    }

    /**
     * The directories above some paths (not the root), each once. A path in the directory of the
     * path before it costs no substring: paths come grouped by directory (sorted, or in record
     * order), and a substring per path was most of what a renames' plan allocated (300,000 renames:
     * 478 B an entry, 190 B without).
     */
    private static final class DirectoriesAbove {
        final Set<String> directories = new HashSet<>();
        private String last; // the directory of the path added last

        void addAbove(String path) {
            int slash = path.lastIndexOf('/');
            if (slash <= 0 || (last != null && slash == last.length() && path.startsWith(last))) {
                return; // in the root, or in the directory of the path before
            }
            last = path.substring(0, slash);
            for (String a = last; a != null && directories.add(a); a = parent(a)) {
                // the directories above `a` are in already once `a` was
            }
        }
    }

    /** An item of {@link #planWithoutView} with what it is sorted by: shallow ones first, then by path. */
    private record Placed(int depth, String path, int item) {
        static final Comparator<Placed> ORDER = (a, b) -> a.depth != b.depth ? Integer.compare(a.depth, b.depth) : a.path.compareTo(b.path);
    }

    /** Whether two of {@code objects} (sorted so that equal paths are neighbours) are at one path. */
    private static boolean repeats(Placed[] objects) {
        for (int i = 1; i < objects.length; i++) {
            if (objects[i].path().equals(objects[i - 1].path())) {
                return true;
            }
        }
        return false;
    }

    private static Set<String> pathsOf(Placed[] objects) {
        Set<String> paths = HashSet.newHashSet(objects.length);
        for (Placed o : objects) {
            paths.add(o.path());
        }
        return paths;
    }

    /** Whether an object that stays is at or below one of {@code createdPaths}. */
    private static boolean staysAtOrBelow(Set<String> createdPaths, Placed[] stays) {
        for (Placed o : stays) {
            for (String a = o.path(); a != null; a = parent(a)) {
                if (createdPaths.contains(a)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether a new object is at one of {@code stayPaths}, or above one: what {@link #staysAtOrBelow} asks, from the other side. */
    private static boolean createdAtStays(Set<String> stayPaths, Placed[] creations) {
        Set<String> aboveStays = new HashSet<>();
        for (String p : stayPaths) {
            for (String a = parent(p); a != null; a = parent(a)) {
                if (!aboveStays.add(a)) {
                    break; // the directories above it are in already
                }
            }
        }
        for (Placed o : creations) {
            String p = o.path();
            if (stayPaths.contains(p) || aboveStays.contains(p)) {
                return true;
            }
        }
        return false;
    }

    /** The planner's input, the first {@value #DESCRIBED} of each kind, for a report of a failed plan. */
    static String describe(List<Item> items, List<Removal> removals, List<String> rescans) {
        return "items " + first(items) + ", removals " + first(removals) + ", rescans " + first(rescans);
    }

    private static final int DESCRIBED = 200;

    private static String first(List<?> list) {
        return list.size() <= DESCRIBED ? list.toString()
                : list.subList(0, DESCRIBED) + " and " + (list.size() - DESCRIBED) + " more";
    }

    /** The paths of {@code paths} that are not below another of them, sorted, without repeats. */
    static List<String> topmost(List<String> paths) {
        List<String> sorted = new ArrayList<>(new TreeSet<>(paths));
        List<String> out = new ArrayList<>();
        Set<String> kept = new HashSet<>();
        for (String p : sorted) { // a directory before its entries (though "d e" may come between "d" and "d/f")
            if (!atOrBelowAny(p, kept)) {
                out.add(p);
                kept.add(p);
            }
        }
        return out;
    }

    /** Whether {@code path} or a directory above it is one of {@code tops}. */
    static boolean atOrBelowAny(String path, Set<String> tops) {
        return atOrBelowAny(path, (Predicate<String>) tops::contains);
    }

    /** Whether {@code path} or a directory above it is one {@code top} holds. */
    static boolean atOrBelowAny(String path, Predicate<String> top) {
        for (String a = path; a != null; a = parent(a)) {
            if (top.test(a)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code path} is {@code top} or below it (never a null {@code top}). */
    static boolean isAtOrBelow(String path, String top) {
        // No "top/" made for the test: it is asked once per gone object and whole read of a result.
        return top != null && path.startsWith(top)
                && (path.length() == top.length() || top.endsWith("/") || path.charAt(top.length()) == '/');
    }

    /**
     * Whether {@code path} is at or below one of {@code tops}, as {@link #isAtOrBelow} tells: a
     * look-up per level of the path, not a comparison per top (a result can remove or read whole
     * thousands of paths).
     */
    static boolean isAtOrBelowAny(String path, Set<String> tops) {
        if (tops.isEmpty()) {
            return false;
        }
        if (tops.contains(path)) {
            return true;
        }
        // Each prefix that ends before a slash of the path, or with one.
        for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
            if (tops.contains(path.substring(0, slash)) || tops.contains(path.substring(0, slash + 1))) {
                return true;
            }
        }
        return false;
    }

    /** The number of slashes in {@code path}: its depth below the root. */
    static int depth(String path) {
        int d = 0;
        for (int i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) { // indexOf is vectorized; charAt by charAt was 2% of a renames' answer
            d++;
        }
        return d;
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? null : path.substring(0, slash);
    }

    /**
     * The consumer's view as far as the plan knows it: which object is at which path. Objects the
     * plan does not know about (unchanged ones) are not in it; they move with their directories.
     */
    static final class View {
        private final Map<String, Integer> exact;
        /**
         * Each path with something of the view strictly below it ("/" for the root): the paths one
         * level down that are in the view or have something below them (never empty). Whether
         * anything is below a path is asked for nearly every entry, and a subtree is walked only
         * where something is; a sorted map of a million long paths with long common prefixes (every
         * comparison walks them) was most of a large plan's time. Invariant: every path in
         * {@link #exact} or in this map, other than the top, is a child of its parent's entry, so a
         * path added below an existing entry links itself and stops there.
         */
        private final Map<String, Set<String>> nodes = new HashMap<>();
        private final String[] at;

        View(int objects) {
            at = new String[objects];
            exact = HashMap.newHashMap(objects);
        }

        String at(int object) {
            return at[object];
        }

        Integer objectAt(String path) {
            return exact.get(path);
        }

        /** Whether any object is strictly below {@code path}: one hash lookup. */
        boolean hasBelow(String path) {
            Set<String> n = nodes.get(withoutTrailingSlash(path));
            assert exact.size() > CHECKED_UP_TO || (n != null) == hasBelowByScan(path) : "the view's tree is out of step at " + path;
            return n != null;
        }

        /** Views up to this size check {@link #hasBelow} against a scan of every path (with assertions on). */
        static final int CHECKED_UP_TO = 2_000;

        private boolean hasBelowByScan(String path) {
            String prefix = path.endsWith("/") ? path : path + "/";
            return exact.keySet().stream().anyMatch(p -> p.startsWith(prefix) && !p.equals(path));
        }

        private static String withoutTrailingSlash(String path) {
            return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        }

        /** The path one level up ("/" above "/a"), or null above the root or a relative name. */
        private static String up(String path) {
            int slash = path.lastIndexOf('/');
            return slash > 0 ? path.substring(0, slash) : slash == 0 && path.length() > 1 ? "/" : null;
        }

        /**
         * A new path of the view: it is linked to its parent's entry, and the parent to its own if
         * the parent's entry is new; an entry that existed is linked above already.
         */
        private void added(String path) {
            for (String child = path, parent = up(path); parent != null; child = parent, parent = up(parent)) {
                Set<String> children = nodes.get(parent);
                if (children != null) {
                    children.add(child);
                    return;
                }
                children = new HashSet<>();
                children.add(child);
                nodes.put(parent, children);
            }
        }

        /**
         * A path gone from the view: unlinked from its parent's entry unless something is still at
         * or below it, and the parent the same way if its entry is left empty.
         */
        private void removed(String path) {
            for (String child = path, parent = up(path); parent != null; child = parent, parent = up(parent)) {
                if (exact.containsKey(child) || nodes.containsKey(child)) {
                    return; // still in the view: its links above stay
                }
                Set<String> children = nodes.get(parent);
                assert children != null && children.contains(child) : "nothing linked below " + parent + " for " + path;
                children.remove(child);
                if (!children.isEmpty()) {
                    return;
                }
                nodes.remove(parent);
            }
        }

        /** The objects strictly below {@code path}, in no particular order (a copy). */
        List<Map.Entry<String, Integer>> below(String path) {
            List<Map.Entry<String, Integer>> out = new ArrayList<>();
            Set<String> top = nodes.get(withoutTrailingSlash(path));
            if (top == null) {
                return out;
            }
            ArrayDeque<Set<String>> walk = new ArrayDeque<>();
            walk.push(top);
            while (!walk.isEmpty()) {
                for (String child : walk.pop()) {
                    Integer o = exact.get(child);
                    if (o != null) {
                        out.add(Map.entry(child, o));
                    }
                    Set<String> n = nodes.get(child);
                    if (n != null) {
                        walk.push(n);
                    }
                }
            }
            return out;
        }

        void place(int object, String path) {
            Integer before = exact.put(path, object);
            if (before == null) {
                added(path);
            } else if (before != object) {
                at[before] = null;
            }
            at[object] = path;
        }

        /** Forgets {@code path} and everything below it. */
        void forget(String path) {
            Integer self = exact.remove(path);
            if (self != null) {
                at[self] = null;
                removed(path);
            }
            if (!hasBelow(path)) {
                return; // most entries are files: no subtree to walk
            }
            for (Map.Entry<String, Integer> e : below(path)) {
                at[e.getValue()] = null;
                exact.remove(e.getKey());
                removed(e.getKey());
            }
        }

        /** Moves whatever is at {@code from} (and below) to {@code to}, replacing what was there. */
        void move(String from, String to) {
            List<Map.Entry<String, Integer>> moving = below(from);
            Integer self = exact.get(from);
            if (self != null) {
                moving.add(Map.entry(from, self));
            }
            forget(from);
            forget(to);
            for (Map.Entry<String, Integer> m : moving) {
                place(m.getValue(), to + m.getKey().substring(from.length()));
            }
        }
    }

    /** A growable list of ints, without a boxed Integer per element. */
    private static final class IntList {
        private int[] values = new int[16];
        private int size;

        void add(int value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        int get(int index) {
            assert index < size : index + " of " + size;
            return values[index];
        }
    }

    /** One plan in the making. */
    private static final class Planning {
        final List<Item> items;
        final List<Removal> removals;
        final List<String> rescans;
        final View view;
        final List<PathChange> out = new ArrayList<>();
        final Set<String> named;
        // Objects read again where they are now ("created", "rescan", or "renamed" with changed): no
        // "modified" for them afterwards.
        final boolean[] read;
        // Objects taken out of the moves to break a cycle no move could break: read where they are
        // now once every move is done.
        final boolean[] detached;
        // Paths whose subtree the consumer forgot and read again ("created", "rescan"), with nothing
        // moved in below them since.
        final Set<String> readWhole;
        // Every moving object's target, by path: a step below one not yet reached waits for it.
        final Map<String, Integer> targets;
        // Each object's target, computed once (underRescan scans every rescan); null once detached.
        final String[] targetOf;
        // The objects with a target, shallow targets first, then by path: the order pending() keeps.
        final int[] order;
        // The directories above the targets, each once: its path (one String, so its hash is computed
        // once), the directory above it (-1 above the top), and the object whose target it is (-1 if
        // none; targets never change). ancestorsSettled walks them for every step of a plan, and a
        // substring and two lookups per level and step were a fifth of a large plan's time.
        final List<String> directoryPath = new ArrayList<>();
        final IntList directoryParent = new IntList();
        final IntList directoryArriving = new IntList();
        // Each object's target's directory (-1: no target, or a target without a directory above).
        final int[] targetDirectory;
        // The entries of the files only scans name, once every move is done (null: none).
        ScanNamedFiles.Ordered scanNamed;

        Planning(List<Item> items, List<Removal> removals, List<String> rescans) {
            this.items = items;
            this.removals = removals;
            this.rescans = rescans;
            this.view = new View(items.size());
            // Sized for every item at once: a million-entry plan otherwise spends a tenth of its time
            // growing these.
            this.named = HashSet.newHashSet(items.size() + removals.size() + rescans.size());
            this.readWhole = HashSet.newHashSet(items.size());
            this.targets = HashMap.newHashMap(items.size());
            this.read = new boolean[items.size()];
            this.detached = new boolean[items.size()];
            this.targetOf = new String[items.size()];
            for (int o = 0; o < items.size(); o++) {
                Item it = items.get(o);
                targetOf[o] = it.listing() || it.now() == null || underRescan(it.now()) ? null : it.now();
            }
            for (int o = 0; o < items.size(); o++) {
                Item it = items.get(o);
                if (it.view() != null && !it.listing() && view.objectAt(it.view()) == null) {
                    view.place(o, it.view());
                }
            }
            int[] depths = new int[items.size()];
            List<Integer> moving = new ArrayList<>();
            for (int o = 0; o < items.size(); o++) {
                String t = target(o);
                if (t != null) {
                    targets.put(t, o);
                    depths[o] = depth(t);
                    moving.add(o);
                }
            }
            moving.sort(Comparator.comparingInt((Integer o) -> depths[o]).thenComparing(this::target));
            this.order = moving.stream().mapToInt(Integer::intValue).toArray();
            this.targetDirectory = new int[items.size()];
            Map<String, Integer> directories = new HashMap<>();
            for (int o = 0; o < items.size(); o++) {
                String t = targetOf[o];
                targetDirectory[o] = t == null ? -1 : directory(parent(t), directories);
            }
        }

        /** The number of directory {@code path} (null: -1), numbering it and the directories above it if new. */
        private int directory(String path, Map<String, Integer> directories) {
            if (path == null) {
                return -1;
            }
            Integer known = directories.get(path);
            if (known != null) {
                return known;
            }
            int above = directory(parent(path), directories); // depth-bounded: one level per call
            int d = directoryPath.size();
            directoryPath.add(path);
            directoryParent.add(above);
            Integer arriving = targets.get(path);
            directoryArriving.add(arriving == null ? -1 : arriving);
            directories.put(path, d);
            return d;
        }

        /**
         * Where object {@code o} must be moved (or read) to in the first phase: its path now; null for
         * an object the moves leave alone (gone, read again by a rescan, a directory to list, or
         * detached): it moves along with its directory, if that moves, until the end.
         */
        String target(int o) {
            return detached[o] ? null : targetOf[o];
        }

        boolean underRescan(String path) {
            for (String r : rescans) {
                if (isAtOrBelow(path, r)) {
                    return true;
                }
            }
            return false;
        }

        /** Whether a moving object {@code o} is where it must be. */
        boolean placed(int o) {
            String t = target(o);
            return t == null || t.equals(view.at(o));
        }

        // ---- moves and creations -------------------------------------------------------------

        void structure() {
            long budget = (long) MAX_ROUNDS_PER_ITEM * items.size() + 4;
            for (List<Integer> pending = pending(); !pending.isEmpty(); pending = pending()) {
                if (budget-- <= 0) {
                    throw new IllegalStateException("no order found for " + pending.size() + " moves");
                }
                boolean progress = false;
                for (int o : pending) {
                    if (!placed(o) && ready(o)) {
                        step(o);
                        progress = true;
                    }
                }
                if (!progress) {
                    breakCycle(pending);
                }
            }
        }

        /**
         * The moving objects not where they must be, shallow targets first (a directory before what
         * moves into it). Again each round: a step that breaks a cycle may displace an object that
         * was in place.
         */
        List<Integer> pending() {
            List<Integer> pending = new ArrayList<>();
            for (int o : order) { // targets never change (a detached object has none): the order holds
                if (!placed(o)) {
                    pending.add(o);
                }
            }
            return pending;
        }

        /**
         * Whether object {@code o} can take its step now without disturbing another: the
         * directories above its target are where they will stay, and its target holds nothing that
         * must still go elsewhere.
         */
        boolean ready(int o) {
            return ancestorsSettled(o) && !holdsOthersToKeep(target(o), o);
        }

        /**
         * Whether no directory above {@code o}'s target is still to arrive there, and none in the
         * view is still to leave (a move into it now would be dragged along).
         */
        boolean ancestorsSettled(int o) {
            assert target(o) != null : "no target to settle for " + items.get(o);
            for (int d = targetDirectory[o]; d >= 0; d = directoryParent.get(d)) {
                int arriving = directoryArriving.get(d);
                if (arriving >= 0 && arriving != o && !placed(arriving)) {
                    return false;
                }
                Integer there = view.objectAt(directoryPath.get(d));
                if (there != null && there != o && !placed(there)) {
                    return false;
                }
            }
            return true;
        }

        /** Whether {@code path} or its subtree (outside {@code o}'s own subtree) holds a moving object. */
        boolean holdsOthersToKeep(String path, int o) {
            String own = view.at(o);
            Integer self = view.objectAt(path);
            if (self != null && self != o && target(self) != null) {
                return true;
            }
            if (!view.hasBelow(path)) {
                return false;
            }
            for (Map.Entry<String, Integer> e : view.below(path)) {
                boolean inOwnSubtree = own != null && isAtOrBelow(e.getKey(), own);
                if (!inOwnSubtree && target(e.getValue()) != null) {
                    return true;
                }
            }
            return false;
        }

        /**
         * Nothing can step without disturbing another: a cycle (a swap, a directory and a name it
         * must take in turn). The object with the shallowest target whose directories are settled
         * steps anyway, replacing what blocks it, which is read again where it is now once it is
         * its turn; if no target's directories are settled, one object is detached: it stays where
         * the moves take it and is read where it is now at the end.
         */
        void breakCycle(List<Integer> pending) {
            for (int o : pending) { // shallowest first
                if (ancestorsSettled(o)) {
                    step(o);
                    return;
                }
            }
            detached[pending.getFirst()] = true;
        }

        /** Emits moving object {@code o}'s step and applies it to the view; what it replaces is forgotten. */
        void step(int o) {
            Item it = items.get(o);
            String t = target(o);
            String at = view.at(o);
            if (at != null) {
                boolean changed = it.changed() || it.carried() || it.recovered();
                emit(new PathChange(t, PathChange.Kind.RENAMED, at, it.directory(), it.carried(), it.recovered(), it.links(),
                        changed));
                view.move(at, t);
                read[o] = changed;
                for (String a = t; a != null && !readWhole.isEmpty(); a = parent(a)) {
                    // What moved in brings its own subtree along, not yet forgotten. (A walk up every
                    // move's directories was a sixth of what a million renames' answer allocated.)
                    readWhole.remove(a);
                }
            } else {
                emit(readEntry(o));
                view.forget(t);
                view.place(o, t);
                read[o] = true;
            }
        }

        /** How the consumer reads {@code o} where it is now: a new file or directory, or a directory it must read whole. */
        PathChange readEntry(int o) {
            Item it = items.get(o);
            PathChange.Kind kind = it.directory() && !it.created() ? PathChange.Kind.RESCAN : PathChange.Kind.CREATED;
            readWhole.add(it.now());
            return new PathChange(it.now(), kind, null, it.directory(), it.carried(), it.recovered(), it.links());
        }

        // ---- removals and contents, once nothing moves any more ------------------------------

        /**
         * Removes what the view still holds and must not (gone objects, detached ones where the
         * moves left them), unless a read below replaces it; then reads, in path order (a directory
         * before its entries), the detached objects, the ones that stayed (or moved without being
         * read) and changed, and the directories to list.
         */
        void contents() {
            Set<String> readPaths = new HashSet<>();
            for (int o = 0; o < items.size(); o++) {
                if (detached[o] && !underRescan(items.get(o).now())) {
                    readPaths.add(items.get(o).now());
                }
            }
            // Sorted once (a directory before its entries), an object's own place before a removal at
            // the same path (a stable sort): a sorted map of a million long paths, and a walk up every
            // path's directories, were most of a large deletion's plan.
            List<Removal> leftovers = new ArrayList<>();
            for (int o = 0; o < items.size(); o++) {
                String at = view.at(o);
                if (at != null && target(o) == null && !items.get(o).listing()) {
                    Item it = items.get(o);
                    leftovers.add(new Removal(at, it.directory(), it.carried(), it.recovered()));
                }
            }
            leftovers.addAll(removals);
            leftovers = withoutThoseInForgottenDirectories(leftovers);
            leftovers.sort(Comparator.comparing(Removal::path));
            boolean rootRead = readPaths.contains("/");
            Set<String> forgotten = new HashSet<>();
            // Whether a directory above the path is forgotten, or read as new or whole, worked out once
            // per directory: the paths come sorted, so a directory's entries that share it follow one
            // another, and nothing at or above that directory is forgotten between them (it sorts first).
            String directory = null;
            boolean directoryForgotten = false;
            boolean directoryReplaced = false;
            String previous = null;
            for (Removal r : leftovers) {
                String at = r.path();
                if (at.equals(previous)) {
                    continue; // one entry for a path
                }
                previous = at;
                int slash = at.lastIndexOf('/');
                if (directory == null || slash != directory.length() || !at.startsWith(directory)) {
                    directory = parent(at);
                    directoryForgotten = directory != null && atOrBelowAny(directory, forgotten);
                    directoryReplaced = directory != null && replacedAtOrBelow(directory, readPaths);
                }
                if (directoryForgotten || forgotten.contains(at)) {
                    continue;
                }
                if (scanNamed != null && scanNamed.names(at)) {
                    // A file only a scan names is there now, read by its own entry (as new, or as the
                    // object the consumer has there): what the view had at and below the path is replaced.
                    view.forget(at);
                    forgotten.add(at);
                    continue;
                }
                Integer there = view.objectAt(at);
                if (named.contains(at) || (there != null && at.equals(target(there)))) {
                    // A move or a creation of this plan put an object there, or one stays there, that
                    // was found alive after what the removal was for went (the file system changed
                    // between the looks that made this plan): the consumer has that object there and
                    // reads it; what is below is looked at one by one. If it went too, that was after
                    // the checkpoint, and the next result says so.
                    continue;
                }
                // What was below a path read as new or whole, or read again where it is, is forgotten already.
                boolean replaced = directoryReplaced || underRescan(at) || readPaths.contains(at) || rootRead;
                if (!replaced) {
                    emit(new PathChange(at, PathChange.Kind.DELETED, null, r.directory(), r.carried(), r.recovered(), 0));
                }
                view.forget(at);
                forgotten.add(at);
            }
            List<Integer> order = new ArrayList<>();
            for (int o = 0; o < items.size(); o++) {
                if (items.get(o).now() != null) {
                    order.add(o);
                }
            }
            order.sort(Comparator.comparing(o -> items.get(o).now()));
            for (int o : order) {
                Item it = items.get(o);
                if (read[o] || underRescan(it.now())) {
                    continue;
                }
                if (it.listing()) {
                    emit(new PathChange(it.now(), PathChange.Kind.LIST, null, true, it.carried(), it.recovered(), it.links()));
                } else if (detached[o]) {
                    emit(readEntry(o));
                    view.forget(it.now());
                    view.place(o, it.now());
                } else if (it.changed() || it.carried() || it.recovered()) {
                    emit(new PathChange(it.now(), PathChange.Kind.MODIFIED, null, it.directory(), it.carried(), it.recovered(),
                            it.links()));
                }
                read[o] = true;
            }
        }

        /**
         * {@code leftovers} less the removals in a directory that is itself removed and forgotten
         * by the loop of {@link #contents}: that directory sorts before them, and once it (or a
         * directory above it) is forgotten, the loop skips them. Dropped before the sort, they cost
         * one look at their directory each instead of their place in it: a tree of a million files
         * removed whole is a removal per file and per directory, and sorting them was most of its plan.
         */
        private List<Removal> withoutThoseInForgottenDirectories(List<Removal> leftovers) {
            Set<String> forgottenDirectories = new HashSet<>();
            for (Removal r : leftovers) {
                if (r.directory() && forgottenWhenRemoved(r.path())) {
                    forgottenDirectories.add(r.path());
                }
            }
            if (forgottenDirectories.isEmpty()) {
                return leftovers;
            }
            List<Removal> kept = new ArrayList<>();
            String lastForgotten = null; // the last directory found among them: a tree's removals come a directory at a time
            for (Removal r : leftovers) {
                String at = r.path();
                int slash = at.lastIndexOf('/');
                if (lastForgotten != null && slash == lastForgotten.length() && at.startsWith(lastForgotten)) {
                    continue;
                }
                String directory = slash <= 0 ? null : at.substring(0, slash);
                if (directory != null && forgottenDirectories.contains(directory)) {
                    lastForgotten = directory;
                    continue;
                }
                kept.add(r);
            }
            return kept;
        }

        /**
         * Whether the loop of {@link #contents} forgets what the view has at {@code at} when it
         * comes to a removal there (it may skip it instead, below a directory it forgot: then that
         * one covers it): unless an entry of this plan put an object there or one stays there.
         * Neither depends on the removals before it, none of which is at or below {@code at}.
         */
        private boolean forgottenWhenRemoved(String at) {
            Integer there = view.objectAt(at);
            return !named.contains(at) && !(there != null && at.equals(target(there)));
        }

        /** Whether {@code path} or a directory above it is read as new or whole, or read again where it is. */
        private boolean replacedAtOrBelow(String path, Set<String> readPaths) {
            for (String a = path; a != null; a = parent(a)) {
                if (readWhole.contains(a) || readPaths.contains(a) || (scanNamed != null && scanNamed.readAsNew(a))) {
                    return true;
                }
            }
            return false;
        }

        void rescans() {
            for (String r : rescans) {
                emit(new PathChange(r, PathChange.Kind.RESCAN, null, true, false, false, 0));
                view.forget(r);
            }
        }

        void emit(PathChange c) {
            if (!named.add(c.path()) || (scanNamed != null && scanNamed.names(c.path()))) {
                throw new IllegalStateException("a second entry for " + c.path() + ": " + c);
            }
            out.add(c);
        }

        /** The view the entries lead to holds every object where it is now, and no object that is gone. */
        void check() {
            for (int o = 0; o < items.size(); o++) {
                Item it = items.get(o);
                if (it.listing()) {
                    continue;
                }
                boolean stays = it.now() != null && !underRescan(it.now());
                String at = view.at(o);
                if (stays ? !it.now().equals(at) : at != null) {
                    throw new IllegalStateException("the plan leaves " + it + " at " + at);
                }
            }
        }
    }
}
