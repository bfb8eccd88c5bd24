package org.modtrack.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes between preWrite and postWrite, by token. A slab of parallel arrays with a free list:
 * no boxing and no allocation per write once grown, and a hard bound on its size.
 *
 * <p>A token is {@code generation << 32 | slot}; the generation changes each time a slot is
 * reused, so a stale or repeated token is recognised and ignored rather than ending someone
 * else's write. Each write belongs to the period it began in; a checkpoint waits for those of the
 * closing period, and moves any it gave up on into the open one.
 */
final class InProgressTable {
    private final int max;
    private FileId[] files = new FileId[16];
    private long[] snapshot = new long[16];
    private int[] generation = new int[16];
    private int[] nextFree = new int[16];
    private int freeHead = -1;
    private int highWater;
    private int size;
    private long closingId; // 0 outside a checkpoint
    private int closingCount;

    InProgressTable(int max) {
        this.max = max;
    }

    int size() {
        return size;
    }

    boolean isFull() {
        return size >= max;
    }

    long add(FileId file, long snapshotId) {
        if (isFull()) {
            throw new IllegalStateException("too many writes in progress (limit " + max + ").");
        }
        int slot;
        if (freeHead >= 0) {
            slot = freeHead;
            freeHead = nextFree[slot];
        } else {
            if (highWater == files.length) {
                grow();
            }
            slot = highWater++;
        }
        files[slot] = file;
        snapshot[slot] = snapshotId;
        generation[slot] = generation[slot] == Integer.MAX_VALUE ? 1 : generation[slot] + 1;
        size++;
        assert snapshotId != closingId : "a new write belongs to the open period";
        return ((long) generation[slot] << 32) | slot;
    }

    /** Ends the write {@code token}; returns false if it is unknown or already ended. */
    boolean remove(long token) {
        int slot = (int) token;
        int gen = (int) (token >>> 32);
        if (slot < 0 || slot >= highWater || gen == 0 || generation[slot] != gen || files[slot] == null) {
            return false;
        }
        if (closingId != 0 && snapshot[slot] == closingId) {
            closingCount--;
            assert closingCount >= 0;
        }
        files[slot] = null;
        nextFree[slot] = freeHead;
        freeHead = slot;
        size--;
        return true;
    }

    /** From now on, writes of {@code closing} are the ones a checkpoint waits for. */
    void beginCheckpoint(long closing) {
        assert closingId == 0 : "one checkpoint at a time";
        closingId = closing;
        closingCount = 0;
        for (int i = 0; i < highWater; i++) {
            if (files[i] != null) {
                assert snapshot[i] == closing : "outside a checkpoint every write belongs to the open period";
                closingCount++;
            }
        }
    }

    int closingCount() {
        return closingCount;
    }

    /** The files of the closing period's writes still in progress. */
    List<FileId> closingFiles() {
        List<FileId> out = new ArrayList<>(closingCount);
        for (int i = 0; i < highWater; i++) {
            if (files[i] != null && snapshot[i] == closingId) {
                out.add(files[i]);
            }
        }
        return out;
    }

    /** Ends the checkpoint: writes of the closing period still in progress now belong to {@code open}. */
    void endCheckpoint(long open) {
        for (int i = 0; i < highWater; i++) {
            if (files[i] != null && snapshot[i] == closingId) {
                snapshot[i] = open;
            }
        }
        closingId = 0;
        closingCount = 0;
    }

    private void grow() {
        int n = Math.min(max, files.length * 2);
        if (n <= files.length) {
            n = files.length + 1;
        }
        files = Arrays.copyOf(files, n);
        snapshot = Arrays.copyOf(snapshot, n);
        generation = Arrays.copyOf(generation, n);
        nextFree = Arrays.copyOf(nextFree, n);
    }

    /** Checks the counters against the table; for tests and the simulator (linear time). */
    void checkInvariants(long openId) {
        int live = 0;
        int closing = 0;
        for (int i = 0; i < highWater; i++) {
            if (files[i] != null) {
                live++;
                if (closingId != 0 && snapshot[i] == closingId) {
                    closing++;
                } else if (snapshot[i] != openId) {
                    throw new AssertionError("write in slot " + i + " belongs to snapshot " + snapshot[i]
                            + ", neither the open " + openId + " nor the closing " + closingId);
                }
            }
        }
        if (live != size || closing != closingCount) {
            throw new AssertionError("in-progress counts drifted: size " + size + " vs " + live
                    + ", closing " + closingCount + " vs " + closing);
        }
    }
}
