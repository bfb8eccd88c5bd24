package org.modtrack.engine.journal;

import java.io.IOException;

/** A snapshot reached its configured size limit: bless a result so that old snapshots can be discarded. */
public final class JournalFullException extends IOException {
    public JournalFullException(String message) {
        super(message);
    }
}
