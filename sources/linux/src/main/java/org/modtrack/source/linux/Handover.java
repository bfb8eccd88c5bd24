package org.modtrack.source.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.modtrack.posix.FanotifyEvents;

/**
 * What a process that takes over a kept notification group ({@link KeptQueue}) needs from the
 * process that read it before, kept where that process's death cannot lose it: a file in the state
 * directory, mapped shared, so every store is in the page cache the moment it is made.
 *
 * <p>Why: reading a fanotify group takes events off the kernel's queue. A tracker killed between
 * a read and the records of what it read would leave a gap no queue can fill. So the notification
 * reader reads straight into this file's buffer and notes how far it has recorded; the next holder
 * records the rest of that batch before it reads anything new ({@link #leftover}). The same goes
 * for the work a dead reader had promised and not done: a continuity loss reported and not yet
 * written, a walk asked for and not yet run ({@link #pendingWork}); with either, the takeover is not
 * a seamless one and the restart is a gap.
 *
 * <p>The buffer is zeroed after each batch, so a read that the process died inside of (whether it
 * took events or not) is measured by its whole events ({@link FanotifyEvents#wholeEvents}).
 * Stores are volatile: the compiler may neither drop nor reorder them around the read.
 */
final class Handover implements EventReader.Batches, AutoCloseable {
    static final String FILE = "notification-handover";
    private static final long MAGIC = 0x4d54_4841_4e44_0001L; // "MTHAND", version 1
    private static final long HEADER = 4096;
    private static final long MAGIC_AT = 0;
    private static final long GROUP_AT = 8;
    /** Bytes of the batch being recorded; -1 while a read may be filling the buffer; 0 between batches. */
    private static final long BATCH_AT = 16;
    /** Where the first event not yet recorded begins. */
    private static final long RECORDED_AT = 24;
    private static final long LOSSES_REPORTED_AT = 32;
    private static final long LOSSES_RECORDED_AT = 40;
    private static final long WALKS_ASKED_AT = 48;
    private static final long WALKS_DONE_AT = 56;
    /** Bytes of the saved orphans ({@link #saveOrphans}); {@link #ORPHANS_WRITING} while they are written, {@link #ORPHANS_TOO_MANY}. */
    private static final long ORPHANS_AT = 64;
    private static final long ORPHANS_WRITING = -1;
    private static final long ORPHANS_TOO_MANY = -2;
    /** Room for the orphaned deletions: about 10,000 of them with short names; more make a takeover a gap. */
    static final int ORPHANS_BYTES = 1 << 20;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final Arena arena;
    private final MemorySegment file;
    private final MemorySegment buffer;
    private final MemorySegment orphans;
    private final long previousGroup;
    private final boolean previousConsistent;
    private byte[] previousOrphans;
    private long leftoverFrom;
    private long leftoverTo;

    private Handover(Arena arena, MemorySegment file, int bufferBytes) {
        this.arena = arena;
        this.file = file;
        this.buffer = file.asSlice(HEADER, bufferBytes);
        this.orphans = file.asSlice(HEADER + bufferBytes, ORPHANS_BYTES);
        boolean known = get(MAGIC_AT) == MAGIC;
        this.previousGroup = known ? get(GROUP_AT) : 0;
        long batch = known ? get(BATCH_AT) : 0;
        long recorded = known ? get(RECORDED_AT) : 0;
        long end = batch == -1 ? FanotifyEvents.wholeEvents(buffer, bufferBytes) : batch;
        this.previousConsistent = known && end >= 0 && end <= bufferBytes && recorded >= 0 && recorded <= end;
        if (previousConsistent) {
            leftoverFrom = recorded;
            leftoverTo = end;
        }
        long orphanBytes = known ? get(ORPHANS_AT) : 0;
        this.previousOrphans = orphanBytes > 0 && orphanBytes <= ORPHANS_BYTES
                ? orphans.asSlice(0, orphanBytes).toArray(ValueLayout.JAVA_BYTE) : new byte[0];
    }

    /** Maps (creating it if needed) the state directory's handover file, with a buffer of {@code bufferBytes}. */
    static Handover open(Path stateDirectory, int bufferBytes) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(stateDirectory.resolve(FILE), StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = HEADER + bufferBytes + ORPHANS_BYTES;
            if (channel.size() != size) {
                // Another layout: nothing in it can be trusted. Written out with zeros, not left
                // sparse: a store through the mapping into a hole that the disk has no room for
                // would kill the process (SIGBUS) instead of failing here, in one sentence.
                channel.truncate(0);
                ByteBuffer zeros = ByteBuffer.allocate((int) size);
                while (zeros.hasRemaining()) {
                    channel.write(zeros, zeros.position());
                }
            }
            return new Handover(arena, channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena), bufferBytes);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Why taking over group {@code groupId} from the previous holder would leave a gap, or null if
     * it would not: this file must describe that very group, consistently, with no work promised
     * and not done.
     */
    String whyNotSeamless(long groupId) {
        if (!previousConsistent) {
            return "the previous holder's handover file is missing or inconsistent";
        }
        if (previousGroup != groupId) {
            return "the previous holder read another notification group";
        }
        String pending = pendingWork();
        if (pending != null) {
            return pending;
        }
        long orphanBytes = get(ORPHANS_AT);
        if (orphanBytes == ORPHANS_WRITING || orphanBytes == ORPHANS_TOO_MANY || orphanBytes > ORPHANS_BYTES
                || !new OrphanedDeletions().restore(previousOrphans)) {
            return "the previous holder's deletions in directories already gone were not all saved";
        }
        return null;
    }

    /**
     * The orphaned deletions the previous holder saved ({@link OrphanedDeletions}: entries whose
     * directory was gone when their deletion was read, waiting for that directory's own deletion
     * to name them); empty if none. Only after {@link #whyNotSeamless} found nothing wrong.
     */
    byte[] previousOrphans() {
        return previousOrphans;
    }

    /**
     * The orphans changed and are saved later (at the end of the batch): until then a successor
     * cannot trust the saved ones, so a death meanwhile makes the takeover a gap.
     */
    void orphansChanging() {
        set(ORPHANS_AT, ORPHANS_WRITING);
    }

    /**
     * Saves {@code encoded} orphans (null: more than fit, which makes a takeover a gap); after
     * {@link #orphansChanging}, or before the events that changed them count as recorded.
     */
    void saveOrphans(byte[] encoded) {
        if (encoded == null || encoded.length > ORPHANS_BYTES) {
            set(ORPHANS_AT, ORPHANS_TOO_MANY);
            return;
        }
        set(ORPHANS_AT, ORPHANS_WRITING);
        MemorySegment.copy(encoded, 0, orphans, ValueLayout.JAVA_BYTE, 0, encoded.length);
        set(ORPHANS_AT, encoded.length);
    }

    /** Work a dead reader had promised and not done, or null. */
    private String pendingWork() {
        if (get(LOSSES_REPORTED_AT) != get(LOSSES_RECORDED_AT)) {
            return "a loss of continuity the previous holder reported was not yet recorded";
        }
        if (get(WALKS_ASKED_AT) != get(WALKS_DONE_AT)) {
            return "a walk the previous holder asked for (after a queue overflow) had not run";
        }
        return null;
    }

    /**
     * Starts this process's use for group {@code groupId}. With {@code keepLeftover}, the events
     * the previous holder read and did not record stay for {@link #leftover}; without, they are dropped
     * (the caller treats the restart as a gap).
     */
    void begin(long groupId, boolean keepLeftover) {
        if (!keepLeftover || previousGroup != groupId) {
            buffer.fill((byte) 0);
            leftoverFrom = 0;
            leftoverTo = 0;
            set(BATCH_AT, 0);
            set(RECORDED_AT, 0);
        }
        set(LOSSES_REPORTED_AT, 0);
        set(LOSSES_RECORDED_AT, 0);
        set(WALKS_ASKED_AT, 0);
        set(WALKS_DONE_AT, 0);
        if (!keepLeftover || previousGroup != groupId) {
            set(ORPHANS_AT, 0); // a new group's reader starts with none; a seamless successor restores them first
            previousOrphans = new byte[0];
        }
        set(GROUP_AT, groupId);
        set(MAGIC_AT, MAGIC);
    }

    @Override
    public MemorySegment buffer() {
        return buffer;
    }

    @Override
    public long[] leftover() {
        long[] range = {leftoverFrom, leftoverTo};
        leftoverFrom = 0;
        leftoverTo = 0;
        if (range[1] > range[0]) {
            set(BATCH_AT, range[1]); // a death while recording them leaves the same state for the next holder
        }
        return range;
    }

    @Override
    public void reading() {
        set(RECORDED_AT, 0);
        set(BATCH_AT, -1);
    }

    @Override
    public void read(long bytes) {
        set(BATCH_AT, bytes);
    }

    @Override
    public void recorded(long upTo) {
        set(RECORDED_AT, upTo);
    }

    @Override
    public void done(long bytes) {
        buffer.asSlice(0, bytes).fill((byte) 0);
        set(RECORDED_AT, 0);
        set(BATCH_AT, 0);
    }

    /** A loss of continuity was reported; {@link #lossesRecorded} follows once it is written. */
    void lossReported() {
        increment(LOSSES_REPORTED_AT);
    }

    /** Every loss reported up to {@code reported} (counted since {@link #begin}) is written. */
    void lossesRecorded(long reported) {
        set(LOSSES_RECORDED_AT, reported);
    }

    /** A walk was asked for; returns the count to pass to {@link #walked} once a walk covering it ends. */
    long walkAsked() {
        return increment(WALKS_ASKED_AT);
    }

    /** Every walk asked for up to {@code asked} has run (or its loss is recorded). Never moves back. */
    synchronized void walked(long asked) {
        if (asked > get(WALKS_DONE_AT)) {
            set(WALKS_DONE_AT, asked);
        }
    }

    /** The walks asked for so far. */
    long walksAsked() {
        return get(WALKS_ASKED_AT);
    }

    private synchronized long increment(long at) {
        long next = get(at) + 1;
        set(at, next);
        return next;
    }

    private long get(long at) {
        return (long) LONG.getVolatile(file, at);
    }

    private void set(long at, long value) {
        LONG.setVolatile(file, at, value);
    }

    @Override
    public void close() {
        arena.close();
    }
}
