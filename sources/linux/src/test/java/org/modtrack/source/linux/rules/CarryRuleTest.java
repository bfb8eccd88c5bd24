package org.modtrack.source.linux.rules;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.modtrack.source.linux.LinuxSourceOptions;

/** Which files open for writing a checkpoint carries into the new period. */
class CarryRuleTest {

    @Test
    void everyOpenWriterIsCarriedWhereAnOpenDescriptorCanWriteUnrecorded() {
        assertTrue(CarryRule.everyOpenWriter(LinuxSourceOptions.Granularity.DIRECTORY, false), "a child's mmap raises nothing");
        assertTrue(CarryRule.everyOpenWriter(LinuxSourceOptions.Granularity.FILE, true), "a later write raises nothing");
        assertTrue(CarryRule.everyOpenWriter(LinuxSourceOptions.Granularity.DIRECTORY, true));
        assertFalse(CarryRule.everyOpenWriter(LinuxSourceOptions.Granularity.FILE, false),
                "file records with pre-content events: every first access in a period raises an event");
    }
}
