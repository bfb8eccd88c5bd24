package org.modtrack.engine;

/**
 * What {@link ChangeTracker#preWrite} answers: the write may go on.
 *
 * @param token pass it to {@link ChangeTracker#postWrite} when the write has ended
 * @param alreadyRecorded true if the file was already recorded (durably) in the open period and
 *     nothing was written: the cue for a kernel source to set an ignore mark on it
 */
public record WriteTicket(long token, boolean alreadyRecorded) {}
