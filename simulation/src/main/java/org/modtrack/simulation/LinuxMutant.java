package org.modtrack.simulation;

import java.util.Arrays;

/**
 * Deliberate bugs in the simulator's model of the Linux source (not in the engine): each breaks one
 * rule the source must keep (docs/correctness.md, "What a source must guarantee"). They live here
 * because the rules live in the source's kernel-facing code ({@code IgnoreMarks}, {@code
 * SyscallBarrier}, {@code AlwaysWritable}), which the simulator models rather than runs. {@code bin/modtrack
 * simulate --model linux --mutant NAME} must report violations for each.
 */
public enum LinuxMutant {
    /** No bug. */
    NONE("none"),
    /** The handler sets its ignore mark even if a checkpoint flushed the marks after it began recording. */
    MARK_AFTER_FLUSH("mark-after-flush"),
    /** The barrier does not carry files mapped shared and writable into the new period. */
    NO_CARRY_MAPPINGS("no-carry-mappings"),
    /** The barrier does not wait for threads that were inside a write-family call at the flush. */
    BARRIER_IGNORES_IN_CALL("barrier-ignores-in-call");

    private final String cliName;

    LinuxMutant(String cliName) {
        this.cliName = cliName;
    }

    /** The name used on the command line, for example {@code mark-after-flush}. */
    public String cliName() {
        return cliName;
    }

    /** The mutant named {@code name} on the command line, or null if none is. */
    public static LinuxMutant fromCliNameOrNull(String name) {
        return Arrays.stream(values()).filter(m -> m.cliName.equals(name)).findFirst().orElse(null);
    }
}
