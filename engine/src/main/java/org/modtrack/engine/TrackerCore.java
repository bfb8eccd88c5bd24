package org.modtrack.engine;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.modtrack.engine.journal.ControlState;
import org.modtrack.engine.journal.Journal;
import org.modtrack.engine.journal.JournalRecord;
import org.modtrack.engine.journal.RecordType;
import org.modtrack.engine.journal.SnapshotWriter;
import org.modtrack.engine.storage.Storage;

/**
 * The protocol of docs/correctness.md as a single-threaded state machine: periods, records, writes
 * in progress, checkpoints, results and bless.
 *
 * <p>It is the deterministic heart of the tracker. {@link ChangeTracker} drives it from many
 * threads under one lock, and does the slow I/O that the steps below hand back to it without the
 * lock; the simulator drives the very same steps one at a time over a simulated disk. Nothing here
 * blocks or reads a clock: time comes in as arguments.
 *
 * <p>Not thread-safe. Every method must be called under the owner's lock, except where a method
 * says that the I/O it describes is done by the caller.
 */
public final class TrackerCore {
    private final TrackerConfig config;
    private final Journal journal;
    private final Map<FileId, Entry> live = new HashMap<>();
    private final InProgressTable inProgress;
    private final boolean wasClean;
    private ControlState control;
    private SnapshotWriter open;
    private SnapshotWriter closing; // non-null during a checkpoint
    private long checkpointStartNanos;
    private long preWrites;
    private long alreadyRecorded;
    private long checkpoints;
    private long carried;
    private boolean closed;

    /**
     * What the tracker knows about one file of the kept snapshots. A kind of change is present in a
     * result when the snapshot it was last recorded in is kept (at least the last blessed id).
     */
    private static final class Entry {
        FileId file;
        long lowest; // the lowest kept snapshot that may hold a record of it
        long highest; // the highest snapshot holding any record of it
        long intentIn; // the highest snapshot holding an access intent (or carry): "already recorded" there
        long lsn; // the sequence number of that intent record
        long writtenIn; // the highest snapshot in which a write was announced or carried (0: none)
        long readIn; // the highest snapshot in which a read was announced (0: none)
        long scopeIn; // the highest snapshot in which it was recorded as a directory scope (0: none)
        long carriedInto; // the snapshot it was last carried into, or 0
        Namespace ns; // null until a namespace change is recorded (most files never have one)
        String[] formerNames; // other paths seen in kept snapshots; null for the many files with one name
        long[] formerNamesUntil; // the snapshot in which each former name was last the file's name
        boolean moreNames; // more former names were seen than are kept

        /** Takes {@code newer} as the file's identity in {@code snapshot}, remembering the path it replaces. */
        void renamedHint(FileId newer, long snapshot) {
            String old = file == null ? null : file.path();
            if (old != null && newer.path() != null && !old.equals(newer.path())) {
                rememberName(old, snapshot);
            }
            file = newer;
        }

        private void rememberName(String name, long snapshot) {
            if (formerNames == null) {
                formerNames = new String[] {name};
                formerNamesUntil = new long[] {snapshot};
                return;
            }
            int at = java.util.Arrays.asList(formerNames).indexOf(name);
            if (at >= 0) {
                formerNamesUntil[at] = Math.max(formerNamesUntil[at], snapshot);
            } else if (formerNames.length < ChangedFile.MAX_FORMER_NAMES) {
                formerNames = java.util.Arrays.copyOf(formerNames, formerNames.length + 1);
                formerNamesUntil = java.util.Arrays.copyOf(formerNamesUntil, formerNamesUntil.length + 1);
                formerNames[formerNames.length - 1] = name;
                formerNamesUntil[formerNamesUntil.length - 1] = snapshot;
            } else {
                moreNames = true;
            }
        }

        /** Forgets the names the file last had before snapshot {@code id}: the consumer knows them from a blessed result. */
        void forgetNamesBefore(long id) {
            if (formerNames == null) {
                return;
            }
            int kept = 0;
            for (int i = 0; i < formerNames.length; i++) {
                if (formerNamesUntil[i] >= id) {
                    formerNames[kept] = formerNames[i];
                    formerNamesUntil[kept] = formerNamesUntil[i];
                    kept++;
                }
            }
            formerNames = kept == 0 ? null : java.util.Arrays.copyOf(formerNames, kept);
            formerNamesUntil = kept == 0 ? null : java.util.Arrays.copyOf(formerNamesUntil, kept);
        }

        Entry(FileId file, long lowest) {
            this.file = file;
            this.lowest = lowest;
        }
    }

    /** Namespace changes of one file, by the snapshot they were last recorded in. */
    private static final class Namespace {
        long createdIn;
        long deletedIn;
        long attributesIn;
        boolean directory;
        final ArrayDeque<Rename> renames = new ArrayDeque<>(1);
    }

    /** A rename recorded in {@code snapshot}, from {@code from}. */
    private record Rename(long snapshot, String from) {}

    /**
     * The answer to {@link #preWrite}.
     *
     * @param token the write's token for {@link #postWrite}
     * @param lsn the record the write must wait for (see {@link Journal#isAcknowledged})
     * @param alreadyRecorded whether the file was already recorded in the open period
     */
    public record Intent(long token, long lsn, boolean alreadyRecorded) {}

    private TrackerCore(TrackerConfig config, Journal.Opened opened, SnapshotWriter first) {
        this.config = config;
        this.journal = opened.journal();
        this.control = opened.control();
        this.wasClean = opened.wasClean();
        this.inProgress = new InProgressTable(config.maxWritesInProgress());
        for (var e : opened.snapshots().entrySet()) {
            for (JournalRecord r : e.getValue()) {
                loadRecord(e.getKey(), r);
            }
        }
        journal.adopt(first);
        this.open = first;
    }

    /**
     * Opens the tracker state in {@code storage}, recovering after any crash, and starts a new
     * open period. Does I/O; call before anything else can use the storage.
     */
    public static TrackerCore open(Storage storage, TrackerConfig config) throws IOException {
        Journal.Opened opened = Journal.open(storage, config.durability(), config.initialSnapshotBytes(),
                config.maxSnapshotBytes());
        SnapshotWriter first = opened.journal().createSnapshot(opened.nextSnapshotId());
        return new TrackerCore(config, opened, first);
    }

    private void loadRecord(long snapshot, JournalRecord r) {
        Entry e = live.get(r.file());
        if (e == null) {
            e = new Entry(r.file(), snapshot);
            live.put(r.file(), e);
        }
        e.renamedHint(r.file(), snapshot); // records are read in order: the newest hint wins
        e.highest = Math.max(e.highest, snapshot);
        e.lowest = Math.min(e.lowest, snapshot);
        apply(e, snapshot, r);
    }

    /** Applies what a record says to its file's entry (the same for records read back and written now). */
    private static void apply(Entry e, long snapshot, JournalRecord r) {
        switch (r.type()) {
            case INTENT -> {
                e.intentIn = Math.max(e.intentIn, snapshot);
                e.writtenIn = Math.max(e.writtenIn, snapshot);
            }
            case READ_INTENT -> {
                e.intentIn = Math.max(e.intentIn, snapshot);
                e.readIn = Math.max(e.readIn, snapshot);
            }
            case CARRIED -> {
                e.intentIn = Math.max(e.intentIn, snapshot);
                e.writtenIn = Math.max(e.writtenIn, snapshot); // when in doubt, it is a write
                e.carriedInto = Math.max(e.carriedInto, snapshot);
            }
            case SCOPE -> e.scopeIn = Math.max(e.scopeIn, snapshot);
            case MODIFIED -> e.writtenIn = Math.max(e.writtenIn, snapshot); // after the fact: not an intent
            case CREATED -> namespace(e, r).createdIn = snapshot;
            case DELETED -> namespace(e, r).deletedIn = snapshot;
            case ATTRIBUTES -> namespace(e, r).attributesIn = snapshot;
            case RENAMED -> namespace(e, r).renames.addLast(new Rename(snapshot, r.from()));
        }
    }

    private static Namespace namespace(Entry e, JournalRecord r) {
        if (e.ns == null) {
            e.ns = new Namespace();
        }
        e.ns.directory |= r.directory();
        return e.ns;
    }

    // ---- writes ----------------------------------------------------------------------------------

    /**
     * Records the intent to modify {@code file} in the open period (and, during a checkpoint, in the
     * closing one too), unless it is recorded there already, and registers the write as in progress
     * in the open period. The caller must not let the write proceed before
     * {@code journal().isAcknowledged(intent.lsn())}.
     *
     * @throws IOException if the record could not be written; nothing was registered then
     * @throws IllegalStateException if too many writes are in progress
     */
    public Intent preWrite(FileId file) throws IOException {
        return preWrite(file, Access.WRITE);
    }

    /**
     * Like {@link #preWrite(FileId)}, for an access of the given kind. A read is recorded (and
     * awaited) like a write; the difference is only in what results say about the file.
     */
    public Intent preWrite(FileId file, Access access) throws IOException {
        requireOpen();
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(access, "access");
        if (inProgress.isFull()) {
            throw new IllegalStateException("too many writes in progress (limit " + config.maxWritesInProgress()
                    + "); raise maxWritesInProgress or make sure every preWrite is followed by postWrite.");
        }
        preWrites++;
        Entry e = live.get(file);
        // A scope is recorded apart from the file-level intents: it stands for the directory's
        // children, so a file-level intent of the same entry must not make it look recorded.
        long recordedIn = e == null ? 0 : access == Access.SCOPE ? e.scopeIn : e.intentIn;
        boolean recorded = e != null && (recordedIn == open.id()
                || (config.mutant() == Mutant.KEEP_IGNORE_MARKS && recordedIn > 0));
        long lsn;
        if (recorded) {
            alreadyRecorded++;
            lsn = e.lsn;
            if (file.hasHandle()) {
                e.renamedHint(withBaselineStamp(e.file, file), open.id());
            }
            if (access == Access.WRITE) {
                e.writtenIn = open.id(); // the recorded read now stands for a write too (memory only)
            }
        } else {
            boolean alsoClosing = closing != null && (e == null || recordedIn < closing.id());
            RecordType type = switch (access) {
                case WRITE -> RecordType.INTENT;
                case READ -> RecordType.READ_INTENT;
                case SCOPE -> RecordType.SCOPE;
            };
            lsn = journal.append(type, file, open, alsoClosing ? closing : null);
            if (e == null) {
                e = new Entry(file, alsoClosing ? closing.id() : open.id());
                live.put(file, e);
            }
            e.renamedHint(withBaselineStamp(e.file, file), open.id());
            e.highest = open.id();
            if (alsoClosing) {
                e.lowest = Math.min(e.lowest, closing.id());
                apply(e, closing.id(), new JournalRecord(type, file));
            }
            apply(e, open.id(), new JournalRecord(type, file));
            e.lsn = lsn;
        }
        long token = inProgress.add(file, open.id());
        if (config.mutant() == Mutant.NO_SYNC) {
            lsn = 0;
        }
        return new Intent(token, lsn, recorded);
    }

    /**
     * The newest path hint known (a notification about a file in a removed directory has none) with
     * the oldest stamp. The stamp is the baseline a source compares with
     * to tell that a file was only read: a file first recorded as read, then written under an
     * ignore mark (no event), must keep the stamp from before that write, or the write would look
     * like nothing. Keeping an older stamp than needed costs at most a false positive.
     */
    private static FileId withBaselineStamp(FileId kept, FileId newer) {
        if (kept == newer || !newer.hasHandle() || kept.stamp() == null && (newer.path() != null || kept.path() == null)) {
            return newer;
        }
        return newer.withHint(newer.path() != null ? newer.path() : kept.path(),
                kept.stamp() != null ? kept.stamp() : newer.stamp());
    }

    /**
     * Records, after the fact, a change to the namespace or attributes of {@code file} (from a
     * notification). Not awaited: the change has happened already, so waiting would make nothing
     * safer; such records become durable with the next group commit (docs/correctness.md says what
     * an unclean stop means for them).
     *
     * @param change {@link Change#CREATED}, {@link Change#DELETED}, {@link Change#RENAMED},
     *     {@link Change#ATTRIBUTES}, or {@link Change#WRITTEN} for a child of a recorded
     *     {@link Access#SCOPE} (whose accesses were not announced one by one)
     * @param from the path before a rename (null otherwise)
     * @param directory whether the file is a directory
     * @return the record's sequence number, or 0 if the change was already recorded in the open period
     */
    public long recordChange(FileId file, Change change, String from, boolean directory) throws IOException {
        requireOpen();
        RecordType type = switch (change) {
            case CREATED -> RecordType.CREATED;
            case DELETED -> RecordType.DELETED;
            case RENAMED -> RecordType.RENAMED;
            case ATTRIBUTES -> RecordType.ATTRIBUTES;
            case WRITTEN -> RecordType.MODIFIED;
            case READ, SCOPE -> throw new IllegalArgumentException(change + " is recorded by preWrite, before the access.");
        };
        if ((from != null) != (change == Change.RENAMED)) {
            throw new IllegalArgumentException("a rename needs the path it came from, and only a rename has one.");
        }
        Entry e = live.get(file);
        if (e != null && alreadyInOpenPeriod(e, change, directory)) {
            e.renamedHint(withBaselineStamp(e.file, file), open.id()); // the newest hint; the journal already says what happened
            return 0;
        }
        JournalRecord record = new JournalRecord(type, file, from, directory);
        long lsn = journal.append(record, open, null);
        if (e == null) {
            e = new Entry(file, open.id());
            live.put(file, e);
        }
        e.renamedHint(e.file == null ? file : withBaselineStamp(e.file, file), open.id());
        e.highest = open.id();
        apply(e, open.id(), record);
        return lsn;
    }

    /**
     * Whether {@code change} is already recorded for {@code e} in the open period, so recording it
     * again would add nothing: a notification source reports every chmod and every creation in a
     * busy directory, and the journal should not grow with repeats. Renames are never repeats:
     * each has its own {@code from}.
     */
    private boolean alreadyInOpenPeriod(Entry e, Change change, boolean directory) {
        if (change == Change.WRITTEN) {
            return e.writtenIn == open.id(); // by a MODIFIED record, or an INTENT (announced before it)
        }
        Namespace ns = e.ns;
        if (ns == null || ns.directory != directory) {
            return false;
        }
        long id = open.id();
        return switch (change) {
            case CREATED -> ns.createdIn == id && ns.deletedIn < id;
            case DELETED -> ns.deletedIn == id && ns.createdIn < id;
            case ATTRIBUTES -> ns.attributesIn == id;
            default -> false;
        };
    }

    /** Ends the write {@code token}. Returns false (and changes nothing) for an unknown or ended token. */
    public boolean postWrite(long token) {
        return inProgress.remove(token);
    }

    // ---- checkpoints -----------------------------------------------------------------------------

    /** The id the next period's snapshot must have; the caller creates it with {@link Journal#createSnapshot}. */
    public long nextSnapshotId() {
        return open.id() + 1;
    }

    /**
     * Starts checkpoint T (the open period): {@code next} becomes the open period T+1, new intents are
     * recorded in both, and the "already recorded" state starts empty for T+1 (a kernel source clears
     * its ignore marks now). Writes in progress all belong to T from here on.
     */
    public void beginCheckpoint(SnapshotWriter next, long nowNanos) {
        requireOpen();
        if (closing != null) {
            throw new IllegalStateException("a checkpoint is already running.");
        }
        if (next.id() != nextSnapshotId()) {
            throw new IllegalArgumentException("the next snapshot must be " + nextSnapshotId() + ", not " + next.id() + ".");
        }
        journal.adopt(next);
        closing = open;
        open = next;
        inProgress.beginCheckpoint(closing.id());
        checkpointStartNanos = nowNanos;
    }

    /** True while a checkpoint runs. */
    public boolean checkpointRunning() {
        return closing != null;
    }

    /** True once every write the tracker knows of in the closing period has ended. */
    public boolean ownWritesDone() {
        requireCheckpoint();
        return config.mutant() == Mutant.SKIP_BARRIER || inProgress.closingCount() == 0;
    }

    /** When the running checkpoint stops waiting and carries what is still in flight. */
    public long deadlineNanos() {
        requireCheckpoint();
        return checkpointStartNanos + config.barrierTimeout().toNanos();
    }

    /** The closing period's id during a checkpoint. */
    public long closingSnapshotId() {
        requireCheckpoint();
        return closing.id();
    }

    /**
     * What the end of a checkpoint leaves to its caller: sync the carried records and seal the
     * closing snapshot (both without the lock), persist {@link #control()} through
     * {@link Journal#writeControl}, then {@link #issue} the result.
     *
     * @param result the result to return once issued
     * @param sealed the closing snapshot, to {@link Journal#seal}
     * @param carryLsn the record that must be acknowledged before issuing (0: none)
     * @param control the control state to persist before issuing
     */
    public record Finished(QueryResult result, SnapshotWriter sealed, long carryLsn, ControlState control) {}

    /**
     * Ends the running checkpoint: files of writes still in flight (the tracker's own, unless all
     * ended, and {@code externalInFlight} from the source's barrier) are carried into the open
     * period; the closing snapshot stops taking records; the result is made from every kept record.
     */
    public Finished finishCheckpoint(List<FileId> externalInFlight, long nowNanos) throws IOException {
        requireCheckpoint();
        LinkedHashSet<FileId> toCarry = new LinkedHashSet<>(externalInFlight);
        if (config.mutant() != Mutant.SKIP_BARRIER) {
            toCarry.addAll(inProgress.closingFiles());
        }
        long carryLsn = 0;
        for (FileId f : toCarry) {
            carryLsn = journal.append(RecordType.CARRIED, f, open, null);
            Entry e = live.computeIfAbsent(f, k -> new Entry(k, open.id()));
            e.highest = open.id();
            e.lsn = carryLsn;
            apply(e, open.id(), new JournalRecord(RecordType.CARRIED, f));
            carried++;
        }
        inProgress.endCheckpoint(open.id());
        SnapshotWriter sealed = closing;
        journal.detach(sealed);
        closing = null;
        checkpoints++;

        long id = open.id();
        ControlState next = control.withHighestIssued(id);
        if (next.continuityLost() && next.lostReportedIn() == 0) {
            next = next.withLostReportedIn(id);
        }
        QueryResult result = new QueryResult(id, control.lastBlessed(), recoveredIn(next), continuityOf(next),
                changes(next, id), config.barrier().name(), Duration.ofNanos(Math.max(0, nowNanos - checkpointStartNanos)));
        return new Finished(result, sealed, carryLsn, next);
    }

    private List<ChangedFile> changes(ControlState state, long resultId) {
        List<ChangedFile> out = new ArrayList<>(live.size());
        boolean anyRecovered = recoveredIn(state);
        long kept = state.lastBlessed();
        for (Entry e : live.values()) {
            boolean recovered = anyRecovered && e.lowest <= state.recoveredThrough();
            EnumSet<Change> changes = EnumSet.noneOf(Change.class);
            if (e.writtenIn >= kept && e.writtenIn > 0) {
                changes.add(Change.WRITTEN);
            } else if (e.readIn >= kept && e.readIn > 0) {
                changes.add(Change.READ);
            }
            addIfKept(changes, Change.SCOPE, e.scopeIn, kept);
            String from = null;
            boolean directory = false;
            if (e.ns != null) {
                addIfKept(changes, Change.CREATED, e.ns.createdIn, kept);
                addIfKept(changes, Change.DELETED, e.ns.deletedIn, kept);
                addIfKept(changes, Change.ATTRIBUTES, e.ns.attributesIn, kept);
                if (!e.ns.renames.isEmpty()) {
                    changes.add(Change.RENAMED);
                    from = e.ns.renames.getFirst().from();
                }
                directory = e.ns.directory;
            }
            assert !changes.isEmpty() : "a kept entry has a kept record: " + e.file;
            out.add(new ChangedFile(e.file, changes, from, directory, e.carriedInto == resultId, recovered,
                    e.formerNames == null ? List.of() : List.of(e.formerNames), e.moreNames));
        }
        return out;
    }

    private static void addIfKept(EnumSet<Change> changes, Change change, long in, long kept) {
        if (in > 0 && in >= kept) {
            changes.add(change);
        }
    }

    private static boolean recoveredIn(ControlState state) {
        return state.recoveredThrough() > 0 && state.recoveredThrough() >= state.lastBlessed();
    }

    private static Continuity continuityOf(ControlState state) {
        return state.continuityLost() ? Continuity.lost(state.lostReason()) : Continuity.INTACT;
    }

    /**
     * Makes a finished checkpoint's result official, once its control state is durable: from now
     * on its id may be blessed.
     */
    public QueryResult issue(Finished finished) throws IOException {
        control = finished.control();
        if (config.mutant() == Mutant.DISCARD_BEFORE_BLESS) {
            ControlState discarded = control.withLastBlessed(finished.result().snapshot());
            journal.writeControl(discarded);
            control = discarded;
            discardBelow(finished.result().snapshot());
            journal.deleteFiles(journal.forgetBelow(finished.result().snapshot()));
        }
        return finished.result();
    }

    // ---- bless -----------------------------------------------------------------------------------

    /**
     * Checks a bless of {@code id} and returns the control state to persist, or null if there is
     * nothing to do (the id is already the last blessed). Changes nothing.
     *
     * @throws BlessException if {@code id} was never returned by a query, or is older than the last blessed
     */
    public ControlState planBless(long id) throws BlessException {
        requireOpen();
        long last = control.lastBlessed();
        if (id == last) {
            return null;
        }
        if (id < last) {
            throw new BlessException("snapshot " + id + " is older than the last blessed snapshot " + last
                    + "; nothing was changed.");
        }
        if (id > control.highestIssued()) {
            throw new BlessException("snapshot " + id + " was never returned by a query (the newest returned is "
                    + control.highestIssued() + "); nothing was changed.");
        }
        ControlState next = control.withLastBlessed(id);
        if (next.continuityLost() && next.lostReportedIn() > 0 && id >= next.lostReportedIn()) {
            next = next.withContinuityRestored();
        }
        if (next.recoveredThrough() > 0 && next.recoveredThrough() < id) {
            next = next.withRecoveredThrough(0);
        }
        return next;
    }

    /**
     * Applies a bless whose control state is durable: forgets everything recorded only in snapshots
     * below the blessed id. Returns the snapshot files the caller must then delete with
     * {@link Journal#deleteFiles}.
     */
    public List<String> commitBless(ControlState persisted) throws IOException {
        if (persisted.lastBlessed() <= control.lastBlessed()) {
            throw new IllegalStateException("bless of " + persisted.lastBlessed() + " is not newer than "
                    + control.lastBlessed() + ".");
        }
        control = persisted;
        discardBelow(persisted.lastBlessed());
        return journal.forgetBelow(persisted.lastBlessed());
    }

    private void discardBelow(long id) {
        if (closing != null && closing.id() < id) {
            throw new IllegalStateException("cannot discard snapshot " + closing.id() + " during its checkpoint.");
        }
        live.values().removeIf(e -> e.highest < id);
        for (Entry e : live.values()) {
            e.lowest = Math.max(e.lowest, id);
            if (e.ns != null) {
                // The consumer knows where a file was as of the blessed result: older renames no longer count.
                e.ns.renames.removeIf(r -> r.snapshot() < id);
            }
            e.forgetNamesBefore(id);
        }
    }

    // ---- continuity and control ------------------------------------------------------------------

    /** The control state as last persisted (or about to be, inside a caller's control update). */
    public ControlState control() {
        return control;
    }

    /** The control state after a continuity loss for {@code reason}; persist it, then {@link #setControl}. */
    public ControlState planContinuityLost(String reason) {
        return control.withLost(reason);
    }

    /** Adopts a control state the caller has just persisted. */
    public void setControl(ControlState persisted) {
        control = Objects.requireNonNull(persisted);
    }

    // ---- lifecycle -------------------------------------------------------------------------------

    /**
     * Stops the tracker: syncs and closes the open snapshot and persists a clean-stop marker. A
     * tracker closed with writes in progress (or during a checkpoint) cannot vouch for them, so it
     * records a continuity loss and no clean marker instead.
     */
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        boolean quiet = inProgress.size() == 0 && closing == null && journal.failure() == null;
        try {
            journal.closeAll(true);
        } catch (IOException e) {
            quiet = false;
        }
        ControlState last = quiet
                ? control.withClean(true)
                : control.withLost("the tracker stopped while " + inProgress.size()
                        + " writes were in progress or its journal had failed.");
        journal.writeControl(last);
        control = last;
    }

    /** The journal, for the caller's share of the I/O and for group commit. */
    public Journal journal() {
        return journal;
    }

    /** Whether the previous run stopped cleanly (or this state is new). */
    public boolean wasClean() {
        return wasClean;
    }

    /** The open period's id. */
    public long openSnapshotId() {
        return open.id();
    }

    /** Counters and gauges. */
    public TrackerStats stats() {
        return new TrackerStats(open.id(), control.lastBlessed(), journal.snapshotCount(), live.size(),
                inProgress.size(), preWrites, alreadyRecorded, journal.records(), journal.syncs(), journal.bytes(),
                checkpoints, carried, config.durability(), continuityOf(control));
    }

    /** The configuration. */
    public TrackerConfig config() {
        return config;
    }

    /** Checks internal invariants in linear time; for tests and the simulator. */
    public void checkInvariants() {
        inProgress.checkInvariants(open.id());
        for (Entry e : live.values()) {
            if (e.highest < control.lastBlessed() || e.highest > open.id() || e.lowest > e.highest) {
                throw new AssertionError("entry " + e.file + " spans snapshots " + e.lowest + ".." + e.highest
                        + " outside the kept range " + control.lastBlessed() + ".." + open.id());
            }
        }
        if (control.highestIssued() > open.id() || control.lastBlessed() > control.highestIssued()) {
            throw new AssertionError("control ids out of order: " + control + " with open " + open.id());
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the tracker is closed.");
        }
    }

    private void requireCheckpoint() {
        requireOpen();
        if (closing == null) {
            throw new IllegalStateException("no checkpoint is running.");
        }
    }
}
