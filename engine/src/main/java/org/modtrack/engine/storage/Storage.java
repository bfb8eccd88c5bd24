package org.modtrack.engine.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The directory that holds a tracker's journal: the few file operations the journal needs,
 * with their durability made explicit.
 *
 * <p>Nothing here is durable until it is synced: file contents by {@link AppendFile#sync()} or
 * {@link #writeDurably}, names (creation, removal, rename) by {@link #syncDirectory()}. The real
 * implementation is {@link DirectoryStorage}; the simulator supplies one that loses whatever was
 * not synced when it crashes, so that the journal code it runs is the code that ships.
 */
public interface Storage extends AutoCloseable {

    /** Names of the regular files in this directory, in no particular order. */
    List<String> list() throws IOException;

    /**
     * Creates {@code name} (which must not exist) with {@code capacity} bytes of zeros, syncs
     * its contents and size, and opens it for writing. The name is durable only after
     * {@link #syncDirectory()}.
     */
    AppendFile create(String name, long capacity, boolean preallocate) throws IOException;

    /** Reads the whole file. */
    ByteBuffer read(String name) throws IOException;

    /** Makes the file's contents durable (fsync). */
    void sync(String name) throws IOException;

    /** Cuts the file to {@code size} bytes and syncs it. */
    void truncate(String name, long size) throws IOException;

    /**
     * Writes {@code contents} as the whole of {@code name} (creating or replacing it) and syncs the
     * contents; the name becomes durable only after {@link #syncDirectory()}.
     */
    void writeDurably(String name, ByteBuffer contents) throws IOException;

    /** Renames {@code from} to {@code to}, replacing {@code to} atomically if it exists. */
    void rename(String from, String to) throws IOException;

    /** Removes {@code name}; does nothing if it does not exist. */
    void delete(String name) throws IOException;

    /** Makes every creation, removal and rename so far durable. */
    void syncDirectory() throws IOException;

    /**
     * Identifies the current boot of the machine (Linux: {@code /proc/sys/kernel/random/boot_id}).
     * A change tells recovery that the page cache was lost, not only the tracker's process.
     */
    String bootId() throws IOException;

    /** A human-readable description of where this storage lives, for messages. */
    String describe();

    /** Releases the storage (for a directory: its lock). Open {@link AppendFile}s must be closed first. */
    @Override
    void close() throws IOException;
}
