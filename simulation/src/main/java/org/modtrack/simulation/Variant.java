package org.modtrack.simulation;

import java.util.Arrays;
import org.modtrack.engine.Mutant;
import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * What a simulation runs: the in-process model (writers call preWrite and postWrite around their
 * writes) or the Linux model ({@link LinuxKernel}: threads, pre-content events, ignore marks, the
 * {@code srcu} barrier, shared mappings, and with directory records the notification queue), and
 * the deliberate bug under test, if any.
 *
 * @param linux whether the Linux model runs
 * @param mutant the engine's deliberate bug ({@link Mutant#NONE}: none)
 * @param linuxMutant the Linux model's deliberate bug ({@link LinuxMutant#NONE}: none; only with {@code linux})
 * @param granularity what the Linux model's pre-content handler records (only with {@code linux})
 * @param opensOnly whether opens are the only permission events ({@code LinuxSourceOptions.Hook.OPEN_PERM},
 *     kernels without pre-content events): a write through a descriptor already open raises nothing
 *     (only with {@code linux})
 * @param keptQueue whether a queue keeper holds the notification group across the tracker's
 *     deaths and clean stops ({@code QueueKeeper}; only with {@code linux} and directory records)
 * @param consumers how many consumers query and bless on their own (1 to {@value #MAX_CONSUMERS}):
 *     each keeps its own copy of the files, checked against the truth
 * @param boundedResults whether a quarter of the schedules bound a result's records
 *     ({@link Scenario#resultBound()}), so that results are refused and their records come later
 */
public record Variant(boolean linux, Mutant mutant, LinuxMutant linuxMutant, Granularity granularity, boolean opensOnly,
                      boolean keptQueue, int consumers, boolean boundedResults) {
    /** The most consumers a model runs: enough for each to bless past what another keeps. */
    public static final int MAX_CONSUMERS = 3;

    public Variant {
        if (consumers < 1 || consumers > MAX_CONSUMERS) {
            throw new IllegalArgumentException("a model runs 1 to " + MAX_CONSUMERS + " consumers, not " + consumers + ".");
        }
    }

    /** Results of any size. */
    public Variant(boolean linux, Mutant mutant, LinuxMutant linuxMutant, Granularity granularity, boolean opensOnly,
                   boolean keptQueue, int consumers) {
        this(linux, mutant, linuxMutant, granularity, opensOnly, keptQueue, consumers, false);
    }

    /** One consumer. */
    public Variant(boolean linux, Mutant mutant, LinuxMutant linuxMutant, Granularity granularity, boolean opensOnly,
                   boolean keptQueue) {
        this(linux, mutant, linuxMutant, granularity, opensOnly, keptQueue, 1);
    }

    /** Without a queue keeper, one consumer. */
    public Variant(boolean linux, Mutant mutant, LinuxMutant linuxMutant, Granularity granularity, boolean opensOnly) {
        this(linux, mutant, linuxMutant, granularity, opensOnly, false);
    }

    /** What a pre-content event records, as {@code LinuxSourceOptions.Granularity}. */
    public enum Granularity {
        /** The file itself, with an ignore mark on it. */
        FILE,
        /** The file's directory (a SCOPE record, one mark for all children); children's changes come after the fact. */
        DIRECTORY,
        /**
         * Directory records whose results name directories ({@code LinuxSourceOptions.Detail.DIRECTORIES}):
         * the notification reader records the directory of each child's change and mutes it for the
         * rest of its period; the consumer lists a recorded directory again.
         */
        DIRECTORY_RESULTS,
        /**
         * Directory records with sibling scopes ({@code SiblingScopes}, the source's default): after a
         * handler's new record of a directory, the other directories may be recorded ahead of a walk,
         * as scopes, and marked once durable, under the epoch rule.
         */
        DIRECTORY_WALKS,
        /**
         * Directory records whose results name the files below a recorded directory by a scan
         * ({@code LinuxSourceOptions.Naming.SCAN}): the notification reader records and mutes
         * directories as with {@link #DIRECTORY_RESULTS}, and the result names each file of a
         * recorded directory whose ctime is at or after the querying consumer's last blessed
         * checkpoint time ({@code DirectoryScan}), or every file of it when no such time can be trusted.
         */
        DIRECTORY_SCAN;

        /**
         * The name used on the command line: {@code file}, {@code directory}, {@code directory-results},
         * {@code directory-walks} or {@code directory-scan}.
         */
        public String cliName() {
            return name().toLowerCase().replace('_', '-');
        }

        /** Whether the pre-content handler records directories (and the notification queue names the children's changes). */
        public boolean directories() {
            return source() == LinuxSourceOptions.Granularity.DIRECTORY;
        }

        /**
         * Whether the notification reader records the directory of each child's change, not the
         * child, and mutes it for the rest of its period ({@link #DIRECTORY_RESULTS}, {@link #DIRECTORY_SCAN}).
         */
        public boolean mutesDirectories() {
            return this == DIRECTORY_RESULTS || this == DIRECTORY_SCAN;
        }

        /** The source's granularity this one models: what the source's rules are asked about. */
        public LinuxSourceOptions.Granularity source() {
            return this == FILE ? LinuxSourceOptions.Granularity.FILE : LinuxSourceOptions.Granularity.DIRECTORY;
        }

        /** The granularity named {@code name} on the command line, or null if none is. */
        public static Granularity fromCliNameOrNull(String name) {
            return Arrays.stream(values()).filter(g -> g.cliName().equals(name)).findFirst().orElse(null);
        }
    }

    /**
     * The in-process model, with as many consumers as the mutant needs to show (one without one),
     * and bounded results if it needs them.
     */
    public static Variant inProcess(Mutant mutant) {
        return new Variant(false, mutant, LinuxMutant.NONE, Granularity.FILE, false, false, mutant.consumersToShow(),
                mutant.boundedResultsToShow());
    }

    /**
     * The Linux model with the granularity, hook and keeper the mutant breaks (without one:
     * directory records, pre-content events, no keeper).
     */
    public static Variant linux(Mutant mutant, LinuxMutant linuxMutant) {
        return linux(mutant, linuxMutant, linuxMutant.granularity(), linuxMutant.opensOnly())
                .withKeptQueue(linuxMutant.keptQueue());
    }

    /** This variant with a queue keeper or without. */
    public Variant withKeptQueue(boolean kept) {
        return new Variant(linux, mutant, linuxMutant, granularity, opensOnly, kept, consumers, boundedResults);
    }

    /** This variant with {@code n} consumers. */
    public Variant withConsumers(int n) {
        return new Variant(linux, mutant, linuxMutant, granularity, opensOnly, keptQueue, n, boundedResults);
    }

    /** This variant with bounded results ({@link #boundedResults()}) or without. */
    public Variant withBoundedResults(boolean bounded) {
        return new Variant(linux, mutant, linuxMutant, granularity, opensOnly, keptQueue, consumers, bounded);
    }

    /** The Linux model with pre-content events. */
    public static Variant linux(Mutant mutant, LinuxMutant linuxMutant, Granularity granularity) {
        return linux(mutant, linuxMutant, granularity, false);
    }

    /** The Linux model, with as many consumers as the model mutant needs to show (one without one). */
    public static Variant linux(Mutant mutant, LinuxMutant linuxMutant, Granularity granularity, boolean opensOnly) {
        return new Variant(true, mutant, linuxMutant, granularity, opensOnly, false, linuxMutant.consumersToShow());
    }

    /** The command-line options that select this variant, for example {@code --model linux --mutant mark-after-flush}. */
    public String options() {
        String m = linuxMutant != LinuxMutant.NONE ? linuxMutant.cliName() : mutant.cliName();
        return (linux ? " --model linux" + (granularity != Granularity.DIRECTORY ? " --granularity " + granularity.cliName() : "")
                + (opensOnly ? " --source open-perm" : "") + (keptQueue ? " --kept-queue" : "") : "")
                + (consumers == 1 ? "" : " --consumers " + consumers)
                + (boundedResults ? " --bounded-results" : "")
                + (m.equals("none") ? "" : " --mutant " + m);
    }
}
