package org.modtrack.source.linux;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.modtrack.engine.Continuity;

/**
 * The answer to {@link LinuxSource#query()}: the engine's result, with every file named by its
 * current path.
 *
 * @param consumer the consumer it was made for
 * @param snapshot the id to {@link LinuxSource#bless} once the consumer has acted on this result
 * @param lastBlessed the id of the last result that consumer blessed (0 if none)
 * @param recovered true if the result holds records made before an unclean stop
 * @param continuity whether the result names every change; when lost, its reason says what to rescan
 * @param changes the changed paths, sorted by path
 * @param barrier the barrier the checkpoint used
 * @param barrierWait how long the checkpoint waited for writes in progress
 * @param readOnlyDropped files recorded only because they were read, whose status shows no change
 *     since: left out of {@code changes}
 * @param readOnlyReported files recorded only as read but reported anyway (status changed, or the
 *     record predates an unclean stop): the false positives reads cost
 * @param reconciled how what changed while no tracker watched was found, if a walk found it (the
 *     changes name it, and continuity is intact); null otherwise
 * @param listsByName whether a {@link PathChange.Kind#LIST} entry asks only for the directory's
 *     names to be compared: every file, link or special file below it whose contents or attributes
 *     changed has an entry of its own (false with results that name directories, whose listings
 *     stand for their files' changes)
 */
public record LinuxResult(String consumer, long snapshot, long lastBlessed, boolean recovered, Continuity continuity,
                          List<PathChange> changes, String barrier, Duration barrierWait, int readOnlyDropped,
                          int readOnlyReported, Reconciled reconciled, boolean listsByName) {
    public LinuxResult {
        changes = changes instanceof ResultEntries ? changes : List.copyOf(changes); // unmodifiable, and made as read
    }

    /** Gives {@code sink} every entry of {@link #changes}, in order, as the result keeps it. */
    public void forEachEntry(EntrySink sink) throws IOException {
        ResultEntries.forEach(changes, sink);
    }

    /** How many of {@link #changes} are files only a scan names (kept as their names in their directories' arrays). */
    public int scanNamedEntries() {
        return changes instanceof ResultEntries r ? r.scanNamed().size() : 0;
    }

    /** This result, saying how a walk found what changed while no tracker watched. */
    LinuxResult withReconciled(Reconciled how) {
        return new LinuxResult(consumer, snapshot, lastBlessed, recovered, continuity, changes, barrier, barrierWait, readOnlyDropped,
                readOnlyReported, how, listsByName);
    }
}
