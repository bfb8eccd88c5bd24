package org.modtrack.simulation;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.modtrack.engine.BlessException;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.CheckpointSteps;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.ResultTooLargeException;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.engine.TrackerCore;
import org.modtrack.engine.WriteBarrier;
import org.modtrack.engine.journal.ConsumerState;
import org.modtrack.engine.journal.ControlState;
import org.modtrack.engine.journal.Journal;
import org.modtrack.engine.journal.SyncPlan;
import org.modtrack.simulation.SimulatedStorage.CrashKind;
import org.modtrack.source.linux.rules.EpochRule;
import org.modtrack.source.linux.rules.RebootRule;

/**
 * One simulated world: files with a true version each, writers, a consumer that keeps a mirror of
 * the files, and the real tracker core and journal over a {@link SimulatedStorage}.
 *
 * <p>The invariant is checked end to end: the consumer copies every file a result names (all files
 * when a result says continuity was lost) and finally, after all writers have stopped and one last
 * query, its mirror must equal the truth. A change that no result reported after it happened leaves
 * a stale mirror. Other checks: the first result after a crash says it was recovered; valid blesses
 * are accepted and invalid ones refused without a change; the core's own invariants hold after every
 * step; the engine never throws what it should not.
 */
final class World {
    private static final CheckpointSteps.Locked DIRECT = new CheckpointSteps.Locked() {
        @Override
        public <T> T call(CheckpointSteps.IoCallable<T> body) throws IOException {
            return body.call();
        }
    };

    private enum WriterState { IDLE, PENDING, READY }

    /** The reason of a restart that is a gap: the consumer rescans everything. */
    private static final String RESTART_GAP = "rescan /sim: ";
    /** Continuity losses of the notification queue: the consumer rescans the directories the result names. */
    private static final String QUEUE_OVERFLOWED = "the notification queue overflowed: rescan the recorded directories.";
    private static final String QUEUE_NOT_DRAINED = "the notification queue was not drained in time: rescan the recorded directories.";

    private static final class Writer {
        WriterState state = WriterState.IDLE;
        int file;
        long token;
        long lsn;
        int begins;
        boolean wrote;
        int version;
    }

    private final Scenario scenario;
    private TrackerConfig config; // its result bound is raised once a result is refused (Scenario.resultBound)
    private boolean boundRaisedSinceOpen; // a refused result's bound is raised, and the engine has not started with it yet
    private int refusals;
    private final SimulatedStorage storage = new SimulatedStorage();
    private final FileId[] ids;
    private final FileId[] directoryIds;
    private final int[] truth;
    /** Each consumer's copy of the files: {@code mirrors[c][f]} is the version it last copied. */
    private final int[][] mirrors;
    private final int[] completed;
    private int[] completedAtBegin;
    private final LinuxKernel kernel;
    private final WriteBarrier barrier;
    private WriteBarrier.Wait barrierWait = WriteBarrier.Wait.DONE;
    private final Writer[] writers;
    private final List<String> log = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private TrackerCore core;
    private long now;
    private SyncPlan syncing;
    private boolean checkpointRunning;
    // Between QueryClose and QueryFinish: the checkpoint ended and its result is built from frozen
    // records while writers go on (ChangeTracker builds it without the writers' lock).
    private TrackerCore.Finished closedForResult;
    // Whether the result being issued waited for a group commit that was already running.
    private boolean waitedForRunningSync;
    private final long[] pendingBless; // per consumer
    private final boolean[] crashedSinceLastResult; // per consumer
    private final boolean[] lastResultRecovered; // per consumer
    private int querying; // the consumer whose checkpoint runs
    private final boolean[] present; // per consumer: whether the engine has it (the default consumer always)
    private int consumerChanges;
    private long armedSeed;
    private int queries;
    private int filesUsed;
    private int crashes;
    private int dies;
    private long falsePositives;
    private boolean broken;
    // The Linux model with directory records: the running query's drain of the notification queue.
    private long drainTarget = -1; // events it waits for (-1: not started)
    // What the barrier carries, looked at before the drain began: a mapping removed later queued its
    // CLOSE_WRITE after the drain's target, so it must still be carried.
    private List<FileId> carryBeforeDrain;
    private boolean drainGaveUp;
    // The Linux model's clean stop: whether the tracker is stopped, and the watermark it stored.
    private boolean stopped;
    private Long watermark;
    private boolean closingCleanly;
    private int stops;
    // The Linux model's reconciliation (Reconciler, CheckpointTimes): each issued result's
    // checkpoint time on the kernel's ctime clock, the boot it was taken in, and the clock when the
    // result was returned (for the mutant scan-late-watermark) (result 0: the time tracking began),
    // kept through crashes of the tracker (the page cache); whether an overflow
    // asked for a walk; whether this run's restart was reconciled (ResultResolver then needs no
    // rescan of recovered scopes).
    private final Map<Long, long[]> checkpointTimes = new HashMap<>();
    private long boot;
    // The power lease (PowerLease): the boot it was written in, -1 while none stands; a boot whose
    // checkpoint times this boot trusts because the lease stood when it went down (-1: none), and
    // the clock when this boot began (RebootRule.walkAcrossReboot's check).
    private long leaseBoot = -1;
    private boolean leasePending; // the start found writes in flight: the next result grants the lease
    private long trustedBoot = -1;
    private long bootStartedAt;
    private long checkpointTime;
    private boolean walkAsked;
    private boolean reconciledRun;
    // The Linux model's queue keeper (QueueKeeper, Handover): whether it runs; the event the reader
    // took off the queue and has not recorded yet (a kept queue makes reading two steps, so that a
    // crash can fall between them); whether this run took a kept queue over with nothing lost.
    private boolean keeperAlive = true;
    private int keeperDeaths;
    private int taken = NOTHING_TAKEN;
    private boolean walkUnfinished; // a walk was asked for and has not run to its end (the handover's pending walk)
    private boolean takenOverRun;
    private long keptUpTo; // the events queued when this run took the queue over (those gathered while no tracker ran)
    private boolean[] lossBeyondScopes; // per consumer: a notification loss while such events were unrecorded (see notificationsLost)
    private static final int NOTHING_TAKEN = Integer.MIN_VALUE;
    /** Removals and additions of consumers per schedule: a few, so that each consumer also lives long enough to bless. */
    private static final int MAX_CONSUMER_CHANGES = 3;

    World(Scenario scenario) {
        this.scenario = scenario;
        this.config = TrackerConfig.defaults()
                .withDurability(scenario.durability())
                .withBarrierTimeout(Duration.ofNanos(scenario.barrierTimeoutNanos()))
                .withSnapshotBytes(4096, 1 << 20)
                .withMaxWritesInProgress(64)
                .withBarrier(WriteBarrier.NONE)
                // With two consumers, one that stops blessing is dropped within a few checkpoints
                // (simulated nanoseconds stand for the milliseconds the engine counts in).
                .withConsumerTimeout(scenario.consumers() > 1 ? Duration.ofMillis(8 * scenario.barrierTimeoutNanos())
                        : TrackerConfig.DEFAULT_CONSUMER_TIMEOUT)
                .withMaxResultRecords(scenario.resultBound() > 0 ? scenario.resultBound() : Long.MAX_VALUE);
        this.ids = new FileId[scenario.files()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = scenario.handleIdentities()
                    ? FileId.ofHandle(1, 1, new byte[] {(byte) i, 7, 7, 7}, "/sim/f" + i, null)
                    : FileId.ofPath("/sim/f" + i);
        }
        this.directoryIds = new FileId[scenario.directories()];
        for (int k = 0; k < directoryIds.length; k++) {
            directoryIds[k] = scenario.handleIdentities()
                    ? FileId.ofHandle(1, 1, new byte[] {(byte) (100 + k), 7, 7, 7}, "/sim/d" + k, null)
                    : FileId.ofPath("/sim/d" + k);
        }
        this.truth = new int[scenario.files()];
        this.mirrors = new int[scenario.consumers()][scenario.files()];
        this.pendingBless = new long[scenario.consumers()];
        this.crashedSinceLastResult = new boolean[scenario.consumers()];
        this.lastResultRecovered = new boolean[scenario.consumers()];
        this.lossBeyondScopes = new boolean[scenario.consumers()];
        this.present = new boolean[scenario.consumers()];
        Arrays.fill(present, true);
        this.completed = new int[scenario.files()];
        this.completedAtBegin = new int[scenario.files()];
        this.kernel = scenario.linux()
                ? new LinuxKernel(scenario.writers(), ids, truth, completed, scenario.linuxMutant(), scenario.granularity(),
                        directoryIds, scenario.queueBound(), scenario.opensOnly())
                : null;
        this.barrier = kernel != null ? kernel.barrier() : WriteBarrier.NONE;
        this.writers = new Writer[scenario.writers()];
        for (int i = 0; i < writers.length; i++) {
            writers[i] = new Writer();
        }
        if (kernel != null) {
            checkpointTimes.put(0L, new long[] {kernel.clock(), boot, kernel.clock()}); // before the first marks
        }
        recover(0, false);
        for (int c = 1; c < scenario.consumers() && !broken; c++) {
            try {
                CheckpointSteps.addConsumer(core, DIRECT, consumerName(c), -1, -1, now);
                log.add("consumer " + consumerName(c) + " added");
            } catch (IOException | RuntimeException e) {
                engineError(new Step.QueryBegin(c), e);
            }
        }
    }

    /** The engine's name of model consumer {@code c}: the default consumer, then c1, c2, ... */
    static String consumerName(int c) {
        return c == 0 ? ConsumerState.DEFAULT : "c" + c;
    }

    /** How a step of consumer {@code c} starts in the log: nothing for the default consumer (the only one in most schedules). */
    static String consumerLabel(int c) {
        return c == 0 ? "" : "c" + c + ": ";
    }

    List<String> violations() {
        return violations;
    }

    List<String> log() {
        return log;
    }

    long falsePositives() {
        return falsePositives;
    }

    /** Results refused as larger than the scenario's bound ({@link Scenario#resultBound()}). */
    int refusedResults() {
        return refusals;
    }

    /** True once a violation or an engine error ended this world's usefulness. */
    boolean broken() {
        return broken;
    }

    // ---- which steps are possible ----------------------------------------------------------------

    /** Every step possible now; random parameters come from {@code random} (null: the exhaustive set). */
    List<Step> enabledSteps(SplittableRandom random) {
        List<Step> steps = new ArrayList<>();
        if (broken) {
            return steps;
        }
        if (kernel != null) {
            LinuxSteps.add(steps, kernel, core, scenario, random, filesUsed);
        } else {
            writerSteps(steps, random);
        }
        if (stopped) {
            steps.add(new Step.Start()); // meanwhile the writers go on, unseen (or seen by a kept queue)
            if (keeps() && keeperAlive && keeperDeaths < 1) {
                steps.add(new Step.KeeperDies());
            }
            return steps;
        }
        if (readPossible()) {
            steps.add(new Step.Read());
        }
        if (keeps() && keeperAlive && keeperDeaths < 1) {
            steps.add(new Step.KeeperDies());
        }
        if (kernel != null && kernel.readerDirectory() >= 0) {
            steps.add(new Step.Mute()); // the second half of the event the reader took
        }
        if (scenario.durability() == Durability.POWER) {
            if (syncing == null && core.journal().hasUnsynced() && awaitsDurability()) {
                steps.add(scenario.splitSteps() ? new Step.SyncStart() : new Step.Sync());
            }
            if (syncing != null) {
                steps.add(new Step.SyncFinish());
            }
        }
        if (!checkpointRunning) {
            for (int c = 0; c < scenario.consumers(); c++) {
                if (c > 0 && consumerChanges < MAX_CONSUMER_CHANGES && random != null) {
                    steps.add(new Step.ConsumerChange(c, !present[c]));
                }
                if (!present[c]) {
                    continue;
                }
                if (scenario.maxQueries() < 0 || queries < scenario.maxQueries()) {
                    steps.add(new Step.QueryBegin(c));
                }
                if (pendingBless[c] > 0) {
                    steps.add(new Step.Bless(c));
                }
                if (scenario.badBlesses()) {
                    steps.add(new Step.BadBless(c, random == null || random.nextBoolean()));
                }
            }
            if (kernel != null && syncing == null && stops < scenario.maxStops()) {
                steps.add(new Step.Stop(random != null && random.nextInt(4) == 0));
                if (random == null) {
                    steps.add(new Step.Stop(true));
                }
            }
        } else {
            drainSteps(steps);
            if (closedForResult == null && checkpointMayFinish() && scenario.splitSteps()) {
                steps.add(new Step.QueryClose());
            }
            if (checkpointMayFinish()) {
                steps.add(new Step.QueryFinish(true));
                steps.add(new Step.QueryFinish(false));
            }
            if (random != null) {
                steps.add(new Step.Tick(1 + random.nextLong(scenario.barrierTimeoutNanos() * 3 / 2)));
            } else if (closedForResult == null && !barrierMayFinish()) {
                steps.add(new Step.Tick(core.deadlineNanos() - now)); // the barrier times out
            }
        }
        if (scenario.maxCrashes() < 0 || crashes < scenario.maxCrashes()) {
            if (random != null) {
                CrashKind kind = random.nextBoolean() ? CrashKind.POWER : CrashKind.PROCESS;
                steps.add(new Step.Crash(kind, random.nextLong()));
                if (scenario.armedCrashes() && !storage.armed()) {
                    steps.add(new Step.ArmCrash(random.nextBoolean() ? CrashKind.POWER : CrashKind.PROCESS,
                            1 + random.nextInt(12), random.nextLong()));
                }
            } else {
                steps.add(new Step.Crash(CrashKind.PROCESS, 0));
                for (long seed = 0; seed < 3; seed++) {
                    steps.add(new Step.Crash(CrashKind.POWER, seed));
                }
            }
        }
        return steps;
    }

    /**
     * Whether someone waits for a record to become durable: only then does the real tracker sync
     * ({@code GroupCommit} runs inside a waiter's call; nothing syncs in the background), so a
     * record nobody waits for (a carry, an after-the-fact change) stays unsynced until one does.
     */
    private boolean awaitsDurability() {
        for (Writer w : writers) {
            if (w.state == WriterState.PENDING) {
                return true;
            }
        }
        return kernel != null && kernel.awaitsDurability(core);
    }

    /** With directory records: the query drains the notification queue once its barrier is done. */
    private void drainSteps(List<Step> steps) {
        if (kernel != null && kernel.mayMarkAheadAgain(core)) {
            steps.add(new Step.MarkAhead());
        }
        if (kernel == null || !kernel.directories() || closedForResult != null) {
            return;
        }
        if (drainTarget < 0 && barrierMayFinish()) {
            steps.add(new Step.Drain());
        }
        if (drainTarget >= 0 && !drained()) {
            steps.add(new Step.DrainTimeout());
        }
        if (walkPossible()) {
            steps.add(new Step.Walk());
        }
    }

    private void writerSteps(List<Step> steps, SplittableRandom random) {
        for (int w = 0; w < writers.length; w++) {
            Writer wr = writers[w];
            switch (wr.state) {
                case IDLE -> {
                    if (scenario.maxBeginsPerWriter() < 0 || wr.begins < scenario.maxBeginsPerWriter()) {
                        if (random != null) {
                            steps.add(new Step.Begin(w, random.nextInt(ids.length)));
                        } else if (w == 0 || writers[w - 1].begins > 0 || wr.begins > 0) {
                            // Symmetry: writers are interchangeable and so are files, so the search
                            // lets writer k begin only after writer k-1 has, and offers only the
                            // files used so far plus the lowest unused one.
                            for (int f = 0; f <= Math.min(ids.length - 1, filesUsed); f++) {
                                steps.add(new Step.Begin(w, f));
                            }
                        }
                    }
                }
                case READY -> {
                    if (random != null || !wr.wrote) {
                        steps.add(new Step.Data(w));
                    }
                    steps.add(new Step.End(w));
                    if (dies < scenario.maxDies()) {
                        steps.add(new Step.Die(w));
                    }
                }
                case PENDING -> { }
            }
        }
    }

    /** Whether {@code step} is possible now (for replaying a shrunk schedule). */
    boolean possible(Step step) {
        if (broken) {
            return false;
        }
        if (stopped) {
            return step instanceof Step.Start || (kernel != null && LinuxSteps.possible(step, kernel, core));
        }
        return switch (step) {
            case Step.Begin b -> b.writer() < writers.length && b.file() < ids.length
                    && writers[b.writer()].state == WriterState.IDLE;
            case Step.Data d -> kernel == null && d.writer() < writers.length && writers[d.writer()].state == WriterState.READY;
            case Step.End e -> e.writer() < writers.length && writers[e.writer()].state == WriterState.READY;
            case Step.Die d -> d.writer() < writers.length && writers[d.writer()].state == WriterState.READY;
            case Step.SyncStart s -> scenario.durability() == Durability.POWER && syncing == null;
            case Step.SyncFinish s -> syncing != null;
            case Step.Sync s -> scenario.durability() == Durability.POWER && syncing == null;
            case Step.QueryBegin q -> !checkpointRunning && q.consumer() < scenario.consumers() && present[q.consumer()];
            case Step.ConsumerChange c -> !checkpointRunning && c.consumer() > 0 && c.consumer() < scenario.consumers()
                    && present[c.consumer()] != c.add();
            case Step.QueryClose q -> checkpointRunning && closedForResult == null && checkpointMayFinish();
            case Step.QueryFinish q -> checkpointRunning && checkpointMayFinish();
            case Step.Bless b -> !checkpointRunning && b.consumer() < scenario.consumers() && present[b.consumer()]
                    && pendingBless[b.consumer()] > 0;
            case Step.BadBless b -> !checkpointRunning && b.consumer() < scenario.consumers() && present[b.consumer()];
            case Step.Tick t -> true;
            case Step.Crash c -> true;
            case Step.ArmCrash a -> !storage.armed();
            case Step.Call c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.Handle c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.Answer c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.Leave c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.Write c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.Close c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.Store c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.Unmap c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.SiblingRecord c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.SiblingMark c -> kernel != null && LinuxSteps.possible(c, kernel, core);
            case Step.Read r -> readPossible();
            case Step.KeeperDies k -> keeps() && keeperAlive;
            case Step.Mute m -> kernel != null && kernel.readerDirectory() >= 0;
            case Step.MarkAhead m -> kernel != null && kernel.mayMarkAheadAgain(core);
            case Step.Drain d -> checkpointRunning && kernel != null && kernel.directories() && closedForResult == null
                    && drainTarget < 0 && barrierMayFinish();
            case Step.DrainTimeout d -> checkpointRunning && closedForResult == null && drainTarget >= 0 && !drained();
            case Step.Walk w -> walkPossible();
            case Step.Stop st -> kernel != null && !checkpointRunning && syncing == null;
            case Step.Start st -> false;
        };
    }

    /**
     * Whether the running checkpoint may end: its writes ended and its barrier is done, or time is
     * up; and with directory records, the notification queue is drained (or the drain gave up).
     */
    private boolean checkpointMayFinish() {
        return closedForResult != null || (barrierMayFinish() && drained()
                && (!walkAsked || scenario.linuxMutant() == LinuxMutant.WALK_AFTER_RESULT));
    }

    /**
     * Whether the walk an overflow asked for may run: once the query's drain is done, before its
     * checkpoint closes ({@code LinuxSource.recordQueuedEvents}); with the mutant, at any time.
     */
    private boolean walkPossible() {
        if (!walkAsked || stopped) {
            return false;
        }
        if (scenario.linuxMutant() == LinuxMutant.WALK_AFTER_RESULT) {
            return closedForResult == null;
        }
        return checkpointRunning && closedForResult == null && drainTarget >= 0 && drained();
    }

    /**
     * Whether the notification reader may take the next event: there is one, the reader is not in
     * the middle of another (results that name directories: between its record and its mute), and
     * it is not a loss while a result is built (ChangeTracker's control lock: it goes to the next result).
     */
    private boolean readPossible() {
        if (kernel == null || stopped || kernel.readerDirectory() >= 0) {
            return false;
        }
        if (taken != NOTHING_TAKEN) {
            return taken != NotificationQueue.OVERFLOW || closedForResult == null;
        }
        return kernel.queue() != null && !kernel.queue().isEmpty()
                && (kernel.queue().head() != NotificationQueue.OVERFLOW || closedForResult == null);
    }

    /**
     * Whether every event queued before the drain began was handled (always, without directory
     * records): taken, and its handling finished (the real reader counts an event once its record
     * and its mute are done: {@code EventReader.advance}).
     */
    private boolean drained() {
        if (kernel == null || !kernel.directories()) {
            return true;
        }
        long handled = kernel.queue().taken() - (kernel.readerDirectory() >= 0 ? 1 : 0) - (taken != NOTHING_TAKEN ? 1 : 0);
        return drainGaveUp || (drainTarget >= 0 && handled >= drainTarget);
    }

    /** Whether the running checkpoint's writes ended and its barrier is done, or time is up. */
    private boolean barrierMayFinish() {
        try {
            return (core.ownWritesDone() && barrierWait.isDone()) || now >= core.deadlineNanos();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- doing a step ----------------------------------------------------------------------------

    /** Applies {@code step}; a crash it causes is handled here (the tracker recovers at once). */
    void apply(Step step) {
        String outcome;
        try {
            outcome = doStep(step);
        } catch (SimulatedStorage.Crash c) {
            outcome = "the " + c.kind().name().toLowerCase() + " crash strikes during it";
            log.add(step + ": " + outcome);
            crashed(c.kind(), armedSeed);
            return;
        } catch (Throwable t) {
            engineError(step, t);
            return;
        }
        log.add(step + (outcome.isEmpty() ? "" : ": " + outcome));
        try {
            core.checkInvariants();
        } catch (Throwable t) {
            engineError(step, t);
        }
    }

    private String doStep(Step step) throws IOException {
        return switch (step) {
            case Step.Begin b -> begin(writers[b.writer()], b.file());
            case Step.Data d -> {
                Writer w = writers[d.writer()];
                w.version = ++truth[w.file];
                w.wrote = true;
                yield "f" + w.file + " is now version " + truth[w.file];
            }
            case Step.End e -> {
                Writer w = writers[e.writer()];
                if (w.wrote) {
                    completed[w.file] = Math.max(completed[w.file], w.version);
                }
                if (!core.postWrite(w.token)) {
                    violation("postWrite of a live token was refused (w" + e.writer() + ").");
                }
                w.state = WriterState.IDLE;
                yield "";
            }
            case Step.Die d -> {
                writers[d.writer()] = replacement(writers[d.writer()]);
                dies++;
                yield "its token stays in progress";
            }
            case Step.SyncStart s -> {
                syncing = core.journal().prepareSync();
                yield "covers lsn " + syncing.lsn();
            }
            case Step.SyncFinish s -> {
                SyncPlan plan = syncing;
                syncing = null;
                completeSync(plan);
                yield "lsn " + plan.lsn() + " durable";
            }
            case Step.Sync s -> {
                SyncPlan plan = core.journal().prepareSync();
                completeSync(plan);
                yield "lsn " + plan.lsn() + " durable";
            }
            case Step.QueryBegin q -> {
                checkpointTime = kernel != null ? kernel.clock() : 0; // before the checkpoint begins
                querying = q.consumer();
                CheckpointSteps.dropStale(core, DIRECT, consumerName(querying), now);
                CheckpointSteps.begin(core, DIRECT, consumerName(querying), now);
                checkpointRunning = true;
                queries++;
                completedAtBegin = completed.clone();
                String ahead = kernel != null && kernel.directories() ? kernel.recordAhead(core) : "";
                barrierWait = barrier.begin(core.closingSnapshotId());
                drainTarget = -1;
                drainGaveUp = false;
                carryBeforeDrain = null;
                yield "closing snapshot " + core.closingSnapshotId() + ahead;
            }
            case Step.QueryClose q -> {
                closeQuery();
                yield "result " + closedForResult.snapshot() + " is built from records frozen now";
            }
            case Step.QueryFinish q -> finishQuery(q.consumerActs());
            case Step.Bless b -> bless(b.consumer());
            case Step.ConsumerChange c -> changeConsumer(c.consumer(), c.add());
            case Step.BadBless b -> badBless(b.consumer(), b.tooNew());
            case Step.Tick t -> {
                now += t.nanos();
                yield "now " + now;
            }
            case Step.Crash c -> {
                storage.disarm();
                armedSeed = c.seed();
                throw storage.crashNow(c.kind());
            }
            case Step.ArmCrash a -> {
                storage.arm(a.kind(), a.afterOps(), a.seed());
                armedSeed = a.seed();
                yield "";
            }
            case Step.Call c -> {
                filesUsed = Math.max(filesUsed, c.file() + 1);
                yield kernel.call(c.thread(), c.file(), c.mmap());
            }
            case Step.Handle h -> kernel.handle(h.thread(), core);
            case Step.Answer a -> kernel.answer(a.thread(), core);
            case Step.Leave l -> kernel.leave(l.thread());
            case Step.Write d -> kernel.data(d.thread());
            case Step.Close c -> kernel.close(c.thread());
            case Step.Store st -> kernel.store(st.file());
            case Step.Unmap u -> kernel.unmap(u.file());
            case Step.Read r -> readEvent();
            case Step.KeeperDies k -> keeperDies();
            case Step.Mute m -> finishEvent();
            case Step.MarkAhead m -> kernel.markAheadAgain();
            case Step.SiblingRecord r -> kernel.siblingRecord(r.directory(), core);
            case Step.SiblingMark m -> kernel.siblingMark(m.directory());
            case Step.Drain d -> {
                NotificationQueue q = kernel.queue();
                carryBeforeDrain = barrierWait.filesToCarry();
                drainTarget = scenario.linuxMutant() == LinuxMutant.NO_DRAIN ? q.taken() : q.queued();
                yield "waits until event " + drainTarget + " is taken (" + q.taken() + " taken, queue " + q + ")";
            }
            case Step.DrainTimeout d -> {
                drainGaveUp = true;
                notificationsLost(QUEUE_NOT_DRAINED);
                yield "continuity lost";
            }
            case Step.Walk w -> {
                walkAsked = false;
                String walked = walk();
                walkUnfinished = false; // the handover's count of walks done: only once it ran
                yield walked;
            }
            case Step.Stop st -> stop(st.drainFails());
            case Step.Start st -> start();
        };
    }

    /**
     * The notification reader takes the next event: a content change recorded after the fact, or an
     * overflow. With a kept queue the handover holds a taken event until it is recorded: a crash
     * while it is being recorded leaves it to the next tracker, as {@code EventReader.handleBatch}
     * notes an event recorded ({@code Batches.recorded}) only once its handler has returned.
     */
    private String readEvent() throws IOException {
        if (keeps() && taken == NOTHING_TAKEN) {
            taken = kernel.queue().take();
            return (taken == NotificationQueue.OVERFLOW ? "overflow" : "f" + taken)
                    + " taken, not yet recorded (the handover file holds it)";
        }
        String done = handleEvent(keeps() ? taken : kernel.queue().take());
        taken = NOTHING_TAKEN;
        return done;
    }

    private String handleEvent(int event) throws IOException {
        if (event == NotificationQueue.OVERFLOW) {
            if (walkFrom() >= 0) {
                walkAsked = true;
                walkUnfinished = true;
                return "overflow: a walk is asked for";
            }
            notificationsLost(QUEUE_OVERFLOWED);
            return "overflow: continuity lost";
        }
        kernel.noteBusy(event);
        if (kernel.mutesDirectories()) {
            return readForDirectoryResults(event);
        }
        long lsn = core.recordChange(ids[event], Change.WRITTEN, null, false);
        return "f" + event + (lsn == 0 ? " already recorded as written" : " recorded as written (lsn " + lsn + ")");
    }

    /**
     * Results that name directories ({@code NotificationListener.recordDirectory}), or files named by
     * a scan ({@code NotificationListener.recordForScan}): the reader reads the marks' epoch, records
     * the event's directory as written (after the fact, not awaited), and if that record is new in
     * the open period, mutes the directory in its next step ({@link #finishEvent}).
     */
    private String readForDirectoryResults(int file) throws IOException {
        int d = kernel.directoryOf(file);
        long epoch = kernel.epoch();
        String event = "event of f" + file + ": ";
        if (scenario.linuxMutant() == LinuxMutant.MUTE_WITHOUT_RECORD && kernel.preContentMarked(d)) {
            kernel.mute(d);
            return event + "d" + d + " is scoped, so it is muted without a record";
        }
        long lsn = recordDirectory(d);
        if (lsn == 0) {
            return event + "d" + d + " already recorded as written";
        }
        kernel.readerBetween(d, epoch);
        return event + "d" + d + " recorded as written (lsn " + lsn + "), to be muted";
    }

    /** The second half of the reader's event: the mute, set only if no flush came since the epoch was read. */
    private String finishEvent() {
        int d = kernel.readerDirectory();
        boolean noFlushSince = EpochRule.mayMark(kernel.readerEpoch(), kernel.epoch());
        kernel.readerDone();
        if (noFlushSince || scenario.linuxMutant() == LinuxMutant.DIR_MUTE_AFTER_FLUSH) {
            kernel.mute(d);
            return "d" + d + " muted" + (noFlushSince ? "" : " although a flush came since the epoch was read");
        }
        return "a flush came since the epoch was read: d" + d + " not muted";
    }

    private long recordDirectory(int d) throws IOException {
        return core.recordChange(directoryIds[d], Change.WRITTEN, null, true);
    }

    /**
     * A clean stop ({@code LinuxSource.close}): the watermark (the device's count, taken while every
     * access is still recorded), the drain of the notification queue without which the watermark is
     * not stored, the files mapped shared and writable recorded, the groups closed (handlers finish
     * first), the engine stopped cleanly.
     *
     * <p>Why the mapped files: their stores raise no event, and the watermark counts those made
     * before it. A mapping removed while no tracker runs queues no CLOSE_WRITE, and one gone before
     * the next start is not found by {@code PreOpenedWriters}; with its directory's scope dropped
     * from an intact result, nothing would name the file (the real source does this too:
     * {@code LinuxSource.settleAfterWatermark}).
     */
    private String stop(boolean drainFails) throws IOException {
        long mark = kernel.deviceWrites();
        boolean keepMark = scenario.linuxMutant() == LinuxMutant.STOP_WITHOUT_DRAIN || (!drainFails && drainAll() && !walkAsked);
        if (scenario.linuxMutant() != LinuxMutant.STOP_FORGETS_MAPPINGS) {
            // What LinuxSource.settleAfterWatermark records: what the barrier would carry now.
            for (FileId file : kernel.alwaysWritable(new LinkedHashSet<>())) {
                core.postWrite(core.preWrite(file).token());
            }
        }
        leasePending = false;
        if (scenario.linuxMutant() != LinuxMutant.LEASE_KEPT_AT_STOP) {
            leaseBoot = -1; // PowerLease.close: removed before the groups close
        }
        if (keeps() && keeperAlive) {
            kernel.stopKeepingQueue(core);
        } else {
            kernel.stop(core);
        }
        closingCleanly = true;
        core.close();
        closingCleanly = false;
        stopped = true;
        stops++;
        watermark = keepMark ? mark : null;
        return keepMark ? "watermark " + mark + " stored" : "no watermark";
    }

    /** Takes every queued notification; false if there is none to take from (nothing to drain then either). */
    private boolean drainAll() throws IOException {
        while (kernel.readerDirectory() >= 0 || taken != NOTHING_TAKEN
                || (kernel.queue() != null && !kernel.queue().isEmpty())) {
            if (kernel.readerDirectory() >= 0) {
                finishEvent();
            } else {
                readEvent();
            }
        }
        return true;
    }

    /**
     * The tracker starts again: the engine recovers (cleanly), the groups and marks are set up, the
     * files already open for writing or mapped are recorded, and unless the watermark proves that
     * nothing was written meanwhile ({@code LinuxSource.gapSincePreviousRun}), continuity is lost.
     */
    private String start() throws IOException {
        openCore();
        stopped = false;
        leaseBoot = -1; // PowerLease.clearAtStart: one of this boot's was left by a tracker that did not remove it
        String how = startAfterStop();
        grantLease();
        return how;
    }

    private String startAfterStop() throws IOException {
        takenOverRun = false;
        String takeover = takeOver();
        if (takeover != null) {
            return takeover;
        }
        recordPreOpened();
        String gap = !core.wasClean() ? "the previous run did not stop cleanly"
                : watermark == null ? "the previous run left no watermark"
                : watermark != kernel.deviceWrites() ? (kernel.deviceWrites() - watermark) + " writes meanwhile" : null;
        watermark = null;
        walkAsked = false; // the new groups start empty; the walk below covers the old ones' losses
        reconciledRun = false;
        if (gap != null) {
            walkUnfinished = true; // the handover counts the restart's walk as pending until it ends
            String walked = "a gap: " + gap + "; " + reconcileOrLose(gap);
            walkUnfinished = false;
            return walked;
        }
        walkUnfinished = false;
        return "no gap: nothing was written meanwhile";
    }

    /**
     * The time a walk starts from ({@code CheckpointTimes.since}): the last blessed result's
     * checkpoint time (before any bless, the time tracking began), if kept and taken in this boot;
     * -1 if there is none to trust.
     */
    private long walkFrom() {
        long[] t = checkpointTimes.get(core.control().keptFrom());
        return t != null && trusted(t) ? t[0] : -1;
    }

    /**
     * Whether a checkpoint time can be walked from ({@code CheckpointTimes.since}): taken in this
     * boot, or in the boot whose power lease stood when it went down ({@link RebootRule#walkAcrossReboot}).
     */
    private boolean trusted(long[] t) {
        return t[1] == boot || t[1] == trustedBoot
                && RebootRule.walkAcrossReboot(Long.toString(trustedBoot), Long.toString(t[1]), t[0], bootStartedAt);
    }

    /** Whether consumer's last blessed result {@code snapshot}'s time is trusted only across a reboot. */
    private boolean acrossReboot(long snapshot) {
        long[] t = checkpointTimes.get(snapshot);
        return t != null && t[1] != boot && trusted(t);
    }

    /** Whether a power lease may stand in this model: {@code power} durability, pre-content events, a keeper. */
    private boolean leased() {
        return scenario.durability() == Durability.POWER && keeps() && !scenario.opensOnly();
    }

    /**
     * A start writes the power lease ({@code LinuxSource.startLease}) once everything written before
     * its marks is recorded durably: the kept queue's backlog recorded, the writes in flight ended
     * (else the next result's checkpoint waits for them, and grants it), the walk's records and
     * every other one synced ({@code ChangeTracker.awaitDurable}), a keeper guarding it.
     */
    private void grantLease() throws IOException {
        leasePending = false;
        if (!leased() || !keeperAlive) {
            return;
        }
        if (scenario.linuxMutant() == LinuxMutant.LEASE_BEFORE_WALK) {
            leaseBoot = boot;
            return;
        }
        // The source records the kept queue's backlog and settles the writes in flight before it
        // grants; the model leaves them to the next result's drain and barrier (more interleavings),
        // and grants once that result is made.
        if (kernel.callsInFlight() || taken != NOTHING_TAKEN || kernel.readerDirectory() >= 0
                || (kernel.queue() != null && !kernel.queue().isEmpty())) {
            leasePending = true;
            return;
        }
        syncEverything();
        leaseBoot = boot;
    }

    /** {@code Reconciliation.run}: records as written every file whose ctime is at or after the watermark. */
    private String walk() throws IOException {
        long since = walkFrom();
        if (since < 0) {
            CheckpointSteps.markContinuityLost(core, DIRECT, RESTART_GAP + "no time to walk from");
            return "nothing to walk from: continuity lost";
        }
        List<Integer> found = kernel.changedSince(since);
        for (int f : found) {
            core.recordChange(ids[f], Change.WRITTEN, null, false);
        }
        return "a walk from time " + since + " recorded " + found.stream().map(f -> "f" + f).toList();
    }

    /** A restart's gap: walked if there is a time to walk from, else continuity lost ({@code Reconciler.afterGap}). */
    private String reconcileOrLose(String gap) throws IOException {
        if (walkFrom() >= 0) {
            reconciledRun = true;
            return walk();
        }
        CheckpointSteps.markContinuityLost(core, DIRECT, RESTART_GAP + gap);
        return "continuity lost";
    }

    /** Whether a queue keeper holds the notification group in this model (a kept queue needs directory records). */
    private boolean keeps() {
        return scenario.keptQueue() && kernel != null && kernel.directories();
    }

    /**
     * A start that takes a kept queue over ({@code LinuxSource.notificationGroup}): if the keeper
     * still holds the queue and its predecessor left no walk undone, there is no gap, whatever was
     * written meanwhile; the event the predecessor took and did not record stays for the reader
     * (the handover's leftover) and the inherited mutes are removed. Null if there is no kept queue
     * to take (a new keeper starts; the caller handles the gap as without one).
     */
    private String takeOver() throws IOException {
        if (!keeps()) {
            return null;
        }
        boolean kept = keeperAlive && kernel.queueKept();
        keeperAlive = true; // the start finds its keeper, or starts a new one
        boolean pendingWalk = walkUnfinished && scenario.linuxMutant() != LinuxMutant.TAKEOVER_DESPITE_PENDING_WALK;
        if (!kept || pendingWalk) {
            taken = NOTHING_TAKEN; // a new group, or a handover that is no seamless one: its leftover is dropped
            return null;
        }
        walkAsked = false;
        walkUnfinished = false;
        reconciledRun = false;
        takenOverRun = true;
        keptUpTo = kernel.queue().queued();
        String leftover = taken == NOTHING_TAKEN ? "" : ", with the event its predecessor took and did not record";
        if (scenario.linuxMutant() == LinuxMutant.SKIP_HANDOVER) {
            taken = NOTHING_TAKEN;
        }
        if (scenario.linuxMutant() != LinuxMutant.TAKEOVER_KEEPS_MUTES) {
            kernel.flushInheritedMutes();
        }
        for (FileId file : kernel.start(true)) {
            core.postWrite(core.preWrite(file).token());
        }
        return "took the kept queue over" + leftover + ": no gap";
    }

    /** The queue keeper dies; while no tracker runs, the queue it held dies with it. */
    private String keeperDies() {
        keeperAlive = false;
        keeperDeaths++;
        if (!stopped) {
            leaseBoot = -1; // the tracker's watch of its keeper's connection removes the lease it guarded
            leasePending = false;
        }
        if (stopped) {
            kernel.keptQueueLost();
            taken = NOTHING_TAKEN;
            return "the kept queue is gone";
        }
        return "the tracker still holds its group";
    }

    /** What {@code PreOpenedWriters} does at a start: records the files open for writing or mapped before the mark. */
    private void recordPreOpened() throws IOException {
        for (FileId file : kernel.start()) {
            core.postWrite(core.preWrite(file).token());
        }
    }

    private String begin(Writer w, int file) throws IOException {
        w.begins++;
        filesUsed = Math.max(filesUsed, file + 1);
        TrackerCore.Intent intent;
        try {
            intent = core.preWrite(ids[file]);
        } catch (IllegalStateException e) {
            return "refused: " + e.getMessage(); // too many writes in progress: the write does not happen
        }
        w.file = file;
        w.token = intent.token();
        w.lsn = intent.lsn();
        w.wrote = false;
        boolean acknowledged = core.journal().isAcknowledged(intent.lsn());
        w.state = acknowledged ? WriterState.READY : WriterState.PENDING;
        return (intent.alreadyRecorded() ? "already recorded" : "recorded (lsn " + intent.lsn() + ")")
                + (acknowledged ? ", may write" : ", waits for a sync");
    }

    private void completeSync(SyncPlan plan) throws IOException {
        Journal journal = core.journal();
        try {
            plan.execute();
            journal.completeSync(plan);
        } catch (IOException e) {
            journal.failSync(e);
            if (kernel != null) {
                LinuxSteps.denyUnacknowledged(kernel, core);
            }
            for (Writer w : writers) {
                if (w.state == WriterState.PENDING) {
                    core.postWrite(w.token); // the write is denied
                    w.state = WriterState.IDLE;
                }
            }
            return;
        }
        for (Writer w : writers) {
            if (w.state == WriterState.PENDING && journal.isAcknowledged(w.lsn)) {
                w.state = WriterState.READY;
            }
        }
    }

    private void syncEverything() throws IOException {
        completeSync(core.journal().prepareSync());
    }

    /**
     * A query's wait for its carried records, as {@code GroupCommit.awaitDurable} does it: a group
     * commit already running is waited for (it may hold the very records; a sync of its own would
     * not make them durable any sooner), then, if the record is still not acknowledged, the query
     * leads a group commit itself.
     */
    private void queryAwaitsDurable(long lsn) throws IOException {
        Journal journal = core.journal();
        if (syncing != null) {
            SyncPlan running = syncing;
            syncing = null;
            completeSync(running);
            waitedForRunningSync = true;
        }
        if (!journal.isAcknowledged(lsn) && journal.failure() == null) {
            syncEverything();
        }
        if (journal.failure() != null) {
            throw new IOException("the group commit failed", journal.failure());
        }
    }

    private void closeQuery() throws IOException {
        List<FileId> carry = carryBeforeDrain != null ? carryBeforeDrain : barrierWait.filesToCarry();
        barrierWait = WriteBarrier.Wait.DONE;
        closedForResult = CheckpointSteps.close(core, DIRECT, carry, now);
    }

    private String finishQuery(boolean consumerActs) throws IOException {
        if (closedForResult == null) {
            closeQuery();
        }
        TrackerCore.Finished finished = closedForResult;
        QueryResult r;
        try {
            r = CheckpointSteps.issue(core, DIRECT, this::queryAwaitsDurable, finished);
        } catch (ResultTooLargeException e) {
            // Nothing is issued: the consumer has no result to act on, and queries again later.
            closedForResult = null;
            checkpointRunning = false;
            waitedForRunningSync = false;
            refusals++;
            config = config.withMaxResultRecords(Long.MAX_VALUE); // what the refusal tells its user to do
            boundRaisedSinceOpen = true;
            return consumerLabel(querying) + "result refused (" + e.records() + " records, at most " + e.bound()
                    + "); the bound is raised for the next start";
        }
        if (kernel != null) {
            // CheckpointTimes.record: before the result is returned (a power loss makes a new
            // boot, in which no time is trusted).
            long time = scenario.linuxMutant() == LinuxMutant.LATE_WATERMARK ? kernel.clock() : checkpointTime;
            checkpointTimes.put(r.snapshot(), new long[] {time, boot, kernel.clock()});
        }
        closedForResult = null;
        checkpointRunning = false;
        for (Writer w : writers) {
            if (w.state == WriterState.PENDING && core.journal().isAcknowledged(w.lsn)) {
                w.state = WriterState.READY;
            }
        }
        if (leasePending && keeperAlive) {
            syncEverything(); // LinuxSource.query: this checkpoint waited for the start's writes in flight
            leaseBoot = boot;
            leasePending = false;
        }
        int c = querying;
        // A dropped consumer's result says continuity was lost instead: it keeps nothing recovered.
        if (crashedSinceLastResult[c] && !r.recovered() && !r.continuity().reason().contains(" was dropped: ")) {
            violation("the first result for " + r.consumer() + " after a crash (snapshot " + r.snapshot() + ") says recovered=false.");
        }
        crashedSinceLastResult[c] = false;
        lastResultRecovered[c] = r.recovered();
        long scanFrom = kernel != null && kernel.scansDirectories() ? scanFrom(r) : -1;
        boolean[] covered = covered(r, scanFrom);
        checkCompletedWritesNamed(r, covered);
        String summary = (waitedForRunningSync ? "after the running group commit completes, " : "") + consumerLabel(c)
                + "result " + r.snapshot() + " [" + names(r, scanFrom) + "]" + (r.continuity().intact() ? ""
                        : r.continuity().reason().contains(" was dropped: ") ? " continuity lost (dropped)" : " continuity lost")
                + (r.recovered() ? " recovered" : "");
        waitedForRunningSync = false;
        if (!consumerActs) {
            return summary + ", lost by the consumer";
        }
        for (int f = 0; f < ids.length; f++) {
            if (covered[f]) {
                if (mirrors[c][f] == truth[f]) {
                    falsePositives++;
                }
                mirrors[c][f] = truth[f];
            }
        }
        pendingBless[c] = r.snapshot();
        return summary + ", copied";
    }

    /**
     * The result's entries: files by index, recorded directories as {@code d0(scope)}; with files
     * named by a scan, a directory recorded for its children as {@code d0(scan from 4: f0 f2)} (the
     * files the scan names: changed at or after time 4) or {@code d0(scan: no time, rescan)}.
     */
    private String names(QueryResult r, long scanFrom) {
        StringBuilder names = new StringBuilder();
        for (ChangedFile c : r.changes()) {
            int d = directoryIndex(c.file());
            List<String> kinds = new ArrayList<>();
            if (c.changes().contains(Change.SCOPE)) {
                kinds.add("scope");
            }
            if (c.changes().contains(Change.WRITTEN)) {
                kinds.add(!isMarker(c) ? "modified" : !kernel.scansDirectories() ? "list"
                        : scanFrom < 0 ? "scan: no time, rescan"
                        : "scan from " + scanFrom + ": " + String.join(" ",
                                kernel.changedSince(d, scanFrom).stream().map(f -> "f" + f).toList()));
            }
            names.append(names.isEmpty() ? "" : ",").append(d >= 0 ? "d" + d + "(" + String.join(",", kinds) + ")" : fileIndex(c.file()))
                    .append(c.carried() ? "(carried)" : "");
        }
        return names.toString();
    }

    /**
     * The files the consumer copies for {@code r}: every file it names; every file of a recorded
     * directory it reports as a rescan ({@code ResultResolver}: a scope is a rescan when continuity
     * is lost or the entry was recovered, and is left out otherwise); every file of a directory the
     * result says to list (results that name directories); with files named by a scan, the files of
     * a directory recorded for its children that changed at or after {@code scanFrom} (every file of
     * it if {@code scanFrom} is -1: no time to trust, a rescan); and every file when continuity
     * was lost for a reason the directories do not cover (a restart). Losses of the notification
     * queue are covered by the directories: every child written under a directory's mark had its
     * directory recorded first. (The real source's reasons all say "rescan the file system", as
     * namespace events may be lost too; the model has none, so its consumer trusts the rescans alone,
     * which is what lets the simulator check them.)
     */
    private boolean[] covered(QueryResult r, long scanFrom) {
        boolean[] covered = new boolean[ids.length];
        if (r.continuity().intact()) {
            lossBeyondScopes[querying] = false;
        }
        if (!r.continuity().intact() && (!notificationLossOnly(r.continuity().reason()) || lossBeyondScopes[querying])) {
            Arrays.fill(covered, true);
            return covered;
        }
        for (ChangedFile c : r.changes()) {
            int d = directoryIndex(c.file());
            if (d < 0) {
                covered[fileIndex(c.file())] = true;
                continue;
            }
            // A scope whose handler was still in progress at the checkpoint is carried (a CARRIED record,
            // not a directory's): the result says 'modified' for the directory, which covers no child.
            boolean rescan = (!r.continuity().intact() || (c.recovered() && !reconciledRun && !takenOverRun))
                    && scenario.linuxMutant() != LinuxMutant.SCOPES_DROPPED_ON_LOSS;
            // Across a reboot a scope recorded before it is read whole (DirectoryScan): its children's
            // writes went on under its mark, and the loss may have kept their data without their ctimes.
            boolean wholeAcrossReboot = acrossReboot(r.lastBlessed()) && c.recovered() && c.changes().contains(Change.SCOPE);
            rescan |= !RebootRule.scanFiltersByCtime(wholeAcrossReboot && scenario.linuxMutant() != LinuxMutant.REBOOT_SCAN_BY_CTIME);
            if (rescan || isMarker(c) && (!kernel.scansDirectories() || scanFrom < 0)) {
                for (int f = 0; f < ids.length; f++) {
                    covered[f] |= kernel.directoryOf(f) == d;
                }
            } else if (isMarker(c)) {
                for (int f : kernel.changedSince(d, scanFrom)) {
                    covered[f] = true;
                }
            }
        }
        return covered;
    }

    /**
     * With files named by a scan, the time from which the scan of {@code r}'s recorded directories
     * names a file ({@code LinuxSource.scanFor}: {@code CheckpointTimes.since(q.lastBlessed())}):
     * the checkpoint time of the querying consumer's last blessed result (before any bless, the
     * time tracking began), if kept and taken in this boot; -1 if there is none to trust (each
     * recorded directory is then a rescan). The mutants take it late (the time the blessed result
     * was returned) or from another consumer (the newest of every consumer's last blessed).
     */
    private long scanFrom(QueryResult r) {
        if (scenario.linuxMutant() == LinuxMutant.SCAN_ANOTHER_CONSUMERS_WATERMARK) {
            long newest = -1;
            for (ConsumerState c : core.control().consumers()) {
                newest = Math.max(newest, checkpointTimeInThisBoot(c.lastBlessed(), 0));
            }
            return newest;
        }
        return checkpointTimeInThisBoot(r.lastBlessed(), scenario.linuxMutant() == LinuxMutant.SCAN_LATE_WATERMARK ? 2 : 0);
    }

    /** {@code checkpointTimes}' time {@code which} of result {@code snapshot}, if kept and taken in this boot; else -1. */
    private long checkpointTimeInThisBoot(long snapshot, int which) {
        long[] t = checkpointTimes.get(snapshot);
        return t != null && trusted(t) ? t[which] : -1;
    }

    /**
     * Whether {@code c} is a directory the notification reader recorded for its children's changes.
     * With results that name directories the result says {@code list}, and the consumer lists it
     * again, which here means copying every file in it (the model's directories are flat); with
     * files named by a scan, the result names the files of it that the scan finds changed.
     *
     * <p>The real rule ({@code ResultResolver.isListing}; with a scan, {@code DirectoryScan.scannable},
     * whose directories are alive and named): a written entry whose record says it is a
     * directory. A directory whose scope was carried into a period (its handler still in progress
     * when a timed-out checkpoint ended) counts as written there; the engine records the reader's
     * {@code WRITTEN} of it anyway, since it does not yet say "directory" (this model found that
     * it did not: the directed schedule in {@code LinuxModelTest}).
     */
    private boolean isMarker(ChangedFile c) {
        return kernel != null && kernel.mutesDirectories() && c.changes().contains(Change.WRITTEN) && c.directory();
    }

    /**
     * Marks a loss of notification events. The model's consumer trusts the recorded directories to
     * cover it (every child written under a directory's mark had its directory recorded first),
     * except while events a kept queue gathered with no tracker running are still unrecorded: no
     * pre-content handler recorded their directories, so such a loss is a rescan of everything,
     * which the real source always answers with anyway.
     */
    private void notificationsLost(String reason) throws IOException {
        if (takenOverRun && (taken != NOTHING_TAKEN || kernel.queue().taken() < keptUpTo)) {
            Arrays.fill(lossBeyondScopes, true);
        }
        CheckpointSteps.markContinuityLost(core, DIRECT, reason);
    }

    private static boolean notificationLossOnly(String reason) {
        return reason.replace(QUEUE_OVERFLOWED, "").replace(QUEUE_NOT_DRAINED, "").isBlank();
    }

    /**
     * The invariant, per result: a write that completed before the result's checkpoint began is
     * named by it (or lies in a directory it reports as a rescan), unless the consumer already
     * copied the file since (it acted on, and may have blessed, a result made after the write), or
     * the result says continuity was lost for a reason that makes the consumer rescan everything.
     */
    private void checkCompletedWritesNamed(QueryResult r, boolean[] covered) {
        for (int f = 0; f < ids.length; f++) {
            if (!covered[f] && mirrors[querying][f] < completedAtBegin[f]) {
                violation("a write of f" + f + " (version " + completedAtBegin[f] + ") completed before the checkpoint of result "
                        + r.snapshot() + " began, but the result does not name f" + f + (kernel != null && kernel.directories()
                        ? (kernel.scansDirectories() ? " nor scan or rescan d" : kernel.mutesDirectories() ? " nor list or rescan d"
                        : " nor rescan d") + kernel.directoryOf(f) : "")
                        + " and " + r.consumer() + "'s copy is version " + mirrors[querying][f] + ".");
            }
        }
    }

    private String bless(int c) throws IOException {
        long id = pendingBless[c];
        pendingBless[c] = 0;
        String name = consumerName(c);
        try {
            if (leased()) {
                kernel.syncFs(); // LinuxSource.bless: what the consumer acted on stays made
            }
            CheckpointSteps.bless(core, DIRECT, name, id, now);
            return consumerLabel(c) + "snapshot " + id + " blessed";
        } catch (BlessException e) {
            ConsumerState state = core.control().consumer(name).orElseThrow();
            if (id < state.lastBlessed()) {
                return "refused as stale: " + e.getMessage();
            }
            if (state.lastBlessed() == 0 && state.keptFrom() >= id && state.lostReason().contains(" was dropped: ")) {
                return "refused, as the consumer was dropped since: " + e.getMessage();
            }
            violation("a bless by " + name + " of the issued snapshot " + id + " was refused: " + e.getMessage());
            return "refused";
        }
    }

    /**
     * Removes consumer {@code c}, or adds it back; an added consumer reads every file whole (its
     * copy becomes the truth), after the add, as docs/protocol.md tells a new consumer to.
     */
    private String changeConsumer(int c, boolean add) throws IOException {
        consumerChanges++;
        if (add) {
            CheckpointSteps.addConsumer(core, DIRECT, consumerName(c), -1, -1, now);
        } else {
            CheckpointSteps.removeConsumer(core, DIRECT, consumerName(c));
        }
        consumerPresence(c, add);
        return add ? "from snapshot " + core.control().consumer(consumerName(c)).orElseThrow().keptFrom()
                : "snapshots kept from " + core.control().keptFrom();
    }

    /** The model learns that consumer {@code c} exists or not; a consumer it learns of reads every file whole. */
    private void consumerPresence(int c, boolean exists) {
        if (exists && !present[c]) {
            mirrors[c] = truth.clone();
            crashedSinceLastResult[c] = false;
            lossBeyondScopes[c] = false;
        }
        present[c] = exists;
        if (!exists) {
            pendingBless[c] = 0;
        }
    }

    /**
     * A bless the engine must refuse without a change: of an id never returned, of one older than the
     * consumer's last blessed, or of one returned only to another consumer (with two: the other's newest).
     */
    private String badBless(int c, boolean tooNew) throws IOException {
        ControlState before = core.control();
        ConsumerState state = before.consumer(consumerName(c)).orElseThrow();
        long id = tooNew ? before.highestIssued() + 1 : state.lastBlessed() - 1;
        if (tooNew && scenario.consumers() > 1) {
            ConsumerState other = before.consumer(consumerName((c + 1) % scenario.consumers())).orElse(null); // removed, maybe
            if (other != null && !other.issued().isEmpty() && !state.issued().contains(other.newestIssued())) {
                id = other.newestIssued();
            }
        }
        if (id < 1) {
            return "no such id to try";
        }
        try {
            CheckpointSteps.bless(core, DIRECT, consumerName(c), id, now);
            violation("a bless by " + consumerName(c) + " of snapshot " + id + " was accepted (its last blessed "
                    + state.lastBlessed() + ", its results " + state.issued() + ", highest issued " + before.highestIssued() + ").");
            return "accepted!";
        } catch (BlessException e) {
            if (!core.control().equals(before)) {
                violation("a refused bless changed the control state.");
            }
            return "refused as it must be";
        }
    }

    // ---- crashes ---------------------------------------------------------------------------------

    /** Opens the engine on the storage with the current configuration. */
    private void openCore() throws IOException {
        core = TrackerCore.open(storage, config, scenario.mutant());
        boundRaisedSinceOpen = false;
    }

    private void crashed(CrashKind kind, long seed) {
        crashes++;
        // A crash while the engine closes cleanly, or while a cleanly stopped one is still opening its
        // state, may find the clean marker in place: then nothing needs recovering (not checked).
        boolean trackerRan = !stopped && !closingCleanly;
        boolean wasStopped = stopped;
        closingCleanly = false;
        storage.reboot(kind, seed);
        leasePending = false;
        for (int i = 0; i < writers.length; i++) {
            writers[i] = replacement(writers[i]); // in-process writers die with the tracker
        }
        syncing = null;
        waitedForRunningSync = false;
        checkpointRunning = false;
        closedForResult = null;
        barrierWait = WriteBarrier.Wait.DONE;
        stopped = false;
        watermark = null;
        core = null;
        if (kernel != null) {
            if (kind == CrashKind.POWER) {
                boot++; // a reboot: the clock may have been set anywhere meanwhile
                kernel.powerLost(); // the keeper too
                List<Integer> undone = kernel.loseUncommittedCtimes(seed);
                if (!undone.isEmpty()) {
                    log.add("  the power loss kept the data but not the new ctime of " + undone.stream().map(f -> "f" + f).toList());
                }
                keeperAlive = false;
                taken = NOTHING_TAKEN;
                // The next start reads the lease that stood and trusts that boot's times (CheckpointTimes.trustAcrossReboot).
                trustedBoot = leaseBoot >= 0 && leaseBoot == boot - 1 ? leaseBoot : -1;
                bootStartedAt = kernel.clock();
                leaseBoot = -1; // PowerLease.clearAtStart, once its trust is kept
            } else if (keeps() && keeperAlive && !wasStopped) {
                leaseBoot = -1; // the keeper removes it before the writers it held go on
                kernel.trackerDiedKeepingQueue();
            } else if (!wasStopped) {
                kernel.trackerDied();
                taken = NOTHING_TAKEN;
            }
        }
        recover(seed, true);
        if (trackerRan) {
            Arrays.fill(crashedSinceLastResult, true);
        }
        if (core != null) {
            // A crash during an add or a removal leaves it done or not: the consumer finds out which.
            for (int c = 1; c < present.length; c++) {
                consumerPresence(c, core.control().consumer(consumerName(c)).isPresent());
            }
        }
    }

    private void recover(long seed, boolean restart) {
        for (int attempt = 0; ; attempt++) {
            try {
                openCore();
                if (restart && kernel != null) {
                    leaseBoot = -1; // PowerLease.clearAtStart (after a power loss, its trust is kept already)
                    takenOverRun = false;
                    String takeover = takeOver();
                    if (takeover != null) {
                        log.add("  restart: " + takeover);
                    } else {
                        // The Linux source: a restart after a crash is a gap (nothing tracked meanwhile):
                        // a walk finds what changed, or the consumer rescans.
                        walkAsked = false;
                        reconciledRun = false;
                        walkUnfinished = true; // the handover counts the restart's walk as pending until it ends
                        if (scenario.linuxMutant() == LinuxMutant.LEASE_BEFORE_WALK) {
                            grantLease();
                        }
                        log.add("  restart: " + reconcileOrLose("restarted after a crash"));
                        walkUnfinished = false;
                        recordPreOpened();
                    }
                }
                if (kernel != null) {
                    grantLease();
                }
                return;
            } catch (SimulatedStorage.Crash again) {
                log.add("  ...and a " + again.kind().name().toLowerCase() + " crash strikes during recovery");
                storage.reboot(again.kind(), seed + attempt + 1);
            } catch (Throwable t) {
                engineError(new Step.Crash(CrashKind.PROCESS, seed), t);
                throw new IllegalStateException("recovery failed", t);
            }
        }
    }

    private static Writer replacement(Writer old) {
        Writer w = new Writer();
        w.begins = old.begins;
        return w;
    }

    // ---- the end ---------------------------------------------------------------------------------

    /**
     * Lets every living writer finish, runs a last query that the consumer acts on, and checks the
     * mirror against the truth; then checks that a clean stop is not reported as a recovery.
     */
    void drainAndCheck() {
        if (broken) {
            return;
        }
        storage.disarm();
        log.add("  -- drain: no more crashes; writers finish; a last query the consumer acts on --");
        try {
            // A result refused as too large (Scenario.resultBound) is not refused again once the
            // tracker has restarted with the bound its user raised: at most one more round.
            for (int round = 0; !drainRound(); round++) {
                if (broken) {
                    return;
                }
                if (round == 1) {
                    violation("a result was refused after the tracker restarted with no bound on its records.");
                    return;
                }
            }
            if (broken) {
                return;
            }
            checkCleanRestart();
        } catch (RuntimeException e) {
            engineError(new Step.QueryFinish(true), e);
        }
    }

    /**
     * One round of the drain: the writers finish and every consumer's last result is checked against
     * the truth. False if a result was refused: the tracker then restarts (abruptly, as a daemon
     * that ran out of memory would, the harder case for recovery) to take the raised bound.
     */
    private boolean drainRound() {
        if (boundRaisedSinceOpen) {
            apply(new Step.Crash(CrashKind.PROCESS, 0));
        }
        if (stopped) {
            apply(new Step.Start());
        }
        if (checkpointRunning) {
            finishCheckpoint();
        }
        if (syncing != null) {
            apply(new Step.SyncFinish());
        }
        if (kernel != null) {
            LinuxSteps.drain(kernel, core, this::apply);
        }
        if (Arrays.stream(writers).anyMatch(w -> w.state == WriterState.PENDING)
                || (kernel != null && LinuxSteps.awaitingSync(kernel, core))) {
            apply(new Step.SyncStart());
            apply(new Step.SyncFinish());
        }
        if (kernel != null) {
            LinuxSteps.drain(kernel, core, this::apply);
        }
        for (int w = 0; w < writers.length; w++) {
            if (writers[w].state == WriterState.READY) {
                apply(new Step.End(w));
            }
        }
        for (int c = 0; c < scenario.consumers(); c++) {
            if (!present[c]) {
                continue;
            }
            apply(new Step.QueryBegin(c));
            finishCheckpoint();
            if (broken) {
                return true;
            }
            if (boundRaisedSinceOpen) {
                return false;
            }
            for (int f = 0; f < truth.length; f++) {
                if (mirrors[c][f] != truth[f]) {
                    violation("f" + f + " reached version " + truth[f] + " but " + consumerName(c) + "'s last copy is version "
                            + mirrors[c][f] + ": no result named it after it changed.");
                }
            }
        }
        return true;
    }

    /** Ends the running checkpoint: the barrier times out if it must, the query drains the notification queue, the result is issued. */
    private void finishCheckpoint() {
        if (closedForResult == null) {
            if (!barrierMayFinish()) {
                now = Math.max(now, core.deadlineNanos());
            }
            if (kernel != null && kernel.directories() && drainTarget < 0) {
                apply(new Step.Drain());
            }
            while (!drained() && !broken) {
                apply(kernel.readerDirectory() >= 0 ? new Step.Mute() : new Step.Read());
            }
            if (walkPossible()) {
                apply(new Step.Walk());
            }
        }
        apply(new Step.QueryFinish(true));
    }

    private void checkCleanRestart() {
        try {
            boolean writesLeft = core.stats().writesInProgress() > 0;
            boolean wasRecovered = lastResultRecovered[0];
            core.close();
            openCore();
            if (core.wasClean() == writesLeft) {
                violation("a stop with " + (writesLeft ? "" : "no ") + "writes in progress was taken for a"
                        + (writesLeft ? " clean" : "n unclean") + " one.");
            }
            CheckpointSteps.begin(core, DIRECT, ConsumerState.DEFAULT, now);
            now = Math.max(now, core.deadlineNanos());
            QueryResult r = CheckpointSteps.finish(core, DIRECT, this::queryAwaitsDurable, List.of(), now);
            if (!writesLeft && r.recovered() != wasRecovered) {
                violation("a clean stop changed the result's recovered flag from " + wasRecovered + " to " + r.recovered() + ".");
            }
        } catch (Throwable t) {
            engineError(new Step.QueryBegin(0), t);
        }
    }

    /** The index of recorded directory {@code id}, or -1 if it is not one. */
    private int directoryIndex(FileId id) {
        for (int k = 0; k < directoryIds.length; k++) {
            if (directoryIds[k].equals(id)) {
                return k;
            }
        }
        return -1;
    }

    private int fileIndex(FileId id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i].equals(id)) {
                return i;
            }
        }
        violation("a result names a file nobody wrote: " + id);
        return 0;
    }

    private void violation(String what) {
        violations.add(what);
        log.add("  VIOLATION: " + what);
    }

    private void engineError(Step step, Throwable t) {
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        String[] lines = trace.toString().split("\n");
        violations.add("the engine failed during '" + step + "': " + t + "\n      "
                + String.join("\n      ", Arrays.asList(lines).subList(1, Math.min(lines.length, 8))));
        log.add(step + ": ENGINE ERROR " + t);
        broken = true;
    }
}
