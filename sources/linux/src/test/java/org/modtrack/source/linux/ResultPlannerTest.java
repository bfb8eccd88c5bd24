package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.testing.Seeded;

/**
 * The planner alone, with exact knowledge of where the consumer has each object and where it is now:
 * a consumer that applies the entries one after another ends with the file system's tree, and no
 * path has two entries. Histories over a small name space, so names are reused, swapped, chained
 * and taken over by directory moves.
 */
@ExtendWith(Seeded.class)
class ResultPlannerTest {
    private static final String ROOT = "/r";

    @Test
    void aChainASwapAndAMoveIntoANewDirectoryApplyInOrder() {
        ModelTree view = new ModelTree();
        view.put("/r/a", new ModelTree.Node(1, false, 0));
        view.put("/r/b", new ModelTree.Node(2, false, 0));
        view.put("/r/c", new ModelTree.Node(3, false, 0));
        view.put("/r/x", new ModelTree.Node(4, false, 0));
        view.put("/r/y", new ModelTree.Node(5, false, 0));
        ModelTree now = view.copy();
        now.moveTree("/r/b", "/r/c"); // chain: b over c, then a to b
        now.moveTree("/r/a", "/r/b");
        now.moveTree("/r/x", "/r/t"); // swap x and y through t
        now.moveTree("/r/y", "/r/x");
        now.moveTree("/r/t", "/r/y");
        now.put("/r/d", new ModelTree.Node(6, true, 0)); // c moves into a new directory
        now.moveTree("/r/c", "/r/d/c");
        List<ResultPlanner.Item> items = Histories.items(view, now, Set.of(1, 2, 3, 4, 5, 6), Set.of());
        List<PathChange> plan = ResultPlanner.plan(items, List.of());
        ModelTree consumer = view.copy();
        SequentialConsumer.apply(consumer, plan, now);
        assertNull(consumer.differenceFrom(now), plan.toString());
    }

    @Test
    void aRescanIsSaidOnceForItsSubtreeAndStandsForWhatIsBelowIt() {
        List<ResultPlanner.Item> items = List.of(
                new ResultPlanner.Item("/m/a", "/m/a", false, true, false, false, false, false, 1),
                new ResultPlanner.Item("/m/d/x", "/m/d/x", false, true, false, false, false, false, 1),
                new ResultPlanner.Item("/m/e", "/m/d/e", false, false, false, false, false, false, 1));
        List<PathChange> plan = ResultPlanner.plan(items, List.of("/m/d", "/m/d", "/m/d/y"));
        assertEquals(List.of(
                new PathChange("/m/e", PathChange.Kind.DELETED, null, false, false, false, 0),
                new PathChange("/m/a", PathChange.Kind.MODIFIED, null, false, false, false, 1),
                new PathChange("/m/d", PathChange.Kind.RESCAN, null, true, false, false, 0)), plan,
                "what moves into a rescanned directory is removed where it was, and read by the rescan");
    }

    @Test
    void aRemovalWhereThePlanPutAnObjectLeavesTheObjectThere() {
        // The file system changed between the looks that made the plan: /m/d/f was found alive (and
        // created since the view), /m/h alive where the consumer has it, then nothing stood at /m/d/f,
        // /m/d or /m/h when removals were checked.
        List<ResultPlanner.Item> items = List.of(
                new ResultPlanner.Item(null, "/m/d", true, true, true, false, false, false, 1),
                new ResultPlanner.Item(null, "/m/d/f", false, true, true, false, false, false, 1),
                new ResultPlanner.Item("/m/g", null, false, false, false, false, false, false, 0),
                new ResultPlanner.Item("/m/h", "/m/h", false, true, false, false, false, false, 1));
        List<ResultPlanner.Removal> removals = List.of(new ResultPlanner.Removal("/m/d/f", false, false, false),
                new ResultPlanner.Removal("/m/h", false, false, false),
                new ResultPlanner.Removal("/m/d", true, false, false), new ResultPlanner.Removal("/m/d/f/x", false, false, false));
        assertEquals(List.of(
                new PathChange("/m/d", PathChange.Kind.CREATED, null, true, false, false, 1),
                new PathChange("/m/d/f", PathChange.Kind.CREATED, null, false, false, false, 1),
                new PathChange("/m/g", PathChange.Kind.DELETED, null, false, false, false, 0),
                new PathChange("/m/h", PathChange.Kind.MODIFIED, null, false, false, false, 1)),
                ResultPlanner.plan(items, removals, List.of()));
    }

    @Test
    void aTreeRemovedWholeIsOneEntryHoweverManyRemovalsItsEntriesAre() {
        // As a result removes a tree that rm -r took entry by entry: its files, deepest first, then
        // each directory, each a removal of its own.
        List<ResultPlanner.Removal> removals = new ArrayList<>();
        for (int d = 0; d < 3; d++) {
            for (int f = 0; f < 5; f++) {
                removals.add(new ResultPlanner.Removal("/m/t/d" + d + "/f" + f, false, false, false));
            }
            removals.add(new ResultPlanner.Removal("/m/t/d" + d, true, false, false));
        }
        removals.add(new ResultPlanner.Removal("/m/t", true, false, false));
        removals.add(new ResultPlanner.Removal("/m/t2", false, false, false));
        List<ResultPlanner.Item> items = List.of(new ResultPlanner.Item("/m/a", "/m/a", false, true, false, false, false, false, 1));
        assertEquals(List.of(
                new PathChange("/m/t", PathChange.Kind.DELETED, null, true, false, false, 0),
                new PathChange("/m/t2", PathChange.Kind.DELETED, null, false, false, false, 0),
                new PathChange("/m/a", PathChange.Kind.MODIFIED, null, false, false, false, 1)),
                ResultPlanner.plan(items, removals, List.of()));
    }

    @Test
    void aRescanOfADirectoryCoversItsEntriesWhateverTheirNamesSortAfter() {
        assertEquals(List.of("/m/d", "/m/d e"), ResultPlanner.topmost(List.of("/m/d/f", "/m/d e", "/m/d")));
    }

    @Test
    void randomHistoriesApplyToTheFileSystemsTree(SplittableRandom random) {
        for (int i = 0; i < Integer.getInteger("planner.histories", 100_000); i++) {
            long seed = random.nextLong();
            Histories.Case c = Histories.random(new SplittableRandom(seed), ROOT);
            List<PathChange> plan;
            try {
                plan = ResultPlanner.plan(c.items(), List.of());
            } catch (RuntimeException e) {
                throw new AssertionError("history " + seed + ": " + c + ": " + e, e);
            }
            ModelTree consumer = c.view().copy();
            SequentialConsumer.apply(consumer, plan, c.now());
            String diff = consumer.differenceFrom(c.now());
            assertNull(diff, () -> "history " + seed + ": " + c + "\n  plan " + plan);
            Set<String> paths = new HashSet<>();
            for (PathChange p : plan) {
                assertEquals(true, paths.add(p.path()), "two entries for " + p.path() + " in " + plan);
            }
        }
    }

    @Test
    void historiesThatMoveNothingArePlannedAsTheGeneralPlannerWouldWithoutItsView(SplittableRandom random) {
        for (int i = 0; i < 20_000; i++) {
            long seed = random.nextLong();
            SplittableRandom r = new SplittableRandom(seed);
            Histories.Case c = Histories.random(r, ROOT, false);
            // Carried and recovered objects too: they are read whatever their own change.
            List<ResultPlanner.Item> items = c.items().stream().map(it -> new ResultPlanner.Item(it.view(), it.now(),
                    it.directory(), it.changed(), it.created(), false, r.nextInt(8) == 0, r.nextInt(8) == 0, it.links())).toList();
            List<PathChange> plan = ResultPlanner.planWithoutView(items);
            assertEquals(ResultPlanner.planByDoing(items, List.of(), List.of()), plan, () -> "history " + seed + ": " + c);
            ModelTree consumer = c.view().copy();
            SequentialConsumer.apply(consumer, plan, c.now());
            assertNull(consumer.differenceFrom(c.now()), () -> "history " + seed + ": " + c + "\n  plan " + plan);
        }
    }

    /**
     * Files only a scan names (not directories, never moved, no other object at their paths) come
     * as entries of their own after the others' moves and creations, in results in which no
     * directory moved: whatever else the history did, the consumer ends with the file system's tree.
     */
    @Test
    void filesOnlyAScanNamesApplyAfterTheOthersMoves(SplittableRandom random) {
        int tried = 0;
        for (int i = 0; i < 20_000; i++) {
            long seed = random.nextLong();
            SplittableRandom r = new SplittableRandom(seed);
            Histories.Case c = Histories.random(r, ROOT);
            if (c.items().stream().anyMatch(it -> it.directory() && it.view() != null && !it.view().equals(it.now()))) {
                continue; // a directory moved: the resolver keeps every file as a record then
            }
            List<ResultPlanner.Item> items = new ArrayList<>();
            Map<String, List<String>> born = new TreeMap<>();
            Map<String, List<String>> written = new TreeMap<>();
            for (ResultPlanner.Item it : c.items()) {
                boolean candidate = !it.directory() && it.now() != null && it.changed() == (it.view() != null)
                        && (it.view() == null ? it.created() : it.view().equals(it.now()));
                if (candidate && r.nextBoolean()) {
                    int slash = it.now().lastIndexOf('/');
                    (it.view() == null ? born : written).computeIfAbsent(it.now().substring(0, slash), d -> new ArrayList<>())
                            .add(it.now().substring(slash + 1));
                } else {
                    items.add(it);
                }
            }
            List<ScanNamedFiles.Directory> dirs = new ArrayList<>();
            Set<String> scannedDirs = new TreeSet<>(born.keySet());
            scannedDirs.addAll(written.keySet());
            for (String d : scannedDirs) {
                dirs.add(new ScanNamedFiles.Directory(d, false, sortedNames(born.get(d)), sortedNames(written.get(d))));
            }
            List<String> directories = c.now().paths(ROOT, true).stream().filter(d -> !d.equals(ROOT)).toList();
            List<String> rescans = !directories.isEmpty() && r.nextInt(4) == 0
                    ? List.of(directories.get(r.nextInt(directories.size()))) : List.of();
            ScanNamedFiles scanNamed = new ScanNamedFiles(dirs);
            tried += scanNamed.isEmpty() ? 0 : 1;
            List<PathChange> plan;
            try {
                plan = ResultPlanner.plan(items, List.of(), rescans, scanNamed);
            } catch (RuntimeException e) {
                throw new AssertionError("history " + seed + ": " + c + ", scan-named " + scanNamed + ": " + e, e);
            }
            ModelTree consumer = c.view().copy();
            SequentialConsumer.apply(consumer, plan, c.now());
            assertNull(consumer.differenceFrom(c.now()), () -> "history " + seed + ": " + c + ", rescans " + rescans
                    + ", scan-named " + scanNamed + "\n  plan " + plan);
            Set<String> paths = new HashSet<>();
            for (PathChange p : plan) {
                assertEquals(true, paths.add(p.path()), "two entries for " + p.path() + " in " + plan);
            }
        }
        assertTrue(tried > 1_000, "histories with files only a scan names: " + tried);
    }

    @Test
    void filesOnlyAScanNamesComeShallowFirstThenByPathAsTheirRecordsWould() {
        ScanNamedFiles scanNamed = new ScanNamedFiles(List.of(
                new ScanNamedFiles.Directory("/m/d", false, NameList.of("b", "c"), NameList.of("x")),
                new ScanNamedFiles.Directory("/m", false, NameList.of("z"), NameList.of("a", "e")),
                new ScanNamedFiles.Directory("/m/d/e", false, NameList.EMPTY, NameList.of("f"))));
        List<ResultPlanner.Item> items = List.of(
                new ResultPlanner.Item(null, "/m/d/a", false, true, true, false, false, false, 1),
                new ResultPlanner.Item("/m/d/y", "/m/d/y", false, true, false, false, false, false, 1));
        List<String> plan = ResultPlanner.plan(items, List.of(), List.of(), scanNamed).stream()
                .map(c -> c.kind().wireName() + " " + c.path()).toList();
        assertEquals(List.of("created /m/d/a", "created /m/z", "created /m/d/b", "created /m/d/c",
                "modified /m/a", "modified /m/d/e/f", "modified /m/d/x", "modified /m/e", "modified /m/d/y"), plan);
        List<ResultPlanner.Item> asItems = new ArrayList<>(items);
        asItems.add(new ResultPlanner.Item(null, "/m/z", false, true, true, false, false, false, 1));
        for (String p : List.of("/m/d/b", "/m/d/c")) {
            asItems.add(new ResultPlanner.Item(null, p, false, true, true, false, false, false, 1));
        }
        for (String p : List.of("/m/a", "/m/d/e/f", "/m/d/x", "/m/e")) {
            asItems.add(new ResultPlanner.Item(p, p, false, true, false, false, false, false, 1));
        }
        assertEquals(Set.copyOf(ResultPlanner.plan(asItems, List.of())), Set.copyOf(ResultPlanner.plan(items, List.of(), List.of(),
                scanNamed)), "the same entries as records would have");
        assertTrue(scanNamed.remove("/m/d/x"));
        assertEquals(false, scanNamed.contains("/m/d/x"), "taken out: another entry names it");
        assertEquals(6, scanNamed.size());

        ScanNamedFiles twice = new ScanNamedFiles(List.of(
                new ScanNamedFiles.Directory("/m/d", false, NameList.of("b"), NameList.of("x")),
                new ScanNamedFiles.Directory("/m/d/", false, NameList.of("c"), NameList.of("b", "y"))));
        assertEquals(List.of("created /m/d/b", "created /m/d/c", "modified /m/d/x", "modified /m/d/y"),
                ResultPlanner.plan(List.of(), List.of(), List.of(), twice).stream().map(c -> c.kind().wireName() + " " + c.path())
                        .toList(), "a directory scanned twice has the names of both, each once");
    }

    private static NameList sortedNames(List<String> names) {
        return names == null ? NameList.EMPTY : NameList.of(names.toArray(new String[0]));
    }

    /**
     * Histories that create, write and rename but remove nothing: wherever the plan without the view
     * is made (moves that collide with nothing), it is the general plan's, and the consumer applying
     * it ends with the file system's tree; and it is made for many of them, renames among them.
     */
    @Test
    void historiesWhoseMovesCollideWithNothingArePlannedAsTheGeneralPlannerWouldWithoutItsView(SplittableRandom random) {
        int planned = 0;
        int withRenames = 0;
        int histories = 20_000;
        for (int i = 0; i < histories; i++) {
            long seed = random.nextLong();
            SplittableRandom r = new SplittableRandom(seed);
            Histories.Case c = Histories.random(r, ROOT, Histories.NO_REMOVALS);
            List<ResultPlanner.Item> items = c.items().stream().map(it -> new ResultPlanner.Item(it.view(), it.now(),
                    it.directory(), it.changed(), it.created(), false, r.nextInt(8) == 0, r.nextInt(8) == 0, it.links())).toList();
            List<PathChange> plan = ResultPlanner.planWithoutView(items);
            if (plan == null) {
                continue;
            }
            planned++;
            withRenames += plan.stream().anyMatch(p -> p.kind() == PathChange.Kind.RENAMED) ? 1 : 0;
            assertEquals(ResultPlanner.planByDoing(items, List.of(), List.of()), plan, () -> "history " + seed + ": " + c);
            ModelTree consumer = c.view().copy();
            SequentialConsumer.apply(consumer, plan, c.now());
            assertNull(consumer.differenceFrom(c.now()), () -> "history " + seed + ": " + c + "\n  plan " + plan);
        }
        int p = planned;
        int w = withRenames;
        assertTrue(p > histories / 4 && w > histories / 20, () -> "planned without the view: " + p + " of " + histories
                + " histories, " + w + " with renames");
    }

    @Test
    void aMoveThatWaitsForAnotherOrARemovalTakesTheGeneralPlan() {
        ResultPlanner.Item moved = new ResultPlanner.Item("/m/a", "/m/b", false, false, false, false, false, false, 1);
        ResultPlanner.Item created = new ResultPlanner.Item(null, "/m/c", false, true, true, false, false, false, 1);
        ResultPlanner.Item below = new ResultPlanner.Item("/m/c/x", "/m/c/x", false, true, false, false, false, false, 1);
        assertEquals(List.of(new PathChange("/m/b", PathChange.Kind.RENAMED, "/m/a", false, false, false, 1, false)),
                ResultPlanner.planWithoutView(List.of(moved)), "a rename that collides with nothing");
        ResultPlanner.Item chained = new ResultPlanner.Item("/m/b", "/m/e", false, false, false, false, false, false, 1);
        assertNull(ResultPlanner.planWithoutView(List.of(moved, chained)), "a chain: /m/b must leave first");
        ResultPlanner.Item back = new ResultPlanner.Item("/m/b", "/m/a", false, false, false, false, false, false, 1);
        assertNull(ResultPlanner.planWithoutView(List.of(moved, back)), "a swap");
        ResultPlanner.Item takesTheName = new ResultPlanner.Item(null, "/m/a", false, true, true, false, false, false, 1);
        assertNull(ResultPlanner.planWithoutView(List.of(moved, takesTheName)), "a new file where a moved one was");
        ResultPlanner.Item movedDirectory = new ResultPlanner.Item("/m/d", "/m/f", true, false, false, false, false, false, 1);
        assertNull(ResultPlanner.planWithoutView(List.of(movedDirectory)), "a directory moves its subtree");
        ResultPlanner.Item newDirectory = new ResultPlanner.Item(null, "/m/n", true, true, true, false, false, false, 1);
        ResultPlanner.Item intoNew = new ResultPlanner.Item("/m/a", "/m/n/a", false, false, false, false, false, false, 1);
        assertNull(ResultPlanner.planWithoutView(List.of(newDirectory, intoNew)), "a file moved into a new directory");
        ResultPlanner.Item outOfNew = new ResultPlanner.Item("/m/n/a", "/m/a", false, false, false, false, false, false, 1);
        assertNull(ResultPlanner.planWithoutView(List.of(newDirectory, outOfNew)),
                "a file moved out of a directory that is new where the consumer has it (the looks disagree): the move comes first");
        ResultPlanner.Item other = new ResultPlanner.Item(null, "/m/e", true, false, true, false, false, false, 2);
        assertNull(ResultPlanner.planWithoutView(List.of(created, below)), "something stays below a new object");
        assertNull(ResultPlanner.planWithoutView(List.of(created, other, below)), "the same, with more new objects");
        assertNull(ResultPlanner.planWithoutView(List.of(created, created)), "two new objects at one path");
        assertNull(ResultPlanner.planWithoutView(List.of(below, below)), "two objects that stay at one path");
        ResultPlanner.Item stays = new ResultPlanner.Item("/m/c", "/m/c", false, true, false, false, false, false, 1);
        assertNull(ResultPlanner.planWithoutView(List.of(created, stays)), "a new object where one stays");
        assertNull(ResultPlanner.planWithoutView(List.of(created, other, stays)), "the same, with more new objects");
        assertNull(ResultPlanner.planWithoutView(List.of(moved, new ResultPlanner.Item("/m/b", "/m/b", false, true, false,
                false, false, false, 1))), "a move onto a name where one stays");
        assertEquals(List.of(new PathChange("/m/c", PathChange.Kind.CREATED, null, false, false, false, 1)),
                ResultPlanner.planWithoutView(List.of(created)));
    }

    /**
     * Removals apart from every other entry (a file made and removed beside a large rename) keep the
     * plan without the view: after the moves, in path order, once for a path, as the general plan puts
     * them; one at, above or below a path an item is at or was at, below another removal, or at or
     * below a file a scan names, takes the general plan.
     */
    @Test
    void removalsApartFromEveryOtherEntryComeAfterTheMovesAsTheGeneralPlanPutsThem() {
        ResultPlanner.Item moved = new ResultPlanner.Item("/m/a", "/m/b", false, false, false, false, false, false, 1);
        ResultPlanner.Item stays = new ResultPlanner.Item("/m/s/x", "/m/s/x", false, true, false, false, false, false, 1);
        List<ResultPlanner.Item> items = List.of(moved, stays);
        List<ResultPlanner.Removal> apart = List.of(new ResultPlanner.Removal("/m/gone2", false, false, false),
                new ResultPlanner.Removal("/m/gone1", false, true, false), new ResultPlanner.Removal("/m/gone1", true, false, false),
                new ResultPlanner.Removal("/m/t/old", true, false, true));
        List<PathChange> expected = List.of(new PathChange("/m/b", PathChange.Kind.RENAMED, "/m/a", false, false, false, 1, false),
                new PathChange("/m/gone1", PathChange.Kind.DELETED, null, false, true, false, 0),
                new PathChange("/m/gone2", PathChange.Kind.DELETED, null, false, false, false, 0),
                new PathChange("/m/t/old", PathChange.Kind.DELETED, null, true, false, true, 0),
                new PathChange("/m/s/x", PathChange.Kind.MODIFIED, null, false, false, false, 1));
        assertEquals(expected, ResultPlanner.withRemovalsApart(ResultPlanner.planWithoutView(items), items, apart, null));
        assertEquals(expected, ResultPlanner.planByDoing(items, apart, List.of()), "the general plan");
        assertEquals(expected, ResultPlanner.plan(items, apart, List.of()));
        for (String at : List.of("/m/a", "/m/b", "/m/s/x", "/m/s", "/m/b/y", "/m/s/x/y")) {
            List<ResultPlanner.Removal> touching = List.of(new ResultPlanner.Removal("/m/gone1", false, false, false),
                    new ResultPlanner.Removal(at, false, false, false));
            assertNull(ResultPlanner.withRemovalsApart(ResultPlanner.planWithoutView(items), items, touching, null), at);
        }
        List<ResultPlanner.Removal> nested = List.of(new ResultPlanner.Removal("/m/g", true, false, false),
                new ResultPlanner.Removal("/m/g/h", false, false, false));
        assertNull(ResultPlanner.withRemovalsApart(ResultPlanner.planWithoutView(items), items, nested, null), "one below another");
        assertEquals(ResultPlanner.planByDoing(items, nested, List.of()), ResultPlanner.plan(items, nested, List.of()));
        List<ResultPlanner.Removal> many = new ArrayList<>();
        for (int i = 0; i <= ResultPlanner.MAX_REMOVALS_APART; i++) {
            many.add(new ResultPlanner.Removal("/m/many/f" + i, false, false, false));
        }
        assertNull(ResultPlanner.withRemovalsApart(ResultPlanner.planWithoutView(items), items, many, null),
                "a large deletion: the general plan");
    }

    /** Random views and histories, and the items a tracker that knows exactly would hand the planner. */
    static final class Histories {
        record Case(ModelTree view, ModelTree now, List<ResultPlanner.Item> items, List<String> ops) {
            @Override
            public String toString() {
                return "view " + view + ", ops " + ops;
            }
        }

        private static final String[] NAMES = {"a", "b", "c", "d"};

        /** The kinds of operation of {@link #op}: creations and writes; and renames; and removals too (three renames to a removal). */
        static final int[] CREATIONS_AND_WRITES = {0, 1};
        static final int[] NO_REMOVALS = {0, 1, 3};
        static final int[] EVERY_KIND = {0, 1, 2, 3, 4, 5};

        static Case random(SplittableRandom r, String root) {
            return random(r, root, EVERY_KIND);
        }

        /** {@code removalsAndRenames} false: the history only creates files and directories and writes files. */
        static Case random(SplittableRandom r, String root, boolean removalsAndRenames) {
            return random(r, root, removalsAndRenames ? EVERY_KIND : CREATIONS_AND_WRITES);
        }

        /** A history of operations of the {@code kinds} given (see {@link #op}). */
        static Case random(SplittableRandom r, String root, int[] kinds) {
            ModelTree view = new ModelTree();
            int[] nextId = {view.fill(root, r, 2, 1, NAMES)};
            ModelTree now = view.copy();
            Set<Integer> touched = new HashSet<>();
            Set<Integer> written = new HashSet<>();
            List<String> ops = new ArrayList<>();
            int n = 1 + r.nextInt(Integer.getInteger("planner.ops", 8));
            for (int i = 0; i < n; i++) {
                op(now, root, r, nextId, touched, written, ops, kinds[r.nextInt(kinds.length)]);
            }
            return new Case(view, now, items(view, now, touched, written), ops);
        }

        private static void op(ModelTree t, String root, SplittableRandom r, int[] nextId, Set<Integer> touched,
                               Set<Integer> written, List<String> ops, int kind) {
            List<String> all = t.paths(root, false);
            List<String> dirs = t.paths(root, true);
            String newPath = dirs.get(r.nextInt(dirs.size())) + "/" + NAMES[r.nextInt(NAMES.length)];
            switch (kind) {
                case 0 -> { // create a file or a directory at a free name
                    if (t.get(newPath) == null) {
                        ModelTree.Node n = new ModelTree.Node(nextId[0]++, r.nextBoolean(), 0);
                        t.put(newPath, n);
                        touched.add(n.id());
                        ops.add("create " + newPath);
                    }
                }
                case 1 -> { // write a file
                    if (!all.isEmpty()) {
                        String p = all.get(r.nextInt(all.size()));
                        ModelTree.Node n = t.get(p);
                        if (!n.directory()) {
                            t.put(p, new ModelTree.Node(n.id(), false, n.version() + 1));
                            touched.add(n.id());
                            written.add(n.id());
                            ops.add("write " + p);
                        }
                    }
                }
                case 2 -> { // remove a file or a directory with its subtree
                    if (!all.isEmpty()) {
                        String p = all.get(r.nextInt(all.size()));
                        touched.add(t.get(p).id());
                        t.below(p).values().forEach(n -> touched.add(n.id()));
                        t.removeTree(p);
                        ops.add("remove " + p);
                    }
                }
                default -> { // rename, over a file or an empty directory as rename(2) allows
                    if (!all.isEmpty()) {
                        String from = all.get(r.nextInt(all.size()));
                        ModelTree.Node n = t.get(from);
                        ModelTree.Node there = t.get(newPath);
                        boolean intoItself = ModelTreeNames.isAtOrBelow(newPath, from);
                        boolean allowed = !intoItself && (there == null
                                || (there.directory() == n.directory() && (!there.directory() || t.below(newPath).isEmpty())));
                        if (allowed && !from.equals(newPath)) {
                            if (there != null) {
                                touched.add(there.id());
                            }
                            touched.add(n.id());
                            t.moveTree(from, newPath);
                            ops.add("rename " + from + " " + newPath);
                        }
                    }
                }
            }
        }

        /** The items for the objects {@code touched}: where the view has them, where they are now. */
        static List<ResultPlanner.Item> items(ModelTree view, ModelTree now, Set<Integer> touched, Set<Integer> written) {
            Map<Integer, String> viewPaths = new HashMap<>();
            Map<Integer, ModelTree.Node> nodes = new HashMap<>();
            view.byPath.forEach((p, n) -> {
                viewPaths.put(n.id(), p);
                nodes.put(n.id(), n);
            });
            Map<Integer, String> nowPaths = new HashMap<>();
            now.byPath.forEach((p, n) -> {
                nowPaths.put(n.id(), p);
                nodes.put(n.id(), n);
            });
            List<ResultPlanner.Item> items = new ArrayList<>();
            for (int id : touched) {
                String v = viewPaths.get(id);
                String w = nowPaths.get(id);
                if (v == null && w == null) {
                    continue; // new and gone again
                }
                ModelTree.Node n = nodes.get(id);
                boolean changed = written.contains(id);
                items.add(new ResultPlanner.Item(v, w, n.directory(), changed, v == null, false, false, false, 1));
            }
            return items;
        }
    }

    /** Path helpers shared with the planner. */
    static final class ModelTreeNames {
        static boolean isAtOrBelow(String path, String top) {
            return ResultPlanner.isAtOrBelow(path, top);
        }
    }
}
