package org.modtrack.simulation;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.modtrack.engine.TrackerCore;
import org.modtrack.simulation.LinuxKernel.CallState;
import org.modtrack.simulation.LinuxKernel.WriterThread;

/** Which steps of the Linux model ({@link LinuxKernel}) are possible, for {@link World}. */
final class LinuxSteps {
    private LinuxSteps() {}

    /** Adds the threads' and mappings' possible steps; random parameters from {@code random} (null: the exhaustive set). */
    static void add(List<Step> steps, LinuxKernel kernel, TrackerCore core, Scenario scenario, SplittableRandom random,
                    int filesUsed) {
        for (int w = 0; w < kernel.threads(); w++) {
            WriterThread t = kernel.thread(w);
            switch (t.state) {
                case IDLE -> idleSteps(steps, kernel, w, scenario, random, filesUsed);
                case EVENT -> steps.add(new Step.Handle(w));
                case HANDLING -> {
                    if (kernel.answerable(w, core)) {
                        steps.add(new Step.Answer(w));
                    }
                }
                case ALLOWED -> {
                    if (!t.wrote) {
                        steps.add(new Step.Write(w));
                    }
                    steps.add(new Step.Leave(w));
                }
            }
        }
        if (random != null) { // not in the exhaustive search, whose space they would multiply
            for (int d = 0; d < kernel.directoryCount(); d++) {
                if (kernel.maySiblingRecord(d)) {
                    steps.add(new Step.SiblingRecord(d));
                }
                if (kernel.maySiblingMark(d, core)) {
                    steps.add(new Step.SiblingMark(d));
                }
            }
        }
        for (int f = 0; f < scenario.files(); f++) {
            if (kernel.mapped(f)) {
                if (scenario.maxStores() < 0 || kernel.stores() < scenario.maxStores()) {
                    steps.add(new Step.Store(f));
                }
                if (random != null) {
                    steps.add(new Step.Unmap(f));
                }
            }
        }
    }

    private static void idleSteps(List<Step> steps, LinuxKernel kernel, int w, Scenario scenario, SplittableRandom random,
                                  int filesUsed) {
        WriterThread t = kernel.thread(w);
        if (random != null && t.fdFile >= 0) {
            steps.add(new Step.Close(w));
        }
        if (scenario.maxBeginsPerWriter() >= 0 && t.calls >= scenario.maxBeginsPerWriter()) {
            return;
        }
        if (random != null) {
            steps.add(new Step.Call(w, random.nextInt(scenario.files()), random.nextInt(8) == 0));
        } else if (w == 0 || kernel.thread(w - 1).calls > 0 || t.calls > 0) {
            // Symmetry, as for the in-process writers: threads and files are interchangeable.
            for (int f = 0; f <= Math.min(scenario.files() - 1, filesUsed); f++) {
                steps.add(new Step.Call(w, f, false));
                steps.add(new Step.Call(w, f, true));
            }
        }
    }

    /** Whether {@code step} is possible now (for replaying a shrunk schedule). */
    static boolean possible(Step step, LinuxKernel kernel, TrackerCore core) {
        return switch (step) {
            case Step.Call c -> c.thread() < kernel.threads() && state(kernel, c.thread()) == CallState.IDLE;
            case Step.Handle h -> h.thread() < kernel.threads() && state(kernel, h.thread()) == CallState.EVENT;
            case Step.Answer a -> a.thread() < kernel.threads() && kernel.answerable(a.thread(), core);
            case Step.Write d -> d.thread() < kernel.threads() && state(kernel, d.thread()) == CallState.ALLOWED
                    && !kernel.thread(d.thread()).wrote;
            case Step.Leave l -> l.thread() < kernel.threads() && state(kernel, l.thread()) == CallState.ALLOWED;
            case Step.Close c -> c.thread() < kernel.threads() && state(kernel, c.thread()) == CallState.IDLE
                    && kernel.thread(c.thread()).fdFile >= 0;
            case Step.Store s -> kernel.mapped(s.file());
            case Step.Unmap u -> kernel.mapped(u.file());
            case Step.SiblingRecord r -> kernel.maySiblingRecord(r.directory());
            case Step.SiblingMark m -> kernel.maySiblingMark(m.directory(), core);
            default -> false;
        };
    }

    private static CallState state(LinuxKernel kernel, int w) {
        return kernel.thread(w).state;
    }

    /** Whether some handler waits for a sync. */
    static boolean awaitingSync(LinuxKernel kernel, TrackerCore core) {
        for (int w = 0; w < kernel.threads(); w++) {
            if (state(kernel, w) == CallState.HANDLING && !kernel.answerable(w, core)) {
                return true;
            }
        }
        return false;
    }

    /** After a failed sync: every handler whose record is not acknowledged denies its access. */
    static void denyUnacknowledged(LinuxKernel kernel, TrackerCore core) {
        for (int w = 0; w < kernel.threads(); w++) {
            if (state(kernel, w) == CallState.HANDLING && !kernel.answerable(w, core)) {
                kernel.deny(w, core);
            }
        }
    }

    /** Moves every thread as far out of its call as it can go without a sync: handled, answered, left. */
    static void drain(LinuxKernel kernel, TrackerCore core, Consumer<Step> apply) {
        for (int w = 0; w < kernel.threads(); w++) {
            if (state(kernel, w) == CallState.EVENT) {
                apply.accept(new Step.Handle(w));
            }
        }
        for (int w = 0; w < kernel.threads(); w++) {
            if (kernel.answerable(w, core)) {
                apply.accept(new Step.Answer(w));
            }
            if (state(kernel, w) == CallState.ALLOWED) {
                apply.accept(new Step.Leave(w));
            }
        }
    }
}
