package org.modtrack.engine;

/**
 * Decides whether a result may be made now, once its query has counted the records it would be made
 * of: trackers that share one heap (a daemon's roots, several consumers of one root) admit their
 * results through one admission, so that the results made and sent at once fit the heap together,
 * not only each alone ({@link TrackerConfig#maxResultRecords()} bounds each alone).
 *
 * <p>The tracker calls it on the thread that queries, after the checkpoint closed and before
 * anything of the result is made or issued, with its control lock held (a bless waits for it: an
 * admission should not wait long); a refusal ends the query as one too large for
 * {@link TrackerConfig#maxResultRecords()} does: nothing is lost, and the records come in the next
 * result. What the admission holds for an admitted result, and when it lets it go, is its
 * caller's business (the daemon holds it until the result is sent).
 */
@FunctionalInterface
public interface ResultAdmission {
    /** Admits every result at once. */
    ResultAdmission ALL = (records, weight) -> { };

    /**
     * Admits a result of {@code records} records, which count for {@code weight} (a record with
     * names counting twice, as for {@link TrackerConfig#maxResultRecords()}), or refuses it.
     *
     * @throws ResultTooLargeException to refuse it; nothing was lost
     */
    void admit(long records, long weight) throws ResultTooLargeException;
}
