package org.modtrack.posix;

import java.io.IOException;

/**
 * A failed system call: what was attempted, and the {@code errno} the kernel answered.
 * The message is one sentence, for example
 * {@code "fdatasync of /var/lib/modtrack/snapshot-0000000000000003 failed: EIO (Input/output error)"}.
 */
public final class PosixException extends IOException {
    private final int errno;

    public PosixException(String attempted, int errno) {
        super(attempted + " failed: " + Errno.describe(errno));
        this.errno = errno;
    }

    /** The kernel's error number, for example {@link Errno#ENOSPC}. */
    public int errno() {
        return errno;
    }
}
