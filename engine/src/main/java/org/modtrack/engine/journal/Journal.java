package org.modtrack.engine.journal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import org.modtrack.engine.Durability;
import org.modtrack.engine.FileId;
import org.modtrack.engine.storage.AppendFile;
import org.modtrack.engine.storage.Storage;

/**
 * The persistent side of the tracker: one snapshot file per period, plus the control file.
 *
 * <p>Threading: not thread-safe. Its owner (the tracker core) calls it under one lock, except for
 * {@link #createSnapshot}, {@link #seal} and {@link SyncPlan#execute}, which do slow I/O on files
 * no other call touches at the same time and are made without the lock.
 *
 * <p>Record sequence numbers (LSNs) count {@link #append} calls. A record is acknowledged when
 * {@link #isAcknowledged} says so: in {@link Durability#PROCESS} mode as soon as it was handed to
 * the kernel, in {@link Durability#POWER} mode once a {@link SyncPlan} covering it completed.
 */
public final class Journal {
    /** The most a snapshot grows at once (16 MiB: about 30 ms of zero-filling on this machine kind). */
    static final long GROWTH_STEP = 16L << 20;

    private final Storage storage;
    private final Durability durability;
    private final long initialSnapshotBytes;
    private final long maxSnapshotBytes;
    private final long maxJournalBytes;
    private final RecordCodec codec = new RecordCodec();
    private final MemorySegment encodeBuffer = Arena.ofAuto().allocate(RecordCodec.MAX_RECORD);
    private final Map<Long, SnapshotWriter> writers = new HashMap<>();
    private final List<SnapshotWriter> dirty = new ArrayList<>();
    private final TreeMap<Long, Long> snapshotBytes = new TreeMap<>();
    // The size on disk (the file's length, preallocation included) of each kept snapshot not open
    // for appending, and their sum with the open writers' capacities: what maxJournalBytes bounds.
    private final TreeMap<Long, Long> closedFileBytes = new TreeMap<>();
    private long keptFileBytes;
    private volatile long appendedLsn; // written under the owner's lock; read without it by group commit
    private long durableLsn;
    // Plans prepared and not yet completed, oldest first. A plan syncs only the files dirtied since
    // the plan before it, so a record is durable once the plan that took it has completed *and* so
    // has every plan before that one: a later plan that completes first (an empty one, say) proves
    // nothing about the records an earlier one is still syncing. The durable LSN therefore advances
    // only over the completed prefix of this queue.
    private final ArrayDeque<SyncPlan> inFlight = new ArrayDeque<>();
    private long records;
    private long syncs;
    private IOException failure;

    private Journal(Storage storage, Durability durability, long initialSnapshotBytes, long maxSnapshotBytes,
                    long maxJournalBytes) {
        this.storage = storage;
        this.durability = durability;
        this.initialSnapshotBytes = initialSnapshotBytes;
        this.maxSnapshotBytes = maxSnapshotBytes;
        this.maxJournalBytes = maxJournalBytes;
    }

    /**
     * What {@link #open} found: the journal, ready for a new open snapshot; the control state as
     * now persisted; and every record of every kept snapshot.
     *
     * @param journal the journal
     * @param control the control state, already rewritten for this run (not clean)
     * @param snapshots records of each kept snapshot, by id
     * @param wasClean whether the previous run stopped cleanly (or there was none)
     * @param nextSnapshotId the id the next snapshot must take
     */
    public record Opened(Journal journal, ControlState control, SortedMap<Long, List<JournalRecord>> snapshots,
                         boolean wasClean, long nextSnapshotId) {}

    /**
     * Opens the journal in {@code storage}, recovering from whatever state a crash left: removes
     * temporary files and snapshots already discarded by a bless, reads every kept snapshot, cuts
     * torn tails, salvages records that follow damage, and records in the control file, before
     * repairing anything, every reason continuity was lost.
     */
    public static Opened open(Storage storage, Durability durability, long initialSnapshotBytes, long maxSnapshotBytes)
            throws IOException {
        return open(storage, durability, initialSnapshotBytes, maxSnapshotBytes, Long.MAX_VALUE);
    }

    /**
     * Like {@link #open(Storage, Durability, long, long)}, with a bound on the disk the kept
     * snapshots may take together ({@code maxJournalBytes}; see {@link #append}). Recovery itself
     * never refuses anything: state that is over the bound (a lowered limit) is kept.
     */
    public static Opened open(Storage storage, Durability durability, long initialSnapshotBytes, long maxSnapshotBytes,
                              long maxJournalBytes) throws IOException {
        Journal journal = new Journal(storage, durability, initialSnapshotBytes, maxSnapshotBytes, maxJournalBytes);
        return journal.recover();
    }

    private Opened recover() throws IOException {
        List<String> names = storage.list();
        for (String name : names) {
            if (name.endsWith(".tmp")) {
                storage.delete(name);
            }
        }
        TreeMap<Long, String> files = new TreeMap<>();
        for (String name : names) {
            OptionalLong id = SnapshotFormat.idOf(name);
            if (id.isPresent()) {
                files.put(id.getAsLong(), name);
            }
        }
        String bootId = storage.bootId();
        List<String> reasons = new ArrayList<>();
        ControlState control = readControl(names, files, bootId, reasons);
        boolean fresh = files.isEmpty() && !names.contains(ControlState.FILE);
        boolean wasClean = fresh || control.clean();

        SortedMap<Long, List<JournalRecord>> kept = new TreeMap<>();
        List<IoAction> repairs = new ArrayList<>();
        List<Long> discarded = new ArrayList<>();
        for (var e : files.entrySet()) {
            long id = e.getKey();
            if (id < control.keptFrom()) {
                discarded.add(id);
                continue;
            }
            kept.put(id, scanAndPlanRepair(id, e.getValue(), control.highestIssued(), reasons, repairs));
        }
        long newestKept = kept.entrySet().stream().filter(e -> e.getValue() != null)
                .mapToLong(e -> e.getKey()).max().orElse(0);
        long newest = Math.max(newestKept, control.highestIssued());
        for (long id = Math.max(1, control.keptFrom()); id <= newest; id++) {
            if (!files.containsKey(id)) {
                reasons.add("snapshot " + id + " is missing from " + storage.describe() + ".");
            }
        }
        if (!wasClean) {
            control = control.withRecoveredThrough(Math.max(control.recoveredThrough(), newest));
            if (control.durability() == Durability.PROCESS && !control.bootId().equals(bootId)) {
                reasons.add("the machine restarted after an unclean stop while records were written with process"
                        + " durability, so some may never have reached the disk.");
            }
        }
        if (!wasClean) {
            // After a crash of the process alone, records may be only in the page cache: make them
            // durable before this run's durability is recorded, or a later power loss would drop
            // them without anyone noticing.
            for (var e : kept.entrySet()) {
                if (e.getValue() != null) {
                    storage.sync(files.get(e.getKey()));
                }
            }
        }
        control = control.withClean(false).withRun(durability, bootId);
        for (String reason : reasons) {
            control = control.withLost(reason);
        }
        writeControl(control);
        for (IoAction repair : repairs) {
            repair.run();
        }
        for (long id : discarded) {
            storage.delete(files.get(id));
        }
        if (!repairs.isEmpty() || !discarded.isEmpty()) {
            storage.syncDirectory();
        }
        kept.values().removeIf(r -> r == null);
        return new Opened(this, control, kept, wasClean, newest + 1);
    }

    private ControlState readControl(List<String> names, TreeMap<Long, String> files, String bootId,
                                     List<String> reasons) throws IOException {
        if (names.contains(ControlState.FILE)) {
            var decoded = ControlState.decode(storage.read(ControlState.FILE));
            if (decoded.isPresent()) {
                return decoded.get();
            }
            reasons.add("the control file in " + storage.describe() + " is damaged.");
        } else if (!files.isEmpty()) {
            reasons.add("the control file in " + storage.describe() + " is missing.");
        } else {
            return ControlState.fresh(durability, bootId);
        }
        // Without a trustworthy control file, keep every snapshot and accept a bless of any of them.
        long lowest = files.isEmpty() ? 0 : files.firstKey();
        long highest = files.isEmpty() ? 0 : files.lastKey();
        return ControlState.replacement(lowest, highest);
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }

    /** Scans one snapshot; adds loss reasons; plans its repair. Returns its records, or null to drop it. */
    private List<JournalRecord> scanAndPlanRepair(long id, String name, long highestIssued, List<String> reasons,
                                                  List<IoAction> repairs) throws IOException {
        ByteBuffer bytes = storage.read(name);
        long fileBytes = bytes.remaining();
        SnapshotScan scan = SnapshotScan.of(bytes);
        snapshotBytes.put(id, (long) scan.validPrefixEnd());
        setClosedFileBytes(id, fileBytes);
        if (scan.headerValid() && scan.headerId() != id) {
            reasons.add("the file " + name + " holds snapshot " + scan.headerId() + ", not " + id + ".");
        }
        if (scan.acknowledgedDataLost()) {
            reasons.add("snapshot " + id + " lost acknowledged records to damage on disk.");
        }
        if (!scan.damaged()) {
            return scan.records();
        }
        if (!scan.headerValid() && scan.records().isEmpty()) {
            // Either a crash while the file was being created (nothing was ever recorded in it), or
            // damage that took its records with the header. An issued snapshot was certainly
            // created completely, so only for those is the loss certain.
            if (id <= highestIssued) {
                reasons.add("snapshot " + id + " lost its header and every record to damage on disk.");
            }
            repairs.add(() -> storage.delete(name));
            snapshotBytes.remove(id);
            setClosedFileBytes(id, -1);
            return null;
        }
        if (scan.headerValid() && !scan.recordsAfterDamage()) {
            repairs.add(() -> storage.truncate(name, scan.validPrefixEnd()));
            setClosedFileBytes(id, scan.validPrefixEnd());
        } else {
            repairs.add(() -> rewrite(id, name, scan.records()));
        }
        return scan.records();
    }

    /** Replaces a damaged snapshot by one holding exactly its valid records. */
    private void rewrite(long id, String name, List<JournalRecord> records) throws IOException {
        int size = SnapshotFormat.HEADER_BYTES;
        List<byte[]> encoded = new ArrayList<>();
        for (JournalRecord r : records) {
            int n = codec.encode(r, 0, encodeBuffer);
            encoded.add(encodeBuffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
            size += n;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put(SnapshotFormat.header(id, System.currentTimeMillis()));
        encoded.forEach(out::put);
        String temporary = name + ".tmp";
        storage.writeDurably(temporary, out.flip());
        storage.rename(temporary, name);
        snapshotBytes.put(id, (long) size);
        setClosedFileBytes(id, size);
    }

    /** Sets (or, with -1, removes) the size on disk of a snapshot not open for appending. */
    private void setClosedFileBytes(long id, long bytes) {
        Long old = bytes < 0 ? closedFileBytes.remove(id) : closedFileBytes.put(id, bytes);
        keptFileBytes += (bytes < 0 ? 0 : bytes) - (old == null ? 0 : old);
        assert keptFileBytes >= 0 : "kept bytes " + keptFileBytes;
    }

    /**
     * Creates the snapshot file for period {@code id}: header, preallocated zeros, synced, and its
     * name made durable. Slow; makes no change to shared state, so it runs without the owner's lock.
     * Hand the result to {@link #adopt} before appending to it.
     */
    public SnapshotWriter createSnapshot(long id) throws IOException {
        String name = SnapshotFormat.fileName(id);
        AppendFile file = storage.create(name, initialSnapshotBytes, durability == Durability.POWER);
        try {
            MemorySegment header = Arena.ofAuto().allocate(SnapshotFormat.HEADER_BYTES);
            header.copyFrom(MemorySegment.ofBuffer(SnapshotFormat.header(id, System.currentTimeMillis())));
            file.write(0, header);
            file.sync();
            storage.syncDirectory();
        } catch (IOException | RuntimeException e) {
            file.close();
            try {
                storage.delete(name); // so that a retry can create it again
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new SnapshotWriter(id, file, SnapshotFormat.HEADER_BYTES);
    }

    /** Makes a snapshot created by {@link #createSnapshot} one this journal appends to. */
    public void adopt(SnapshotWriter writer) {
        if (writers.putIfAbsent(writer.id, writer) != null) {
            throw new IllegalStateException("snapshot " + writer.id + " is already open.");
        }
        snapshotBytes.put(writer.id, writer.position);
        keptFileBytes += writer.file.capacity();
    }

    /**
     * Whether the kept snapshots, with {@code more} bytes added, would take more disk than the
     * journal limit allows.
     */
    public boolean wouldExceedLimit(long more) {
        return keptFileBytes > maxJournalBytes - more;
    }

    /** The disk the kept snapshots take: their files' lengths, preallocation included. */
    public long keptFileBytes() {
        return keptFileBytes;
    }

    /** The configured bound on {@link #keptFileBytes()}. */
    public long maxJournalBytes() {
        return maxJournalBytes;
    }

    /** The size a new snapshot file starts with. */
    public long initialSnapshotBytes() {
        return initialSnapshotBytes;
    }

    /**
     * Appends one record about {@code file} to each of the given snapshots (the second may be null).
     *
     * @return the record's sequence number
     * @throws JournalFullException if a snapshot reached its size limit, or the kept snapshots the
     *     journal limit (a {@link RecordType#CARRIED} record is exempt from the latter: a checkpoint
     *     must be able to finish, and there are at most as many as writes in flight)
     * @throws JournalFailedException if an earlier sync failed
     */
    public long append(RecordType type, FileId file, SnapshotWriter first, SnapshotWriter second) throws IOException {
        return append(new JournalRecord(type, file), first, second);
    }

    /** Appends {@code record}; see {@link #append(RecordType, FileId, SnapshotWriter, SnapshotWriter)}. */
    public long append(JournalRecord record, SnapshotWriter first, SnapshotWriter second) throws IOException {
        if (failure != null) {
            throw new JournalFailedException(failure);
        }
        boolean limited = record.type() != RecordType.CARRIED;
        appendTo(record, first, limited);
        if (second != null) {
            appendTo(record, second, limited);
        }
        return ++appendedLsn;
    }

    private void appendTo(JournalRecord record, SnapshotWriter w, boolean limited) throws IOException {
        if (w.sealed) {
            throw new IllegalStateException("append to sealed " + w + ".");
        }
        long watermark = durability == Durability.POWER ? w.durableEnd : w.position;
        int length = codec.encode(record, watermark, encodeBuffer);
        ensureCapacity(w, length, limited);
        w.file.write(w.position, encodeBuffer.asSlice(0, length));
        w.position += length;
        records++;
        if (!w.dirty) {
            w.dirty = true;
            dirty.add(w);
        }
    }

    private void ensureCapacity(SnapshotWriter w, int length, boolean limited) throws IOException {
        long needed = w.position + length;
        long capacity = w.file.capacity();
        if (needed <= capacity) {
            return;
        }
        // Double, but by at most GROWTH_STEP: growth zero-fills and syncs under the writers' lock.
        long grown = Math.min(maxSnapshotBytes, Math.max(capacity + Math.min(capacity, GROWTH_STEP), needed));
        if (grown < needed) {
            throw new JournalFullException("snapshot " + w.id + " reached its limit of " + maxSnapshotBytes
                    + " bytes; bless a result so that older snapshots can be discarded.");
        }
        if (limited && wouldExceedLimit(grown - capacity)) {
            grown = Math.max(needed, capacity + Math.max(0, maxJournalBytes - keptFileBytes)); // what is left, if enough
            if (wouldExceedLimit(grown - capacity)) {
                throw new JournalFullException("the snapshots not yet blessed take " + keptFileBytes
                        + " bytes, the journal limit of " + maxJournalBytes + "; bless a result so that older snapshots"
                        + " can be discarded.");
            }
        }
        w.file.grow(grown, durability == Durability.POWER);
        keptFileBytes += w.file.capacity() - capacity;
    }

    /** True once record {@code lsn} is as durable as the configured durability requires. */
    public boolean isAcknowledged(long lsn) {
        return durability == Durability.PROCESS || lsn <= durableLsn;
    }

    /** The highest sequence number appended so far (safe to read without the owner's lock). */
    public long appendedLsn() {
        return appendedLsn;
    }

    /** Whether records were appended since the last {@link #prepareSync}. */
    public boolean hasUnsynced() {
        return !dirty.isEmpty();
    }

    /**
     * Captures what the next group commit must sync: the files dirtied since the previous plan. A
     * plan may be prepared while an earlier one still runs; it then makes nothing acknowledged
     * before the earlier one completes (see {@link #completeSync}).
     */
    public SyncPlan prepareSync() {
        List<SnapshotWriter> ws = List.copyOf(dirty);
        long[] ends = new long[ws.size()];
        for (int i = 0; i < ws.size(); i++) {
            ends[i] = ws.get(i).position;
            ws.get(i).dirty = false;
        }
        dirty.clear();
        SyncPlan plan = new SyncPlan(appendedLsn, ws, ends);
        inFlight.addLast(plan);
        return plan;
    }

    /**
     * Records that {@code plan} was executed successfully. Its files are durable up to where it
     * synced them at once (an fdatasync covers the whole file); its records are acknowledged only
     * once every plan prepared before it has completed too.
     */
    public void completeSync(SyncPlan plan) {
        if (plan.completed || !inFlight.contains(plan)) {
            throw new IllegalStateException("sync plan through lsn " + plan.lsn + " completed twice or never prepared.");
        }
        plan.completed = true;
        for (int i = 0; i < plan.writers.size(); i++) {
            SnapshotWriter w = plan.writers.get(i);
            w.durableEnd = Math.max(w.durableEnd, plan.ends[i]);
        }
        if (!plan.isEmpty()) {
            syncs++;
        }
        while (!inFlight.isEmpty() && inFlight.peekFirst().completed) {
            durableLsn = Math.max(durableLsn, inFlight.pollFirst().lsn);
        }
    }

    /** The highest sequence number acknowledged in {@link Durability#POWER} mode: every record up to it is on stable storage. */
    public long durableLsn() {
        return durableLsn;
    }

    /** Records that {@code plan} failed: the journal refuses every further record (see {@link JournalFailedException}). */
    public void failSync(IOException cause) {
        if (failure == null) {
            failure = cause;
        }
    }

    /** The failure that stopped the journal, or null. */
    public IOException failure() {
        return failure;
    }

    /**
     * Stops appending to {@code writer}'s snapshot. Call under the owner's lock; then {@link #seal}
     * without it.
     */
    public void detach(SnapshotWriter writer) {
        writer.sealed = true;
        writers.remove(writer.id);
        snapshotBytes.put(writer.id, writer.position);
        long open = keptFileBytes;
        keptFileBytes -= writer.file.capacity();
        setClosedFileBytes(writer.id, writer.file.capacity());
        assert keptFileBytes == open : "detaching moves the snapshot's bytes, it does not change them";
    }

    /** Syncs and closes a detached snapshot. */
    public void seal(SnapshotWriter writer) throws IOException {
        if (!writer.sealed) {
            throw new IllegalStateException("seal of " + writer + " before detach.");
        }
        writer.file.sync();
        writer.file.close();
    }

    /** Atomically replaces the control file: temporary file, fsync, rename, directory fsync. */
    public void writeControl(ControlState state) throws IOException {
        storage.writeDurably(ControlState.TEMPORARY, state.encode());
        storage.rename(ControlState.TEMPORARY, ControlState.FILE);
        storage.syncDirectory();
    }

    /**
     * Forgets every snapshot below {@code id} and returns the names of their files, for
     * {@link #deleteFiles} (which does the I/O and may run without the owner's lock).
     */
    public List<String> forgetBelow(long id) throws IOException {
        List<String> names = new ArrayList<>();
        for (long old : new ArrayList<>(snapshotBytes.headMap(id).keySet())) {
            SnapshotWriter w = writers.remove(old);
            if (w != null) {
                keptFileBytes -= w.file.capacity();
                w.sealed = true;
                w.file.close();
            }
            snapshotBytes.remove(old);
            setClosedFileBytes(old, -1);
            names.add(SnapshotFormat.fileName(old));
        }
        return names;
    }

    /** Deletes the named snapshot files and makes the deletion durable. */
    public void deleteFiles(List<String> names) throws IOException {
        for (String name : names) {
            storage.delete(name);
        }
        if (!names.isEmpty()) {
            storage.syncDirectory();
        }
    }

    /** Syncs every open snapshot and closes it (for a clean stop). */
    public void closeAll(boolean sync) throws IOException {
        IOException first = null;
        for (SnapshotWriter w : List.copyOf(writers.values())) {
            try {
                if (sync && failure == null) {
                    w.file.sync();
                }
            } catch (IOException e) {
                failSync(e);
                first = first == null ? e : first;
            } finally {
                w.sealed = true;
                w.file.close();
            }
        }
        writers.clear();
        if (first != null) {
            throw first;
        }
    }

    /** Number of snapshot files kept. */
    public int snapshotCount() {
        return snapshotBytes.size();
    }

    /** Bytes of header and records in the kept snapshots. */
    public long bytes() {
        long sum = 0;
        for (var e : snapshotBytes.entrySet()) {
            SnapshotWriter open = writers.get(e.getKey());
            sum += open != null ? open.position : e.getValue(); // open writers' sizes change on every append
        }
        return sum;
    }

    /** Records appended since open. */
    public long records() {
        return records;
    }

    /** Group commits (syncs covering at least one file) since open. */
    public long syncs() {
        return syncs;
    }

    /** The storage this journal lives in. */
    public Storage storage() {
        return storage;
    }
}
