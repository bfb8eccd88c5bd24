package org.modtrack.engine;

import java.util.Arrays;

/**
 * Deliberate bugs, each breaking one rule the protocol depends on. They exist so that the simulator
 * can prove it would notice: {@code bin/modtrack simulate --mutant NAME} must report violations.
 * Only the simulator sets one, through {@link TrackerCore#open(org.modtrack.engine.storage.Storage,
 * TrackerConfig, Mutant)}; no {@link TrackerConfig} carries one.
 */
public enum Mutant {
    /** No bug. */
    NONE("none"),
    /** The query does not wait for the closing period's writes in progress. */
    SKIP_BARRIER("skip-barrier"),
    /** The closing period is dropped when the query returns, before the consumer blessed it. */
    DISCARD_BEFORE_BLESS("discard-before-bless"),
    /** In {@link Durability#POWER} mode, preWrite returns before the record is synced. */
    NO_SYNC("no-sync"),
    /** The "already recorded" state is not reset at a checkpoint (kernel ignore marks kept). */
    KEEP_IGNORE_MARKS("keep-ignore-marks"),
    /**
     * A query issues its result before the records that carry writes still in flight into the new
     * period are acknowledged, so a bless of it can discard a write's only durable record.
     */
    ISSUE_BEFORE_CARRY_DURABLE("issue-before-carry-durable"),
    /**
     * A consumer's result leaves out what it has not blessed but the consumer that blessed last
     * has: one consumer's bless takes changes from the others.
     */
    RESULT_FROM_NEWEST_BLESS("result-from-newest-bless", 2),
    /**
     * A consumer added later starts after the open period instead of with it, so a write recorded
     * in that period before the add, whose data lands after the consumer read everything, is in
     * none of its results.
     */
    CONSUMER_FROM_NEXT_PERIOD("consumer-from-next-period", 2),
    /**
     * A result refused as too large ({@link ResultTooLargeException}) does not end the freeze of the
     * records it was to be made of, so what writers recorded meanwhile is lost from the table.
     */
    REFUSAL_KEEPS_FREEZE("refusal-keeps-freeze", 1, true);

    private final String cliName;
    private final int consumersToShow;
    private final boolean boundedResultsToShow;

    Mutant(String cliName) {
        this(cliName, 1);
    }

    Mutant(String cliName, int consumersToShow) {
        this(cliName, consumersToShow, false);
    }

    Mutant(String cliName, int consumersToShow, boolean boundedResultsToShow) {
        this.cliName = cliName;
        this.consumersToShow = consumersToShow;
        this.boundedResultsToShow = boundedResultsToShow;
    }

    /** How many consumers a simulation needs for this bug to show (1: any). */
    public int consumersToShow() {
        return consumersToShow;
    }

    /** Whether this bug shows only where results are refused ({@link TrackerConfig#maxResultRecords()}). */
    public boolean boundedResultsToShow() {
        return boundedResultsToShow;
    }

    /** The name used on the command line, for example {@code skip-barrier}. */
    public String cliName() {
        return cliName;
    }

    /** The mutant named {@code name} on the command line. */
    public static Mutant fromCliName(String name) {
        return Arrays.stream(values()).filter(m -> m.cliName.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown mutant '" + name + "'; known: "
                        + Arrays.stream(values()).map(Mutant::cliName).toList() + "."));
    }
}
