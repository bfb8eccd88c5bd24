package org.modtrack.simulation;

import org.modtrack.engine.Mutant;

/**
 * What a simulation runs: the in-process model (writers call preWrite and postWrite around their
 * writes) or the Linux model ({@link LinuxKernel}: threads, pre-content events, ignore marks, the
 * {@code srcu} barrier, shared mappings), and the deliberate bug under test, if any.
 *
 * @param linux whether the Linux model runs
 * @param mutant the engine's deliberate bug ({@link Mutant#NONE}: none)
 * @param linuxMutant the Linux model's deliberate bug ({@link LinuxMutant#NONE}: none; only with {@code linux})
 */
public record Variant(boolean linux, Mutant mutant, LinuxMutant linuxMutant) {
    /** The in-process model. */
    public static Variant inProcess(Mutant mutant) {
        return new Variant(false, mutant, LinuxMutant.NONE);
    }

    /** The Linux model. */
    public static Variant linux(Mutant mutant, LinuxMutant linuxMutant) {
        return new Variant(true, mutant, linuxMutant);
    }

    /** The command-line options that select this variant, for example {@code --model linux --mutant mark-after-flush}. */
    public String options() {
        String m = linuxMutant != LinuxMutant.NONE ? linuxMutant.cliName() : mutant.cliName();
        return (linux ? " --model linux" : "") + (m.equals("none") ? "" : " --mutant " + m);
    }
}
