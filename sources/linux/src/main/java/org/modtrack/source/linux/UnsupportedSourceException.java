package org.modtrack.source.linux;

import java.io.IOException;

/**
 * The Linux source cannot track the requested file system on this system. The message is one
 * sentence naming what is missing and what would work instead; nothing was changed.
 */
public final class UnsupportedSourceException extends IOException {
    private static final long serialVersionUID = 1L;

    UnsupportedSourceException(String sentence) {
        super(sentence);
    }

    UnsupportedSourceException(String sentence, Throwable cause) {
        super(sentence, cause);
    }
}
