package org.modtrack.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.modtrack.engine.Durability;
import org.modtrack.engine.Mutant;
import org.modtrack.simulation.SimulatedStorage.CrashKind;

/**
 * The simulator finds no violation in the real engine, and finds every built-in mutant: the
 * evidence that it would notice a broken barrier, an early discard, a missing sync, or ignore marks
 * kept across a checkpoint.
 */
class SimulatorTest {
    // New on every run, so that the suite keeps exploring schedules it has not seen; printed, and
    // named in every failure, so that a run that finds something can be replayed.
    private static final long SEED = Long.getLong("modtrack.seed", System.nanoTime() & 0xFFFF_FFFFL);

    @BeforeAll
    static void printSeed() {
        System.out.println("SimulatorTest: seed " + SEED + " (replay with -Dmodtrack.seed=" + SEED + ")");
    }

    @Test
    void randomSchedulesWithThreeConsumersFindNoViolation() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Simulator.Summary s = Simulator.run(SEED, 3_000, Variant.inProcess(Mutant.NONE).withConsumers(3),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        assertEquals(0, s.violations(), "seed " + SEED + " (reproduce: bin/modtrack simulate --schedules 3000 --consumers 3 --seed "
                + SEED + ")\n" + out.toString(StandardCharsets.UTF_8));
        long dropped = 0;
        for (long seed = SEED; seed < SEED + 300; seed++) {
            dropped += Simulator.runRandom(seed, Variant.inProcess(Mutant.NONE).withConsumers(3)).world().log().stream()
                    .filter(line -> line.contains("continuity lost (dropped)")).count();
        }
        assertTrue(dropped > 0, "consumers that stop blessing are dropped in some of 300 schedules from seed " + SEED);
    }

    @Test
    void randomSchedulesFindNoViolation() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Simulator.Summary s = Simulator.run(SEED, 3_000, Mutant.NONE, new PrintStream(out, true, StandardCharsets.UTF_8));
        assertEquals(0, s.violations(), "seed " + SEED + " (reproduce: bin/modtrack simulate --schedules 3000 --seed "
                + SEED + ")\n" + out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void randomSchedulesWithBoundedResultsFindNoViolation() {
        // A quarter of the scenarios bound a result's records: refused results, the writes and
        // queries after them, and the tracker's restart with the raised bound are checked.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Simulator.Summary s = Simulator.run(SEED, 3_000, Variant.inProcess(Mutant.NONE).withBoundedResults(true),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        assertEquals(0, s.violations(), "seed " + SEED + " (reproduce: bin/modtrack simulate --schedules 3000 --bounded-results"
                + " --seed " + SEED + ")\n" + out.toString(StandardCharsets.UTF_8));
        assertTrue(s.refusedResults() > 0, "some results are refused in 3,000 schedules from seed " + SEED);
    }

    @ParameterizedTest
    @EnumSource(value = Mutant.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void everyMutantIsCaughtWithinTenThousandSchedules(Mutant mutant) {
        OptionalLong failing = Simulator.firstFailure(SEED, 10_000, mutant);
        assertTrue(failing.isPresent(), mutant.cliName() + " survived 10,000 schedules from seed " + SEED
                + " (bin/modtrack simulate --schedules 10000 --seed " + SEED + " --mutant " + mutant.cliName() + ")");
    }

    @Test
    void aScheduleReplaysExactlyFromItsSeed() {
        for (long seed = SEED; seed < SEED + 50; seed++) {
            Simulator.Outcome a = Simulator.runRandom(seed, Mutant.NONE);
            Simulator.Outcome b = Simulator.runRandom(seed, Mutant.NONE);
            assertEquals(a.world().log(), b.world().log(), "seed " + seed);
            World replayed = Simulator.replay(a.scenario(), a.steps());
            assertEquals(a.world().log(), replayed.log(), "replaying the recorded steps, seed " + seed);
        }
    }

    @Test
    void aFailingScheduleShrinksToAShorterOneThatStillFails() {
        long failing = Simulator.firstFailure(SEED, 10_000, Mutant.SKIP_BARRIER).orElseThrow();
        Simulator.Outcome o = Simulator.runRandom(failing, Mutant.SKIP_BARRIER);
        List<Step> shortest = Simulator.shrink(o.scenario(), o.steps());
        assertTrue(shortest.size() <= o.steps().size());
        assertFalse(Simulator.replay(o.scenario(), shortest).violations().isEmpty(), "seed " + failing);
        assertTrue(shortest.size() <= 12, "a broken barrier needs only a few steps to show: " + shortest + " (seed " + failing + ")");
    }

    @ParameterizedTest
    @EnumSource(Durability.class)
    void theBoundedExhaustiveSearchFindsNoViolation(Durability durability) {
        ExhaustiveSearch.Result r = ExhaustiveSearch.run(Scenario.exhaustive(durability, Mutant.NONE), Long.MAX_VALUE);
        assertEquals(0, r.violations(), String.join("\n", r.firstFailure()));
        assertTrue(r.schedules() > 100_000, "the search covered " + r.schedules() + " schedules");
    }

    // The bounded search has one consumer and results of any size; a bug that needs two consumers
    // or a refused result to show is left to the random schedules
    // (everyMutantIsCaughtWithinTenThousandSchedules runs it with the consumers it needs).
    @ParameterizedTest
    @EnumSource(value = Mutant.class, names = {"NONE", "RESULT_FROM_NEWEST_BLESS", "CONSUMER_FROM_NEXT_PERIOD", "REFUSAL_KEEPS_FREEZE"},
            mode = EnumSource.Mode.EXCLUDE)
    void theBoundedExhaustiveSearchCatchesEveryMutant(Mutant mutant) {
        // no-sync only matters where a sync is owed: power durability.
        ExhaustiveSearch.Result r = ExhaustiveSearch.run(Scenario.exhaustive(Durability.POWER, mutant), Long.MAX_VALUE, true);
        assertEquals(1, r.violations(), mutant.cliName() + " survived " + r.schedules() + " schedules");
    }

    /**
     * Four random schedules (seeds 523337149, 523319108 and 523319517 of a run from 523317860, and
     * 111611 of a run from 99991) that lost a change, shrunk. Each writer's intent is still waiting
     * for its sync when the checkpoint times out, so the query carries the file; a group commit
     * starts after the carry was appended and takes it; the query issues its result while that
     * commit still runs; a writer writes; the power fails before the commit ends. The journal used
     * to count an empty group commit (the query's own, with nothing left to take) as proof that
     * every record appended before it was durable, so the query issued its result on an unsynced
     * carry and writers went ahead on unsynced intents. Now a record is acknowledged only when every
     * group commit up to the one that took it has completed, and a query waits for a running one.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void aResultIsIssuedOnlyAfterTheGroupCommitHoldingItsCarryCompletes(int which) {
        Scenario scenario;
        List<Step> steps;
        switch (which) {
            case 0 -> { // seed 523337149
                scenario = powerScenario(2, 4, false, 98);
                steps = List.of(new Step.Begin(1, 1), new Step.QueryBegin(0), new Step.Tick(126), new Step.QueryClose(),
                        new Step.SyncStart(), new Step.QueryFinish(true), new Step.Data(1),
                        new Step.Crash(CrashKind.POWER, -4010685012716790769L), new Step.Bless(0));
            }
            case 1 -> { // seed 523319108: another writer's intent, taken by the same commit, was let through
                scenario = powerScenario(3, 4, true, 216);
                steps = List.of(new Step.Begin(2, 1), new Step.QueryBegin(0), new Step.Tick(275), new Step.QueryClose(),
                        new Step.Begin(1, 2), new Step.SyncStart(), new Step.QueryFinish(true), new Step.Data(1),
                        new Step.Crash(CrashKind.POWER, 4431896479432656164L));
            }
            case 2 -> { // seed 523319517: the power fails during the bless
                scenario = powerScenario(2, 4, false, 79);
                steps = List.of(new Step.Begin(1, 1), new Step.QueryBegin(0), new Step.Tick(72), new Step.Tick(66),
                        new Step.ArmCrash(CrashKind.POWER, 9, -949000864230950713L), new Step.QueryClose(),
                        new Step.SyncStart(), new Step.QueryFinish(true), new Step.Data(1), new Step.Bless(0));
            }
            default -> { // seed 111611
                scenario = powerScenario(4, 5, true, 34);
                steps = List.of(new Step.Begin(0, 1), new Step.QueryBegin(0), new Step.Tick(45), new Step.QueryClose(),
                        new Step.Begin(3, 2), new Step.SyncStart(), new Step.QueryFinish(true), new Step.Data(3),
                        new Step.Crash(CrashKind.POWER, -2880970719570424944L));
            }
        }
        World world = new World(scenario);
        for (Step step : steps) {
            if (step instanceof Step.Crash || step instanceof Step.ArmCrash) {
                // From here on the steps need not all be possible: an armed crash may strike earlier than it did.
                world.apply(step);
                continue;
            }
            if (!world.possible(step)) {
                assertTrue(world.log().stream().anyMatch(l -> l.contains("crash strikes")),
                        "step '" + step + "' is not possible\n" + String.join("\n", world.log()));
                continue;
            }
            world.apply(step);
        }
        world.drainAndCheck();
        String log = String.join("\n", world.log());
        assertTrue(world.violations().isEmpty(), log);
        assertTrue(log.contains("after the running group commit completes, result 2 [1(carried)]"), log);
    }

    /** A schedule's shape as {@link Scenario#random} drew it: power durability, in-process writers. */
    private static Scenario powerScenario(int writers, int files, boolean handles, long barrierTimeout) {
        return new Scenario(Durability.POWER, writers, files, handles, barrierTimeout, 200, -1, -1, 3, 2, true, true,
                Mutant.NONE, false, LinuxMutant.NONE, -1, Variant.Granularity.FILE, 1, 3, 0, true, false);
    }

    /**
     * The exhaustive search of carries (split group commits and queries) covers a carry, a group
     * commit running across the result's issue, a crash and a bless: with the engine as it is it
     * finds nothing, and it catches a query that issues its result before its carries are durable.
     */
    @Test
    void theCarrySearchFindsNoViolationAndCatchesAnEarlyIssue() {
        for (Durability d : Durability.values()) {
            ExhaustiveSearch.Result r = ExhaustiveSearch.run(Scenario.exhaustiveCarry(d, Mutant.NONE), Long.MAX_VALUE);
            assertEquals(0, r.violations(), String.join("\n", r.firstFailure()));
        }
        ExhaustiveSearch.Result r = ExhaustiveSearch.run(Scenario.exhaustiveCarry(Durability.POWER, Mutant.ISSUE_BEFORE_CARRY_DURABLE),
                Long.MAX_VALUE, true);
        assertEquals(1, r.violations(), "issue-before-carry-durable survived " + r.schedules() + " schedules");
    }
}
