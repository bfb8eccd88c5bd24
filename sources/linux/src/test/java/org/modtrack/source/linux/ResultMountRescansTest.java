package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modtrack.source.linux.EngineSteps.bless;
import static org.modtrack.source.linux.EngineSteps.query;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.TrackerCore;
import org.modtrack.engine.storage.DirectoryStorage;

/** The rescans a result holds for the mounts inside the tree, over results blessed and not. */
class ResultMountRescansTest {
    private static final String ROOT = "/m";
    @TempDir(factory = ResultContractTest.InMemoryWhereAvailable.class)
    Path state;

    /**
     * Mounts that keep coming at new points while the consumer blesses nothing are each rescanned
     * until a blessed result; past the bound on the points remembered, the whole tree is, until the
     * consumer blesses the newest result.
     */
    @Test
    void mountPointsSinceTheBlessedResultAreRescannedUntilTheBoundThenTheTree() throws Exception {
        onAModelTree((namespace, resolver, core) -> {
            namespace.mounts(List.of(new MountAliases.Mount(ROOT + "/a", 10, "/", true)));
            QueryResult first = query(core);
            assertEquals(Set.of(ROOT + "/a"), rescans(resolver.resolve(first)), "another file system: rescanned");
            bless(core, first);
            assertEquals(Set.of(ROOT + "/a"), rescans(resolver.resolve(query(core))), "in every result");

            namespace.mounts(List.of(new MountAliases.Mount(ROOT + "/b", 11, "/", false)));
            assertEquals(Set.of(ROOT + "/a", ROOT + "/b"), rescans(resolver.resolve(query(core))),
                    "not blessed: the points of every result since the blessed one, and the new one");
            int batch = 1_000;
            for (int from = 0; from < ResultResolver.MAX_MOUNT_POINTS_SINCE_BLESSED; from += batch) {
                List<MountAliases.Mount> mounts = new ArrayList<>();
                for (int i = from; i < from + batch; i++) {
                    mounts.add(new MountAliases.Mount(ROOT + "/c" + i, 100 + i, "/", true));
                }
                namespace.mounts(mounts);
                resolver.resolve(query(core));
            }
            namespace.mounts(List.of());
            QueryResult past = query(core);
            assertEquals(Set.of(ROOT), rescans(resolver.resolve(past)), "past the bound: the whole tree");
            bless(core, past);
            QueryResult after = query(core);
            assertEquals(Set.of(), rescans(resolver.resolve(after)), "the newest result blessed, nothing mounted");
        });
    }

    /**
     * A bind mount replaced by one of another directory at the same point gets the id the first one
     * freed: the point is rescanned because what it shows differs, and a mount that shows the same
     * as at the blessed result is not.
     */
    @Test
    void aMountAtTheSamePointWithTheSameIdShowingAnotherDirectoryIsRescanned() throws Exception {
        onAModelTree((namespace, resolver, core) -> {
            namespace.mounts(List.of(new MountAliases.Mount(ROOT + "/x", 45, "/other", false)));
            QueryResult first = query(core);
            assertEquals(Set.of(ROOT + "/x"), rescans(resolver.resolve(first)), "the first result after a start");
            bless(core, first);
            QueryResult same = query(core);
            assertEquals(Set.of(), rescans(resolver.resolve(same)), "the same mount, showing the same directory");
            bless(core, same);
            namespace.mounts(List.of(new MountAliases.Mount(ROOT + "/x", 45, "/other2", false)));
            assertEquals(Set.of(ROOT + "/x"), rescans(resolver.resolve(query(core))), "another directory, the same id");
        });
    }

    /** What a test does with a resolver over a model tree of the root alone, and the engine it resolves results of. */
    private interface Steps {
        void run(ModelNamespace namespace, ResultResolver resolver, TrackerCore core) throws Exception;
    }

    private void onAModelTree(Steps steps) throws Exception {
        ModelTree fs = new ModelTree();
        fs.put(ROOT, new ModelTree.Node(1, true, 0));
        ModelNamespace namespace = new ModelNamespace(fs, ROOT);
        ResultResolver resolver = new ResultResolver(namespace, Path.of(ROOT), true);
        try (DirectoryStorage storage = DirectoryStorage.open(state)) {
            TrackerCore core = EngineSteps.open(storage);
            try {
                steps.run(namespace, resolver, core);
            } finally {
                core.close();
            }
        }
    }

    private static Set<String> rescans(LinuxResult r) {
        Set<String> out = new TreeSet<>();
        for (PathChange c : r.changes()) {
            assertTrue(c.kind() == PathChange.Kind.RESCAN, c.toString());
            out.add(c.path());
        }
        return out;
    }
}
