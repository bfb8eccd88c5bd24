package org.modtrack.source.linux;

/**
 * A file's identity on the running system: device and inode number, as stat reports them.
 *
 * @param dev the device ({@code st_dev}, as Java's {@code unix:dev} gives it)
 * @param ino the inode number
 */
record FileKey(long dev, long ino) {}
