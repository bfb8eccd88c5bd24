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
 * @param granularity what one permission round trip records: a directory for all its children, or one file
 * @param detail what a result names: every changed file, or only the directories to list again
 * @param siblingScopes with directory records, the most subdirectories of one parent recorded
 *     ahead once a second of them is recorded in a period (0: none; {@link SiblingScopes})
 * @param hook the permission events that record a write before it may proceed; null: the best this
 *     kernel offers ({@link LinuxSource#hook()} says which)
 * @param keepQueue how long a {@link QueueKeeper} holds the notification group once the tracking
 *     process is gone, for the next one to take over without a gap; zero: no keeper (a restart
 *     after an unclean stop finds by a walk what changed). Only with directory records or opens
 *     as the hook, whose notification group names content changes too.
 * @param naming with directory records and results that name files, how the files changed below a
 *     recorded directory are named: by an event each, or by a scan of the directory at the result
 */
public record LinuxSourceOptions(Barrier barrier, FailurePolicy failurePolicy, Duration answerDeadline,
                                 Granularity granularity, Detail detail, int siblingScopes, Hook hook,
                                 Duration keepQueue, Naming naming) {
    /**
     * The permission events that hold an access until its record is durable (docs/linux-source.md,
     * "Hooks": what each sees before the fact, and which kernels offer it).
     */
    public enum Hook {
        /**
         * {@code FAN_PRE_ACCESS} before every read, write, mmap and truncation of a file not yet
         * recorded in the period, and {@code FAN_OPEN_PERM} for {@code O_TRUNC} (Linux 6.14+).
         */
        PRE_CONTENT("pre-content"),
        /**
         * {@code FAN_OPEN_PERM} only (Linux 6.1+): an open that can write is recorded before it
         * returns; writes through descriptors opened earlier are covered by carrying every file open
         * for writing into each new period, and a {@code truncate(2)} by path is named after the fact.
         */
        OPEN_PERM("open-perm");

        private final String cliName;

        Hook(String cliName) {
            this.cliName = cliName;
        }

        /** The name on the command line, in status and in the configuration: {@code pre-content} or {@code open-perm}. */
        public String cliName() {
            return cliName;
        }

        /** The hook named {@code name}, or null if none is. */
        public static Hook fromCliNameOrNull(String name) {
            for (Hook h : values()) {
                if (h.cliName.equals(name)) {
                    return h;
                }
            }
            return null;
        }
    }

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

    /** What the first access in a period records before it may proceed (docs/linux-source.md compares them). */
    public enum Granularity {
        /**
         * The file's directory, with one ignore mark for all its children: later accesses to any of
         * them raise no permission event in the period, and their changes are recorded after the
         * fact from the notification group (the default: one round trip per directory, not per file).
         */
        DIRECTORY,
        /** The file itself, with an ignore mark on it: one round trip per file. */
        FILE
    }

    /** What a result names (docs/linux-source.md, *Directory results*). */
    public enum Detail {
        /** Every changed file by its path, and what happened to it (the default). */
        FILES,
        /**
         * Only directories: each one whose entries, or whose files' contents or attributes, changed,
         * as {@link PathChange.Kind#LIST} (look at it, its entries and its files again; not its subdirectories). After a
         * directory's first change in a period its children raise no event at all, so a writer pays
         * for about one event per directory per period instead of one per file operation. Needs
         * {@link Granularity#DIRECTORY}.
         */
        DIRECTORIES
    }

    /**
     * How a result names the files changed below a directory recorded for all its children (with
     * {@link Granularity#DIRECTORY} and {@link Detail#FILES}; docs/linux-source.md, *Naming files*).
     */
    public enum Naming {
        /**
         * Every child's creation, first write, last close after writing and attribute change is an
         * event of the notification group, recorded with the child's name.
         */
        EVENTS("events"),
        /**
         * After a directory's first such event in a period its children raise none (an ignore mark
         * on the directory), and the result names the children whose ctime is at or after the last
         * blessed result's checkpoint time ({@link DirectoryScan}). Deletions, renames and the
         * directory's subdirectories stay events. A directory above {@link DirectoryScan#LINE_BYTES}
         * keeps an event per child.
         */
        SCAN("scan");

        private final String cliName;

        Naming(String cliName) {
            this.cliName = cliName;
        }

        /** The name on the command line and in the configuration: {@code events} or {@code scan}. */
        public String cliName() {
            return cliName;
        }

        /** The naming called {@code name}, or null if none is. */
        public static Naming fromCliNameOrNull(String name) {
            for (Naming n : values()) {
                if (n.cliName.equals(name)) {
                    return n;
                }
            }
            return null;
        }
    }

    /** The most sibling scopes: one expansion must stay one sync's and a few milliseconds' worth. */
    public static final int MAX_SIBLING_SCOPES = 4096;
    /** The default sibling scopes: the subdirectories of a build tree's typical parent, and then some. */
    public static final int DEFAULT_SIBLING_SCOPES = 256;

    /** The longest deadline: a writer must never wait long for a tracker that cannot answer. */
    public static final Duration MAX_DEADLINE = Duration.ofMinutes(5);

    /** The longest a keeper holds a group nobody reads: its queue is bounded, but a restart that late is no restart. */
    public static final Duration MAX_KEEP_QUEUE = Duration.ofHours(1);

    public LinuxSourceOptions {
        Objects.requireNonNull(barrier, "barrier");
        Objects.requireNonNull(failurePolicy, "failurePolicy");
        Objects.requireNonNull(answerDeadline, "answerDeadline");
        Objects.requireNonNull(granularity, "granularity");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(keepQueue, "keepQueue");
        Objects.requireNonNull(naming, "naming");
        if (keepQueue.isNegative() || keepQueue.compareTo(MAX_KEEP_QUEUE) > 0) {
            throw new IllegalArgumentException("the queue is kept between 0 s and " + MAX_KEEP_QUEUE.toMinutes()
                    + " minutes, not " + keepQueue + ".");
        }
        if (detail == Detail.DIRECTORIES && granularity != Granularity.DIRECTORY) {
            throw new IllegalArgumentException("results that name directories need directory records (granularity DIRECTORY).");
        }
        if (siblingScopes < 0 || siblingScopes > MAX_SIBLING_SCOPES) {
            throw new IllegalArgumentException("the sibling scopes are between 0 and " + MAX_SIBLING_SCOPES + ", not "
                    + siblingScopes + ".");
        }
        if (answerDeadline.toMillis() < 10 || answerDeadline.compareTo(MAX_DEADLINE) > 0) {
            throw new IllegalArgumentException("the answer deadline must be between 10 ms and " + MAX_DEADLINE
                    + ", not " + answerDeadline + ".");
        }
    }

    /**
     * srcu, fail-open, a 5-second deadline, directory records, results that name files (by a scan of
     * their recorded directories), 256 sibling scopes, the best hook the kernel offers, no keeper.
     */
    public static LinuxSourceOptions defaults() {
        return new LinuxSourceOptions(Barrier.SRCU, FailurePolicy.FAIL_OPEN, Duration.ofSeconds(5), Granularity.DIRECTORY,
                Detail.FILES, DEFAULT_SIBLING_SCOPES, null, Duration.ZERO, Naming.SCAN);
    }

    /** @param h the hook, or null for the best this kernel offers */
    public LinuxSourceOptions withHook(Hook h) {
        return new LinuxSourceOptions(barrier, failurePolicy, answerDeadline, granularity, detail, siblingScopes, h, keepQueue, naming);
    }

    /** Whether opens are the only permission events: {@link Hook#OPEN_PERM} (only once the hook is resolved). */
    boolean opensOnly() {
        return hook == Hook.OPEN_PERM;
    }

    public LinuxSourceOptions withSiblingScopes(int most) {
        return new LinuxSourceOptions(barrier, failurePolicy, answerDeadline, granularity, detail, most, hook, keepQueue, naming);
    }

    public LinuxSourceOptions withBarrier(Barrier b) {
        return new LinuxSourceOptions(b, failurePolicy, answerDeadline, granularity, detail, siblingScopes, hook, keepQueue, naming);
    }

    public LinuxSourceOptions withFailurePolicy(FailurePolicy p) {
        return new LinuxSourceOptions(barrier, p, answerDeadline, granularity, detail, siblingScopes, hook, keepQueue, naming);
    }

    public LinuxSourceOptions withAnswerDeadline(Duration d) {
        return new LinuxSourceOptions(barrier, failurePolicy, d, granularity, detail, siblingScopes, hook, keepQueue, naming);
    }

    public LinuxSourceOptions withGranularity(Granularity g) {
        return new LinuxSourceOptions(barrier, failurePolicy, answerDeadline, g, detail, siblingScopes, hook, keepQueue, naming);
    }

    public LinuxSourceOptions withDetail(Detail d) {
        return new LinuxSourceOptions(barrier, failurePolicy, answerDeadline, granularity, d, siblingScopes, hook, keepQueue, naming);
    }

    /** @param keep how long a keeper holds the notification group for a successor; zero: no keeper */
    public LinuxSourceOptions withKeepQueue(Duration keep) {
        return new LinuxSourceOptions(barrier, failurePolicy, answerDeadline, granularity, detail, siblingScopes, hook, keep, naming);
    }

    /** These options, with the files below a recorded directory named by {@code n}. */
    public LinuxSourceOptions withNaming(Naming n) {
        return new LinuxSourceOptions(barrier, failurePolicy, answerDeadline, granularity, detail, siblingScopes, hook, keepQueue, n);
    }

    /** Whether results name the files below recorded directories by a scan ({@link Naming#SCAN} where it applies). */
    boolean scansDirectories() {
        return naming == Naming.SCAN && granularity == Granularity.DIRECTORY && detail == Detail.FILES;
    }

    /** Whether a keeper holds the notification group ({@link #keepQueue} is set and the group names content). */
    boolean keepsQueue() {
        return !keepQueue.isZero() && NotificationListener.namesContent(this);
    }
}
