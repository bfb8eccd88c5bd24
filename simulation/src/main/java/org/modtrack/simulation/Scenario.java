package org.modtrack.simulation;

import java.util.SplittableRandom;
import org.modtrack.engine.Durability;
import org.modtrack.engine.Mutant;

/**
 * The fixed shape of one schedule: how many writers and files, which durability, the barrier
 * timeout, and budgets that bound how often each kind of event may happen.
 *
 * @param durability the tracker's durability
 * @param writers concurrent writers
 * @param files files they write
 * @param handleIdentities whether files are named by handle (as a kernel source does) or by path
 * @param barrierTimeoutNanos the checkpoint's barrier timeout, in simulated nanoseconds
 * @param steps how many random steps before the final drain
 * @param maxBeginsPerWriter write episodes per writer (-1: unbounded)
 * @param maxQueries queries before the final drain (-1: unbounded)
 * @param maxCrashes crashes (-1: unbounded)
 * @param maxDies writers that die between preWrite and postWrite
 * @param badBlesses whether invalid blesses are tried
 * @param armedCrashes whether crashes may strike inside storage operations
 * @param mutant the deliberate bug under test, if any
 */
record Scenario(
        Durability durability,
        int writers,
        int files,
        boolean handleIdentities,
        long barrierTimeoutNanos,
        int steps,
        int maxBeginsPerWriter,
        int maxQueries,
        int maxCrashes,
        int maxDies,
        boolean badBlesses,
        boolean armedCrashes,
        Mutant mutant) {

    /** A random scenario: the random search's shape for one schedule. */
    static Scenario random(long seed, Mutant mutant) {
        SplittableRandom r = new SplittableRandom(seed);
        return new Scenario(
                r.nextBoolean() ? Durability.POWER : Durability.PROCESS,
                1 + r.nextInt(4),
                1 + r.nextInt(5),
                r.nextBoolean(),
                20 + r.nextInt(200),
                10 + r.nextInt(150),
                -1, -1,
                r.nextInt(4),
                r.nextInt(3),
                true,
                true,
                mutant);
    }

    /** The bounded exhaustive search: 2 writers, 2 files, one query/bless cycle, one crash point. */
    static Scenario exhaustive(Durability durability, Mutant mutant) {
        return new Scenario(durability, 2, 2, false, 100, Integer.MAX_VALUE, 1, 1, 1, 0, false, false, mutant);
    }

    String describe() {
        return durability.name().toLowerCase() + " durability, " + writers + " writers, " + files + " files ("
                + (handleIdentities ? "handle" : "path") + " identities), barrier timeout " + barrierTimeoutNanos
                + (mutant == Mutant.NONE ? "" : ", mutant " + mutant.cliName());
    }
}
