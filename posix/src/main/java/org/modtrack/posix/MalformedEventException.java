package org.modtrack.posix;

/**
 * A buffer of fanotify events that does not parse: a length that points outside the buffer or its
 * event, a metadata version this code does not know, a name without its terminating NUL. Says
 * where, for example {@code "fanotify event at offset 48: event_len 300 exceeds the 100 bytes left"}.
 * Never the kernel's normal output; the group's events can no longer be trusted.
 */
public final class MalformedEventException extends RuntimeException {
    public MalformedEventException(String message) {
        super(message);
    }
}
