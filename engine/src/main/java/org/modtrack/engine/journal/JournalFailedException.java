package org.modtrack.engine.journal;

import java.io.IOException;

/**
 * A sync of the journal failed earlier. After a failed fdatasync the kernel may have dropped the
 * unsynced pages while marking them clean, so a later sync that "succeeds" proves nothing: every
 * further record is refused until the tracker is reopened, which re-reads the journal from disk.
 */
public final class JournalFailedException extends IOException {
    public JournalFailedException(IOException cause) {
        super("the journal can no longer be trusted after a failed sync (" + cause.getMessage()
                + "); reopen the tracker to recover from what is on disk.", cause);
    }
}
