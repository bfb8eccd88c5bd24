package org.modtrack.daemon;

/**
 * A request the daemon answers with an error: {@code {"error": {"code": ..., "message": ...}}}.
 * The message is one sentence; the codes are listed in docs/protocol.md.
 */
public final class ProtocolException extends Exception {
    private final String code;

    public ProtocolException(String code, String message) {
        super(message);
        this.code = code;
    }

    /** The machine-readable code, for example {@code bad-json}. */
    public String code() {
        return code;
    }
}
