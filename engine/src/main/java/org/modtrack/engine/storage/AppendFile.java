package org.modtrack.engine.storage;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * A journal file open for writing at explicit offsets.
 *
 * <p>{@link #write} hands bytes to the operating system (they survive a crash of the process,
 * not of the machine); {@link #sync} makes every byte written before it durable. Both may be
 * called from different threads; {@link #sync} after {@link #close} does nothing, because a
 * closed journal file has been discarded or sealed, and its durability no longer matters.
 */
public interface AppendFile extends AutoCloseable {

    /** Writes all of {@code src} (native memory) at {@code position}, which must lie within the capacity. */
    void write(long position, MemorySegment src) throws IOException;

    /** Makes all bytes written so far durable (fdatasync). */
    void sync() throws IOException;

    /** The file's current size in bytes. */
    long capacity();

    /**
     * Extends the file to {@code newCapacity} bytes of zeros. With {@code preallocate}, the zeros
     * are written and synced now, so that later syncs of records written over them need not
     * commit any file-system metadata (measured: about 2x faster fdatasync on ext4).
     */
    void grow(long newCapacity, boolean preallocate) throws IOException;

    /** Closes the file; idempotent. */
    @Override
    void close() throws IOException;
}
