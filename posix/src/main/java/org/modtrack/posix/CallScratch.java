package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One native buffer per thread for the arguments of a call made once per object of a result
 * ({@code statx} of a path, {@code open_by_handle_at}, {@code readlink} of its descriptor): a
 * confined arena per call made five objects and a {@code malloc} each, a third of what a
 * million-entry deletion's answer allocated, and a slice per call another tenth. A call that uses
 * it makes no other call that does before it is done with it.
 */
final class CallScratch {
    private static final long HEAD_SIZE = 256;
    private static final long LINK_SIZE = 4096;
    private static final long SIZE = 16 * 1024;
    // Freed once its thread is gone and the segment unreachable: the helper threads of a result come and go.
    private static final ThreadLocal<CallScratch> BUFFERS = ThreadLocal.withInitial(CallScratch::new);

    /** A {@code struct statx}, or a {@code struct file_handle} (8 bytes and at most 128). */
    final MemorySegment head;
    /** A symbolic link's target, as {@code readlink} writes it: up to {@code PATH_MAX} bytes. */
    final MemorySegment link;
    /** A path, NUL-terminated: {@link #MAX_PATH_CHARS} UTF-16 chars fit (3 bytes of UTF-8 at most each). */
    final MemorySegment path;
    static final int MAX_PATH_CHARS = (int) ((SIZE - HEAD_SIZE - LINK_SIZE - 1) / 3);

    private CallScratch() {
        MemorySegment whole = Arena.ofAuto().allocate(SIZE, 8);
        head = whole.asSlice(0, HEAD_SIZE);
        link = whole.asSlice(HEAD_SIZE, LINK_SIZE);
        path = whole.asSlice(HEAD_SIZE + LINK_SIZE);
    }

    /** This thread's buffers. */
    static CallScratch get() {
        return BUFFERS.get();
    }
}
