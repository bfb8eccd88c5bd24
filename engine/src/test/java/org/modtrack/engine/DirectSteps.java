package org.modtrack.engine;

import java.io.IOException;
import java.util.List;

/** {@link CheckpointSteps} on a {@link TrackerCore} driven by one test thread: no lock, nothing to wait for. */
final class DirectSteps {
    private DirectSteps() {}

    static final CheckpointSteps.Locked DIRECT = new CheckpointSteps.Locked() {
        @Override
        public <T> T call(CheckpointSteps.IoCallable<T> body) throws IOException {
            return body.call();
        }
    };

    /** A whole query: begins a checkpoint, ends it and issues its result. */
    static QueryResult query(TrackerCore core) throws IOException {
        CheckpointSteps.begin(core, DIRECT, "default", 0);
        return CheckpointSteps.finish(core, DIRECT, lsn -> { }, List.of(), 0);
    }
}
