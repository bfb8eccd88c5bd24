package org.modtrack.engine;

/**
 * What {@code statx} said about a file when it was recorded: enough to notice, within a crash-free
 * run, that a recorded file was only read. Never trust it after a crash (see docs/correctness.md):
 * data can reach the disk before the metadata that would show the change.
 *
 * @param inode the inode number
 * @param size the size in bytes
 * @param mtimeNanos the modification time, in nanoseconds since the epoch
 * @param ctimeNanos the status-change time, in nanoseconds since the epoch
 */
public record StatStamp(long inode, long size, long mtimeNanos, long ctimeNanos) {}
