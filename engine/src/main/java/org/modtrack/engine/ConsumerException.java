package org.modtrack.engine;

/**
 * A request about a consumer that cannot be done: no consumer of that name, one that exists
 * already, too many, or a name that is not allowed. Nothing was changed; the message says why in
 * one sentence. Unchecked, like the {@link IllegalArgumentException} it is: callers that take a
 * consumer's name from a user catch it; the default consumer's callers need not.
 */
public final class ConsumerException extends IllegalArgumentException {
    public ConsumerException(String message) {
        super(message);
    }
}
