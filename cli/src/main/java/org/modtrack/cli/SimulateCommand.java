package org.modtrack.cli;

import java.util.Arrays;
import java.util.concurrent.Callable;
import org.modtrack.engine.Mutant;
import org.modtrack.simulation.LinuxMutant;
import org.modtrack.simulation.Simulator;
import org.modtrack.simulation.Variant;
import org.modtrack.source.linux.LinuxSourceOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/** {@code modtrack simulate}: the deterministic crash simulator. */
@Command(name = "simulate",
        mixinStandardHelpOptions = true,
        description = {
            "Runs random schedules of writers, queries, blesses and crashes (process and power loss) against the real"
                    + " engine over a simulated disk that loses unsynced bytes, and checks that no change is ever missed.",
            "Ends with one line: schedules=N violations=V falsePositives=F refusedResults=R; exits 1 if V > 0.",
            "Schedule i uses seed S+i, so --schedules 1 --seed S+i replays it alone."})
final class SimulateCommand implements Callable<Integer> {
    @Option(names = "--schedules", defaultValue = "1000", description = "How many random schedules to run (default: ${DEFAULT-VALUE}).")
    long schedules;

    @Option(names = "--seed", description = "The first schedule's seed (default: a new one, printed).")
    Long seed;

    @Option(names = "--mutant", defaultValue = "none",
            description = "Run against a deliberately broken engine: none, skip-barrier, discard-before-bless, no-sync, keep-ignore-marks;"
                    + " with --model linux also a broken Linux source: mark-after-flush, no-carry-mappings, barrier-ignores-in-call"
                    + " (file records), no-drain, scopes-dropped-on-loss, stop-without-drain, dir-mark-after-flush (directory records),"
                    + " dir-mute-after-flush, mute-without-record, flush-keeps-mutes (directory results), no-carry-open-writers"
                    + " (open-perm), skip-handover, takeover-despite-pending-walk (a kept queue).")
    String mutant;

    @Option(names = "--granularity",
            description = "With --model linux: what a pre-content event records, file or directory,"
                    + " directory-walks (directory records with sibling scopes, as the source records by default),"
                    + " directory-results (directory records whose results name directories: --detail directories),"
                    + " or directory-scan (directory records whose results name the files of a recorded directory by a"
                    + " scan: --naming scan, the source's default naming);"
                    + " default: directory, or the granularity whose rule the --mutant breaks.")
    String granularity;

    @Option(names = "--source", paramLabel = "pre-content|open-perm",
            description = "With --model linux: the permission events the model's writers raise: pre-content (before every"
                    + " first access of a file in a period) or open-perm (only when a descriptor is opened: kernels before 6.14;"
                    + " default: pre-content, or the one whose rule the --mutant breaks).")
    String source;

    @Option(names = "--kept-queue", description = "With --model linux and directory records: a queue keeper holds the"
            + " notification queue across the tracker's deaths and clean stops, and the next start takes it over"
            + " (the daemon's default; default here: off, or on for a mutant that breaks a takeover).")
    boolean keptQueue;

    @Option(names = "--consumers", paramLabel = "N",
            description = "Consumers that query and bless on their own, each with its own copy of the files (1 to "
                    + Variant.MAX_CONSUMERS + "; default: 1, or 2 for a --mutant that needs two to show).")
    Integer consumers;

    @Option(names = "--bounded-results", description = "A quarter of the schedules bound the records a result may hold (1 to 3,"
            + " as the daemon bounds them by its heap): such results are refused, and come once the tracker restarts with the"
            + " bound raised (default: off, or on for a mutant that breaks a refusal).")
    boolean boundedResults;

    @Option(names = "--model", defaultValue = "in-process",
            description = "What writes: in-process (writers call preWrite/postWrite) or linux (threads whose write calls raise"
                    + " pre-content events, ignore marks, the srcu barrier, shared writable mappings; default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--exhaustive", description = "Run the bounded exhaustive searches instead of random schedules: 2 writers,"
            + " 2 files, one query/bless cycle, one crash point; and 1 writer whose write may be carried, with group commits and"
            + " the end of the query in two steps each.")
    boolean exhaustive;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (schedules < 1) {
            throw new ParameterException(spec.commandLine(), "--schedules must be at least 1, not " + schedules + ".");
        }
        Variant v = variant();
        if (consumers != null) {
            if (consumers < 1 || consumers > Variant.MAX_CONSUMERS) {
                throw new ParameterException(spec.commandLine(), "--consumers must be 1 to " + Variant.MAX_CONSUMERS
                        + ", not " + consumers + ".");
            }
            v = v.withConsumers(consumers);
        }
        v = v.withBoundedResults(boundedResults || v.mutant().boundedResultsToShow());
        Simulator.Summary summary;
        if (exhaustive) {
            summary = Simulator.exhaustive(v, Long.MAX_VALUE, System.out);
        } else {
            long s = seed != null ? seed : System.nanoTime() & 0xFFFF_FFFFL;
            System.out.println("seed=" + s + v.options().replace(" --model ", " model=").replace(" --granularity ", " granularity=")
                    .replace(" --source ", " source=").replace(" --kept-queue", " kept-queue").replace(" --consumers ", " consumers=").replace(" --bounded-results", " bounded-results")
                    .replace(" --mutant ", " mutant="));
            summary = Simulator.run(s, schedules, v, System.out);
        }
        System.out.println(summary.line());
        return summary.violations() > 0 ? Main.FOUND_PROBLEM : 0;
    }

    private Variant variant() {
        if (!model.equals("in-process") && !model.equals("linux")) {
            throw new ParameterException(spec.commandLine(), "unknown model '" + model + "'; known: in-process, linux.");
        }
        LinuxMutant lm = LinuxMutant.fromCliNameOrNull(mutant);
        if (lm != null && lm != LinuxMutant.NONE) {
            if (!model.equals("linux")) {
                throw new ParameterException(spec.commandLine(), "--mutant " + mutant + " breaks the Linux model: add --model linux.");
            }
            return Variant.linux(Mutant.NONE, lm, granularity(lm.granularity()), opensOnly(lm.opensOnly()))
                    .withKeptQueue(keptQueue || lm.keptQueue());
        }
        Mutant m;
        try {
            m = Mutant.fromCliName(mutant);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (!model.equals("linux") && (granularity != null || source != null || keptQueue)) {
            throw new ParameterException(spec.commandLine(), (granularity != null ? "--granularity" : source != null
                    ? "--source" : "--kept-queue") + " is for the Linux model: add --model linux.");
        }
        return model.equals("linux") ? Variant.linux(m, LinuxMutant.NONE, granularity(Variant.Granularity.DIRECTORY),
                opensOnly(false)).withKeptQueue(keptQueue) : Variant.inProcess(m);
    }

    private boolean opensOnly(boolean otherwise) {
        if (source == null) {
            return otherwise;
        }
        LinuxSourceOptions.Hook hook = LinuxSourceOptions.Hook.fromCliNameOrNull(source); // the daemon's names
        if (hook == null) {
            throw new ParameterException(spec.commandLine(), "unknown source '" + source + "'; known: pre-content, open-perm.");
        }
        return hook == LinuxSourceOptions.Hook.OPEN_PERM;
    }

    private Variant.Granularity granularity(Variant.Granularity otherwise) {
        if (granularity == null) {
            return otherwise;
        }
        Variant.Granularity g = Variant.Granularity.fromCliNameOrNull(granularity);
        if (g == null) {
            throw new ParameterException(spec.commandLine(), "unknown granularity '" + granularity + "'; known: "
                    + String.join(", ", Arrays.stream(Variant.Granularity.values()).map(Variant.Granularity::cliName).toList())
                    + ".");
        }
        return g;
    }
}
