package org.modtrack.source.linux;

import java.time.Duration;

/**
 * How the changes made while no tracker watched were found, when a walk found them (after an
 * unclean stop, or writes while the tracker was stopped, in the same boot): every file and directory
 * whose ctime is at or after the watermark is in the result, directories as {@code list} entries.
 *
 * @param reason why the walk ran (what made the changes unseen)
 * @param watermarkNanos the wall-clock nanoseconds (since the epoch) changes were looked for from:
 *     the last blessed result's checkpoint, less a margin
 * @param directories directories the walk read
 * @param entries entries it statted
 * @param listed directories whose entries changed since the watermark
 * @param files files, symbolic links and special files changed since the watermark
 * @param took how long the walk and its records took
 */
public record Reconciled(String reason, long watermarkNanos, long directories, long entries, long listed, long files,
                         Duration took) {}
