package org.modtrack.engine;

/**
 * An int for each of a few of {@link FileTable}'s entries: a column most entries do not have (the
 * snapshot a file was deleted in, say), kept beside the table's pages rather than in them.
 *
 * <p>Open addressing with linear probing, at most 3/4 full, removal by shifting back (no
 * tombstones). Hand-written because no library the project uses has a primitive map, and a
 * {@code HashMap<Integer, ...>} costs a node (32 B) and a boxed key (16 B) per entry: with it a
 * removed file was 266 B of the engine's objects, against 100 B that an entry may take
 * (docs/benchmarks.md, *Memory per changed file*).
 *
 * <p>Made for the way a result reads it, entry after entry: a slot's key and value are neighbours
 * in one array, and the entries of an aligned block of {@value #BLOCK} have neighbouring home
 * slots (the blocks are spread over the table), so a walk over the entries finds most of them in
 * a cache line it has just read. With homes spread entry by entry, the lookups of a million
 * removals cost a query 0.1 s more than a {@code HashMap}'s (whose homes keep that order too).
 * Not thread-safe: the table's owner guards it.
 */
final class EntryInts {
    private static final int MIN_SLOTS = 16;
    private static final int MAX_SLOTS = 1 << 30; // ints in `slots`, two per slot: a bound on growth
    private static final int BLOCK_BITS = 3;
    private static final int BLOCK = 1 << BLOCK_BITS;

    private int[] slots = new int[2 * MIN_SLOTS]; // slot i: entry + 1 at 2i (0: empty), its value at 2i + 1
    private int size;

    /** How many entries have a value. */
    int size() {
        return size;
    }

    /** Entry {@code entry}'s value, or 0 if it has none. */
    int get(int entry) {
        int at = find(entry);
        return slots[at] == 0 ? 0 : slots[at + 1];
    }

    /** Whether entry {@code entry} has a value. */
    boolean contains(int entry) {
        return slots[find(entry)] != 0;
    }

    /** Sets entry {@code entry}'s value; 0 removes it (0 is what {@link #get} says of an entry without one). */
    void put(int entry, int value) {
        assert entry >= 0 : entry;
        if (value == 0) {
            remove(entry);
            return;
        }
        int at = find(entry);
        if (slots[at] == 0) {
            if ((size + 1) * 4L > (slots.length / 2) * 3L) {
                grow();
                at = find(entry);
            }
            slots[at] = entry + 1;
            size++;
        }
        slots[at + 1] = value;
    }

    /** Removes entry {@code entry}'s value, if it has one. */
    void remove(int entry) {
        int hole = find(entry) / 2;
        if (slots[2 * hole] == 0) {
            return;
        }
        size--;
        int mask = slots.length / 2 - 1;
        // Shifts back each later key of the run whose home is not cyclically after the hole and at
        // or before where it is (Knuth's algorithm R).
        for (int next = (hole + 1) & mask; ; next = (next + 1) & mask) {
            if (slots[2 * next] == 0) {
                slots[2 * hole] = 0;
                slots[2 * hole + 1] = 0;
                return;
            }
            int home = home(slots[2 * next] - 1, mask);
            boolean stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
            if (!stays) {
                slots[2 * hole] = slots[2 * next];
                slots[2 * hole + 1] = slots[2 * next + 1];
                hole = next;
            }
        }
    }

    /** The index in {@code slots} of {@code entry}'s slot, or of the empty one where it would go. */
    private int find(int entry) {
        int mask = slots.length / 2 - 1;
        for (int slot = home(entry, mask); ; slot = (slot + 1) & mask) {
            int key = slots[2 * slot];
            if (key == 0 || key == entry + 1) {
                return 2 * slot;
            }
        }
    }

    /** The block's place spread over the table (a multiplicative hash), the entry's place in it kept. */
    private static int home(int entry, int mask) {
        int h = (entry >>> BLOCK_BITS) * 0x9E3779B9;
        return ((h ^ (h >>> 16)) << BLOCK_BITS | (entry & (BLOCK - 1))) & mask;
    }

    private void grow() {
        int[] old = slots;
        if (old.length >= MAX_SLOTS) {
            // 2^29 slots hold 402,653,184 values: the table's pages would exhaust the heap first.
            throw new IllegalStateException("more than " + (MAX_SLOTS / 2 / 4 * 3) + " entries have a value in one side column.");
        }
        slots = new int[old.length * 2];
        for (int i = 0; i < old.length; i += 2) {
            if (old[i] != 0) {
                int at = find(old[i] - 1);
                slots[at] = old[i];
                slots[at + 1] = old[i + 1];
            }
        }
    }
}
