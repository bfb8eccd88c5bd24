package org.modtrack.engine;

/** A bless that was refused; nothing was changed. The message says why in one sentence. */
public final class BlessException extends Exception {
    public BlessException(String message) {
        super(message);
    }
}
