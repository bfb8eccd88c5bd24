package org.modtrack.simulation;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.modtrack.engine.Durability;
import org.modtrack.engine.Mutant;

/**
 * Runs random schedules against the real engine over a simulated disk, and reports the shortest
 * failing schedule it can find.
 *
 * <p>Schedule {@code i} of a run with seed {@code S} uses seed {@code S + i} for everything (its
 * scenario and every step), so {@code --schedules 1 --seed S+i} replays it alone.
 */
public final class Simulator {
    /** Replays tried while shrinking one failing schedule. */
    private static final int SHRINK_BUDGET = 3_000;

    private Simulator() {}

    /**
     * What a run found.
     *
     * @param schedules schedules run
     * @param violations schedules in which the invariant (or another check) failed
     * @param falsePositives files named by results that had not changed since the consumer's last copy
     * @param refusedResults results refused as larger than the bound on a result's records
     *     ({@link Scenario#resultBound()})
     */
    public record Summary(long schedules, long violations, long falsePositives, long refusedResults) {
        /** The one line the command ends with. */
        public String line() {
            return "schedules=" + schedules + " violations=" + violations + " falsePositives=" + falsePositives
                    + " refusedResults=" + refusedResults;
        }
    }

    /** One schedule: its shape, the steps it took, and the world they left. */
    record Outcome(long seed, Scenario scenario, List<Step> steps, World world) {
        boolean failed() {
            return !world.violations().isEmpty();
        }
    }

    /**
     * Runs {@code schedules} random schedules from {@code seed}, printing every failure (the first
     * one shrunk, with its steps) to {@code out}.
     */
    public static Summary run(long seed, long schedules, Mutant mutant, PrintStream out) {
        return run(seed, schedules, Variant.inProcess(mutant), out);
    }

    /** Like {@link #run(long, long, Mutant, PrintStream)}, for any model and mutant. */
    public static Summary run(long seed, long schedules, Variant variant, PrintStream out) {
        long violations = 0;
        long falsePositives = 0;
        long refused = 0;
        for (long i = 0; i < schedules; i++) {
            Outcome o = runRandom(seed + i, variant);
            falsePositives += o.world().falsePositives();
            refused += o.world().refusedResults();
            if (o.failed()) {
                violations++;
                report(o, variant, violations == 1, out);
            }
        }
        return new Summary(schedules, violations, falsePositives, refused);
    }

    /**
     * Runs the bounded exhaustive searches (2 writers, 2 files, one query/bless cycle, one crash
     * point, every interleaving up to renaming writers and files; and {@link Scenario#exhaustiveCarry})
     * for both durabilities, printing the first failure of each.
     */
    public static Summary exhaustive(Mutant mutant, long limitPerDurability, PrintStream out) {
        return exhaustive(Variant.inProcess(mutant), limitPerDurability, out);
    }

    /**
     * The bounded exhaustive search of {@code variant}: for the Linux model, {@link
     * Scenario#exhaustiveLinux} (1 thread, 1 file, two calls, one store, one query/bless cycle; with
     * directory records a one-event notification queue).
     */
    public static Summary exhaustive(Variant variant, long limitPerDurability, PrintStream out) {
        long schedules = 0;
        long violations = 0;
        for (Durability d : Durability.values()) {
            List<Scenario> scenarios = variant.linux()
                    ? List.of(Scenario.exhaustiveLinux(d, variant.mutant(), variant.linuxMutant(), variant.granularity(),
                            variant.opensOnly()))
                    : List.of(Scenario.exhaustive(d, variant.mutant()), Scenario.exhaustiveCarry(d, variant.mutant()));
            for (Scenario scenario : scenarios) {
                ExhaustiveSearch.Result r = ExhaustiveSearch.run(scenario, limitPerDurability);
                out.println(d.name().toLowerCase() + " durability" + (scenario.splitSteps() ? ", carries" : "") + ": "
                        + r.schedules() + " schedules, " + r.violations() + " violations");
                if (!r.firstFailure().isEmpty()) {
                    out.println("  first failing schedule:");
                    r.firstFailure().forEach(line -> out.println("    " + line));
                }
                schedules += r.schedules();
                violations += r.violations();
            }
        }
        return new Summary(schedules, violations, 0, 0);
    }

    /**
     * The seed of the first of {@code schedules} random schedules from {@code seed} that fails, if
     * any: how the test suite proves a mutant is caught without running every schedule.
     */
    public static OptionalLong firstFailure(long seed, long schedules, Mutant mutant) {
        return firstFailure(seed, schedules, Variant.inProcess(mutant));
    }

    /** Like {@link #firstFailure(long, long, Mutant)}, for any model and mutant. */
    public static OptionalLong firstFailure(long seed, long schedules, Variant variant) {
        for (long i = 0; i < schedules; i++) {
            if (runRandom(seed + i, variant).failed()) {
                return OptionalLong.of(seed + i);
            }
        }
        return OptionalLong.empty();
    }

    /** Runs the random schedule of {@code scheduleSeed}. */
    static Outcome runRandom(long scheduleSeed, Mutant mutant) {
        return runRandom(scheduleSeed, Variant.inProcess(mutant));
    }

    /** Runs the random schedule of {@code scheduleSeed} in {@code variant}. */
    static Outcome runRandom(long scheduleSeed, Variant variant) {
        Scenario scenario = Scenario.random(scheduleSeed, variant);
        SplittableRandom random = new SplittableRandom(scheduleSeed * 0x9E3779B97F4A7C15L + 1);
        World world = new World(scenario);
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < scenario.steps() && !world.broken(); i++) {
            List<Step> enabled = world.enabledSteps(random);
            if (enabled.isEmpty()) {
                break;
            }
            Step step = pick(enabled, random);
            steps.add(step);
            world.apply(step);
        }
        world.drainAndCheck();
        return new Outcome(scheduleSeed, scenario, steps, world);
    }

    /** Replays {@code steps} in a new world, skipping steps that are not possible. */
    static World replay(Scenario scenario, List<Step> steps) {
        World world = new World(scenario);
        for (Step s : steps) {
            if (world.possible(s)) {
                world.apply(s);
            }
        }
        world.drainAndCheck();
        return world;
    }

    /** Removes chunks of steps, halving the chunk size, for as long as the schedule still fails. */
    static List<Step> shrink(Scenario scenario, List<Step> steps) {
        List<Step> best = steps;
        int tries = 0;
        for (int chunk = Math.max(1, best.size() / 2); chunk >= 1 && tries < SHRINK_BUDGET; chunk /= 2) {
            boolean progress = true;
            while (progress && tries < SHRINK_BUDGET) {
                progress = false;
                int i = 0;
                while (i + chunk <= best.size() && tries < SHRINK_BUDGET) {
                    List<Step> candidate = new ArrayList<>(best.subList(0, i));
                    candidate.addAll(best.subList(i + chunk, best.size()));
                    tries++;
                    if (!replay(scenario, candidate).violations().isEmpty()) {
                        best = candidate;
                        progress = true;
                    } else {
                        i += chunk;
                    }
                }
            }
            if (chunk == 1) {
                break;
            }
        }
        return best;
    }

    private static void report(Outcome o, Variant variant, boolean shrinkIt, PrintStream out) {
        String replay = "bin/modtrack simulate --schedules 1 --seed " + o.seed() + variant.options();
        out.println("schedule with seed " + o.seed() + " VIOLATED: " + o.world().violations().getFirst());
        if (!shrinkIt) {
            out.println("  (replay: " + replay + ")");
            return;
        }
        List<Step> shortest = shrink(o.scenario(), o.steps());
        World again = replay(o.scenario(), shortest);
        out.println("  scenario: " + o.scenario().describe());
        out.println("  shortest failing schedule found: " + shortest.size() + " of " + o.steps().size()
                + " steps (replay the original: " + replay + ")");
        int n = 1;
        for (String line : again.log()) {
            out.println(line.startsWith("  ") ? "      " + line.strip() : String.format("    %3d. %s", n++, line));
        }
        for (String v : again.violations()) {
            out.println("  violation: " + v);
        }
    }

    /** Picks an enabled step, weighting kinds so that schedules look like real use. */
    private static Step pick(List<Step> enabled, SplittableRandom random) {
        double total = 0;
        for (Step s : enabled) {
            total += weight(s);
        }
        double x = random.nextDouble() * total;
        for (Step s : enabled) {
            x -= weight(s);
            if (x < 0) {
                return s;
            }
        }
        return enabled.getLast();
    }

    private static double weight(Step s) {
        return switch (s) {
            case Step.Begin b -> 20;
            case Step.Data d -> 14;
            case Step.End e -> 12;
            case Step.Die d -> 0.5;
            case Step.SyncStart x -> 10;
            case Step.SyncFinish x -> 10;
            case Step.Sync x -> 10;
            case Step.QueryBegin x -> 4;
            case Step.QueryClose x -> 8;
            case Step.QueryFinish q -> q.consumerActs() ? 8 : 2;
            case Step.Bless x -> 6;
            case Step.BadBless x -> 0.7;
            case Step.ConsumerChange x -> 0.3;
            // Time passes only during a checkpoint (nothing else reads the clock), and there it
            // decides whether the barrier times out and writes in flight are carried: at 3, a
            // carry followed by a crash before its sync was too rare to test (a mutant that
            // issues results before their carries are durable: 2 in 10,000 schedules; at 24, 12).
            case Step.Tick x -> 24;
            case Step.Crash x -> 1.2;
            case Step.ArmCrash x -> 1.2;
            case Step.Call x -> x.mmap() ? 3 : 20;
            case Step.Handle x -> 12;
            case Step.Answer x -> 12;
            case Step.Leave x -> 12;
            case Step.Write x -> 14;
            case Step.Close x -> 2;
            case Step.Store x -> 6;
            case Step.Unmap x -> 1;
            case Step.Read x -> 8;
            case Step.Mute x -> 8;
            case Step.MarkAhead x -> 8;
            case Step.SiblingRecord x -> 4;
            case Step.SiblingMark x -> 8;
            case Step.Drain x -> 8;
            case Step.DrainTimeout x -> 0.5;
            case Step.Walk x -> 8;
            case Step.Stop x -> 0.8;
            case Step.Start x -> 4;
            case Step.KeeperDies x -> 0.5;
        };
    }
}
