package org.modtrack.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.modtrack.engine.Durability;
import org.modtrack.engine.Mutant;

/**
 * The simulator finds no violation in the real engine, and finds every built-in mutant: the
 * evidence that it would notice a broken barrier, an early discard, a missing sync, or ignore marks
 * kept across a checkpoint.
 */
class SimulatorTest {
    private static final long SEED = Long.getLong("modtrack.seed", System.nanoTime() & 0xFFFF_FFFFL);

    @Test
    void randomSchedulesFindNoViolation() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Simulator.Summary s = Simulator.run(SEED, 3_000, Mutant.NONE, new PrintStream(out, true, StandardCharsets.UTF_8));
        assertEquals(0, s.violations(), "seed " + SEED + " (reproduce: bin/modtrack simulate --schedules 3000 --seed "
                + SEED + ")\n" + out.toString(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @EnumSource(value = Mutant.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void everyMutantIsCaughtWithinTenThousandSchedules(Mutant mutant) {
        OptionalLong failing = Simulator.firstFailure(SEED, 10_000, mutant);
        assertTrue(failing.isPresent(), mutant.cliName() + " survived 10,000 schedules from seed " + SEED);
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

    @ParameterizedTest
    @EnumSource(value = Mutant.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void theBoundedExhaustiveSearchCatchesEveryMutant(Mutant mutant) {
        // no-sync only matters where a sync is owed: power durability.
        ExhaustiveSearch.Result r = ExhaustiveSearch.run(Scenario.exhaustive(Durability.POWER, mutant), Long.MAX_VALUE, true);
        assertEquals(1, r.violations(), mutant.cliName() + " survived " + r.schedules() + " schedules");
    }
}
