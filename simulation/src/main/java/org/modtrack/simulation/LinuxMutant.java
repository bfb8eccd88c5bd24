package org.modtrack.simulation;

import java.util.Arrays;
import org.modtrack.simulation.Variant.Granularity;

/**
 * Deliberate bugs in the simulator's model of the Linux source (not in the engine): each breaks one
 * rule the source must keep (docs/correctness.md, "What a source must guarantee"). They live here
 * because the rules live in the source's kernel-facing code ({@code IgnoreMarks}, {@code
 * SyscallBarrier}, {@code AlwaysWritable}, {@code NotificationListener}, {@code ResultResolver},
 * {@code LinuxSource.close}), which the simulator models rather than runs. Where the rule is one of
 * the source's pure decisions ({@code org.modtrack.source.linux.rules}), the model calls it and the
 * mutant overrides its answer (the epoch rule's marks and mutes, the carry of open writers); the
 * others break a step of the model. {@code bin/modtrack simulate --model linux --mutant NAME} must
 * report violations for each.
 */
public enum LinuxMutant {
    /** No bug. */
    NONE("none", Granularity.DIRECTORY),
    /** The handler sets its file's ignore mark even if a checkpoint flushed the marks after it began recording. */
    MARK_AFTER_FLUSH("mark-after-flush", Granularity.FILE),
    /** The barrier does not carry files mapped shared and writable into the new period. */
    NO_CARRY_MAPPINGS("no-carry-mappings", Granularity.FILE),
    /**
     * The barrier looks at the files mapped shared and writable when the checkpoint flushes the
     * marks, not when its wait ends: the mapping an {@code mmap} it waits for makes is not carried.
     */
    MAPPINGS_AT_FLUSH("mappings-at-flush", Granularity.FILE),
    /** The barrier does not wait for threads that were inside a write-family call at the flush. */
    BARRIER_IGNORES_IN_CALL("barrier-ignores-in-call", Granularity.FILE),
    /** A query builds its result without draining the notification queue. */
    NO_DRAIN("no-drain", Granularity.DIRECTORY),
    /** When continuity is lost, the recorded directories are not reported as rescans. */
    SCOPES_DROPPED_ON_LOSS("scopes-dropped-on-loss", Granularity.DIRECTORY),
    /** A clean stop stores its watermark without draining the notification queue first. */
    STOP_WITHOUT_DRAIN("stop-without-drain", Granularity.DIRECTORY),
    /**
     * The handler sets its directory's ignore mark even if a checkpoint flushed the marks after it
     * began recording. Masked in this model, so no test expects it caught: the directory was busy
     * when the checkpoint began, so the checkpoint recorded it ahead into the new period anyway, and
     * a child's write under the stale mark still queues its MODIFY, whose loss to an overflow or a
     * crash the walk by ctime covers (no violation in 300,000 schedules from seed 1; 14 in 50,000
     * when overflows were rescans).
     */
    DIR_MARK_AFTER_FLUSH("dir-mark-after-flush", Granularity.DIRECTORY),
    /**
     * A clean stop does not record the files mapped shared and writable (the real {@code
     * LinuxSource.close} today): a store before the stop, its mapping removed while no tracker runs,
     * is named by nothing after a restart that the watermark proves no gap.
     */
    STOP_FORGETS_MAPPINGS("stop-forgets-mappings", Granularity.DIRECTORY),
    /**
     * Results that name directories: the notification reader mutes the directory it recorded even if
     * a checkpoint flushed the marks after it read the epoch, so a mute earned in one period silences
     * the next one's changes, which nothing records.
     */
    DIR_MUTE_AFTER_FLUSH("dir-mute-after-flush", Granularity.DIRECTORY_RESULTS),
    /**
     * Results that name directories: the notification reader takes a directory the pre-content
     * handler recorded as a scope in the period for recorded, so it mutes the directory without
     * recording it as written; an intact result leaves the scope out, and nothing lists it.
     */
    MUTE_WITHOUT_RECORD("mute-without-record", Granularity.DIRECTORY_RESULTS),
    /**
     * Results that name directories: the checkpoint's flush removes the pre-content marks but not the
     * notification group's mutes, which then silence the next period.
     */
    FLUSH_KEEPS_MUTES("flush-keeps-mutes", Granularity.DIRECTORY_RESULTS),
    /** A directory recorded ahead of a walk ({@code SiblingScopes}) is marked even if a checkpoint flushed the marks since its record began. */
    SIBLING_MARK_AFTER_FLUSH("sibling-mark-after-flush", Granularity.DIRECTORY_WALKS),
    /**
     * A result's checkpoint time ({@code CheckpointTimes}) is taken when the result is issued, not
     * before its checkpoint began: a write during the checkpoint whose notification event a crash
     * dropped is older than the watermark, and the walk after the restart misses it.
     */
    LATE_WATERMARK("late-watermark", Granularity.DIRECTORY),
    /**
     * After a queue overflow the query walks the files but lets the checkpoint finish before the
     * walk, so the walk's records miss the result whose checkpoint the overflow's writes preceded.
     */
    WALK_AFTER_RESULT("walk-after-result", Granularity.DIRECTORY),
    /**
     * Opens as the only permission events, with file records: the barrier does not carry the files
     * open for writing into the new period, so a write through a descriptor opened in an earlier
     * period has no record made before it (its notification event, if any, comes after the fact).
     */
    NO_CARRY_OPEN_WRITERS("no-carry-open-writers", Granularity.FILE, true),
    /**
     * A kept queue: the tracker that takes the group over does not record the event its dead
     * predecessor had taken off the queue and not recorded ({@code Handover}'s leftover), so a
     * change the consumer has no other record of is named by nothing.
     */
    SKIP_HANDOVER("skip-handover", Granularity.DIRECTORY, false, true),
    /**
     * A kept queue: a tracker that takes the group over says no gap although its predecessor had
     * taken an overflow off the queue and not yet walked ({@code Handover}'s pending walk), so what
     * the dropped events would have named is never found.
     */
    TAKEOVER_DESPITE_PENDING_WALK("takeover-despite-pending-walk", Granularity.DIRECTORY, false, true),
    /**
     * A kept queue, results that name directories: the tracker that takes the group over keeps the
     * mutes its dead predecessor set ({@code LinuxSource} flushes them). Masked in this model, so no
     * test expects it caught: a mute still set was set in the predecessor's open period, after its
     * record of the directory (the order {@code mute-without-record} breaks); that period is blessed
     * by nobody, so every consumer's next result lists the directory, after a checkpoint whose
     * flush ends the mute, and the listing shows what the mute silenced (no violation in 100,000
     * schedules from seed 1, nor from seed 424242 with two consumers). The source flushes them all
     * the same: it cannot vouch for marks it did not set.
     */
    TAKEOVER_KEEPS_MUTES("takeover-keeps-mutes", Granularity.DIRECTORY_RESULTS, false, true),
    /**
     * Files named by a scan: the scan starts from the time the consumer's last blessed result was
     * returned, not the time taken before that result's checkpoint began ({@code CheckpointTimes},
     * {@code LinuxSource.scanFor}). A child written during that checkpoint, after its drain began,
     * whose event is read only once the result's records are frozen, is named by that result
     * neither by a record nor by its scan (its directory is recorded in the next period), and its
     * ctime is older than the late time, so the next result's scan leaves it out. Rare at random,
     * since in the model a result's scan and its return are one step: 0 violations in 10,000
     * schedules from seed 1, 10 in 100,000 (the first at seed 19,589); {@code LinuxModelTest}
     * counts from seed 19,000 and replays a directed schedule.
     */
    SCAN_LATE_WATERMARK("scan-late-watermark", Granularity.DIRECTORY_SCAN),
    /**
     * Files named by a scan, two consumers: the scan starts from the newest last blessed checkpoint
     * time of any consumer instead of the querying consumer's own ({@code QueryResult.lastBlessed}).
     * A consumer that blessed an older result than another gets the directories recorded in the
     * periods between, and the scan leaves out the children written in those periods (2 violations
     * in 10,000 schedules from seed 1, the first at seed 3,784).
     */
    SCAN_ANOTHER_CONSUMERS_WATERMARK("scan-another-consumers-watermark", Granularity.DIRECTORY_SCAN, false, false, 2),
    /**
     * After a reboot the power lease made trusted, a directory scope recorded before it is scanned
     * by ctime like any other ({@code RebootRule.scanFiltersByCtime} answers true): a child written
     * under the scope's mark whose new ctime the power loss did not keep is named by nothing.
     */
    REBOOT_SCAN_BY_CTIME("reboot-scan-by-ctime", Granularity.DIRECTORY_SCAN, false, true),
    /**
     * A clean stop leaves the power lease standing: the writes made while no tracker runs have only
     * their ctimes, which a power loss may undo, and the lease makes the start after it trust a
     * walk. (The model restarts a crashed tracker at once, so the same rule at a crash, the keeper's
     * removal, has no window here to break.)
     */
    LEASE_KEPT_AT_STOP("lease-kept-at-stop", Granularity.DIRECTORY_SCAN, false, true),
    /**
     * The power lease is written before the start's walk and without waiting for its records to be
     * durable: a power loss before they are loses what the walk found, and the next start trusts a
     * walk that the loss may have undone (ctimes not committed).
     */
    LEASE_BEFORE_WALK("lease-before-walk", Granularity.DIRECTORY_SCAN, false, true);

    private final String cliName;
    private final Granularity granularity;
    private final boolean opensOnly;
    private final boolean keptQueue;
    private final int consumersToShow;

    LinuxMutant(String cliName, Granularity granularity) {
        this(cliName, granularity, false);
    }

    LinuxMutant(String cliName, Granularity granularity, boolean opensOnly) {
        this(cliName, granularity, opensOnly, false);
    }

    LinuxMutant(String cliName, Granularity granularity, boolean opensOnly, boolean keptQueue) {
        this(cliName, granularity, opensOnly, keptQueue, 1);
    }

    LinuxMutant(String cliName, Granularity granularity, boolean opensOnly, boolean keptQueue, int consumersToShow) {
        this.cliName = cliName;
        this.granularity = granularity;
        this.opensOnly = opensOnly;
        this.keptQueue = keptQueue;
        this.consumersToShow = consumersToShow;
    }

    /** How many consumers a simulation needs for this bug to show (1: any; its default on the command line). */
    public int consumersToShow() {
        return consumersToShow;
    }

    /** Whether the rule this mutant breaks is one of a kept queue's takeover (its default on the command line). */
    public boolean keptQueue() {
        return keptQueue;
    }

    /** Whether the rule this mutant breaks is one of opens as the only permission events (its default on the command line). */
    public boolean opensOnly() {
        return opensOnly;
    }

    /** The name used on the command line, for example {@code mark-after-flush}. */
    public String cliName() {
        return cliName;
    }

    /** The granularity whose rule this mutant breaks (its default granularity on the command line). */
    public Granularity granularity() {
        return granularity;
    }

    /** The mutant named {@code name} on the command line, or null if none is. */
    public static LinuxMutant fromCliNameOrNull(String name) {
        return Arrays.stream(values()).filter(m -> m.cliName.equals(name)).findFirst().orElse(null);
    }
}
