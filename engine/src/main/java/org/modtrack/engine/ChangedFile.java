package org.modtrack.engine;

/**
 * One file in a {@link QueryResult}.
 *
 * @param file the file, with the newest path hint and stamp the tracker saw
 * @param carried true if a write to it was still in progress when the checkpoint stopped waiting:
 *     it stays recorded in the new period and will be reported again
 * @param recovered true if it may have been recorded before an unclean stop, so its stamp proves
 *     nothing (see docs/correctness.md)
 */
public record ChangedFile(FileId file, boolean carried, boolean recovered) {}
