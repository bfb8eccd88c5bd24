package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.modtrack.source.linux.EngineSteps.bless;
import static org.modtrack.source.linux.EngineSteps.query;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.TrackerCore;
import org.modtrack.engine.storage.DirectoryStorage;

/** How the resolver places objects whose lookups did not all see the same namespace. */
class ResultResolverTest {
    private static final String ROOT = "/m";
    @TempDir(factory = ResultContractTest.InMemoryWhereAvailable.class)
    Path state;

    /**
     * The records are looked up while names keep changing (on two threads, in batches), so two
     * objects can each be found at one path: B, renamed there from d/b, and then X, renamed over
     * it after the checkpoint (which freed B). The path holds one entry; the consumer's copy of B
     * at d/b must still go, or no later result names it: B's rename is blessed with this result,
     * and its freeing names nothing.
     */
    @Test
    void anObjectFoundWhereAnotherWasFoundLeavesNothingWhereTheConsumerHadIt() throws Exception {
        ModelTree fs = tree("/d/", "/d/b", "/x");
        ModelTree consumer = fs.copy();
        StaleLookups namespace = new StaleLookups(fs);
        ResultResolver resolver = new ResultResolver(namespace, Path.of(ROOT), true);
        withEngine(core -> {
            // X written, then B renamed to p: X is recorded first.
            fs.put(ROOT + "/x", new ModelTree.Node(4, false, 1));
            core.recordChange(ModelNamespace.id(4, ROOT + "/x"), Change.WRITTEN, null, false);
            move(core, fs, 3, ROOT + "/d/b", ROOT + "/p", false);
            QueryResult first = query(core);
            // B was looked up at p; then X is renamed over it (an event of the next period), and
            // X's lookup, after that, finds it at p too.
            namespace.stale.put(3, ROOT + "/p");
            move(core, fs, 4, ROOT + "/x", ROOT + "/p", false);
            core.recordFreed(ModelNamespace.id(3, ROOT + "/p"));
            LinuxResult r1 = resolver.resolve(first);
            SequentialConsumer.apply(consumer, r1.changes(), fs);
            bless(core, first);
            namespace.stale.clear();

            applyNext(resolver, core, consumer, fs, r1.changes() + " and ");
        });
    }

    /**
     * A directory recorded for its own change (a chmod) and renamed after the checkpoint, before
     * the result is made: the consumer has it, with its files, where its record says. Read where it
     * is now and removed where the consumer had it, it would lose its files (a directory's read is
     * its own attributes), and no later result names them: the rename that follows only moves what
     * the consumer was told is there.
     */
    @Test
    void aDirectoryRenamedAfterTheCheckpointIsMovedWithItsFiles() throws Exception {
        ModelTree fs = tree("/a/", "/a/b/", "/a/b/f", "/c/");
        ModelTree consumer = fs.copy();
        ResultResolver resolver = resolverOf(fs);
        withEngine(core -> {
            chmod(core, fs, ROOT + "/a/b");
            QueryResult first = query(core);
            move(core, fs, 3, ROOT + "/a/b", ROOT + "/c/b", true); // after the checkpoint: the next period's record
            LinuxResult r1 = resolver.resolve(first);
            applyAndCompare(consumer, r1, fs, "");
            bless(core, first);

            applyNext(resolver, core, consumer, fs, r1.changes() + " and ");
        });
    }

    /**
     * A directory recorded for its own change (a chmod) whose parent is renamed after the result is
     * made, before the consumer gets to its entry: the consumer finds nothing there and forgets it,
     * with its files (docs/protocol.md: a path that is gone when you get to it). The next result,
     * which moves the parent, must read that directory whole where it is now: read for its own
     * attributes again, it would come back without its files.
     */
    @Test
    void aDirectoryReadForItselfAndMovedAwayBeforeTheConsumerGotToItIsReadWholeNextTime() throws Exception {
        movedAwayBeforeTheConsumerGotToIt(tree("/c/", "/c/a/", "/c/a/f"), ROOT + "/d", false);
    }

    /**
     * A file written in a directory that is renamed after the checkpoint, before the result is made:
     * the result names the file where it is now, below the directory's new name, and the next
     * result starts from there. When the directory moves back before that next result, the name it
     * had in between is removed, and the file with it; the file has no record any more (its write
     * was blessed), so it must be read again where it is, or no result names it.
     */
    @Test
    void aFilePutBelowANameItsDirectoryHadOnlyForAWhileIsReadAgainWhenThatNameIsRemoved() throws Exception {
        ModelTree fs = tree("/b/", "/b/a/", "/b/a/d");
        ModelTree consumer = fs.copy();
        ResultResolver resolver = resolverOf(fs);
        withEngine(core -> {
            fs.put(ROOT + "/b/a/d", new ModelTree.Node(4, false, 1));
            core.recordChange(ModelNamespace.id(4, ROOT + "/b/a/d"), Change.WRITTEN, null, false);
            QueryResult first = query(core);
            move(core, fs, 3, ROOT + "/b/a", ROOT + "/c", true); // after the checkpoint: the next period's record
            LinuxResult r1 = resolver.resolve(first);
            SequentialConsumer.apply(consumer, r1.changes(), fs);
            bless(core, first);
            move(core, fs, 3, ROOT + "/c", ROOT + "/b/a", true);

            applyNext(resolver, core, consumer, fs, r1.changes() + " and ");
        });
    }

    /**
     * As {@link #aDirectoryReadForItselfAndMovedAwayBeforeTheConsumerGotToItIsReadWholeNextTime}, for
     * a file, with the result after it neither applied nor blessed: the consumer goes back to the
     * view the first left, without the file it found gone, and the result after that must still
     * read it where the move put it. So a small result's reads are kept for the result after the
     * next, as where it put objects is.
     */
    @Test
    void aFileMovedAwayBeforeTheConsumerGotToItIsReadAgainWhenTheNextResultIsNotBlessed() throws Exception {
        movedAwayBeforeTheConsumerGotToIt(tree("/c/", "/c/a", "/d/"), ROOT + "/d/b", true);
    }

    /**
     * A chmod of c/a is the first result; c (number 2) is renamed to {@code to} after that result is
     * made, before the consumer applies it; the consumer blesses it. The next result, or with
     * {@code nextUnapplied} the one after it (the next neither applied nor blessed), must leave the
     * consumer with what the file system has.
     */
    private void movedAwayBeforeTheConsumerGotToIt(ModelTree fs, String to, boolean nextUnapplied) throws Exception {
        ModelTree consumer = fs.copy();
        ResultResolver resolver = resolverOf(fs);
        withEngine(core -> {
            chmod(core, fs, ROOT + "/c/a");
            QueryResult first = query(core);
            LinuxResult r1 = resolver.resolve(first);
            move(core, fs, 2, ROOT + "/c", to, true);
            SequentialConsumer.apply(consumer, r1.changes(), fs);
            bless(core, first);
            String before = r1.changes() + " and ";
            if (nextUnapplied) {
                before = r1.changes() + ", " + resolver.resolve(query(core)).changes() + " not applied, and ";
            }
            applyNext(resolver, core, consumer, fs, before);
        });
    }

    /**
     * A consumer that applies a renamed directory's entry again after a stop (it applied it before)
     * has nothing at its {@code from}, so it reads the directory whole, and with it a directory made
     * there after the checkpoint. When that one is removed again before the next result, its
     * removal must be named: the consumer has it.
     */
    @Test
    void anObjectMadeAndRemovedBelowADirectoryReadWholeByARenameAppliedTwiceIsRemoved() throws Exception {
        ModelTree fs = tree("/c/", "/c/f");
        ModelTree consumer = fs.copy();
        ResultResolver resolver = resolverOf(fs);
        withEngine(core -> {
            move(core, fs, 2, ROOT + "/c", ROOT + "/a", true);
            QueryResult first = query(core);
            LinuxResult r1 = resolver.resolve(first);
            SequentialConsumer.apply(consumer, r1.changes(), fs);
            fs.put(ROOT + "/a/b", new ModelTree.Node(4, true, 0)); // after the checkpoint
            core.recordChange(ModelNamespace.id(4, ROOT + "/a/b"), Change.CREATED, null, true);
            SequentialConsumer.apply(consumer, r1.changes(), fs); // applied again, after a stop
            bless(core, first);
            fs.removeTree(ROOT + "/a/b");
            core.recordChange(ModelNamespace.id(4, ROOT + "/a/b"), Change.DELETED, null, true);
            core.recordFreed(ModelNamespace.id(4, ROOT + "/a/b"));

            applyNext(resolver, core, consumer, fs, r1.changes() + " twice and ");
        });
    }

    /**
     * A path the consumer is told to read whole (here a mount point whose mount went away) while two
     * directories swap names: one of them was looked up before the swap (the lookups run while names
     * change), its file after it, below the path read whole, which names it. The consumer reads the
     * other directory's files there. The next result swaps the two back in the consumer's view; a
     * move to that path would put over what it read what the consumer has of the other directory,
     * and the file would be lost. Both targets of the swap are read whole again.
     */
    @Test
    void aPathReadWholeDuringASwapIsReadAgainWhereTheSwapMovesTheNames() throws Exception {
        ModelTree fs = tree("/a/", "/a/hidden");
        StaleLookups namespace = new StaleLookups(fs);
        // Another file system mounted on a, hiding what it holds: its root is number 10.
        Map<String, ModelTree.Node> hidden = new HashMap<>(fs.below(ROOT + "/a"));
        ModelTree.Node covered = fs.get(ROOT + "/a");
        fs.removeTree(ROOT + "/a");
        fs.put(ROOT + "/a", new ModelTree.Node(10, true, 0));
        fs.put(ROOT + "/a/m", new ModelTree.Node(11, false, 0));
        namespace.now.mounts(List.of(new MountAliases.Mount(ROOT + "/a", 100, "/", true)));
        ModelTree consumer = fs.copy();
        ResultResolver resolver = new ResultResolver(namespace, Path.of(ROOT), true);
        withEngine(core -> {
            QueryResult zero = query(core);
            applyAndCompare(consumer, resolver.resolve(zero), fs, "");
            bless(core, zero);

            fs.put(ROOT + "/b", new ModelTree.Node(20, true, 0));
            core.recordChange(ModelNamespace.id(20, ROOT + "/b"), Change.CREATED, null, true);
            fs.put(ROOT + "/b/f", new ModelTree.Node(21, false, 0));
            core.recordChange(ModelNamespace.id(21, ROOT + "/b/f"), Change.CREATED, null, false);
            QueryResult first = query(core);
            fs.removeTree(ROOT + "/a"); // unmounted: a shows what it hid again
            fs.put(ROOT + "/a", covered);
            hidden.forEach(fs::put);
            namespace.now.mounts(List.of());
            // b is looked up at b; then b and a swap names, and b's file is looked up at a/f.
            namespace.stale.put(20, ROOT + "/b");
            move(core, fs, 20, ROOT + "/b", ROOT + "/t", true);
            move(core, fs, covered.id(), ROOT + "/a", ROOT + "/b", true);
            move(core, fs, 20, ROOT + "/t", ROOT + "/a", true);
            LinuxResult r1 = resolver.resolve(first);
            namespace.stale.clear();
            SequentialConsumer.apply(consumer, r1.changes(), fs);
            bless(core, first);

            applyNext(resolver, core, consumer, fs, r1.changes() + " and ");
        });
    }

    /**
     * A file renamed after the records were frozen is put where it is now, and the next result
     * starts from there (its records still say its old name). A consumer that does not bless that
     * next result, and is back at the view it blessed, must get the one after it from there too.
     */
    @Test
    void aConsumerThatDidNotBlessTheNewestResultGetsTheNextFromWhereItsBlessedOnePutObjects() throws Exception {
        ModelTree fs = tree("/b");
        ModelTree consumer = fs.copy();
        ResultResolver resolver = resolverOf(fs);
        withEngine(core -> {
            chmod(core, fs, ROOT + "/b");
            QueryResult first = query(core);
            move(core, fs, 2, ROOT + "/b", ROOT + "/d", false); // after the checkpoint: the next period's record
            LinuxResult r1 = resolver.resolve(first);
            applyAndCompare(consumer, r1, fs, "");
            bless(core, first);

            move(core, fs, 2, ROOT + "/d", ROOT + "/b", false);
            LinuxResult r2 = resolver.resolve(query(core)); // neither applied nor blessed

            LinuxResult r3 = resolver.resolve(query(core));
            applyAndCompare(consumer, r3, fs, r1.changes() + ", " + r2.changes() + " not applied, and ");
        });
    }

    /**
     * A tree of the root (number 1) and {@code paths} below it, numbered from 2 in order; a path
     * that ends with a slash is a directory.
     */
    private static ModelTree tree(String... paths) {
        ModelTree fs = new ModelTree();
        fs.put(ROOT, new ModelTree.Node(1, true, 0));
        int id = 2;
        for (String p : paths) {
            boolean directory = p.endsWith("/");
            fs.put(ROOT + (directory ? p.substring(0, p.length() - 1) : p), new ModelTree.Node(id++, directory, 0));
        }
        return fs;
    }

    /** Changes the attributes of what is at {@code path} in {@code fs}, and records it as the notification group would. */
    private static void chmod(TrackerCore core, ModelTree fs, String path) throws IOException {
        ModelTree.Node n = fs.get(path);
        fs.put(path, new ModelTree.Node(n.id(), n.directory(), n.version() + 1));
        core.recordChange(ModelNamespace.id(n.id(), path), Change.ATTRIBUTES, null, n.directory());
    }

    /** Renames {@code from} to {@code to} in {@code fs}, and records it as the notification group would. */
    private static void move(TrackerCore core, ModelTree fs, int id, String from, String to, boolean directory) throws IOException {
        fs.moveTree(from, to);
        core.recordChange(ModelNamespace.id(id, to), Change.RENAMED, from, directory);
    }

    /** Runs {@code steps} on a new engine whose state is {@link #state}, and closes it. */
    private void withEngine(Steps steps) throws Exception {
        try (DirectoryStorage storage = DirectoryStorage.open(state)) {
            TrackerCore core = EngineSteps.open(storage);
            try {
                steps.run(core);
            } finally {
                core.close();
            }
        }
    }

    /** What a test does with the engine. */
    private interface Steps {
        void run(TrackerCore core) throws Exception;
    }

    /** A resolver of results of {@code fs}, which names files one by one. */
    private static ResultResolver resolverOf(ModelTree fs) {
        return new ResultResolver(new ModelNamespace(fs, ROOT), Path.of(ROOT), true);
    }

    /** Resolves the next result of {@code core} and applies it as {@link #applyAndCompare} does, after {@code before}. */
    private static void applyNext(ResultResolver resolver, TrackerCore core, ModelTree consumer, ModelTree fs, String before)
            throws IOException {
        applyAndCompare(consumer, resolver.resolve(query(core)), fs, before);
    }

    /** Applies {@code r} as a consumer that follows docs/protocol.md does, and checks that it then has what the file system has. */
    private static void applyAndCompare(ModelTree consumer, LinuxResult r, ModelTree fs, String before) {
        SequentialConsumer.apply(consumer, r.changes(), fs);
        assertEquals(null, consumer.differenceFrom(fs), "after " + before + r.changes() + ": consumer " + consumer
                + ", file system " + fs);
    }

    /** A model namespace that finds the objects in {@link #stale} where they were when they were looked up. */
    private static final class StaleLookups implements Namespace {
        final Map<Integer, String> stale = new HashMap<>();
        private final ModelNamespace now;

        StaleLookups(ModelTree fs) {
            this.now = new ModelNamespace(fs, ROOT);
        }

        @Override
        public Where locate(ChangedFile c) {
            String then = stale.get(ModelNamespace.idOf(c.file()));
            return then != null ? new Where(then, false, c.directory(), 1, null) : now.locate(c);
        }

        @Override
        public Occupant at(String path) {
            return now.at(path);
        }

        @Override
        public String mountPoint() {
            return ROOT;
        }

        @Override
        public MountAliases.Table mountsInside() {
            return now.mountsInside();
        }
    }
}
