package org.modtrack.engine;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.modtrack.engine.journal.ConsumerState;
import org.modtrack.engine.journal.ControlState;
import org.modtrack.engine.journal.Journal;
import org.modtrack.engine.journal.JournalFullException;
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
    private final Mutant mutant; // NONE outside the simulator
    private final Journal journal;
    // What the tracker knows about each file of the kept snapshots (FileTable: packed, no object per
    // file). A kind of change is present in a result when the snapshot it was last recorded in is
    // kept (at least the last blessed id).
    private final FileTable live = new FileTable();
    // Non-null while a result is built from `live` without the lock (finishCheckpoint to endBuild):
    // `live` is then frozen, and an entry that changes is copied here first (see forUpdate).
    // endBuild merges them back. Proportional to the files touched meanwhile, not to N.
    private FileTable changedWhileBuilding;
    // When this run first saw each consumer whose activity time the control state does not know ({@link #planDrops}).
    private final Map<String, Long> firstSeenMillis = new HashMap<>();
    private long openFirstLsn; // the open period's records have higher LSNs; entries keep theirs as an offset
    private final InProgressTable inProgress;
    private final boolean wasClean;
    private ControlState control;
    private SnapshotWriter open;
    private SnapshotWriter closing; // non-null during a checkpoint
    private long checkpointStartNanos;
    private String checkpointFor; // the consumer whose result the running checkpoint makes
    private boolean checkpointIsView; // whether that result is a view (watch): never blessed, so not the consumer's to bless
    private long preWrites;
    private long alreadyRecorded;
    private long checkpoints;
    private long carried;
    private boolean closed;

    /**
     * The answer to {@link #preWrite}.
     *
     * @param token the write's token for {@link #postWrite}
     * @param lsn the record the write must wait for (see {@link Journal#isAcknowledged})
     * @param alreadyRecorded whether the file was already recorded in the open period
     */
    public record Intent(long token, long lsn, boolean alreadyRecorded) {}

    private TrackerCore(TrackerConfig config, Mutant mutant, Journal.Opened opened, SnapshotWriter first) {
        this.config = config;
        this.mutant = mutant;
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
        return open(storage, config, Mutant.NONE);
    }

    /**
     * Like {@link #open(Storage, TrackerConfig)}, with a deliberate bug: for the simulator only,
     * which must prove it notices each {@link Mutant}. Not part of {@link TrackerConfig}, so that no
     * configuration a user builds can carry one.
     */
    public static TrackerCore open(Storage storage, TrackerConfig config, Mutant mutant) throws IOException {
        Objects.requireNonNull(mutant, "mutant");
        Journal.Opened opened = Journal.open(storage, config.durability(), config.initialSnapshotBytes(),
                config.maxSnapshotBytes(), config.maxJournalBytes());
        SnapshotWriter first = opened.journal().createSnapshot(opened.nextSnapshotId());
        return new TrackerCore(config, mutant, opened, first);
    }

    private void loadRecord(long snapshot, JournalRecord r) {
        int e = live.find(r.file());
        if (e < 0) {
            e = live.add(r.file());
            // Records are read in snapshot order, so this is the lowest snapshot that holds one.
            live.setFlag(e, FileTable.F_RECOVERED, snapshot <= control.recoveredThrough());
        }
        live.sighted(e, r.file(), false, snapshot, true); // records are read in order: the newest hint wins
        raiseHighest(live, e, snapshot);
        apply(live, e, snapshot, r);
    }

    /** Records that entry {@code e} has a record in {@code snapshot}; a newer one ends its "carried" state. */
    private static void raiseHighest(FileTable t, int e, long snapshot) {
        if (snapshot > t.id(e, FileTable.HIGHEST)) {
            t.setId(e, FileTable.HIGHEST, snapshot);
            t.setFlag(e, FileTable.F_CARRIED, false);
        }
    }

    private static void raise(FileTable t, int e, int column, long snapshot) {
        if (snapshot > t.id(e, column)) {
            t.setId(e, column, snapshot);
        }
    }

    /**
     * Applies what a record says to its file's entry (the same for records read back and written
     * now), after {@link #raiseHighest}.
     */
    private static void apply(FileTable t, int e, long snapshot, JournalRecord r) {
        switch (r.type()) {
            case INTENT -> {
                raise(t, e, FileTable.INTENT_IN, snapshot);
                raise(t, e, FileTable.WRITTEN_IN, snapshot);
            }
            case READ_INTENT -> {
                raise(t, e, FileTable.INTENT_IN, snapshot);
                raise(t, e, FileTable.READ_IN, snapshot);
            }
            case CARRIED -> {
                raise(t, e, FileTable.INTENT_IN, snapshot);
                raise(t, e, FileTable.WRITTEN_IN, snapshot); // when in doubt, it is a write
                assert t.id(e, FileTable.HIGHEST) == snapshot : "raiseHighest first";
                t.setFlag(e, FileTable.F_CARRIED, true);
                markDirectory(t, e, r);
            }
            case SCOPE -> {
                t.setId(e, FileTable.SCOPE_IN, Math.max(t.id(e, FileTable.SCOPE_IN), snapshot));
                markDirectory(t, e, r);
            }
            case MODIFIED -> {
                raise(t, e, FileTable.WRITTEN_IN, snapshot); // after the fact: not an intent
                markDirectory(t, e, r); // a directory's entries changed (results that name directories)
            }
            case CREATED -> {
                markDirectory(t, e, r);
                t.setId(e, FileTable.CREATED_IN, snapshot); // in the pages: the common change costs no side entry
            }
            case DELETED -> {
                markDirectory(t, e, r);
                t.setId(e, FileTable.DELETED_IN, snapshot); // a side column: an int, no object
            }
            case ATTRIBUTES -> {
                markDirectory(t, e, r);
                t.setId(e, FileTable.ATTRIBUTES_IN, snapshot);
            }
            case RENAMED -> {
                // Every name it was renamed from is one the consumer may have it at (a file with
                // several links can leave each of them): kept as a former name, bounded like them.
                markDirectory(t, e, r);
                FileTable.Names names = t.names(e);
                if (r.from() != null) {
                    names.rememberName(r.from(), snapshot);
                }
                names.renamed(snapshot, r.from());
            }
        }
    }

    /** A record of a directory makes its entry a directory's for good (a flag bit: no side entry). */
    private static void markDirectory(FileTable t, int e, JournalRecord r) {
        if (r.directory()) {
            t.setFlag(e, FileTable.F_DIRECTORY, true);
        }
    }

    /** The LSN of entry {@code e}'s intent record in the open period (0 if it has none there: nothing to wait for). */
    /**
     * The record an access of entry {@code e} already recorded in the open period must wait for:
     * the newest intent, read intent or scope appended for it in that period ({@link #setLsn} keeps
     * it), or 0 if {@code recordedIn} (the period of the record that makes the access recorded:
     * its scope's for a scope, else its intent's) is not the open one. A scope's own period, not the
     * file-level intent's, decides for a scope: a directory recorded as a scope alone has no
     * intent, and taking 0 for it let a second child's access go on, under the directory's new
     * ignore mark, before the scope's record was durable (found by the simulator's power-loss model).
     */
    private long lsnOf(FileTable t, int e, long recordedIn) {
        return recordedIn == open.id() ? openFirstLsn + t.getInt(e, FileTable.LSN) : 0;
    }

    private void setLsn(FileTable t, int e, long lsn) {
        long offset = lsn - openFirstLsn;
        if (offset <= 0 || offset > Integer.MAX_VALUE) {
            throw new IllegalStateException("record " + lsn + " is not among the open period's first 2^31 records"
                    + " (from " + openFirstLsn + ").");
        }
        t.setInt(e, FileTable.LSN, (int) offset);
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
        FileTable t = mutable();
        int e = forUpdate(file);
        // A scope is recorded apart from the file-level intents: it stands for the directory's
        // children, so a file-level intent of the same entry must not make it look recorded.
        long intentIn = e < 0 ? 0 : access == Access.SCOPE ? t.id(e, FileTable.SCOPE_IN) : t.id(e, FileTable.INTENT_IN);
        boolean recorded = e >= 0 && (intentIn == open.id()
                || (mutant == Mutant.KEEP_IGNORE_MARKS && intentIn > 0));
        long lsn;
        if (recorded) {
            alreadyRecorded++;
            lsn = lsnOf(t, e, intentIn);
            t.sighted(e, file, true, open.id(), false);
            if (access == Access.WRITE) {
                t.setId(e, FileTable.WRITTEN_IN, open.id()); // the recorded read now stands for a write too (memory only)
            }
        } else {
            boolean alsoClosing = closing != null && (e < 0 || intentIn < closing.id());
            RecordType type = switch (access) {
                case WRITE -> RecordType.INTENT;
                case READ -> RecordType.READ_INTENT;
                case SCOPE -> RecordType.SCOPE;
            };
            // A scope stands for a directory's children: its record says "directory", so that a
            // restart, which knows the entry from its records alone, still knows what it is.
            JournalRecord record = new JournalRecord(type, file, null, access == Access.SCOPE);
            lsn = journal.append(record, open, alsoClosing ? closing : null);
            if (e < 0) {
                e = t.add(file);
            } else {
                t.sighted(e, file, true, open.id(), true);
            }
            raiseHighest(t, e, open.id());
            if (alsoClosing) {
                apply(t, e, closing.id(), record);
            }
            apply(t, e, open.id(), record);
            setLsn(t, e, lsn);
        }
        long token = inProgress.add(file, open.id());
        if (mutant == Mutant.NO_SYNC) {
            lsn = 0;
        }
        return new Intent(token, lsn, recorded);
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
        FileTable t = mutable();
        int e = forUpdate(file);
        SnapshotWriter period = periodOf(change);
        // The journal already says what happened, so only the newest hint is kept; unless the
        // record names where the file was made or removed at a name no journaled record gave it: a
        // deletion read after its directory was gone, named once the directory's own deletion
        // came, or another name of a hard-linked file made or removed in the same period (the kept
        // hint may come from a sighting the journal does not hold, a write through that name).
        // Every such name must survive a crash, or a result after recovery has no path, or only one
        // of two, to remove the file at.
        if (e >= 0 && alreadyRecordedIn(period.id(), t, e, change, directory)
                && (file.path() == null || t.hint(e) != null && (!namesAPlace(change) || t.nameJournaled(e, file.path())))) {
            t.sighted(e, file, true, period.id(), false);
            return 0;
        }
        JournalRecord record = new JournalRecord(type, file, from, directory);
        long lsn = journal.append(record, period, null);
        if (e < 0) {
            e = t.add(file);
        } else {
            t.sighted(e, file, true, period.id(), true);
        }
        raiseHighest(t, e, period.id());
        apply(t, e, period.id(), record);
        return lsn;
    }

    /** {@link ChangeTracker#recordFreed}: the flag on the entry of {@code file}, if it has one. */
    public boolean recordFreed(FileId file) {
        requireOpen();
        int e = forUpdate(file);
        if (e < 0) {
            return false;
        }
        mutable().setFlag(e, FileTable.F_FREED, true);
        return true;
    }

    /**
     * The period a change recorded after the fact belongs to. A creation, deletion, rename or
     * attribute change is complete when it is recorded, so during a checkpoint it goes to the closing
     * period only: the result of that checkpoint holds it, and once that result is blessed the
     * consumer has applied it, so no later result repeats it (a rename repeated from where the
     * consumer no longer has the file would be applied wrongly). A content change goes to the open
     * period, as an intent does: its file may be written again under a mark the reader sets for the
     * open period, and those later writes rely on this record.
     */
    private SnapshotWriter periodOf(Change change) {
        return closing != null && change != Change.WRITTEN ? closing : open;
    }

    /**
     * Whether a record of {@code change} says where the file was made or removed: such a record is
     * journaled again whenever the journal does not hold the name it gives.
     */
    private static boolean namesAPlace(Change change) {
        return change == Change.CREATED || change == Change.DELETED;
    }

    /**
     * Whether {@code change} is already recorded for {@code e} in period {@code id}, so recording it
     * again would add nothing: a notification source reports every chmod and every creation in a
     * busy directory, and the journal should not grow with repeats. Renames are never repeats:
     * each has its own {@code from}.
     */
    private boolean alreadyRecordedIn(long id, FileTable t, int e, Change change, boolean directory) {
        boolean saysDirectory = t.flag(e, FileTable.F_DIRECTORY);
        if (change == Change.WRITTEN) {
            // By a MODIFIED record, or an INTENT (announced before it), or a carry. Not a repeat if it
            // says "directory" and the entry does not yet: a directory carried into the period (its
            // scope still in progress at a timed-out checkpoint) counts as written there, and the
            // result must still learn that it is a directory to list (found by the simulator).
            return t.id(e, FileTable.WRITTEN_IN) == id && (!directory || saysDirectory);
        }
        if (saysDirectory != directory) {
            return false;
        }
        long createdIn = t.id(e, FileTable.CREATED_IN);
        long deletedIn = t.id(e, FileTable.DELETED_IN);
        return switch (change) {
            case CREATED -> createdIn == id && deletedIn < id;
            case DELETED -> deletedIn == id && createdIn < id;
            case ATTRIBUTES -> t.id(e, FileTable.ATTRIBUTES_IN) == id;
            default -> false;
        };
    }

    /** The table changes go to: {@link #live}, or while a result is built from it, {@link #changedWhileBuilding}. */
    private FileTable mutable() {
        return changedWhileBuilding != null ? changedWhileBuilding : live;
    }

    /**
     * The entry of {@code file} to change, in {@link #mutable()} (-1 if none). While a result is
     * being built from {@link #live}, the entry is first copied into {@link #changedWhileBuilding},
     * so the builder sees every entry as it was when the checkpoint finished.
     */
    private int forUpdate(FileId file) {
        FileTable t = mutable();
        int e = t.find(file);
        if (e >= 0 || t == live) {
            return e;
        }
        int frozen = live.find(file);
        return frozen < 0 ? -1 : t.copyFrom(live, frozen);
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
     * Like {@link #nextSnapshotId()}, once a checkpoint for {@code consumer} may start. At the
     * journal limit ({@link TrackerConfig#maxJournalBytes()}) a query adds a snapshot that nothing
     * can discard until a result is blessed, so it is refused while a result given to that consumer
     * waits for its bless; with none waiting it is allowed (beyond the limit by one new snapshot), or
     * a consumer at the limit could never get a result to bless. Consumers that keep older snapshots
     * are dropped first ({@link #planDrops}).
     *
     * @throws JournalFullException at the limit, with a result to bless
     * @throws ConsumerException if there is no such consumer
     */
    public long admitCheckpoint(String consumer) throws JournalFullException {
        requireOpen();
        ConsumerState c = consumerOrThrow(consumer);
        if (journal.wouldExceedLimit(journal.initialSnapshotBytes()) && !c.issued().isEmpty()) {
            throw new JournalFullException("the snapshots not yet blessed take " + journal.keptFileBytes()
                    + " bytes, the journal limit of " + journal.maxJournalBytes() + "; consumer " + consumer + " must bless result "
                    + c.newestIssued() + " (its newest) so that older snapshots can be discarded, then query again.");
        }
        return nextSnapshotId();
    }

    private ConsumerState consumerOrThrow(String name) {
        return control.consumer(name).orElseThrow(() -> new ConsumerException("there is no consumer " + name
                + " (the consumers are " + control.consumers().stream().map(ConsumerState::name).toList() + ")."));
    }

    /**
     * The control state after dropping the consumers that hold snapshots back, or null if none
     * does; persist it, then {@link #commitControl}. A consumer is dropped when it has not blessed
     * for longer than {@link TrackerConfig#consumerTimeout()} (counted from when it was added or
     * last blessed), or, while the journal is at its limit and {@code querying} has no result
     * waiting for its bless, when it keeps snapshots older than {@code querying} does: one
     * consumer that stopped blessing must not fill the disk or stop the others. A dropped consumer
     * stays, starting from the open period, and its next result says that continuity was lost.
     *
     * @param querying the consumer about to query, or null (a bless or a consumer change)
     */
    public ControlState planDrops(String querying, long nowMillis) {
        requireOpen();
        ControlState next = control;
        long timeout = config.consumerTimeout().toMillis();
        ConsumerState q = querying == null ? null : control.consumer(querying).orElse(null);
        boolean full = q != null && q.issued().isEmpty() && journal.wouldExceedLimit(journal.initialSnapshotBytes());
        for (ConsumerState c : next.consumers()) {
            String why = null;
            // A consumer whose activity time is not known (a journal from before consumers had one)
            // counts from when this run first saw it: never sooner than it would otherwise.
            long activeAt = c.activeAtMillis() != 0 ? c.activeAtMillis() : firstSeenMillis.computeIfAbsent(c.name(), n -> nowMillis);
            if (timeout > 0 && nowMillis - activeAt > timeout) {
                why = "it had not blessed a result for more than " + describe(config.consumerTimeout());
            } else if (full && c.keptFrom() < q.keptFrom()) {
                why = "the journal reached its limit of " + journal.maxJournalBytes() + " bytes while it kept snapshots from "
                        + c.keptFrom() + " on, older than consumer " + querying + "'s";
            }
            if (why != null) {
                next = next.withDropped(c.name(), "consumer " + c.name() + " was dropped: " + why + ", so what changed"
                        + " before snapshot " + open.id() + " is not known to it: rescan everything it tracks.", open.id(), nowMillis);
            }
        }
        return next.equals(control) ? null : next;
    }

    /** {@code d} for a sentence, in the largest unit it is a whole number of: "30 days", "90 s", "250 ms". */
    static String describe(Duration d) {
        long ms = d.toMillis();
        for (var unit : List.of(Map.entry(86_400_000L, " days"), Map.entry(3_600_000L, " h"), Map.entry(60_000L, " min"),
                Map.entry(1_000L, " s"))) {
            if (ms >= unit.getKey() && ms % unit.getKey() == 0) {
                return ms / unit.getKey() + unit.getValue();
            }
        }
        return ms + " ms";
    }

    /**
     * Starts checkpoint T (the open period): {@code next} becomes the open period T+1, new intents are
     * recorded in both, and the "already recorded" state starts empty for T+1 (a kernel source clears
     * its ignore marks now). Writes in progress all belong to T from here on.
     */
    public void beginCheckpoint(SnapshotWriter next, long nowNanos, String consumer, boolean view) {
        requireOpen();
        consumerOrThrow(consumer);
        if (closing != null) {
            throw new IllegalStateException("a checkpoint is already running.");
        }
        if (next.id() != nextSnapshotId()) {
            throw new IllegalArgumentException("the next snapshot must be " + nextSnapshotId() + ", not " + next.id() + ".");
        }
        journal.adopt(next);
        closing = open;
        open = next;
        openFirstLsn = journal.appendedLsn();
        inProgress.beginCheckpoint(closing.id());
        checkpointStartNanos = nowNanos;
        checkpointFor = consumer;
        checkpointIsView = view;
    }

    /** True while a checkpoint runs. */
    public boolean checkpointRunning() {
        return closing != null;
    }

    /** True once every write the tracker knows of in the closing period has ended. */
    public boolean ownWritesDone() {
        requireCheckpoint();
        return mutant == Mutant.SKIP_BARRIER || inProgress.closingCount() == 0;
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
     * What the end of a checkpoint leaves to its caller: {@link #buildResult} without the lock, then
     * {@link #endBuild} with it; sync the carried records and seal the closing snapshot (both without
     * the lock), persist {@link #control()} through {@link Journal#writeControl}, then {@link #issue}
     * the result.
     *
     * @param snapshot the result's id
     * @param sealed the closing snapshot, to {@link Journal#seal}
     * @param carryLsn the record that must be acknowledged before issuing (0: none)
     * @param control the control state to persist before issuing
     * @param barrierWait how long the checkpoint waited
     * @param consumer the consumer the result is for
     * @param previousIssued the newest result given to that consumer before this one (0 if none): a
     *     creation recorded in its snapshot or later is in no earlier result of its
     */
    public record Finished(String consumer, long snapshot, SnapshotWriter sealed, long carryLsn, ControlState control,
                           Duration barrierWait, long previousIssued) {}

    /**
     * Ends the running checkpoint: files of writes still in flight (the tracker's own, unless all
     * ended, and {@code externalInFlight} from the source's barrier) are carried into the open
     * period; the closing snapshot stops taking records; every kept record is frozen for
     * {@link #buildResult}, which the caller runs without the lock (so that writers do not wait for
     * a list of every kept file), until {@link #endBuild}. Nothing here is proportional to the
     * number of kept files, except the carries.
     */
    public Finished finishCheckpoint(List<FileId> externalInFlight, long nowNanos) throws IOException {
        requireCheckpoint();
        String consumer = checkpointFor;
        ConsumerState before = control.consumer(consumer).orElseThrow(
                () -> new IllegalStateException("consumer " + consumer + " went away during its checkpoint."));
        assert changedWhileBuilding == null : "the previous result's build ended";
        LinkedHashSet<FileId> toCarry = new LinkedHashSet<>(externalInFlight);
        if (mutant != Mutant.SKIP_BARRIER) {
            toCarry.addAll(inProgress.closingFiles());
        }
        long carryLsn = 0;
        for (FileId f : toCarry) {
            int e = live.find(f);
            // A carried directory (its scope still being recorded) stays one after a restart.
            JournalRecord carry = new JournalRecord(RecordType.CARRIED, f, null, e >= 0 && live.flag(e, FileTable.F_DIRECTORY));
            carryLsn = journal.append(carry, open, null);
            if (e < 0) {
                e = live.add(f);
            }
            raiseHighest(live, e, open.id());
            setLsn(live, e, carryLsn);
            apply(live, e, open.id(), carry);
            carried++;
        }
        inProgress.endCheckpoint(open.id());
        SnapshotWriter sealed = closing;
        journal.detach(sealed);
        closing = null;
        checkpoints++;

        long id = open.id();
        ControlState next = checkpointIsView ? control.withHighestIssued(id) : control.withIssued(consumer, id);
        changedWhileBuilding = new FileTable();
        return new Finished(consumer, id, sealed, carryLsn, next, Duration.ofNanos(Math.max(0, nowNanos - checkpointStartNanos)),
                before.newestIssued());
    }

    /**
     * Makes the result of {@code finished} from every kept record as it was when the checkpoint
     * finished. Call <em>without</em> the lock, between {@link #finishCheckpoint} and
     * {@link #endBuild}: it only reads {@link #live} and its entries, which nothing changes meanwhile
     * (writers change copies; a bless or another query cannot run before the caller's query ends).
     */
    public QueryResult buildResult(Finished finished) throws ResultTooLargeException {
        if (changedWhileBuilding == null) {
            throw new IllegalStateException("buildResult outside finishCheckpoint..endBuild.");
        }
        ControlState next = finished.control();
        ConsumerState c = next.consumer(finished.consumer()).orElseThrow();
        return new QueryResult(c.name(), finished.snapshot(), c.lastBlessed(), recoveredIn(next, c), continuityOf(c),
                changes(next, c, finished.snapshot(), finished.previousIssued()), config.barrier().name(), finished.barrierWait());
    }

    /**
     * Ends the build window: the entries changed or added while the result was built replace the
     * frozen ones. Proportional to those entries only. Idempotent.
     */
    public void endBuild() {
        if (changedWhileBuilding == null) {
            return;
        }
        FileTable changed = changedWhileBuilding;
        changedWhileBuilding = null;
        for (int e = 0; e < changed.size(); e++) {
            live.copyFrom(changed, e);
        }
    }

    /**
     * The entries with a record in a snapshot {@code consumer} keeps. The table keeps, per kind of
     * change and per name, the newest snapshot that recorded it, so one pass with the consumer's
     * lowest kept snapshot gives its view; snapshots that only other consumers keep add nothing.
     */
    private List<ChangedFile> changes(ControlState state, ConsumerState consumer, long resultId, long previousIssued)
            throws ResultTooLargeException {
        boolean anyRecovered = recoveredIn(state, consumer);
        long kept = mutant == Mutant.RESULT_FROM_NEWEST_BLESS
                ? state.consumers().stream().mapToLong(ConsumerState::keptFrom).max().orElseThrow()
                : consumer.keptFrom();
        // Counted before anything is made: a result too large for the memory it may take is refused
        // whole, while nothing of it has been issued (a pass over one column: about 1 ms a million).
        // A record with names (renamed, or other names seen) counts twice: its entry carries them
        // through the whole answer (300,000 renamed files ran out at 200 MiB, removed ones did not).
        int records = 0;
        long weight = 0;
        for (int e = 0; e < live.size(); e++) {
            if (live.id(e, FileTable.HIGHEST) >= kept) {
                records++;
                weight += live.namesOrNull(e) != null ? 2 : 1;
            }
        }
        if (weight > config.maxResultRecords()) {
            throw new ResultTooLargeException(records, weight, config.maxResultRecords());
        }
        config.resultAdmission().admit(records, weight);
        List<ChangedFile> out = new ArrayList<>(records);
        for (int e = 0; e < live.size(); e++) {
            if (live.id(e, FileTable.HIGHEST) < kept) {
                continue; // recorded only in snapshots this consumer has blessed away
            }
            boolean recovered = anyRecovered && live.flag(e, FileTable.F_RECOVERED);
            // A mask, not a set per entry: the entry takes the one set shared by all with its changes.
            int changes = 0;
            long writtenIn = live.id(e, FileTable.WRITTEN_IN);
            long readIn = live.id(e, FileTable.READ_IN);
            if (writtenIn >= kept && writtenIn > 0) {
                changes |= ChangedFile.bit(Change.WRITTEN);
            } else if (readIn >= kept && readIn > 0) {
                changes |= ChangedFile.bit(Change.READ);
            }
            changes |= ifKept(Change.SCOPE, live.id(e, FileTable.SCOPE_IN), kept);
            changes |= ifKept(Change.CREATED, live.id(e, FileTable.CREATED_IN), kept);
            String from = null;
            boolean directory = live.flag(e, FileTable.F_DIRECTORY);
            List<String> formerNames = List.of();
            boolean moreNames = false;
            List<String> namesLostIn = List.of();
            changes |= ifKept(Change.DELETED, live.id(e, FileTable.DELETED_IN), kept);
            changes |= ifKept(Change.ATTRIBUTES, live.id(e, FileTable.ATTRIBUTES_IN), kept);
            FileTable.Names ns = live.namesOrNull(e);
            if (ns != null) {
                if (ns.renamedSince(kept)) {
                    changes |= ChangedFile.bit(Change.RENAMED);
                    from = ns.firstRenameFrom(kept);
                }
                formerNames = ns.formerNamesFrom(kept);
                boolean namesLost = ns.lostUntil >= kept;
                moreNames = namesLost && ns.moreNames;
                namesLostIn = namesLost && ns.lostIn != null ? List.of(ns.lostIn) : List.of();
            }
            FileId file = live.fileId(e);
            assert changes != 0 : "a kept entry has a kept record: " + file;
            boolean carriedNow = live.flag(e, FileTable.F_CARRIED) && live.id(e, FileTable.HIGHEST) == resultId;
            // Records of a snapshot below the previous result were all in it (a creation during its
            // checkpoint went to the closing period); from its own snapshot on, none were.
            long createdIn = live.id(e, FileTable.CREATED_IN);
            boolean createdUnseen = createdIn > 0 && createdIn >= previousIssued;
            out.add(new ChangedFile(file, ChangedFile.changeSet(changes), from, directory, carriedNow, recovered, formerNames,
                    moreNames, namesLostIn, createdUnseen, live.flag(e, FileTable.F_FREED)));
        }
        assert out.size() == records : "counted " + records + " kept entries, made " + out.size();
        return out;
    }

    private static int ifKept(Change change, long in, long kept) {
        return in > 0 && in >= kept ? ChangedFile.bit(change) : 0;
    }

    private static boolean recoveredIn(ControlState state, ConsumerState consumer) {
        return state.recoveredThrough() > 0 && state.recoveredThrough() >= consumer.keptFrom();
    }

    private static Continuity continuityOf(ConsumerState consumer) {
        return consumer.continuityLost() ? Continuity.lost(consumer.lostReason()) : Continuity.INTACT;
    }

    /** Lost if any consumer's next result says so (the first reason found). */
    private static Continuity continuityOf(ControlState state) {
        return state.consumers().stream().filter(ConsumerState::continuityLost).findFirst()
                .map(TrackerCore::continuityOf).orElse(Continuity.INTACT);
    }

    /**
     * Makes a finished checkpoint's result official, once its control state is durable: from now
     * on its id may be blessed.
     */
    public QueryResult issue(Finished finished, QueryResult result) throws IOException {
        if (result.snapshot() != finished.snapshot()) {
            throw new IllegalArgumentException("result " + result.snapshot() + " is not snapshot " + finished.snapshot() + "'s.");
        }
        endBuild();
        control = finished.control();
        if (mutant == Mutant.DISCARD_BEFORE_BLESS) {
            ControlState discarded = control.withBlessed(finished.consumer(), finished.snapshot(), 0, open.id());
            journal.writeControl(discarded);
            journal.deleteFiles(commitControl(discarded));
        }
        return result;
    }

    // ---- bless -----------------------------------------------------------------------------------

    /**
     * Checks a bless of {@code id} by {@code consumer} and returns the control state to persist, or
     * null if there is nothing to do (the id is already its last blessed). Changes nothing.
     *
     * @throws BlessException if {@code id} was not given to that consumer (never, or before a result
     *     it blessed since, or too many results ago), or there is no such consumer
     */
    public ControlState planBless(String consumer, long id, long nowMillis) throws BlessException {
        requireOpen();
        ConsumerState c = control.consumer(consumer).orElse(null);
        if (c == null) {
            throw new BlessException("there is no consumer " + consumer + "; nothing was changed.");
        }
        if (id == c.lastBlessed()) {
            return null;
        }
        if (id < c.lastBlessed() || id <= c.keptFrom() && !c.issued().contains(id)) {
            throw new BlessException("snapshot " + id + " is older than consumer " + consumer + "'s last blessed snapshot "
                    + c.lastBlessed() + (c.lastBlessed() < c.keptFrom() ? " or the snapshot it was added or dropped at, " + c.keptFrom() : "")
                    + "; nothing was changed.");
        }
        if (!c.issued().contains(id)) {
            throw new BlessException(id > control.highestIssued()
                    ? "snapshot " + id + " was never returned by a query (the newest returned is " + control.highestIssued()
                            + "); nothing was changed."
                    : "snapshot " + id + " was not returned to consumer " + consumer + " (the results it may bless: "
                            + c.issued() + "); nothing was changed.");
        }
        ControlState next = control.withBlessed(consumer, id, nowMillis, open.id());
        if (next.recoveredThrough() > 0 && next.recoveredThrough() < next.keptFrom()) {
            next = next.withRecoveredThrough(0);
        }
        return next;
    }

    /** The control state with consumer {@code name} added, starting from the open period; persist it, then {@link #commitControl}. */
    public ControlState planAddConsumer(String name, int ownerUid, int ownerGid, long nowMillis) {
        requireOpen();
        if (control.consumer(name).isPresent()) {
            throw new ConsumerException("consumer " + name + " exists already.");
        }
        if (control.consumers().size() >= ControlState.MAX_CONSUMERS) {
            throw new ConsumerException("a root has at most " + ControlState.MAX_CONSUMERS + " consumers; remove one first.");
        }
        try {
            long from = mutant == Mutant.CONSUMER_FROM_NEXT_PERIOD ? open.id() + 1 : open.id();
            return control.withConsumer(ConsumerState.added(name, from, ownerUid, ownerGid, nowMillis), open.id());
        } catch (IllegalArgumentException e) {
            throw new ConsumerException(e.getMessage());
        }
    }

    /** The control state without consumer {@code name} (what only it kept is discarded); persist it, then {@link #commitControl}. */
    public ControlState planRemoveConsumer(String name) {
        requireOpen();
        consumerOrThrow(name);
        ControlState next = control.withoutConsumer(name, open.id());
        return next.recoveredThrough() > 0 && next.recoveredThrough() < next.keptFrom() ? next.withRecoveredThrough(0) : next;
    }

    /**
     * Adopts a control state that is durable (a bless, a consumer added, removed or dropped):
     * forgets everything recorded only in snapshots no consumer keeps any longer. Returns the
     * snapshot files the caller must then delete with {@link Journal#deleteFiles}.
     */
    public List<String> commitControl(ControlState persisted) throws IOException {
        if (changedWhileBuilding != null) {
            throw new IllegalStateException("cannot discard snapshots while a result is built from them.");
        }
        if (persisted.keptFrom() < control.keptFrom()) {
            throw new IllegalStateException("snapshots from " + persisted.keptFrom() + " on cannot be kept again: they were"
                    + " discarded below " + control.keptFrom() + ".");
        }
        boolean discards = persisted.keptFrom() > control.keptFrom();
        control = persisted;
        if (!discards) {
            return List.of();
        }
        discardBelow(persisted.keptFrom());
        return journal.forgetBelow(persisted.keptFrom());
    }

    private void discardBelow(long id) {
        if (changedWhileBuilding != null) {
            throw new IllegalStateException("cannot discard snapshots while a result is built from them.");
        }
        if (closing != null && closing.id() < id) {
            throw new IllegalStateException("cannot discard snapshot " + closing.id() + " during its checkpoint.");
        }
        live.retain(e -> live.id(e, FileTable.HIGHEST) >= id);
        for (int e = 0; e < live.size(); e++) {
            FileTable.Names ns = live.namesOrNull(e);
            if (ns != null) {
                // The consumer knows where a file was as of the blessed result: older renames and names no longer count.
                ns.forgetBefore(id);
            }
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
        return new TrackerStats(open.id(), control.keptFrom(), journal.snapshotCount(), trackedFiles(),
                inProgress.size(), preWrites, alreadyRecorded, journal.records(), journal.syncs(), journal.bytes(),
                checkpoints, carried, config.durability(), continuityOf(control), control.consumers());
    }

    private long trackedFiles() {
        long n = live.size();
        if (changedWhileBuilding != null) {
            for (int e = 0; e < changedWhileBuilding.size(); e++) {
                n += live.find(changedWhileBuilding.fileId(e)) >= 0 ? 0 : 1;
            }
        }
        return n;
    }

    /** How many entries have something beside the table's pages (side columns, {@link FileTable.Names}); for tests. */
    int rareEntries() {
        return live.rareEntries() + (changedWhileBuilding == null ? 0 : changedWhileBuilding.rareEntries());
    }

    /** The configuration. */
    public TrackerConfig config() {
        return config;
    }

    /** The deliberate bug this core was opened with ({@link Mutant#NONE} outside the simulator). */
    Mutant mutant() {
        return mutant;
    }

    /** Checks internal invariants in linear time; for tests and the simulator. */
    public void checkInvariants() {
        inProgress.checkInvariants(open.id());
        live.checkInvariants();
        List<FileTable> tables = changedWhileBuilding == null ? List.of(live) : List.of(live, changedWhileBuilding);
        for (FileTable t : tables) {
            for (int e = 0; e < t.size(); e++) {
                long highest = t.id(e, FileTable.HIGHEST);
                if (highest < control.keptFrom() || highest > open.id()) {
                    throw new AssertionError("entry " + t.fileId(e) + " was last recorded in snapshot " + highest
                            + ", outside the kept range " + control.keptFrom() + ".." + open.id());
                }
            }
        }
        if (control.highestIssued() > open.id() || control.keptFrom() > open.id()) {
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
