package org.modtrack.source.linux;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.modtrack.engine.Access;
import org.modtrack.engine.BlessException;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangeTracker;
import org.modtrack.engine.ConsumerException;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.engine.TrackerStats;
import org.modtrack.engine.WriteBarrier;
import org.modtrack.engine.journal.ConsumerState;
import org.modtrack.posix.Errno;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;
import org.modtrack.source.linux.rules.CarryRule;

/**
 * Tracks a whole Linux file system with fanotify: every write is recorded before it may happen
 * (permission events: pre-content events on Linux 6.14+, opens alone before, {@link #hook()}),
 * creations, deletions and renames after the fact (notification events), and results name files by
 * their current paths. See docs/linux-source.md.
 *
 * <p>Needs Linux 6.1 or later, CAP_SYS_ADMIN, and an ext4, xfs or btrfs file system; {@link #open}
 * refuses with one sentence otherwise. The state directory must be on another
 * file system: a write to it would wait for the tracker itself.
 *
 * <p>A restart after which the file system may have been written (an unclean stop, or a clean one
 * followed by writes) is a gap: a walk since the last blessed result's checkpoint finds what changed
 * ({@link Reconciler}), or, when it cannot, the first result says continuity was lost. After an
 * unclean stop the first result also says recovered.
 */
public final class LinuxSource implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LinuxSource.class.getName());
    private static final String MARKER = "linux-source.properties";
    private static final int CAP_SYS_ADMIN = 21;
    static final int HANDLER_THREADS = 16;
    /** The shortest time without a heartbeat after which the watchdog kills the tracker (see {@link #watchdogTimeout}). */
    private static final Duration WATCHDOG_FLOOR = Duration.ofSeconds(3);
    /** The longest a query waits for the losses reported before it to be written. */
    private static final long LOSS_RECORD_MILLIS = 5_000;
    /** The longest a query waits for the notification reader to catch up. */
    private static final long NOTIFICATION_DRAIN_MILLIS = 2_000;
    /** The longest a start waits for the events a kept queue gathered (a full queue takes a few seconds). */
    private static final long BACKLOG_DRAIN_MILLIS = 120_000;

    private final Path watched;
    private final Path state;
    private final TrackedFilesystem fs;
    private final ChangeTracker tracker;
    private final PreContentListener preContent;
    private final NotificationListener notifications;
    private final LossRecorder losses;
    private final Watchdog watchdog; // null without bash
    // Each consumer's resolver: what its last result told it decides its next one. Made at its first
    // query (a restart forgets them: the next result of each is resolved as after a restart).
    private final Map<String, ResultResolver> results = new ConcurrentHashMap<>();
    private final Namespace namespace;
    private final boolean listsByName;
    private final boolean scans; // LinuxSourceOptions.Naming.SCAN: results scan the directories recorded for their children
    private final boolean reconciledAtStart;
    private final WriteBarrier barrier;
    private final CheckpointTimes checkpointTimes;
    /** The listings of directories born since the watermark that the last result named files from, for the next. */
    private final BornListings bornListings = new BornListings();
    private final Reconciler reconciler;
    private final LinuxSourceOptions.Hook hook;
    private final NotificationGroup notification;
    private volatile QueueHolder holder; // the notification's holder, or the keeper that replaced a dead one
    private final Duration keepQueue;
    private final PowerLease powerLease;
    /** Set by {@link #releaseQueueAtClose}: the close ends the queue keeper too. */
    private volatile boolean releaseQueue;
    /** Whether this JVM's JIT compiler threads were given {@link ThreadNice#JIT_COMPILERS}: once per process. */
    private static final AtomicBoolean COMPILERS_NICED = new AtomicBoolean();
    private final boolean leased; // a power lease may stand: power durability, the pre-content hook, a queue holder
    /** Whether a source of this JVM has started the checkpoint warm-up ({@link CheckpointWarmUp}): once per process. */
    private static final AtomicBoolean CHECKPOINTS_WARMED_UP = new AtomicBoolean();
    /** The srcu barrier's warm-up, while it may run; null with the freeze barrier or if another source ran it. */
    private volatile CheckpointWarmUp warmUp;
    /** The srcu barrier; null with the freeze barrier. */
    private volatile SyscallBarrier srcu;
    private boolean leasePending; // the start could not settle its writes in flight: the first result grants the lease
    /** How often a result tries again to start a keeper for the lease's guard alone, once one died. */
    private static final long GUARD_RETRY_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** How long a result waits for a dead keeper's process to end before it starts the next (it exits in milliseconds). */
    private static final long DEAD_KEEPER_EXIT_MILLIS = 1_000;
    /** How many times a result tries to hand the group to a new keeper, once the last one died. */
    private static final int KEEPER_ATTEMPTS = 3;
    private static final long KEEPER_RETRY_MILLIS = 50;
    private long lastGuardAttemptNanos = System.nanoTime(); // queries run one at a time

    private LinuxSource(Path watched, Path state, TrackedFilesystem fs, ChangeTracker tracker, PreContentListener preContent,
                        NotificationListener notifications, LossRecorder losses, Watchdog watchdog, WriteBarrier barrier,
                        CheckpointTimes checkpointTimes, Reconciler reconciler, boolean reconciled,
                        boolean listsByName, LinuxSourceOptions.Hook hook, NotificationGroup notification,
                        Duration keepQueue, boolean scans, PowerLease powerLease, boolean leased) {
        this.scans = scans;
        this.powerLease = powerLease;
        this.leased = leased;
        this.notification = notification;
        this.holder = notification.holder();
        this.keepQueue = keepQueue;
        this.watched = watched;
        this.hook = hook;
        this.state = state;
        this.fs = fs;
        this.tracker = tracker;
        this.preContent = preContent;
        this.notifications = notifications;
        this.losses = losses;
        this.watchdog = watchdog;
        this.namespace = new LiveNamespace(fs, watched.toString());
        this.listsByName = listsByName;
        this.reconciledAtStart = reconciled;
        this.barrier = barrier;
        this.checkpointTimes = checkpointTimes;
        this.reconciler = reconciler;
    }

    /** {@code consumer}'s resolver, made with what this run knows of the records from before it. */
    private ResultResolver resolverOf(String consumer) {
        return results.computeIfAbsent(consumer, c -> {
            ResultResolver r = new ResultResolver(namespace, watched, listsByName);
            if (reconciledAtStart) {
                r.reconciled();
            }
            if (notification.seamless()) {
                r.queueTakenOver();
            }
            return r;
        });
    }

    /**
     * Starts tracking the file system that holds {@code watched}; results list only paths under it.
     * The tracker state lives in {@code stateDirectory}, which must not be on that file system.
     * {@code config}'s barrier is replaced by the source's own.
     *
     * @throws UnsupportedSourceException if this system cannot track that file system (the message says why)
     */
    public static LinuxSource open(Path watched, Path stateDirectory, TrackerConfig config) throws IOException {
        return open(watched, stateDirectory, config, LinuxSourceOptions.defaults());
    }

    /** Like {@link #open(Path, Path, TrackerConfig)}, with the source's own options (barrier, failure policy, deadline). */
    public static LinuxSource open(Path watched, Path stateDirectory, TrackerConfig config, LinuxSourceOptions requested)
            throws IOException {
        requireCapSysAdmin();
        requireKernel(System.getProperty("os.version"));
        if (COMPILERS_NICED.compareAndSet(false, true)) {
            int compilers = ThreadNice.jitCompilers(ThreadNice.JIT_COMPILERS);
            LOG.fine(() -> compilers + " JIT compiler thread(s) at nice " + ThreadNice.JIT_COMPILERS);
        }
        TrackedFilesystem fs = TrackedFilesystem.holding(watched);
        List<AutoCloseable> opened = new ArrayList<>();
        opened.add(fs);
        try {
            Path state = prepareState(stateDirectory, fs);
            Optional<PowerLease.Lease> leftLease = PowerLease.load(state); // before anything: what stood at the last stop
            boolean restarted = Files.exists(state.resolve(MARKER));
            Properties previous = restarted ? requireSameFilesystem(state.resolve(MARKER), fs) : null;
            NotificationGroup notification = notificationGroup(state, fs, requested, opened);
            int notificationGroup = notification.fd();
            opened.add(() -> Posix.close(notificationGroup, "the notification group"));
            int notificationSlot = opened.size() - 1;
            int group = numberedAbove(notificationGroup, createPreContentGroup());
            opened.add(() -> Posix.close(group, "the pre-content group"));
            int preContentSlot = opened.size() - 1;
            LinuxSourceOptions options = requested.withHook(resolveHook(requested.hook(), group, fs));
            IgnoreMarks preContentMarks = new IgnoreMarks(group, fs.mountPoint(), PreContentListener.mask(options));
            boolean directoryRecords = options.granularity() == LinuxSourceOptions.Granularity.DIRECTORY;
            IgnoreMarks modifyMarks = NotificationListener.namesContent(options)
                    ? new IgnoreMarks(notificationGroup, fs.mountPoint(), NotificationListener.ignoreMask(options)) : null;
            // With directory records a checkpoint's flush keeps the marks of the directories it recorded ahead.
            BusyDirectories busy = directoryRecords ? new BusyDirectories(fs, preContentMarks) : null;
            SyscallBarrier.IgnoreMarks preContentFlush = busy != null ? busy::flushMarksKeepingRecordedAhead : preContentMarks;
            SyscallBarrier.IgnoreMarks marks = modifyMarks == null ? preContentFlush : () -> {
                preContentFlush.flush();
                modifyMarks.flush();
            };
            ProcFs proc = new ProcFs();
            AlwaysWritable alwaysWritable = new AlwaysWritable(fs, proc, link -> identify(link, fs),
                    CarryRule.everyOpenWriter(options.granularity(), options.opensOnly()));
            FreezeBarrier freeze = new FreezeBarrier(fs, marks, alwaysWritable);
            SyscallBarrier srcu = options.barrier() == LinuxSourceOptions.Barrier.FREEZE ? null
                    : new SyscallBarrier(fs, marks, proc, alwaysWritable, freeze);
            DrainingBarrier barrier = new DrainingBarrier(srcu == null ? freeze : srcu);
            ChangeTracker tracker = ChangeTracker.open(state, config.withBarrier(barrier));
            opened.add(tracker);
            LossRecorder losses = new LossRecorder(tracker, notification.handover());
            opened.add(losses);
            PreContentListener pre = PreContentListener.start(group, preContentMarks, fs, tracker, new AccessClassifier(proc),
                    options, losses, busy, HANDLER_THREADS);
            opened.set(preContentSlot, pre); // it owns the group now
            if (busy != null) {
                barrier.prepareWith(closing -> busy.recordAhead(tracker, closing));
            }
            Watchdog watchdog = Watchdog.start(watchdogTimeout(options));
            if (watchdog != null) {
                opened.add(watchdog);
                pre.onHeartbeat(watchdog::beat);
            }
            boolean power = config.durability() == Durability.POWER;
            CheckpointTimes times = CheckpointTimes.load(state, power);
            if (leftLease.isPresent() && !leftLease.get().bootId().equals(Boot.currentId())) {
                // The machine went down with the lease standing: every write until then was recorded
                // durably, so a walk since a checkpoint of that boot finds the rest (RebootRule).
                times.trustAcrossReboot(leftLease.get());
                LOG.info(() -> "the power lease stood when the machine went down: what changed across the reboot is"
                        + " found by a walk");
            }
            PowerLease.clearAtStart(state);
            Reconciler reconciler = new Reconciler(watched.toRealPath(), fs, tracker, times, notification.handover());
            if (notification.taken() && modifyMarks != null) {
                modifyMarks.flush(); // the previous holder's: this process cannot vouch for them
            }
            NotificationListener notifications;
            try {
                notifications = NotificationListener.start(notificationGroup, fs, tracker, losses, reconciler, options,
                        modifyMarks, notification.handover(), busy);
            } catch (PosixException e) {
                throw e.errno() == Errno.EXDEV ? unmarkable(fs, e) : e;
            }
            opened.set(notificationSlot, notifications); // it owns the group now
            barrier.drainWith(() -> recordQueuedEvents(notifications, losses, reconciler, tracker, fs, watched));
            if (!restarted && !times.has(0)) {
                times.record(0, CheckpointTimes.now(0)); // before the marks: the consumer's view before any bless
            }
            markFilesystem(pre, fs);
            PreOpenedWriters preOpened = PreOpenedWriters.scan(proc, fs);
            alwaysWritable.carryPreOpened(preOpened);
            for (Path link : preOpened.stillOpen()) {
                recordPreOpened(tracker, fs, link);
            }
            String gap = restarted && !notification.seamless() ? gapSincePreviousRun(previous, tracker, fs) : null;
            if (restarted && notification.seamless()) {
                LOG.info(() -> "took over the notification group the " + notification.holder().kind()
                        + " held: every change since the previous run is in its queue");
            }
            if (notification.taken()) {
                recordKeptBacklog(notifications, tracker, fs, watched);
            }
            // The gap's walk is work a successor must redo if this process dies before it ends: the
            // handover counts it as a pending walk until its records (or the loss) are written.
            long walkTicket = gap != null && notification.handover() != null ? notification.handover().walkAsked() : 0;
            String unwalked = gap == null ? null : reconciler.afterGap(gap);
            boolean reconciled = gap != null && unwalked == null;
            if (unwalked != null) {
                tracker.markContinuityLost("modtrack did not track " + fs + " between its previous run and "
                        + Instant.now() + " (" + gap + "), and a walk cannot find what changed (" + unwalked
                        + "); changes made meanwhile are not in this result: rescan " + watched);
            }
            if (walkTicket != 0) {
                notification.handover().walked(walkTicket);
            }
            writeMarker(state.resolve(MARKER), fs, Optional.empty()); // a watermark is only good for the clean stop that took it
            PowerLease lease = new PowerLease(state, group);
            opened.add(lease);
            // Only pre-content holds every write until its record is durable: with open-perm, a write
            // through a descriptor in no process's table is seen after the fact (Hooks). A keeper
            // guards the lease: the notification group's, or one for the guard alone under systemd.
            boolean leased = power && options.hook() == LinuxSourceOptions.Hook.PRE_CONTENT && notification.holder() != null;
            LOG.info(() -> "tracking " + fs + " with " + describe(options.hook(), requested.hook()) + " ("
                    + preOpened.size() + " files were open for writing before the mark)");
            logMountsInside(fs, watched);
            if (fs.fsType().equals("btrfs") && !fs.knowsSubvolumes()) {
                LOG.warning(() -> "this kernel's statx names no btrfs subvolume (Linux 6.10 does): files of a subvolume below "
                        + watched + " are taken for another file system's, and their changes are not all named"
                        + " (docs/linux-source.md, Known limits)");
            }
            LinuxSource source = new LinuxSource(watched.toRealPath(), state, fs, tracker, pre, notifications, losses, watchdog,
                    barrier, times, reconciler, reconciled, options.detail() != LinuxSourceOptions.Detail.DIRECTORIES,
                    options.hook(), notification, options.keepQueue(), options.scansDirectories(), lease, leased);
            source.startLease();
            source.srcu = srcu;
            if (srcu != null && CHECKPOINTS_WARMED_UP.compareAndSet(false, true)) {
                source.warmUp = CheckpointWarmUp.start(srcu); // once a process: the compiled code serves every source
            }
            return source;
        } catch (IOException | RuntimeException e) {
            closeAll(opened, e);
            throw e;
        }
    }

    /**
     * The notification group and how it came. {@code taken}: from a {@link QueueKeeper}, whose
     * previous holder may have left ignore marks; {@code seamless}: and the handover shows that
     * every event that group queued since the previous run began is either recorded or still
     * queued or left in the handover buffer, so the time since then is no gap. {@code holder} and
     * {@code handover} are null without a keeper.
     */
    private record NotificationGroup(int fd, boolean taken, boolean seamless, QueueHolder holder, Handover handover,
                                     QueueHolder.Group kept) {}

    /**
     * The notification group: the one the state directory's holder (systemd's file descriptor
     * store when this runs as a service that may store descriptors, else a keeper process) holds, if it was kept for the
     * same events and device; else a new one, given to the keeper. Without a keeper (not asked for,
     * or it could not be reached), a new group that dies with this process.
     */
    private static NotificationGroup notificationGroup(Path state, TrackedFilesystem fs, LinuxSourceOptions options,
                                                       List<AutoCloseable> opened) throws IOException {
        if (!options.keepsQueue()) {
            return new NotificationGroup(NotificationListener.createGroup(), false, false, null, null, null);
        }
        QueueHolder kept;
        Optional<QueueHolder.Group> taken;
        try {
            Optional<SystemdStore> systemd = SystemdStore.fromEnvironment(state, "notification-" + state.getFileName());
            kept = systemd.isPresent() ? systemd.get() : KeptQueue.attach(state, options.keepQueue());
        } catch (IOException e) {
            KeptQueue.warn("no queue keeper", e);
            return new NotificationGroup(NotificationListener.createGroup(), false, false, null, null, null);
        }
        opened.add(kept);
        Handover handover = Handover.open(state, NotificationListener.BUFFER_BYTES);
        opened.add(handover);
        try {
            taken = kept.take();
        } catch (IOException e) {
            KeptQueue.warn("the " + kept.kind() + " did not hand over its group", e);
            taken = Optional.empty();
        }
        long mask = NotificationListener.markMask(options);
        if (taken.isPresent()) {
            QueueHolder.Group g = taken.get();
            if (g.mask() == mask && g.device().equals(fs.majorMinor())) {
                String why = handover.whyNotSeamless(g.id());
                if (why != null) {
                    LOG.warning("the kept notification group is taken over, but not seamlessly: " + why);
                }
                handover.begin(g.id(), why == null);
                return new NotificationGroup(g.fd(), true, why == null, kept, handover, g);
            }
            LOG.info(() -> "the kept notification group (" + g.meta() + ") was kept for other events or another"
                    + " device: a new one replaces it");
            Posix.close(g.fd(), "a kept notification group");
        }
        int fd = NotificationListener.createGroup();
        long id = ThreadLocalRandom.current().nextLong() | 1; // never 0: "no group" in a fresh handover
        handover.begin(id, false);
        QueueHolder.Group group = new QueueHolder.Group(fd, id, mask, fs.majorMinor(), MountInfo.majorMinor(fs.superblockDev()));
        try {
            kept.keep(group);
        } catch (IOException e) {
            KeptQueue.warn("the " + kept.kind() + " did not take the new group", e);
        }
        return new NotificationGroup(fd, false, false, kept, handover, group);
    }

    /**
     * Records what the kept queue gathered while no tracker ran before this start answers anything:
     * after a long stop under a busy file system that is up to a full queue (262,144 events, a few
     * seconds), which a query's own drain ({@link #NOTIFICATION_DRAIN_MILLIS}) would give up on and
     * answer with a rescan of everything. Bounded: past {@link #BACKLOG_DRAIN_MILLIS}, continuity
     * is lost instead.
     */
    private static void recordKeptBacklog(NotificationListener notifications, ChangeTracker tracker, TrackedFilesystem fs,
                                          Path watched) throws IOException {
        long began = System.nanoTime();
        try {
            if (!notifications.awaitDrained(BACKLOG_DRAIN_MILLIS)) {
                tracker.markContinuityLost("the events the kept queue of " + fs + " gathered were not all recorded within "
                        + BACKLOG_DRAIN_MILLIS + " ms of the start; rescan " + watched);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while recording the kept queue's events", e);
        }
        LOG.info(() -> "recorded the kept queue's " + notifications.events() + " events in "
                + (System.nanoTime() - began) / 1_000_000 + " ms");
    }

    /** The queue keeper's process id, if one holds this source's notification group and still runs. */
    public OptionalInt keeperPid() {
        QueueHolder h = holder;
        return h != null ? h.pid() : OptionalInt.empty();
    }

    /**
     * Whether the power lease stands: a power loss now would be answered by a walk, not a rescan
     * (docs/linux-source.md, <i>Reboots and power losses</i>).
     */
    public boolean powerLeaseStanding() {
        return powerLease.standing();
    }

    /** Who holds this source's notification group across its restarts: {@code keeper}, {@code systemd}, or {@code none}. */
    public String queueHolder() {
        QueueHolder h = holder;
        return h != null ? h.kind() : "none";
    }

    /**
     * Replaces a keeper that died while this tracker runs (killed, out of memory) and gives the new
     * one the group: otherwise this tracker's own death would leave no queue. At most a keeper's
     * start (about 0.3 s) once, before a result.
     */
    private void keepHeld() {
        if (leased && !(holder instanceof KeptQueue) && !powerLease.standing()
                && System.nanoTime() - lastGuardAttemptNanos > GUARD_RETRY_NANOS) {
            lastGuardAttemptNanos = System.nanoTime(); // a keeper that cannot start must not slow every result
            grantLease(powerLease, holder, state); // the guard's own keeper died: a new one guards
        }
        if (!(holder instanceof KeptQueue dead) || dead.keeperAlive() || notification.kept() == null) {
            return;
        }
        try {
            dead.awaitEnded(DEAD_KEEPER_EXIT_MILLIS); // its socket closed: the successor is not the dying one
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return; // the next result replaces it
        }
        try {
            KeptQueue fresh = attachKeeping(notification.kept());
            holder = fresh;
            if (leased) {
                powerLease.grant(fresh, false); // the dead one's watcher removed the lease it guarded
            }
            LOG.warning("the queue keeper (pid " + dead.keeperPid() + ") died; pid " + fresh.keeperPid()
                    + " keeps the notification group now");
        } catch (IOException e) {
            KeptQueue.warn("the queue keeper died and no other could take the group", e);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return; // the next result replaces it
        }
        try {
            dead.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "closing the connection to a dead keeper failed", e);
        }
    }

    /**
     * A new keeper holding {@code group}, tried {@link #KEEPER_ATTEMPTS} times. Why again: a
     * connection made while the dead keeper's listening socket was still being closed is reset (seen
     * in CI: "recvmsg ... errno 104"); by the next attempt the socket is gone, and a new keeper starts.
     */
    private KeptQueue attachKeeping(QueueHolder.Group group) throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            KeptQueue fresh = KeptQueue.attach(state, keepQueue);
            try {
                fresh.keep(group);
                return fresh;
            } catch (IOException e) {
                try {
                    fresh.close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
                if (attempt == KEEPER_ATTEMPTS) {
                    throw e;
                }
                LOG.log(Level.FINE, "a new keeper did not take the group; trying again", e);
            }
            Thread.sleep(KEEPER_RETRY_MILLIS);
        }
    }

    /**
     * Grants the power lease at the start, once everything written before the marks is recorded
     * durably: the writes still in flight (let go by the previous groups' release before the new
     * marks) have ended and their events are recorded ({@link #settleWritesInFlight}), as have the
     * kept queue's backlog and the gap's walk, and every record is synced. If the writes do not end
     * within the barrier timeout, the first result's checkpoint waits for them, and the lease
     * follows it.
     */
    private void startLease() throws IOException {
        if (!leased) {
            return;
        }
        try {
            if (settleWritesInFlight()) {
                tracker.awaitDurable();
                grantLease(powerLease, holder, state);
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leasePending = true;
    }

    /**
     * Grants {@code lease}, guarded by {@code holder} if it is a keeper, else (systemd's descriptor
     * store) by a keeper started for the guard alone; without one, no lease stands (logged).
     */
    private static void grantLease(PowerLease lease, QueueHolder holder, Path state) {
        try {
            if (holder instanceof KeptQueue keeper) {
                lease.grant(keeper, false);
            } else {
                lease.grant(KeptQueue.attach(state, Duration.ZERO), true);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "no keeper guards the pre-content group: no power lease, so a reboot will be"
                    + " answered with a rescan", e);
        }
    }

    /** The permission events that record writes before they proceed: the options' hook, or the best this kernel offers. */
    public LinuxSourceOptions.Hook hook() {
        return hook;
    }

    /** The listings of directories born since the watermark that results keep for the next ({@link DirectoryScan}). */
    BornListings bornListings() {
        return bornListings;
    }

    /**
     * Checkpoints, waits for the writes in progress, and returns every change since the last
     * blessed result. Call it on a platform thread: its work runs at nice {@link ThreadNice#CHECKPOINT}
     * to yield to writers, which a virtual thread cannot do.
     */
    public LinuxResult query() throws IOException, InterruptedException {
        return query(ConsumerState.DEFAULT);
    }

    /**
     * Like {@link #query()}, for {@code consumer}: every change since the last result it blessed.
     *
     * @throws ConsumerException if there is no such consumer; nothing changed
     */
    public LinuxResult query(String consumer) throws IOException, InterruptedException {
        return query(consumer, false);
    }

    /**
     * What {@code consumer}'s next result would hold, as a result nobody may bless (a watch; see
     * {@link ChangeTracker#view}). It is resolved by a resolver of its own, so it changes nothing
     * the consumer's own next result depends on.
     *
     * @throws ConsumerException if there is no such consumer; nothing changed
     */
    public LinuxResult view(String consumer) throws IOException, InterruptedException {
        return query(consumer, true);
    }

    private LinuxResult query(String consumer, boolean view) throws IOException, InterruptedException {
        // Twice: before the checkpoint, so that the events of the closing period are recorded in it
        // (recorded after the checkpoint began, they would land in the new period too, and come
        // back in the next result); and once the barrier's wait is over (DrainingBarrier), for the
        // few queued meanwhile, so that the result names every change made before the checkpoint
        // and by the writes it waited for.
        keepHeld();
        try (ThreadNice.Scope yielding = ThreadNice.at(ThreadNice.CHECKPOINT)) { // its /proc scans and result building yield to writers
            CheckpointTimes.Entry before = CheckpointTimes.now(0); // before the checkpoint begins: every later change has a later ctime
            long departuresBefore = notifications.departures().now();
            recordQueuedEvents(notifications, losses, reconciler, tracker, fs, watched);
            QueryResult q = view ? tracker.view(consumer) : tracker.query(consumer);
            checkpointTimes.record(q.snapshot(), before); // before the result can be blessed
            StringBuilder whyNot = new StringBuilder();
            Optional<CheckpointTimes.Since> since = checkpointTimes.since(q.lastBlessed(), Reconciliation.marginNanos(fs), whyNot);
            boolean acrossReboot = since.isPresent() && since.get().acrossReboot();
            BornListings.Round listings = bornListings.round(before, Reconciliation.marginNanos(fs));
            // Across a reboot the recorded directory scopes are read whole, whatever names the files otherwise.
            DirectoryScan scan = scans || (acrossReboot && listsByName)
                    ? new DirectoryScan(fs, watched, since.isPresent() ? OptionalLong.of(since.get().nanos()) : OptionalLong.empty(),
                            acrossReboot, whyNot.toString(), reconciler.walkUnblessedBy(consumer), before.wallNanos(), listings)
                    : null;
            LinuxResult r = (view ? new ResultResolver(namespace, watched, listsByName) : resolverOf(consumer))
                    .resolve(q, scan, () -> departedSince(departuresBefore), acrossReboot);
            listings.end();
            if (leasePending && !view) {
                // This checkpoint waited for every write in flight since the start and recorded its event.
                tracker.awaitDurable();
                grantLease(powerLease, holder, state);
                leasePending = false;
            }
            return view ? r : reconciler.report(r);
        }
    }

    /**
     * The names that left each directory since {@code point} ({@link Departures#now}), once the
     * notification events queued before this call are recorded; null if they could not be in time
     * or some are forgotten.
     */
    private Map<FileId, List<String>> departedSince(long point) throws InterruptedException {
        return notifications.awaitDrained(NOTIFICATION_DRAIN_MILLIS) ? notifications.departures().since(point) : null;
    }

    /**
     * Lets the threads that record after the fact catch up: every notification event queued before
     * this call (creations, deletions, renames; with directory records, content changes too) is
     * recorded, and every continuity loss reported before it is written. Whatever could not be
     * recorded in time marks continuity lost: a result must never say "intact" without it.
     */
    private static void recordQueuedEvents(NotificationListener notifications, LossRecorder losses, Reconciler reconciler,
                                           ChangeTracker tracker, TrackedFilesystem fs, Path watched)
            throws IOException, InterruptedException {
        drain(notifications, tracker, fs, watched, "the checkpoint");
        // A queue overflow asked for a walk: it records what the dropped events would have, and the
        // events queued during it are recorded after it (another overflow meanwhile: another walk).
        for (int walks = 0; reconciler.asked(); walks++) {
            if (walks == Reconciler.MAX_WALKS) {
                reconciler.giveUp();
                break;
            }
            reconciler.walkIfAsked();
            drain(notifications, tracker, fs, watched, "a walk");
        }
        if (!losses.awaitRecorded(LOSS_RECORD_MILLIS)) {
            // Its disk is slow or stalled; the query needs that disk too, so this waits no longer than it would.
            tracker.markContinuityLost("a loss of continuity on " + fs + " reported before the checkpoint could not be"
                    + " recorded in time; rescan " + watched);
        }
    }

    /** Waits for the notification reader to record what was queued before {@code what}; continuity is lost if it cannot. */
    private static void drain(NotificationListener notifications, ChangeTracker tracker, TrackedFilesystem fs, Path watched,
                              String what) throws IOException, InterruptedException {
        if (!notifications.awaitDrained(NOTIFICATION_DRAIN_MILLIS)) {
            tracker.markContinuityLost("the notification events of " + fs + " were not all recorded within "
                    + NOTIFICATION_DRAIN_MILLIS + " ms of " + what + "; rescan " + watched);
        }
    }

    /** The default consumer has acted on result {@code snapshot}: its changes need not be returned again. */
    public void bless(long snapshot) throws BlessException, IOException {
        bless(ConsumerState.DEFAULT, snapshot);
    }

    /**
     * {@code consumer} has acted on result {@code snapshot}: its changes need not be returned to it
     * again. Where a power lease may stand, the tracked file system is synced first ({@code syncfs}):
     * a power loss must not undo a change whose records the bless discards, since the walk after the
     * reboot starts from this result's checkpoint and cannot see a change undone before it (the
     * power-cut tests found it: a rename and an overwrite the consumer had mirrored, gone from the
     * disk and named by nothing).
     */
    public void bless(String consumer, long snapshot) throws BlessException, IOException {
        if (leased) {
            Posix.syncfs(fs.mountFd(), fs.mountPoint().toString());
        }
        tracker.bless(consumer, snapshot);
        reconciler.blessed(consumer, snapshot);
    }

    /** Adds consumer {@code name}, starting from now (see {@link ChangeTracker#addConsumer}). */
    public void addConsumer(String name, int ownerUid, int ownerGid) throws IOException {
        tracker.addConsumer(name, ownerUid, ownerGid);
    }

    /** Removes consumer {@code name} and what only it kept (see {@link ChangeTracker#removeConsumer}). */
    public void removeConsumer(String name) throws IOException {
        tracker.removeConsumer(name);
        results.remove(name);
    }

    /** The consumers, as the engine's control state has them now. */
    public List<ConsumerState> consumers() {
        return tracker.consumers();
    }

    /** The engine's counters. */
    public TrackerStats stats() {
        return tracker.stats();
    }

    /** The path results are limited to. */
    public Path watched() {
        return watched;
    }

    /** Where the tracked file system is mounted. */
    public Path mountPoint() {
        return fs.mountPoint();
    }

    /** How long permission events waited for their answer (from when they were read), since the start. */
    public LatencyHistogram.Snapshot answerLatency() {
        return preContent.answerLatency().snapshot();
    }

    /**
     * How many processes the last checkpoint's barrier was not allowed to look into (or its warm-up's,
     * before the first): one of their threads running makes a checkpoint freeze, and their mappings
     * are not carried ({@code srcu} barrier; 0 with {@code freeze}, whose checkpoints do not look).
     */
    public int uninspectableProcesses() {
        SyscallBarrier b = srcu;
        return b == null ? 0 : b.uninspectable().size();
    }

    /**
     * The mount points inside the watched tree where another file system is mounted now: their
     * changes are not tracked, and every result says to rescan them.
     */
    public List<String> untrackedMounts() {
        return fs.mountsInside().foreignPoints();
    }

    /** The source's event counters since it started. */
    public EventCounts eventCounts() {
        PermissionCounters c = preContent.counters();
        return new EventCounts(c.events.sum(), c.reads.sum(), c.writes.sum(), c.alreadyRecorded.sum(),
                c.directoryRecords.sum(), c.failures.sum(), c.answeredAtDeadline.sum(), c.denied.sum(),
                notifications.events(), notifications.overflows(), notifications.muted(), notifications.mutedDirectories(),
                preContent.siblingScopes());
    }

    /**
     * Makes {@link #close} end the queue keeper as well, instead of leaving it the group for its
     * keep time: for a stop that is not a restart. Every event a kept queue takes costs writers (a
     * dir churn took 35% longer untracked while one was kept: docs/benchmarks.md, <i>Dir churn under
     * a new daemon</i>). The next start then finds no kept group: the clean stop's watermark tells
     * whether anything was written meanwhile, and a walk finds what. Under systemd, whose descriptor
     * store holds the group, stopping the service ends it.
     */
    public void releaseQueueAtClose() {
        releaseQueue = true;
    }

    /** Tells the keeper to let its group go; a keeper that does not answer keeps it for its keep time at most. */
    private static void release(KeptQueue keeper) {
        try {
            keeper.release();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "the queue keeper did not confirm that it let the notification group go: it holds"
                    + " it for its keep time at most", e);
        }
    }

    /**
     * Stops tracking cleanly: takes the watermark while every access is still recorded, records the
     * notification events queued before it (unread ones vanish with the group), closes the groups
     * (the kernel lets every waiting access go on), stops the engine cleanly, and stores the
     * watermark. The next start compares it with the device's counter: if nothing was written
     * meanwhile, the restart is not a gap (see {@link Watermark}).
     */
    @Override
    public void close() throws IOException {
        if (warmUp != null) {
            warmUp.close();
        }
        if (watchdog != null) {
            watchdog.close(); // first: the heartbeats stop while the groups close
        }
        powerLease.close(); // before the groups close lets any write go on unrecorded
        Optional<Watermark> watermark = Optional.empty();
        IOException failure = null;
        try {
            watermark = Watermark.take(fs);
            if (!settleWritesInFlight()) {
                LOG.warning("the writes in flight at this stop did not end within the barrier timeout: no watermark,"
                        + " the next start will report a gap");
                watermark = Optional.empty();
            } else if (reconciler.asked()) {
                LOG.warning("the notification queue overflowed since the last result: no watermark, the next start"
                        + " finds by a walk what changed");
                watermark = Optional.empty();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "no watermark at this stop: the next start will report a gap", e);
            watermark = Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warning("interrupted while recording the queued notification events: no watermark at this stop");
            watermark = Optional.empty();
        }
        List<AutoCloseable> parts = new ArrayList<>(List.of(preContent, notifications, losses, tracker));
        if (holder != null) {
            QueueHolder h = holder;
            // It holds the group for the next start, unless told that no start is coming soon.
            parts.add(releaseQueue && h instanceof KeptQueue keeper ? () -> release(keeper) : h);
            parts.add(notification.handover());
        }
        for (AutoCloseable c : parts) {
            try {
                c.close();
            } catch (Exception e) {
                failure = combine(failure, e);
            }
        }
        if (failure == null && watermark.isPresent()) {
            try {
                writeMarker(state.resolve(MARKER), fs, watermark);
            } catch (IOException e) {
                failure = e;
            }
        }
        try {
            fs.close();
        } catch (IOException e) {
            failure = combine(failure, e);
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Makes everything changed until now a record, as a checkpoint would: waits (like the barrier)
     * for the writes in flight, whose notification events are queued only when they leave their
     * call; records the queued events (unread ones vanish with the group); and records the files
     * mapped shared and writable, whose stores raise no event at all. At a clean stop, so that the
     * watermark counts nothing unrecorded; at a start, before the power lease. False if the writes
     * did not end within the barrier timeout.
     */
    private boolean settleWritesInFlight() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + tracker.config().barrierTimeout().toNanos();
        try (WriteBarrier.Wait wait = barrier.begin(0)) {
            if (!wait.awaitDone(deadline)) {
                return false;
            }
            for (FileId writable : wait.filesToCarry()) {
                tracker.recordChange(writable, Change.WRITTEN, null, false);
            }
        } // closing the wait records the queued events, or marks continuity lost
        return true;
    }

    private static IOException combine(IOException failure, Exception e) {
        if (failure == null) {
            return e instanceof IOException io ? io : new IOException(e);
        }
        failure.addSuppressed(e);
        return failure;
    }

    /** Why the time since the previous run is a gap, or null if provably nothing was written meanwhile. */
    private static String gapSincePreviousRun(Properties previous, ChangeTracker tracker, TrackedFilesystem fs)
            throws IOException {
        if (!tracker.previousRunWasClean()) {
            return "the previous run did not stop cleanly";
        }
        Optional<Watermark> then = Watermark.loadFrom(previous);
        if (then.isEmpty()) {
            return "the previous run left no watermark";
        }
        Optional<Watermark> now = Watermark.take(fs);
        if (now.isEmpty()) {
            return "the device " + fs.majorMinor() + " keeps no write statistics to compare";
        }
        return now.get().gapSince(then.get());
    }

    // ---- opening ---------------------------------------------------------------------------------

    /**
     * The answer deadline, but at least 3 s: a JVM pause (a collection, a starved CPU) of a healthy
     * tracker must not get it killed, and a stopped tracker still releases its writers within seconds.
     */
    static Duration watchdogTimeout(LinuxSourceOptions options) {
        return options.answerDeadline().compareTo(WATCHDOG_FLOOR) > 0 ? options.answerDeadline() : WATCHDOG_FLOOR;
    }

    private static void requireCapSysAdmin() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                long caps = Long.parseUnsignedLong(line.substring(7).strip(), 16);
                if ((caps & (1L << CAP_SYS_ADMIN)) == 0) {
                    throw new UnsupportedSourceException("modtrack needs CAP_SYS_ADMIN to watch a whole file system"
                            + " with fanotify: run it as root (or grant the daemon CAP_SYS_ADMIN).");
                }
                return;
            }
        }
    }

    private static Path prepareState(Path stateDirectory, TrackedFilesystem fs) throws IOException {
        Files.createDirectories(stateDirectory);
        Path state = stateDirectory.toRealPath();
        // Another mount of a btrfs subvolume of the tracked file system is the tracked file system too:
        // the filesystem mark covers every subvolume of its superblock.
        Statx st = Statx.statx(Statx.AT_FDCWD, state.toString(), 0, Statx.STATX_INO | Statx.STATX_SUBVOL);
        boolean below = state.startsWith(fs.mountPoint()) && !fs.mountPoint().equals(Path.of("/"));
        if (below || fs.holds(Statx.AT_FDCWD, state.toString(), st)) {
            throw new UnsupportedSourceException("the state directory " + state + " is on the tracked file system " + fs
                    + "; keep it on another file system (a write to it would wait for the tracker itself).");
        }
        return state;
    }

    /**
     * {@code fd}, renumbered above {@code below} if it is not (the original is closed then). Used to
     * put the pre-content group's descriptor above the notification group's. Why: a dying process
     * releases its descriptors highest first (its last thread queues one release per descriptor,
     * in ascending order, and runs the queue last in, first out), and the kernel's release of a
     * group waits, uninterruptibly, until no access that waits for a permission answer pins one of
     * that group's marks. A writer waiting for the pre-content group pins the notification group's
     * mark on its file or directory (a muted one). Released first, the notification group would wait
     * for an answer that only the pre-content group's release gives: a SIGKILLed tracker never
     * exits, and its writers wait forever (seen in WorkloadTest: the dying tracker's last thread in
     * {@code fsnotify_destroy_group}; {@code GroupReleaseOrderTest} shows both orders on this kernel).
     */
    static int numberedAbove(int below, int fd) throws PosixException {
        if (fd > below) {
            return fd;
        }
        try {
            int above = Posix.duplicateAbove(fd, below + 1);
            assert above > below : above + " is not above " + below;
            return above;
        } finally {
            Posix.close(fd, "a group's first descriptor");
        }
    }

    /** The engine, for tests that look at the records the listeners made. */
    ChangeTracker tracker() {
        return tracker;
    }

    /** The pre-content group's descriptor and the notification group's (for tests of their order). */
    int[] groupDescriptors() {
        return new int[] {preContent.group(), notifications.group()};
    }

    /** The oldest kernel with every fanotify feature both hooks rely on (FAN_MARK_IGNORE came in 6.0): 6.1. */
    private static final int OLDEST_MAJOR = 6;
    private static final int OLDEST_MINOR = 1;
    private static final Pattern KERNEL_RELEASE = Pattern.compile("^(\\d+)\\.(\\d+)");

    /**
     * Refuses kernels older than 6.1 in one sentence, naming what they lack. A
     * release that cannot be parsed is let through: the first system call that needs a missing
     * feature then fails with its own message.
     */
    static void requireKernel(String release) throws UnsupportedSourceException {
        Matcher m = KERNEL_RELEASE.matcher(release == null ? "" : release);
        if (!m.find()) {
            return;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        if (major < OLDEST_MAJOR || major == OLDEST_MAJOR && minor < OLDEST_MINOR) {
            throw new UnsupportedSourceException("Linux " + release + " is too old for modtrack: it needs 6.1 or later"
                    + " (fanotify ignore marks, 6.0; evictable marks, 5.19; rename events with both names, 5.17).");
        }
    }

    /**
     * The hook to use: the one asked for, or the best this kernel offers. Asks the kernel whether
     * it knows {@code FAN_PRE_ACCESS} by removing such a mark that the new group cannot have: a
     * kernel that knows the event answers ENOENT (no such mark), an older one EINVAL (an unknown
     * event). Nothing is marked, so no access anywhere waits for the probe.
     */
    static LinuxSourceOptions.Hook resolveHook(LinuxSourceOptions.Hook asked, int group, TrackedFilesystem fs)
            throws IOException {
        boolean preContent = knowsPreContentEvents(group, fs.mountPoint());
        if (asked == LinuxSourceOptions.Hook.PRE_CONTENT && !preContent) {
            throw new UnsupportedSourceException("this kernel (" + System.getProperty("os.version") + ") has no fanotify"
                    + " pre-content events (Linux 6.14+); track with open-permission events instead (--source open-perm).");
        }
        return asked != null ? asked : preContent ? LinuxSourceOptions.Hook.PRE_CONTENT : LinuxSourceOptions.Hook.OPEN_PERM;
    }

    /**
     * The best hook this kernel offers: {@link LinuxSourceOptions.Hook#PRE_CONTENT} on Linux 6.14+
     * built with it, {@link LinuxSourceOptions.Hook#OPEN_PERM} otherwise. Needs CAP_SYS_ADMIN (it
     * makes a permission group, and marks nothing).
     */
    public static LinuxSourceOptions.Hook bestHook() throws IOException {
        int group = createPreContentGroup();
        try {
            return knowsPreContentEvents(group, Path.of("/")) ? LinuxSourceOptions.Hook.PRE_CONTENT
                    : LinuxSourceOptions.Hook.OPEN_PERM;
        } finally {
            Posix.close(group, "the probe's fanotify group");
        }
    }

    private static boolean knowsPreContentEvents(int group, Path path) throws IOException {
        try {
            Fanotify.mark(group, Fanotify.FAN_MARK_REMOVE | Fanotify.FAN_MARK_FILESYSTEM, Fanotify.FAN_PRE_ACCESS,
                    Statx.AT_FDCWD, path.toString());
            throw new IllegalStateException("a new fanotify group had a mark to remove on " + path);
        } catch (PosixException e) {
            // The kernel checks the mask before the mark and the path: only EINVAL says the event is
            // unknown. ENOENT (no such mark) says it is known, and so does any later refusal (EXDEV on
            // a btrfs subvolume, say), which the real mark then reports in its own words.
            return e.errno() != Errno.EINVAL;
        }
    }

    private static String describe(LinuxSourceOptions.Hook used, LinuxSourceOptions.Hook asked) {
        return used == LinuxSourceOptions.Hook.PRE_CONTENT ? "pre-content events"
                : "open-permission events" + (asked == null ? " (this kernel has no pre-content events)" : "");
    }

    private static int createPreContentGroup() throws IOException {
        try {
            return PreContentListener.createGroup();
        } catch (PosixException e) {
            if (e.errno() == Errno.EINVAL) {
                throw new UnsupportedSourceException("this kernel (" + System.getProperty("os.version")
                        + ") refused a fanotify permission group; modtrack needs Linux 6.1 or later built with"
                        + " CONFIG_FANOTIFY_ACCESS_PERMISSIONS.", e);
            }
            if (e.errno() == Errno.EPERM) {
                throw new UnsupportedSourceException("the kernel refused a fanotify pre-content group (EPERM):"
                        + " run modtrack as root or with CAP_SYS_ADMIN.", e);
            }
            throw e;
        }
    }

    private static void markFilesystem(PreContentListener pre, TrackedFilesystem fs) throws IOException {
        try {
            pre.markFilesystem();
        } catch (PosixException e) {
            if (e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.EINVAL) {
                throw new UnsupportedSourceException(fs.fsType() + " at " + fs.mountPoint() + " does not support"
                        + " fanotify pre-content events; track an ext4, xfs or btrfs file system instead.", e);
            }
            if (e.errno() == Errno.EXDEV) {
                throw unmarkable(fs, e);
            }
            throw e;
        }
    }

    /** Names in the log what is mounted inside the tree: bind mounts of the tracked file system, and other file systems. */
    private static void logMountsInside(TrackedFilesystem fs, Path watched) {
        MountAliases.Table mounts = fs.mountsInside();
        if (!mounts.aliases().isEmpty()) {
            LOG.info(() -> "the tracked file system is mounted again inside " + watched + ": " + mounts.aliases()
                    + "; what each shows is named below it, and a change made inside the tree shows at the path it was"
                    + " made through only (docs/linux-source.md, Known limits)");
        }
        List<String> foreign = mounts.foreignPoints();
        if (!foreign.isEmpty()) {
            LOG.warning(() -> "other file systems are mounted inside " + watched + " (at " + foreign + "): their changes are"
                    + " not tracked, and every result says to rescan them; track each as a root of its own"
                    + " (docs/linux-source.md, Known limits)");
        }
    }

    /**
     * The kernel refuses a filesystem mark through a mount whose root reports another fsid than the
     * superblock's root (fanotify_mark(2), EXDEV): a btrfs subvolume mounted by itself
     * ({@code subvol=}), or an id-mapped mount. Through a mount of btrfs's top-level subvolume the
     * same files are tracked, below their path there.
     */
    private static UnsupportedSourceException unmarkable(TrackedFilesystem fs, PosixException e) {
        return new UnsupportedSourceException(fs + " cannot take a filesystem mark here (EXDEV: the kernel refuses one"
                + " through a btrfs subvolume mounted by itself, or an id-mapped mount); mount the file system's top-level"
                + " subvolume (btrfs: subvolid=5) and watch this subvolume's directory below it instead.", e);
    }

    /** The tracker's identity of the file a /proc link (an fd or a mapped file) leads to. */
    static FileId identify(Path procLink, TrackedFilesystem fs) throws IOException {
        // Only files on the tracked device are carried, so the fsid is the one the event path uses
        // (the same file must get the same identity from both, or it would be two entries).
        String link = procLink.toString();
        FileHandles.FileHandle h = FileHandles.nameToHandleAt(Statx.AT_FDCWD, link, FileHandles.AT_SYMLINK_FOLLOW);
        return FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(), fs.hint(Posix.readlink(link), h), null);
    }

    private static void recordPreOpened(ChangeTracker tracker, TrackedFilesystem fs, Path link) throws IOException {
        try {
            FileId file = identify(link, fs);
            tracker.postWrite(tracker.preWrite(file, Access.WRITE).token());
        } catch (PosixException e) {
            // closed while we looked: nothing more can be written through it
        }
    }

    private static Properties requireSameFilesystem(Path marker, TrackedFilesystem fs) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(marker, StandardCharsets.UTF_8)) {
            p.load(in);
        }
        String fsid = Long.toHexString(fs.fsid());
        if (!fsid.equals(p.getProperty("fsid"))) {
            throw new UnsupportedSourceException("the state directory belongs to another file system (fsid "
                    + p.getProperty("fsid") + ", mounted at " + p.getProperty("mountPoint") + "), not " + fs
                    + "; give each file system its own state directory.");
        }
        return p;
    }

    /** Written durably: a lost marker would make the next start look like the first, and hide the gap. */
    private static void writeMarker(Path marker, TrackedFilesystem fs, Optional<Watermark> watermark) throws IOException {
        Properties p = new Properties();
        watermark.ifPresent(w -> w.storeIn(p));
        p.setProperty("fsid", Long.toHexString(fs.fsid()));
        p.setProperty("mountPoint", fs.mountPoint().toString());
        p.setProperty("fsType", fs.fsType());
        var text = new StringWriter();
        p.store(text, "which file system this modtrack state tracks");
        Path tmp = marker.resolveSibling(MARKER + ".tmp");
        try (var ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Posix.fsyncDirectory(marker.getParent().toString());
    }

    private static void closeAll(List<AutoCloseable> opened, Exception failure) {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
    }
}
