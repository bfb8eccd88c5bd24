package org.modtrack.source.linux;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link LinuxSource} behaves beyond the engine's {@link org.modtrack.engine.TrackerConfig}.
 *
 * @param barrier how a checkpoint waits for writes that passed the hook before it
 * @param failurePolicy what a permission event gets when its access could not be recorded in time
 * @param answerDeadline the longest any access waits for the tracker; past it the event is answered
 *     by the failure policy (and, with fail-open, continuity is marked lost)
 */
public record LinuxSourceOptions(Barrier barrier, FailurePolicy failurePolicy, Duration answerDeadline) {
    /** The checkpoint barriers (docs/linux-source.md compares them). */
    public enum Barrier {
        /** Wait only for threads inside write calls at the flush; new writes flow (the default). */
        SRCU,
        /** FIFREEZE + FITHAW: always correct, stalls every writer for the longest write in flight. */
        FREEZE
    }

    /** What happens to an access the tracker could not record (journal error, stalled disk, overload). */
    public enum FailurePolicy {
        /** Allow it, and report continuity lost in the next result and the log (the default). */
        FAIL_OPEN,
        /** Deny it: the system call fails with EIO. Nothing is missed; writers see errors. */
        FAIL_CLOSED
    }

    /** The longest deadline: a writer must never wait long for a tracker that cannot answer. */
    public static final Duration MAX_DEADLINE = Duration.ofMinutes(5);

    public LinuxSourceOptions {
        Objects.requireNonNull(barrier, "barrier");
        Objects.requireNonNull(failurePolicy, "failurePolicy");
        Objects.requireNonNull(answerDeadline, "answerDeadline");
        if (answerDeadline.toMillis() < 10 || answerDeadline.compareTo(MAX_DEADLINE) > 0) {
            throw new IllegalArgumentException("the answer deadline must be between 10 ms and " + MAX_DEADLINE
                    + ", not " + answerDeadline + ".");
        }
    }

    /** srcu, fail-open, a 5-second deadline. */
    public static LinuxSourceOptions defaults() {
        return new LinuxSourceOptions(Barrier.SRCU, FailurePolicy.FAIL_OPEN, Duration.ofSeconds(5));
    }

    public LinuxSourceOptions withBarrier(Barrier b) {
        return new LinuxSourceOptions(b, failurePolicy, answerDeadline);
    }

    public LinuxSourceOptions withFailurePolicy(FailurePolicy p) {
        return new LinuxSourceOptions(barrier, p, answerDeadline);
    }

    public LinuxSourceOptions withAnswerDeadline(Duration d) {
        return new LinuxSourceOptions(barrier, failurePolicy, d);
    }
}
