package org.modtrack.source.linux;

import java.io.IOException;
import java.util.List;
import org.modtrack.engine.BlessException;
import org.modtrack.engine.CheckpointSteps;
import org.modtrack.engine.Durability;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.engine.TrackerCore;
import org.modtrack.engine.storage.DirectoryStorage;

/** The engine's query and bless run in the test's own thread, one step after another, on a {@link TrackerCore}. */
final class EngineSteps {
    /** No lock: the tests that use these run the engine on one thread. */
    static final CheckpointSteps.Locked DIRECT = new CheckpointSteps.Locked() {
        @Override
        public <T> T call(CheckpointSteps.IoCallable<T> body) throws IOException {
            return body.call();
        }
    };

    private EngineSteps() {}

    /** The engine over {@code storage}, as these tests run it: no sync (the model is the file system), small snapshots. */
    static TrackerCore open(DirectoryStorage storage) throws IOException {
        return TrackerCore.open(storage, TrackerConfig.defaults().withDurability(Durability.PROCESS).withSnapshotBytes(4096, 1 << 20));
    }

    /** A checkpoint and its result for the default consumer, with nothing in flight. */
    static QueryResult query(TrackerCore core) throws IOException {
        CheckpointSteps.begin(core, DIRECT, "default", 0);
        TrackerCore.Finished finished = CheckpointSteps.close(core, DIRECT, List.of(), 0);
        return CheckpointSteps.issue(core, DIRECT, lsn -> { }, finished);
    }

    static void bless(TrackerCore core, QueryResult r) throws IOException, BlessException {
        CheckpointSteps.bless(core, DIRECT, "default", r.snapshot(), 0);
    }
}
