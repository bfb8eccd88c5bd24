package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.modtrack.posix.Errno;
import org.modtrack.posix.PosixException;

/** The handle resolver's treatment of open_by_handle_at errors. */
class HandleResolverTest {
    @Test
    void anEnomemFromAnInodeBeingEvictedIsRetriedUntilTheHandleGoesStale() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        HandleResolver r = new HandleResolver((type, handle) -> {
            throw new PosixException("open_by_handle_at", calls.incrementAndGet() < 3 ? Errno.ENOMEM : Errno.ESTALE);
        });
        assertTrue(r.resolve(1, new byte[8]).gone());
        assertEquals(3, calls.get());
    }

    @Test
    void aHandleWhoseFileIsGoneResolvesToGoneWithoutAnError() throws Exception {
        assertTrue(new HandleResolver((type, handle) -> -1).resolve(1, new byte[8]).gone());
    }

    @Test
    void aLastingEnomemStillFails() {
        AtomicInteger calls = new AtomicInteger();
        HandleResolver r = new HandleResolver((type, handle) -> {
            calls.incrementAndGet();
            throw new PosixException("open_by_handle_at", Errno.ENOMEM);
        });
        PosixException e = assertThrows(PosixException.class, () -> r.resolve(1, new byte[8]));
        assertEquals(Errno.ENOMEM, e.errno());
        assertEquals(HandleResolver.ENOMEM_ATTEMPTS, calls.get());
    }
}
