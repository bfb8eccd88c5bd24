package org.modtrack.engine;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The answer to {@link ChangeTracker#query()}: every file recorded since the last result its consumer blessed.
 *
 * @param consumer the consumer it was made for
 * @param snapshot the id to {@link ChangeTracker#bless} once the consumer has acted on this result
 * @param lastBlessed the id of the last result that consumer blessed (0 if none)
 * @param recovered true if the result holds records made before an unclean stop of the tracker
 * @param continuity whether the result may be trusted to be complete
 * @param changes the files, each once, in no particular order
 * @param barrier which barrier the checkpoint used
 * @param barrierWait how long the checkpoint waited for writes in progress
 */
public record QueryResult(
        String consumer,
        long snapshot,
        long lastBlessed,
        boolean recovered,
        Continuity continuity,
        List<ChangedFile> changes,
        String barrier,
        Duration barrierWait) {

    public QueryResult {
        Objects.requireNonNull(consumer, "consumer");
        changes = List.copyOf(changes);
    }

    /** How many files were carried into the new period because their writes were still in progress. */
    public long carriedCount() {
        return changes.stream().filter(ChangedFile::carried).count();
    }
}
