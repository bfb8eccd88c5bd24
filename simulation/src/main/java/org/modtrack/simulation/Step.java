package org.modtrack.simulation;

import org.modtrack.simulation.SimulatedStorage.CrashKind;

/**
 * One step of a schedule, with every parameter it needs, so that a list of steps replays exactly.
 * A step that is not possible when replayed (say, a writer that is not idle) is skipped.
 */
sealed interface Step {
    /** Writer {@code writer} announces a write to file {@code file} (preWrite). */
    record Begin(int writer, int file) implements Step {
        public String toString() {
            return "w" + writer + " preWrite f" + file;
        }
    }

    /** The writer's data write lands: the file's true version goes up. */
    record Data(int writer) implements Step {
        public String toString() {
            return "w" + writer + " writes its file";
        }
    }

    /** The writer's write ends (postWrite). */
    record End(int writer) implements Step {
        public String toString() {
            return "w" + writer + " postWrite";
        }
    }

    /** The writer dies after its preWrite: its postWrite never comes. */
    record Die(int writer) implements Step {
        public String toString() {
            return "w" + writer + " dies without postWrite";
        }
    }

    /** A group commit captures what it will sync. */
    record SyncStart() implements Step {
        public String toString() {
            return "group commit starts";
        }
    }

    /** The group commit's fdatasync completes. */
    record SyncFinish() implements Step {
        public String toString() {
            return "group commit completes";
        }
    }

    /** A whole group commit at once (the exhaustive search's coarser step). */
    record Sync() implements Step {
        public String toString() {
            return "group commit";
        }
    }

    /** Consumer {@code consumer} starts a query (checkpoint). */
    record QueryBegin(int consumer) implements Step {
        public String toString() {
            return World.consumerLabel(consumer) + "query starts a checkpoint";
        }
    }

    /**
     * The checkpoint ends (carries, seals off the closing period) and its result's records are
     * frozen; writers may run before {@link QueryFinish} builds and issues the result.
     */
    record QueryClose() implements Step {
        public String toString() {
            return "query ends the checkpoint; its result is built while writers go on";
        }
    }

    /**
     * The result is built (and, without a {@link QueryClose} before, the checkpoint ends first) and
     * issued; the consumer either acts on the result (copies its files) or loses it.
     */
    record QueryFinish(boolean consumerActs) implements Step {
        public String toString() {
            return consumerActs ? "query returns; the consumer copies its files" : "query returns; the consumer loses the result";
        }
    }

    /** Consumer {@code consumer} blesses the last result it acted on. */
    record Bless(int consumer) implements Step {
        public String toString() {
            return World.consumerLabel(consumer) + "consumer blesses its last result";
        }
    }

    /**
     * Consumer {@code consumer} blesses an id it must not: never returned, older than its last
     * blessed, or (with two consumers) one returned only to the other.
     */
    record BadBless(int consumer, boolean tooNew) implements Step {
        public String toString() {
            return World.consumerLabel(consumer) + (tooNew ? "bless of an id never returned to it" : "bless of an id older than its last blessed");
        }
    }

    /**
     * Consumer {@code consumer} (not the default one) is removed, or added back: an added consumer
     * reads every file whole and then follows its results, which start from the open period.
     */
    record ConsumerChange(int consumer, boolean add) implements Step {
        public String toString() {
            return World.consumerLabel(consumer) + (add ? "is added; it reads every file whole" : "is removed");
        }
    }

    /** Time passes. */
    record Tick(long nanos) implements Step {
        public String toString() {
            return "time passes (" + nanos + ")";
        }
    }

    /** A crash strikes now; {@code seed} decides what unsynced state survives. */
    record Crash(CrashKind kind, long seed) implements Step {
        public String toString() {
            return kind.name().toLowerCase() + " crash (seed " + seed + ")";
        }
    }

    /** A crash will strike at the {@code afterOps}-th next storage operation. */
    record ArmCrash(CrashKind kind, int afterOps, long seed) implements Step {
        public String toString() {
            return kind.name().toLowerCase() + " crash armed for storage operation +" + afterOps + " (seed " + seed + ")";
        }
    }

    /** Linux model: thread {@code thread} enters a write (or a shared writable mmap) call on {@code file}. */
    record Call(int thread, int file, boolean mmap) implements Step {
        public String toString() {
            return "t" + thread + (mmap ? " mmap(shared, writable) f" : " write() f") + file;
        }
    }

    /** Linux model: the handler of thread {@code thread}'s event reads the epoch and records (preWrite). */
    record Handle(int thread) implements Step {
        public String toString() {
            return "handler of t" + thread + " records";
        }
    }

    /**
     * Linux model, directory records: {@code SiblingScopes} records a directory ahead of a walk
     * (a handler recorded another directory first), as a scope, reading the marks' epoch before.
     */
    record SiblingRecord(int directory) implements Step {
        public String toString() {
            return "d" + directory + " is recorded ahead of a walk";
        }
    }

    /** Linux model, directory records: the directory recorded ahead of a walk is marked, once durable. */
    record SiblingMark(int directory) implements Step {
        public String toString() {
            return "d" + directory + ", recorded ahead of a walk, is marked";
        }
    }

    /** Linux model, directory records: the directories recorded ahead at the checkpoint get their marks back. */
    record MarkAhead() implements Step {
        public String toString() {
            return "the directories recorded ahead are marked again";
        }
    }

    /** Linux model: the handler sets the ignore mark (epoch rule), answers, and calls postWrite. */
    record Answer(int thread) implements Step {
        public String toString() {
            return "handler of t" + thread + " answers";
        }
    }

    /** Linux model: the thread's data write lands (for an mmap call: the mapping exists). */
    record Write(int thread) implements Step {
        public String toString() {
            return "t" + thread + " writes";
        }
    }

    /** Linux model: the thread leaves its call. */
    record Leave(int thread) implements Step {
        public String toString() {
            return "t" + thread + " leaves the call";
        }
    }

    /** Linux model: the thread closes its file descriptor. */
    record Close(int thread) implements Step {
        public String toString() {
            return "t" + thread + " closes its fd";
        }
    }

    /** Linux model: a store through a shared writable mapping of {@code file} (no call, no event). */
    record Store(int file) implements Step {
        public String toString() {
            return "store through a mapping of f" + file;
        }
    }

    /** Linux model: a mapping of {@code file} is removed. */
    record Unmap(int file) implements Step {
        public String toString() {
            return "munmap f" + file;
        }
    }

    /** Linux model, directory records: the notification reader takes the next event and records it (or the loss). */
    record Read() implements Step {
        public String toString() {
            return "notification reader takes the next event";
        }
    }

    /**
     * Linux model, results that name directories: the notification reader finishes the event it took:
     * it mutes the directory it recorded, if no flush came since it read the epoch.
     */
    record Mute() implements Step {
        public String toString() {
            return "notification reader mutes the directory it recorded";
        }
    }

    /** Linux model, directory records: the query, its barrier done, notes how far it must drain the notification queue. */
    record Drain() implements Step {
        public String toString() {
            return "query drains the notification queue";
        }
    }

    /**
     * Linux model, directory records: the query, its drain done, walks the files for what an
     * overflow of the notification queue dropped ({@code Reconciler}).
     */
    record Walk() implements Step {
        public String toString() {
            return "query walks the files for what the overflow dropped";
        }
    }

    /** Linux model, directory records: the query's drain times out (continuity lost). */
    record DrainTimeout() implements Step {
        public String toString() {
            return "query's drain times out";
        }
    }

    /**
     * Linux model: the tracker stops cleanly ({@code LinuxSource.close}): watermark, drain of the
     * notification queue ({@code drainFails}: it times out, so no watermark is stored), groups closed.
     */
    record Stop(boolean drainFails) implements Step {
        public String toString() {
            return "tracker stops cleanly" + (drainFails ? " (its drain times out)" : "");
        }
    }

    /**
     * Linux model with a kept queue: the queue keeper dies (while the tracker runs, nothing changes
     * until the tracker's next death or stop; while it is stopped, the kept queue is gone).
     */
    record KeeperDies() implements Step {
        public String toString() {
            return "queue keeper dies";
        }
    }

    /** Linux model: the stopped tracker starts again and compares the watermark. */
    record Start() implements Step {
        public String toString() {
            return "tracker starts";
        }
    }
}
