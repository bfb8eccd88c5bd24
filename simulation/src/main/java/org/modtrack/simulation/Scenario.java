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
 * @param mutant the engine's deliberate bug under test, if any
 * @param linux whether the Linux model runs ({@link LinuxKernel}); {@code writers} are then its threads
 * @param linuxMutant the Linux model's deliberate bug under test, if any
 * @param maxStores stores through shared mappings (-1: unbounded; Linux model only)
 * @param granularity what the Linux model's handler records
 * @param directories directories the files are spread over (file {@code f} is in {@code f % directories})
 * @param queueBound the notification queue's bound (directory records only): tiny, so that it overflows
 * @param maxStops clean stops and restarts of the tracker (Linux model only)
 * @param splitSteps whether a group commit (start, completion) and the end of a query (close,
 *     issue) are two steps each, so that other steps run in between; the random search always
 *     splits them, an exhaustive search only where its space allows
 * @param opensOnly whether opens are the Linux model's only permission events ({@link Variant#opensOnly()})
 * @param keptQueue whether a queue keeper holds the notification group ({@link Variant#keptQueue()})
 * @param consumers consumers that query and bless on their own ({@link Variant#consumers()})
 * @param resultBound the most records a result may hold ({@code TrackerConfig.maxResultRecords}; 0:
 *     any number) until a result is refused; then, as its user would, the world raises the bound,
 *     which the tracker takes at its next start ({@link Variant#boundedResults()})
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
        Mutant mutant,
        boolean linux,
        LinuxMutant linuxMutant,
        int maxStores,
        Variant.Granularity granularity,
        int directories,
        int queueBound,
        int maxStops,
        boolean splitSteps,
        boolean opensOnly,
        boolean keptQueue,
        int consumers,
        int resultBound) {

    /** Results of any size. */
    Scenario(Durability durability, int writers, int files, boolean handleIdentities, long barrierTimeoutNanos, int steps,
             int maxBeginsPerWriter, int maxQueries, int maxCrashes, int maxDies, boolean badBlesses,
             boolean armedCrashes, Mutant mutant, boolean linux, LinuxMutant linuxMutant, int maxStores,
             Variant.Granularity granularity, int directories, int queueBound, int maxStops, boolean splitSteps,
             boolean opensOnly, boolean keptQueue, int consumers) {
        this(durability, writers, files, handleIdentities, barrierTimeoutNanos, steps, maxBeginsPerWriter, maxQueries,
                maxCrashes, maxDies, badBlesses, armedCrashes, mutant, linux, linuxMutant, maxStores, granularity,
                directories, queueBound, maxStops, splitSteps, opensOnly, keptQueue, consumers, 0);
    }

    /** One consumer. */
    Scenario(Durability durability, int writers, int files, boolean handleIdentities, long barrierTimeoutNanos, int steps,
             int maxBeginsPerWriter, int maxQueries, int maxCrashes, int maxDies, boolean badBlesses,
             boolean armedCrashes, Mutant mutant, boolean linux, LinuxMutant linuxMutant, int maxStores,
             Variant.Granularity granularity, int directories, int queueBound, int maxStops, boolean splitSteps,
             boolean opensOnly, boolean keptQueue) {
        this(durability, writers, files, handleIdentities, barrierTimeoutNanos, steps, maxBeginsPerWriter, maxQueries,
                maxCrashes, maxDies, badBlesses, armedCrashes, mutant, linux, linuxMutant, maxStores, granularity,
                directories, queueBound, maxStops, splitSteps, opensOnly, keptQueue, 1);
    }

    /** Without a queue keeper. */
    Scenario(Durability durability, int writers, int files, boolean handleIdentities, long barrierTimeoutNanos, int steps,
             int maxBeginsPerWriter, int maxQueries, int maxCrashes, int maxDies, boolean badBlesses,
             boolean armedCrashes, Mutant mutant, boolean linux, LinuxMutant linuxMutant, int maxStores,
             Variant.Granularity granularity, int directories, int queueBound, int maxStops, boolean splitSteps,
             boolean opensOnly) {
        this(durability, writers, files, handleIdentities, barrierTimeoutNanos, steps, maxBeginsPerWriter, maxQueries,
                maxCrashes, maxDies, badBlesses, armedCrashes, mutant, linux, linuxMutant, maxStores, granularity,
                directories, queueBound, maxStops, splitSteps, opensOnly, false);
    }

    /** A random scenario: the random search's shape for one schedule. */
    static Scenario random(long seed, Mutant mutant) {
        return random(seed, Variant.inProcess(mutant));
    }

    /** A random scenario of {@code variant}. */
    static Scenario random(long seed, Variant variant) {
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
                variant.mutant(),
                variant.linux(),
                variant.linuxMutant(),
                -1,
                variant.granularity(),
                1 + r.nextInt(2),
                3 + r.nextInt(4),
                variant.linux() ? r.nextInt(3) : 0,
                true,
                variant.opensOnly(),
                variant.keptQueue(),
                variant.consumers(),
                // Drawn last, so that a seed's other choices are the same with bounded results or without.
                variant.boundedResults() && r.nextInt(4) == 0 ? 1 + r.nextInt(3) : 0);
    }

    /** The bounded exhaustive search: 2 writers, 2 files, one query/bless cycle, one crash point. */
    static Scenario exhaustive(Durability durability, Mutant mutant) {
        return new Scenario(durability, 2, 2, false, 100, Integer.MAX_VALUE, 1, 1, 1, 0, false, false, mutant,
                false, LinuxMutant.NONE, 0, Variant.Granularity.FILE, 1, 1, 0, false, false);
    }

    /**
     * The bounded exhaustive search of carries: 1 writer, 1 file, one query/bless cycle, one crash
     * point, with group commits and the end of the query split in two, so that a group commit can
     * run across the close of a checkpoint, the issue of its result, the write and the bless (the
     * coarse search cannot express a record that is being synced while a result depending on it is
     * issued).
     */
    static Scenario exhaustiveCarry(Durability durability, Mutant mutant) {
        return new Scenario(durability, 1, 1, false, 100, Integer.MAX_VALUE, 1, 1, 1, 0, false, false, mutant,
                false, LinuxMutant.NONE, 0, Variant.Granularity.FILE, 1, 1, 0, true, false);
    }

    /**
     * The Linux model's bounded exhaustive search: 1 thread, 1 file, two calls (each a write or a
     * shared writable mmap), one store through a mapping, one query/bless cycle, no crash. Larger
     * shapes (2 threads, 2 files, a crash point) run to millions of schedules; the random schedules
     * cover them, crashes included.
     */
    static Scenario exhaustiveLinux(Durability durability, Mutant mutant, LinuxMutant linuxMutant) {
        return exhaustiveLinux(durability, mutant, linuxMutant, Variant.Granularity.FILE, false);
    }

    /**
     * Like {@link #exhaustiveLinux(Durability, Mutant, LinuxMutant)}, with either granularity; with
     * directory records the notification queue holds one event (so the second overflows), and no
     * store through a mapping (with one: 1,964,116 schedules, 105 s, 0 violations).
     */
    static Scenario exhaustiveLinux(Durability durability, Mutant mutant, LinuxMutant linuxMutant, Variant.Granularity granularity,
                                    boolean opensOnly) {
        return new Scenario(durability, 1, 1, false, 100, Integer.MAX_VALUE, 2, 1, 0, 0, false, false, mutant,
                true, linuxMutant, granularity.directories() ? 0 : 1, granularity, 1, 1, 0, false, opensOnly);
    }

    Variant variant() {
        return new Variant(linux, mutant, linuxMutant, granularity, opensOnly, keptQueue, consumers);
    }

    String describe() {
        return (linux ? "linux model (" + (granularity == Variant.Granularity.DIRECTORY_RESULTS ? "directory records, directory results"
                : granularity == Variant.Granularity.DIRECTORY_SCAN ? "directory records, files named by a scan"
                : granularity == Variant.Granularity.DIRECTORY_WALKS ? "directory records, sibling scopes"
                : granularity.cliName() + " records")
                + (granularity.directories() ? ", " + directories + " directories, queue bound " + queueBound : "")
                + (opensOnly ? ", open-permission events only" : "") + (keptQueue ? ", a kept queue" : "") + "), " : "") + durability.name().toLowerCase() + " durability, " + writers + " writers, " + files + " files ("
                + (handleIdentities ? "handle" : "path") + " identities), barrier timeout " + barrierTimeoutNanos
                + (mutant == Mutant.NONE ? "" : ", mutant " + mutant.cliName())
                + (linuxMutant == LinuxMutant.NONE ? "" : ", model mutant " + linuxMutant.cliName())
                + (consumers == 1 ? "" : ", " + consumers + " consumers");
    }
}
