package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One native buffer per thread for the arguments of a call made once per object of a result
 * ({@code statx} of a path, {@code open_by_handle_at}): a confined arena per call made five objects
 * and a {@code malloc} each, a third of what a million-entry deletion's answer allocated. A call
 * that uses it makes no other call that does before it is done with it.
 */
final class CallScratch {
    /** A {@code struct statx} (256 bytes) and a path of up to {@link #MAX_PATH_CHARS} characters. */
    static final long SIZE = 16 * 1024;
    /** The longest path (in UTF-16 chars, 3 bytes of UTF-8 at most each, and its NUL) that fits after 256 bytes. */
    static final int MAX_PATH_CHARS = (int) ((SIZE - 256 - 1) / 3);
    // Freed once its thread is gone and the segment unreachable: the helper threads of a result come and go.
    private static final ThreadLocal<MemorySegment> BUFFERS = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(SIZE, 8));

    private CallScratch() {}

    /** This thread's buffer, {@link #SIZE} bytes. */
    static MemorySegment get() {
        return BUFFERS.get();
    }
}
