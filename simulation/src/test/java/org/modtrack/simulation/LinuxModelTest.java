package org.modtrack.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.Durability;
import org.modtrack.engine.Mutant;
import org.modtrack.testing.Seeded;

/**
 * The Linux model ({@link LinuxKernel}): threads whose write calls raise pre-content events unless
 * ignore-marked, marks set by the epoch rule and flushed at every checkpoint, the {@code srcu}
 * barrier, shared writable mappings, the tracker's crashes while writers keep running. The real
 * engine under it misses nothing; each model mutant is caught.
 */
@ExtendWith(Seeded.class)
class LinuxModelTest {
    @Test
    void randomSchedulesFindNoViolation(SplittableRandom random) {
        long seed = random.nextLong(1L << 32);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Simulator.Summary s = Simulator.run(seed, 2_000, Variant.linux(Mutant.NONE, LinuxMutant.NONE),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        assertEquals(0, s.violations(), "seed " + seed + " (reproduce: bin/modtrack simulate --model linux --schedules 2000 --seed "
                + seed + ")\n" + out.toString(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @EnumSource(value = LinuxMutant.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void everyModelMutantIsCaughtWithinTenThousandSchedules(LinuxMutant mutant, SplittableRandom random) {
        long seed = random.nextLong(1L << 32);
        OptionalLong failing = Simulator.firstFailure(seed, 10_000, Variant.linux(Mutant.NONE, mutant));
        assertTrue(failing.isPresent(), mutant.cliName() + " survived 10,000 schedules from seed " + seed);
    }

    @Test
    void aScheduleReplaysExactlyFromItsSeed(SplittableRandom random) {
        long first = random.nextLong(1L << 32);
        Variant linux = Variant.linux(Mutant.NONE, LinuxMutant.NONE);
        for (long seed = first; seed < first + 50; seed++) {
            Simulator.Outcome a = Simulator.runRandom(seed, linux);
            assertEquals(a.world().log(), Simulator.runRandom(seed, linux).world().log(), "seed " + seed);
            assertEquals(a.world().log(), Simulator.replay(a.scenario(), a.steps()).log(), "replaying, seed " + seed);
        }
    }

    @ParameterizedTest
    @EnumSource(Durability.class)
    void theBoundedExhaustiveSearchFindsNoViolation(Durability durability) {
        ExhaustiveSearch.Result r = ExhaustiveSearch.run(Scenario.exhaustiveLinux(durability, Mutant.NONE, LinuxMutant.NONE),
                Long.MAX_VALUE);
        assertEquals(0, r.violations(), String.join("\n", r.firstFailure()));
        assertTrue(r.schedules() > 10_000, "the search covered " + r.schedules() + " schedules");
    }

    @ParameterizedTest
    @EnumSource(value = LinuxMutant.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void theBoundedExhaustiveSearchCatchesEveryModelMutant(LinuxMutant mutant) {
        ExhaustiveSearch.Result r = ExhaustiveSearch.run(Scenario.exhaustiveLinux(Durability.POWER, Mutant.NONE, mutant),
                Long.MAX_VALUE, true);
        assertEquals(1, r.violations(), mutant.cliName() + " survived " + r.schedules() + " schedules");
    }
}
