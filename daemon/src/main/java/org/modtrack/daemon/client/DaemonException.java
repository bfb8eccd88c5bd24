package org.modtrack.daemon.client;

import java.io.IOException;

/** The daemon answered with an error: its code and one sentence. */
public final class DaemonException extends IOException {
    private final String code;

    public DaemonException(String code, String message) {
        super(message);
        this.code = code;
    }

    /** The protocol's error code (docs/protocol.md), for example {@code bless-refused}. */
    public String code() {
        return code;
    }
}
