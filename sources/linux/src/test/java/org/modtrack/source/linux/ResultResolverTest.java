package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.modtrack.source.linux.EngineSteps.bless;
import static org.modtrack.source.linux.EngineSteps.query;

import java.nio.file.Path;
import java.util.HashMap;
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
        ModelTree fs = new ModelTree();
        fs.put(ROOT, new ModelTree.Node(1, true, 0));
        fs.put(ROOT + "/d", new ModelTree.Node(2, true, 0));
        fs.put(ROOT + "/d/b", new ModelTree.Node(3, false, 0));
        fs.put(ROOT + "/x", new ModelTree.Node(4, false, 0));
        ModelTree consumer = fs.copy();
        StaleLookups namespace = new StaleLookups(fs);
        ResultResolver resolver = new ResultResolver(namespace, Path.of(ROOT), true);
        try (DirectoryStorage storage = DirectoryStorage.open(state)) {
            TrackerCore core = EngineSteps.open(storage);
            try {
                // X written, then B renamed to p: X is recorded first.
                fs.put(ROOT + "/x", new ModelTree.Node(4, false, 1));
                core.recordChange(ModelNamespace.id(4, ROOT + "/x"), Change.WRITTEN, null, false);
                fs.moveTree(ROOT + "/d/b", ROOT + "/p");
                core.recordChange(ModelNamespace.id(3, ROOT + "/p"), Change.RENAMED, ROOT + "/d/b", false);
                QueryResult first = query(core);
                // B was looked up at p; then X is renamed over it (an event of the next period), and
                // X's lookup, after that, finds it at p too.
                namespace.stale.put(3, ROOT + "/p");
                fs.moveTree(ROOT + "/x", ROOT + "/p");
                core.recordChange(ModelNamespace.id(4, ROOT + "/p"), Change.RENAMED, ROOT + "/x", false);
                core.recordFreed(ModelNamespace.id(3, ROOT + "/p"));
                LinuxResult r1 = resolver.resolve(first);
                SequentialConsumer.apply(consumer, r1.changes(), fs);
                bless(core, first);
                namespace.stale.clear();

                LinuxResult r2 = resolver.resolve(query(core));
                SequentialConsumer.apply(consumer, r2.changes(), fs);
                assertEquals(null, consumer.differenceFrom(fs), "after " + r1.changes() + " and " + r2.changes()
                        + ": consumer " + consumer + ", file system " + fs);
            } finally {
                core.close();
            }
        }
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
            return then != null ? new Where(then, false, false, 1, null) : now.locate(c);
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
