package org.modtrack.engine.storage;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.modtrack.posix.Posix;

/** An {@link AppendFile} over a file descriptor, written with pwrite and synced with fdatasync. */
final class PosixAppendFile implements AppendFile {
    /** Zeros written to preallocate; 1 MiB per call keeps the number of calls small. */
    private static final MemorySegment ZEROS = Arena.global().allocate(1 << 20);

    private final int fd;
    private final String path;
    private final Object lifecycle = new Object();
    private volatile long capacity;
    private boolean closed; // guarded by lifecycle

    PosixAppendFile(int fd, String path, long capacity) {
        this.fd = fd;
        this.path = path;
        this.capacity = capacity;
    }

    @Override
    public void write(long position, MemorySegment src) throws IOException {
        if (position < 0 || position + src.byteSize() > capacity) {
            throw new IllegalArgumentException("write of " + src.byteSize() + " bytes at " + position
                    + " is outside " + path + " (capacity " + capacity + ").");
        }
        Posix.pwriteFully(fd, src, position, path);
    }

    @Override
    public void sync() throws IOException {
        synchronized (lifecycle) {
            if (!closed) {
                Posix.fdatasync(fd, path);
            }
        }
    }

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public void grow(long newCapacity, boolean preallocate) throws IOException {
        long from = capacity;
        if (newCapacity <= from) {
            return;
        }
        if (preallocate) {
            for (long at = from; at < newCapacity; at += ZEROS.byteSize()) {
                long n = Math.min(ZEROS.byteSize(), newCapacity - at);
                Posix.pwriteFully(fd, ZEROS.asSlice(0, n), at, path);
            }
            Posix.fdatasync(fd, path);
        } else {
            Posix.ftruncate(fd, newCapacity, path);
        }
        capacity = newCapacity;
    }

    @Override
    public void close() throws IOException {
        synchronized (lifecycle) {
            if (!closed) {
                closed = true;
                Posix.close(fd, path);
            }
        }
    }

    @Override
    public String toString() {
        return path;
    }
}
