package org.modtrack.source.linux;

/**
 * The Linux source's event counters since it started ({@link LinuxSource#eventCounts()}): what the
 * permission group asked for and how it was answered, what the notification group reported, and
 * what the source muted or recorded ahead to spare writers events.
 *
 * @param preContent permission events read (pre-content events, or opens alone with {@code open-perm})
 * @param reads permission events classified as reads; with directory records and {@code process}
 *     durability an event whose directory is recorded is not classified, and counts as neither
 *     read nor write (docs/linux-source.md, *Reads are not writes*)
 * @param writes permission events classified as writes
 * @param alreadyRecorded permission events whose file or directory was already recorded in the period
 * @param directoryRecords permission events recorded as their directory, a scope for all its
 *     children (directory records)
 * @param failures permission events that could not be recorded in time, answered by the failure policy
 * @param answeredAtDeadline of the failures, those answered by the deadline thread because they
 *     waited longer than the answer deadline
 * @param denied of the failures, those denied (fail-closed)
 * @param notification notification events read (creations, deletions, renames, attribute changes,
 *     and, where the notification group names content, writes)
 * @param notificationOverflows notification queue overflows
 * @param modifyMuted files whose {@code FAN_MODIFY} events were muted for the rest of a period
 * @param directoriesMuted directories whose events were muted for the rest of a period (results
 *     that name directories)
 * @param siblingScopes subdirectories recorded ahead of a walk through them
 *     ({@link LinuxSourceOptions#siblingScopes()})
 */
public record EventCounts(
        long preContent,
        long reads,
        long writes,
        long alreadyRecorded,
        long directoryRecords,
        long failures,
        long answeredAtDeadline,
        long denied,
        long notification,
        long notificationOverflows,
        long modifyMuted,
        long directoriesMuted,
        long siblingScopes) {

    /** The sum of every counter: it stays the same only while the source saw nothing at all. */
    public long total() {
        return preContent + reads + writes + alreadyRecorded + directoryRecords + failures + answeredAtDeadline
                + denied + notification + notificationOverflows + modifyMuted + directoriesMuted + siblingScopes;
    }
}
