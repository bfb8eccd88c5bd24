package org.modtrack.engine;

/** How durable a record must be before {@link ChangeTracker#preWrite} lets the write go on. */
public enum Durability {
    /**
     * The record is on stable storage (fdatasync, shared by concurrent writers through group
     * commit) before the write may proceed. Survives power loss and kernel crashes. The default.
     */
    POWER,
    /**
     * The record is handed to the operating system (pwrite) before the write may proceed. Survives
     * a crash of the tracker's process, not of the machine: after a power loss the first result
     * says continuity was lost.
     */
    PROCESS
}
