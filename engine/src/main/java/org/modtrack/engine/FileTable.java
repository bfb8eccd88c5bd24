package org.modtrack.engine;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the tracker knows about each file of the kept snapshots, packed so that a file written or
 * created costs under 100 bytes (the memory goal), a removed one 115 (docs/benchmarks.md says where
 * they go): no object per file but a renamed one's names.
 *
 * <ul>
 *   <li>Entries are numbered densely and stored in pages of primitive arrays: 8 ints (meta, with
 *       the flags, among them whether the file is a directory; the snapshot ids {@code highest},
 *       {@code intentIn}, {@code writtenIn}, {@code readIn}, {@code createdIn}; the path hint's
 *       place; the intent's LSN as an offset from the open period's first) and 5 longs (a handle
 *       of up to 8 bytes inline, the stamp). A file created (the most common change recorded
 *       after the fact) costs nothing more than a file written.
 *   <li>An open-addressing index ({@code int[]}, linear probing, at most 3/4 full) maps a
 *       {@link FileId}'s identity to its entry.
 *   <li>Path hints live in a byte arena as (directory number, UTF-8 file name); directories are
 *       interned. Handles longer than 8 bytes live there too. A path identity's path is its hint.
 *   <li>What few files have is beside the pages: the snapshots a file was deleted in, had its
 *       attributes changed in or was a scope in are side columns ({@link EntryInts}, an int per
 *       entry that has one), and its renames and former names are {@link Names} objects.
 * </ul>
 *
 * <p>Snapshot ids are stored as ints (a bound: 2^31 periods). Not thread-safe: the owner's lock
 * guards it, and a table being read without the lock (a result being built) must not be changed.
 */
final class FileTable {
    private static final int PAGE_BITS = 12;
    private static final int PAGE = 1 << PAGE_BITS;
    private static final int MASK = PAGE - 1;

    static final int META = 0;
    static final int HIGHEST = 1;
    static final int INTENT_IN = 2;
    static final int WRITTEN_IN = 3;
    static final int READ_IN = 4;
    static final int CREATED_IN = 5;
    private static final int LAST_ID = CREATED_IN; // the snapshot id columns are HIGHEST..LAST_ID
    private static final int HINT = 6;
    static final int LSN = 7;
    private static final int INTS = 8;
    // Side columns (snapshot ids few entries have), read and set through id and setId like the
    // pages' id columns.
    static final int DELETED_IN = INTS;
    static final int ATTRIBUTES_IN = INTS + 1;
    static final int SCOPE_IN = INTS + 2; // recorded as a directory scope (Access.SCOPE)
    private static final int SIDE_COLUMNS = 3;
    private static final int HANDLE = 0;
    private static final int STAMP = 1;
    private static final int LONGS = 5;

    // meta: bits 0-13 the (fsid, handle type) pair's number, 14-21 the handle's length (0: a path identity), 22-31 flags
    private static final int KEY_MASK = 0x3FFF;
    private static final int LENGTH_SHIFT = 14;
    static final int F_STAMP = 1 << 22; // the stamp columns hold a stamp
    static final int F_RECOVERED = 1 << 23; // first recorded in a snapshot up to the recovered one
    static final int F_CARRIED = 1 << 24; // carried into the snapshot `highest`
    private static final int F_NAMES = 1 << 25; // has an entry in `namesAt`
    static final int F_DIRECTORY = 1 << 26; // recorded as a directory
    private static final int F_HINT_UNJOURNALED = 1 << 27; // the hint came from a sighting the journal does not hold
    static final int F_FREED = 1 << 31; // the file system freed it (ChangeTracker.recordFreed); never journaled
    // Has a value in side column k (DELETED_IN + k): a column an entry has not is not looked up, and
    // one that it has is looked up alone (a lookup is a cache miss in a large table).
    private static final int F_SIDE_FIRST = 1 << 28;
    private static final int F_SIDE_ALL = 0b111 << 28;
    private static final int FLAG_BITS = 0x3FF << 22;

    private static final int ARENA_PAGE_BITS = 16;
    private static final int ARENA_PAGE = 1 << ARENA_PAGE_BITS;
    private static final int NO_HINT = -1;

    private int[][] ints = new int[0][];
    private long[][] longs = new long[0][];
    private int size;
    private int[] index = new int[16]; // entry + 1; 0: empty
    private long[] keyFsid = new long[2]; // grown as needed, up to KEY_MASK + 1
    private int[] keyType = new int[2];
    private int keys;
    private final List<String> dirs = new ArrayList<>();
    private final Map<String, Integer> dirNumbers = new HashMap<>();
    private byte[][] arena = new byte[0][];
    private int arenaEnd; // page << ARENA_PAGE_BITS | offset of the next free byte
    private long arenaGarbage;
    private EntryInts[] side = newSideColumns();
    private EntryInts namesAt = new EntryInts(); // entry -> its index in `names` + 1
    private List<Names> names = new ArrayList<>();

    /**
     * The names a file left in the kept snapshots: its renames and former names, which few files
     * have. (Deletions, attribute changes and scopes are side columns, {@link EntryInts}: a removed
     * file costs an int there, not an object.)
     *
     * <p>Most renamed files were renamed once since the last bless: that one rename and that one
     * former name are fields, and arrays are made only for a second. A million files renamed once
     * took 330.4 B each in the engine with a one-element array of each and a rename object; with
     * the fields, 258.4 B (benchmarks' {@code MemoryPerFile 1000000 renamed}).
     */
    static final class Names {
        private static final long NONE = Long.MIN_VALUE;
        // The first rename of each kept snapshot, oldest first: the oldest in these two fields
        // (renameSnapshot NONE: no rename), the others in laterRenames (null: none).
        private long renameSnapshot = NONE;
        private String renameFrom;
        private Rename[] laterRenames;
        // Other paths seen in kept snapshots, each with the snapshot in which it was last the
        // file's name: the first in these two fields (formerName null: none), the others in the
        // arrays (null: none).
        private String formerName;
        private long formerNameUntil;
        private String[] laterFormerNames;
        private long[] laterFormerNamesUntil;
        boolean moreNames; // more former names were seen than are kept, in more directories than lostIn holds
        String[] lostIn; // directories of former names seen but not kept (at most MAX_LOST_DIRECTORIES)
        long lostUntil; // the newest snapshot in which a name was not kept

        Names copy() {
            Names c = new Names();
            c.renameSnapshot = renameSnapshot;
            c.renameFrom = renameFrom;
            c.laterRenames = laterRenames; // never changed in place, and Rename is immutable
            c.formerName = formerName;
            c.formerNameUntil = formerNameUntil;
            c.laterFormerNames = laterFormerNames == null ? null : laterFormerNames.clone();
            c.laterFormerNamesUntil = laterFormerNamesUntil == null ? null : laterFormerNamesUntil.clone();
            c.moreNames = moreNames;
            c.lostIn = lostIn == null ? null : lostIn.clone();
            c.lostUntil = lostUntil;
            return c;
        }

        /**
         * A rename from {@code from} in {@code snapshot}: kept if it is the snapshot's first (the
         * first one since the last bless is where the consumer has the file, and a file renamed a
         * million times in a period costs no more than one renamed once).
         */
        void renamed(long snapshot, String from) {
            if (renameSnapshot == NONE) {
                renameSnapshot = snapshot;
                renameFrom = from;
                return;
            }
            long last = laterRenames == null ? renameSnapshot : laterRenames[laterRenames.length - 1].snapshot();
            if (last == snapshot) {
                return;
            }
            Rename[] more = laterRenames == null ? new Rename[1] : Arrays.copyOf(laterRenames, laterRenames.length + 1);
            more[more.length - 1] = new Rename(snapshot, from);
            laterRenames = more;
        }

        void rememberName(String name, long snapshot) {
            if (formerName == null) {
                formerName = name;
                formerNameUntil = snapshot;
                return;
            }
            if (formerName.equals(name)) {
                formerNameUntil = Math.max(formerNameUntil, snapshot);
                return;
            }
            int at = laterFormerNames == null ? -1 : Arrays.asList(laterFormerNames).indexOf(name);
            int kept = 1 + (laterFormerNames == null ? 0 : laterFormerNames.length);
            if (at >= 0) {
                laterFormerNamesUntil[at] = Math.max(laterFormerNamesUntil[at], snapshot);
            } else if (kept < ChangedFile.MAX_FORMER_NAMES) {
                laterFormerNames = laterFormerNames == null ? new String[1] : Arrays.copyOf(laterFormerNames, kept);
                laterFormerNamesUntil = laterFormerNamesUntil == null ? new long[1] : Arrays.copyOf(laterFormerNamesUntil, kept);
                laterFormerNames[kept - 1] = name;
                laterFormerNamesUntil[kept - 1] = snapshot;
            } else {
                // Not kept: its directory is, so that a result can have the consumer read that
                // directory again (the name may have replaced a file there); past a few, the root.
                lostUntil = Math.max(lostUntil, snapshot);
                int slash = name.lastIndexOf('/');
                String dir = slash <= 0 ? "/" : name.substring(0, slash);
                if (lostIn != null && Arrays.asList(lostIn).contains(dir)) {
                    return;
                }
                if (lostIn == null || lostIn.length < ChangedFile.MAX_LOST_DIRECTORIES) {
                    lostIn = lostIn == null ? new String[] {dir} : Arrays.copyOf(lostIn, lostIn.length + 1);
                    lostIn[lostIn.length - 1] = dir;
                } else {
                    moreNames = true;
                }
            }
        }

        /** Whether a rename was recorded in snapshot {@code kept} or later. */
        boolean renamedSince(long kept) {
            return renameSnapshot != NONE && firstRenameAtOrAfter(kept) >= 0;
        }

        /**
         * The name the first rename recorded in snapshot {@code kept} or later came from (null if
         * it was not known); only where {@link #renamedSince} says there is one.
         */
        String firstRenameFrom(long kept) {
            int at = firstRenameAtOrAfter(kept);
            if (renameSnapshot == NONE || at < 0) {
                throw new IllegalStateException("no rename since snapshot " + kept);
            }
            return at == 0 ? renameFrom : laterRenames[at - 1].from();
        }

        /** The place (0: the fields, i: laterRenames[i - 1]) of the first rename kept from snapshot {@code kept} on, or -1. */
        private int firstRenameAtOrAfter(long kept) {
            if (renameSnapshot >= kept) {
                return 0;
            }
            for (int i = 0; laterRenames != null && i < laterRenames.length; i++) {
                if (laterRenames[i].snapshot() >= kept) {
                    return i + 1;
                }
            }
            return -1;
        }

        /** The other names the file had in snapshot {@code kept} or later. */
        List<String> formerNamesFrom(long kept) {
            if (formerName == null) {
                return List.of();
            }
            if (laterFormerNames == null) { // most renamed files: no list to copy (an entry keeps an immutable one)
                return formerNameUntil >= kept ? List.of(formerName) : List.of();
            }
            List<String> out = new ArrayList<>(1 + laterFormerNames.length);
            if (formerNameUntil >= kept) {
                out.add(formerName);
            }
            for (int i = 0; i < laterFormerNames.length; i++) {
                if (laterFormerNamesUntil[i] >= kept) {
                    out.add(laterFormerNames[i]);
                }
            }
            return out;
        }

        /** Forgets the names the file last had before snapshot {@code id}: every consumer knows them from a blessed result. */
        void forgetBefore(long id) {
            if (laterRenames == null) {
                if (renameSnapshot != NONE && renameSnapshot < id) { // most renamed files: one rename
                    renameSnapshot = NONE;
                    renameFrom = null;
                }
            } else {
                // A loop, not a stream: once per renamed entry at every bless.
                int n = 1 + laterRenames.length;
                long[] snapshots = new long[n];
                String[] froms = new String[n];
                int kept = 0;
                for (int i = 0; i < n; i++) {
                    long at = i == 0 ? renameSnapshot : laterRenames[i - 1].snapshot();
                    if (at >= id) {
                        snapshots[kept] = at;
                        froms[kept] = i == 0 ? renameFrom : laterRenames[i - 1].from();
                        kept++;
                    }
                }
                if (kept < n) {
                    renameSnapshot = kept == 0 ? NONE : snapshots[0];
                    renameFrom = kept == 0 ? null : froms[0];
                    laterRenames = kept <= 1 ? null : new Rename[kept - 1];
                    for (int i = 1; i < kept; i++) {
                        laterRenames[i - 1] = new Rename(snapshots[i], froms[i]);
                    }
                }
            }
            if (lostUntil < id) {
                lostIn = null;
                moreNames = false;
            }
            if (laterFormerNames == null) { // most renamed files: one former name, or none
                if (formerName != null && formerNameUntil < id) {
                    formerName = null;
                    formerNameUntil = 0;
                }
                return;
            }
            int n = 1 + laterFormerNames.length;
            String[] names = new String[n];
            long[] until = new long[n];
            int kept = 0;
            for (int i = 0; i < n; i++) {
                String name = i == 0 ? formerName : laterFormerNames[i - 1];
                long u = i == 0 ? formerNameUntil : laterFormerNamesUntil[i - 1];
                if (u >= id) {
                    names[kept] = name;
                    until[kept] = u;
                    kept++;
                }
            }
            formerName = kept == 0 ? null : names[0];
            formerNameUntil = kept == 0 ? 0 : until[0];
            laterFormerNames = kept <= 1 ? null : Arrays.copyOfRange(names, 1, kept);
            laterFormerNamesUntil = kept <= 1 ? null : Arrays.copyOfRange(until, 1, kept);
        }
    }

    /** A rename recorded in {@code snapshot}, from {@code from}. */
    record Rename(long snapshot, String from) {}

    /** Entries, numbered 0 to size - 1. */
    int size() {
        return size;
    }

    // ---- finding and adding ----------------------------------------------------------------------

    /** The entry of {@code f}'s identity, or -1. */
    int find(FileId f) {
        int mask = index.length - 1;
        for (int slot = spread(f.hashCode()) & mask; ; slot = (slot + 1) & mask) {
            int e = index[slot] - 1;
            if (e < 0) {
                return -1;
            }
            if (sameIdentity(e, f)) {
                return e;
            }
        }
    }

    /** Adds an entry for {@code f} (which must not have one), with its hint and stamp and every id 0. */
    int add(FileId f) {
        assert find(f) < 0 : "already present: " + f;
        if (size == Integer.MAX_VALUE - 1) {
            throw new IllegalStateException("the tracker cannot track more than " + (Integer.MAX_VALUE - 1) + " files.");
        }
        int e = size;
        int page = e >>> PAGE_BITS;
        if (page == ints.length) {
            ints = Arrays.copyOf(ints, page + 1);
            longs = Arrays.copyOf(longs, page + 1);
            int rows = page == 0 ? 16 : PAGE; // the first page grows, so that small tables stay small
            ints[page] = new int[rows * INTS];
            longs[page] = new long[rows * LONGS];
        } else if ((e & MASK) * INTS == ints[page].length) {
            int rows = Math.min(PAGE, 2 * (e & MASK));
            ints[page] = Arrays.copyOf(ints[page], rows * INTS);
            longs[page] = Arrays.copyOf(longs[page], rows * LONGS);
        }
        size++;
        int meta;
        if (f.hasHandle()) {
            byte[] h = f.rawHandle();
            meta = keyNumber(f.fsid(), f.handleType()) | h.length << LENGTH_SHIFT;
            setLong(e, HANDLE, h.length <= 8 ? pack(h, 0, h.length) : putBytes(h));
            setInt(e, HINT, f.path() == null ? NO_HINT : putHint(f.path()));
        } else {
            meta = 0;
            setLong(e, HANDLE, f.hashCode());
            setInt(e, HINT, putHint(f.path()));
        }
        setInt(e, META, meta);
        for (int k = HIGHEST; k <= LAST_ID; k++) {
            setInt(e, k, 0);
        }
        setInt(e, LSN, 0);
        setStamp(e, f.stamp());
        if ((long) size * 4 > (long) index.length * 3) {
            rehash(index.length * 2);
        } else {
            insertIndex(e, f.hashCode());
        }
        return e;
    }

    /** Adds a copy of entry {@code e} of {@code other} (whose identity this table must not hold); returns it. */
    int copyFrom(FileTable other, int e) {
        FileId f = other.fileId(e);
        int c = find(f);
        if (c < 0) {
            c = add(f);
        } else {
            replaceHint(c, f.path());
            setStamp(c, f.stamp());
        }
        int beside = F_NAMES | F_SIDE_ALL; // these follow the side columns and names, below
        int flags = other.getInt(e, META) & FLAG_BITS & ~beside;
        setInt(c, META, (getInt(c, META) & ~FLAG_BITS) | flags | (getInt(c, META) & beside));
        for (int k = HIGHEST; k <= LAST_ID; k++) {
            setInt(c, k, other.getInt(e, k));
        }
        setInt(c, LSN, other.getInt(e, LSN));
        for (int k = DELETED_IN; k < DELETED_IN + SIDE_COLUMNS; k++) {
            setId(c, k, other.id(e, k));
        }
        Names n = other.namesOrNull(e);
        if (n != null) {
            setNames(c, n.copy());
        } else if (flag(c, F_NAMES)) {
            names.set(namesAt.get(c) - 1, null);
            namesAt.remove(c);
            setFlag(c, F_NAMES, false);
        }
        return c;
    }

    private boolean sameIdentity(int e, FileId f) {
        int meta = getInt(e, META);
        int length = (meta >>> LENGTH_SHIFT) & 0xFF;
        if (!f.hasHandle()) {
            return length == 0 && getLong(e, HANDLE) == f.hashCode() && hintEquals(getInt(e, HINT), f.path());
        }
        byte[] h = f.rawHandle();
        int key = meta & KEY_MASK;
        if (length != h.length || keyFsid[key] != f.fsid() || keyType[key] != f.handleType()) {
            return false;
        }
        long stored = getLong(e, HANDLE);
        if (length <= 8) {
            return stored == pack(h, 0, length);
        }
        byte[] page = arena[(int) (stored >>> ARENA_PAGE_BITS)];
        int at = (int) (stored & (ARENA_PAGE - 1));
        return Arrays.equals(page, at, at + length, h, 0, length);
    }

    private int keyNumber(long fsid, int type) {
        for (int k = 0; k < keys; k++) {
            if (keyFsid[k] == fsid && keyType[k] == type) {
                return k;
            }
        }
        if (keys > KEY_MASK) {
            throw new IllegalStateException("more than " + (KEY_MASK + 1) + " kinds of file handle (file system and"
                    + " handle type): track fewer file systems with one tracker.");
        }
        if (keys == keyFsid.length) {
            keyFsid = Arrays.copyOf(keyFsid, Math.min(KEY_MASK + 1, keys * 2));
            keyType = Arrays.copyOf(keyType, keyFsid.length);
        }
        keyFsid[keys] = fsid;
        keyType[keys] = type;
        return keys++;
    }

    private static int spread(int h) {
        return (h ^ (h >>> 16)) * 0x9E3779B9;
    }

    private void insertIndex(int e, int hash) {
        int mask = index.length - 1;
        int slot = spread(hash) & mask;
        while (index[slot] != 0) {
            slot = (slot + 1) & mask;
        }
        index[slot] = e + 1;
    }

    private void rehash(int capacity) {
        index = new int[capacity];
        for (int e = 0; e < size; e++) {
            insertIndex(e, hashOf(e));
        }
    }

    /** {@link FileId#hashCode()} of entry {@code e}, from what is stored. */
    private int hashOf(int e) {
        int meta = getInt(e, META);
        int length = (meta >>> LENGTH_SHIFT) & 0xFF;
        if (length == 0) {
            return (int) getLong(e, HANDLE);
        }
        int key = meta & KEY_MASK;
        int h = 1; // Arrays.hashCode of the handle bytes
        if (length <= 8) {
            long stored = getLong(e, HANDLE);
            for (int i = 0; i < length; i++) {
                h = 31 * h + (byte) (stored >>> (8 * i));
            }
        } else {
            long stored = getLong(e, HANDLE);
            byte[] page = arena[(int) (stored >>> ARENA_PAGE_BITS)];
            int at = (int) (stored & (ARENA_PAGE - 1));
            for (int i = 0; i < length; i++) {
                h = 31 * h + page[at + i];
            }
        }
        return 31 * (31 * Long.hashCode(keyFsid[key]) + keyType[key]) + h;
    }

    // ---- columns ---------------------------------------------------------------------------------

    int getInt(int e, int column) {
        assert column < INTS : "a side column is read through id: " + column;
        return ints[e >>> PAGE_BITS][(e & MASK) * INTS + column];
    }

    void setInt(int e, int column, int value) {
        assert column < INTS : "a side column is set through setId: " + column;
        ints[e >>> PAGE_BITS][(e & MASK) * INTS + column] = value;
    }

    private long getLong(int e, int column) {
        return longs[e >>> PAGE_BITS][(e & MASK) * LONGS + column];
    }

    private void setLong(int e, int column, long value) {
        longs[e >>> PAGE_BITS][(e & MASK) * LONGS + column] = value;
    }

    /** A snapshot id column (of the pages, or a side column: 0 for an entry without a value) as a long. */
    long id(int e, int column) {
        if (column < INTS) {
            return getInt(e, column);
        }
        return flag(e, sideFlag(column)) ? side[column - DELETED_IN].get(e) : 0;
    }

    /** Sets a snapshot id column; 0 takes a side column's value away. */
    void setId(int e, int column, long id) {
        if (column < INTS) {
            setInt(e, column, toInt(id));
            return;
        }
        int value = toInt(id);
        if (value == 0 && !flag(e, sideFlag(column))) {
            return;
        }
        side[column - DELETED_IN].put(e, value);
        setFlag(e, sideFlag(column), value != 0);
    }

    private static int sideFlag(int column) {
        assert column >= DELETED_IN && column < DELETED_IN + SIDE_COLUMNS : column;
        return F_SIDE_FIRST << (column - DELETED_IN);
    }

    private static EntryInts[] newSideColumns() {
        EntryInts[] columns = new EntryInts[SIDE_COLUMNS];
        for (int k = 0; k < SIDE_COLUMNS; k++) {
            columns[k] = new EntryInts();
        }
        return columns;
    }

    /** A snapshot id as stored: at most 2^31 - 1 periods (a query a second for 68 years). */
    static int toInt(long id) {
        if (id < 0 || id > Integer.MAX_VALUE) {
            throw new IllegalStateException("snapshot id " + id + " is beyond what the tracker's table holds.");
        }
        return (int) id;
    }

    boolean flag(int e, int flag) {
        return (getInt(e, META) & flag) != 0;
    }

    void setFlag(int e, int flag, boolean on) {
        int meta = getInt(e, META);
        setInt(e, META, on ? meta | flag : meta & ~flag);
    }

    /** The entry's names, made if needed. */
    Names names(int e) {
        Names n = namesOrNull(e);
        if (n == null) {
            n = new Names();
            setNames(e, n);
        }
        return n;
    }

    /** The entry's names, or null. */
    Names namesOrNull(int e) {
        return flag(e, F_NAMES) ? names.get(namesAt.get(e) - 1) : null;
    }

    private void setNames(int e, Names n) {
        if (flag(e, F_NAMES)) {
            names.set(namesAt.get(e) - 1, n);
            return;
        }
        names.add(n);
        namesAt.put(e, names.size());
        setFlag(e, F_NAMES, true);
    }

    /** How many entries have something beside the pages: a side column's value or names (tests: which changes cost more). */
    int rareEntries() {
        int n = 0;
        for (int e = 0; e < size; e++) {
            n += (getInt(e, META) & (F_SIDE_ALL | F_NAMES)) != 0 ? 1 : 0;
        }
        return n;
    }

    private void setStamp(int e, StatStamp s) {
        setFlag(e, F_STAMP, s != null);
        if (s != null) {
            setLong(e, STAMP, s.inode());
            setLong(e, STAMP + 1, s.size());
            setLong(e, STAMP + 2, s.mtimeNanos());
            setLong(e, STAMP + 3, s.ctimeNanos());
        }
    }

    StatStamp stamp(int e) {
        if (!flag(e, F_STAMP)) {
            return null;
        }
        return new StatStamp(getLong(e, STAMP), getLong(e, STAMP + 1), getLong(e, STAMP + 2), getLong(e, STAMP + 3));
    }

    private byte[] handle(int e) {
        int length = (getInt(e, META) >>> LENGTH_SHIFT) & 0xFF;
        long stored = getLong(e, HANDLE);
        byte[] h = new byte[length];
        if (length <= 8) {
            for (int i = 0; i < length; i++) {
                h[i] = (byte) (stored >>> (8 * i));
            }
        } else {
            byte[] page = arena[(int) (stored >>> ARENA_PAGE_BITS)];
            System.arraycopy(page, (int) (stored & (ARENA_PAGE - 1)), h, 0, length);
        }
        return h;
    }

    private static long pack(byte[] h, int from, int length) {
        long v = 0;
        for (int i = 0; i < length; i++) {
            v |= (h[from + i] & 0xFFL) << (8 * i);
        }
        return v;
    }

    /** The file as last seen: its identity, newest path hint and baseline stamp. */
    FileId fileId(int e) {
        String path = hint(e);
        int meta = getInt(e, META);
        int length = (meta >>> LENGTH_SHIFT) & 0xFF;
        if (length == 0) {
            return FileId.ofCheckedPath(path);
        }
        int key = meta & KEY_MASK;
        return FileId.ofOwnedHandle(keyFsid[key], keyType[key], handle(e), path, stamp(e));
    }

    // ---- path hints ------------------------------------------------------------------------------

    /** The path hint (a path identity's path), or null. */
    String hint(int e) {
        int ref = getInt(e, HINT);
        if (ref == NO_HINT) {
            return null;
        }
        byte[] page = arena[ref >>> ARENA_PAGE_BITS];
        int at = ref & (ARENA_PAGE - 1);
        int dir = readInt(page, at);
        int n = (page[at + 4] & 0xFF) | (page[at + 5] & 0xFF) << 8;
        return dirs.get(dir) + "/" + new String(page, at + 6, n, StandardCharsets.UTF_8);
    }

    /**
     * Takes {@code newer} as the file's latest sighting in {@code snapshot}: its path hint replaces
     * the kept one (unless it has none, live or read back) and, with {@code baseline}, the oldest
     * stamp stays (the baseline a source compares with to tell that a file was only read: a file
     * first recorded as read, then written under an ignore mark, must keep the stamp from before
     * that write; keeping an older stamp than needed costs at most a false positive); without, the
     * newest one wins (as records are read back). A path the file leaves is remembered as a former
     * name. {@code journaled}: whether the journal holds this sighting's record, so that a restart
     * knows its name too ({@link #nameJournaled}).
     */
    void sighted(int e, FileId newer, boolean baseline, long snapshot, boolean journaled) {
        if (!newer.hasHandle()) {
            return; // a path identity's path is its identity
        }
        String path = newer.path();
        int ref = getInt(e, HINT);
        boolean same = path != null && ref != NO_HINT && hintEquals(ref, path); // no allocation when unchanged
        if (path != null && (journaled || !same)) {
            setFlag(e, F_HINT_UNJOURNALED, !journaled);
        }
        // A sighting without a name (an attribute change, a link count falling as the file is
        // removed) says nothing about where the file was: the kept name stays, as records are read
        // back too, so a restart keeps the name a live run had (records of one batch are journaled
        // by kind, so a nameless one can come after the file's last named one).
        boolean keep = path == null || same;
        if (!keep) {
            if (path != null && ref != NO_HINT) {
                names(e).rememberName(hint(e), snapshot);
            }
            replaceHint(e, path);
        }
        if (!baseline || !flag(e, F_STAMP)) {
            setStamp(e, newer.stamp());
        }
    }

    /** Whether {@code path} is the kept hint and the journal holds a record that names it. */
    boolean nameJournaled(int e, String path) {
        int ref = getInt(e, HINT);
        return ref != NO_HINT && hintEquals(ref, path) && !flag(e, F_HINT_UNJOURNALED);
    }

    private void replaceHint(int e, String path) {
        int ref = getInt(e, HINT);
        if (path != null && ref != NO_HINT && hintEquals(ref, path)) {
            return;
        }
        if (ref != NO_HINT) {
            arenaGarbage += hintBytes(ref);
        }
        setInt(e, HINT, path == null ? NO_HINT : putHint(path));
        if (wantsCompaction()) {
            compactArena();
        }
    }

    private int hintBytes(int ref) {
        byte[] page = arena[ref >>> ARENA_PAGE_BITS];
        int at = ref & (ARENA_PAGE - 1);
        return 6 + ((page[at + 4] & 0xFF) | (page[at + 5] & 0xFF) << 8);
    }

    private boolean hintEquals(int ref, String p) {
        if (ref == NO_HINT) {
            return false;
        }
        byte[] page = arena[ref >>> ARENA_PAGE_BITS];
        int at = ref & (ARENA_PAGE - 1);
        String dir = dirs.get(readInt(page, at));
        int n = (page[at + 4] & 0xFF) | (page[at + 5] & 0xFF) << 8;
        int slash = p.lastIndexOf('/');
        if (slash != dir.length() || !p.startsWith(dir)) {
            return false;
        }
        int name = slash + 1;
        if (p.length() - name != n) {
            return p.substring(name).equals(new String(page, at + 6, n, StandardCharsets.UTF_8)); // not ASCII
        }
        for (int i = 0; i < n; i++) {
            char c = p.charAt(name + i);
            if (c >= 0x80) {
                return p.substring(name).equals(new String(page, at + 6, n, StandardCharsets.UTF_8));
            }
            if ((byte) c != page[at + 6 + i]) {
                return false;
            }
        }
        return true;
    }

    /** Stores a path: its directory's number (4 bytes), the name's length (2) and UTF-8 bytes. */
    private int putHint(String path) {
        int slash = path.lastIndexOf('/');
        assert slash >= 0 : "an absolute path: " + path;
        String dir = path.substring(0, slash);
        Integer number = dirNumbers.get(dir);
        if (number == null) {
            number = dirs.size();
            dirs.add(dir);
            dirNumbers.put(dir, number);
        }
        byte[] name = path.substring(slash + 1).getBytes(StandardCharsets.UTF_8);
        assert name.length <= FileId.MAX_PATH_BYTES : "checked by FileId";
        int ref = reserve(6 + name.length);
        byte[] page = arena[ref >>> ARENA_PAGE_BITS];
        int at = ref & (ARENA_PAGE - 1);
        writeInt(page, at, number);
        page[at + 4] = (byte) name.length;
        page[at + 5] = (byte) (name.length >>> 8);
        System.arraycopy(name, 0, page, at + 6, name.length);
        return ref;
    }

    private long putBytes(byte[] bytes) {
        int ref = reserve(bytes.length);
        System.arraycopy(bytes, 0, arena[ref >>> ARENA_PAGE_BITS], ref & (ARENA_PAGE - 1), bytes.length);
        return ref;
    }

    /** Room for {@code n} bytes within one arena page; returns where. */
    private int reserve(int n) {
        assert n <= ARENA_PAGE;
        int page = arenaEnd >>> ARENA_PAGE_BITS;
        int at = arenaEnd & (ARENA_PAGE - 1);
        if (page < arena.length && at + n > ARENA_PAGE) {
            page++;
            at = 0;
        }
        if (page >= (1 << (31 - ARENA_PAGE_BITS))) {
            throw new IllegalStateException("the path hints of the tracked files exceed 2 GiB.");
        }
        if (page == arena.length) {
            arena = Arrays.copyOf(arena, page + 1);
            arena[page] = new byte[page == 0 ? Math.max(256, n) : ARENA_PAGE]; // the first page grows
        } else if (at + n > arena[page].length) {
            arena[page] = Arrays.copyOf(arena[page], Math.min(ARENA_PAGE, Math.max(2 * arena[page].length, at + n)));
        }
        arenaEnd = (page << ARENA_PAGE_BITS) + at + n; // + not |: at + n may be a whole page
        return (page << ARENA_PAGE_BITS) | at;
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    private static void writeInt(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
        b[at + 2] = (byte) (v >>> 16);
        b[at + 3] = (byte) (v >>> 24);
    }

    /** Whether replaced hints waste more than the live ones use (and at least 1 MiB): then {@link #retain} compacts. */
    boolean wantsCompaction() {
        return arenaGarbage > (1 << 20) && arenaGarbage * 2 > arenaEnd;
    }

    // ---- removal ---------------------------------------------------------------------------------

    /** Which entries {@link #retain} keeps. */
    @FunctionalInterface
    interface Keep {
        boolean keep(int entry);
    }

    /**
     * Keeps only the entries {@code keep} accepts (asked in entry order, before any is moved),
     * renumbering them densely in place, and rebuilds the index; compacts the arena when replaced
     * and dropped hints waste more than live ones use. Linear in the number of entries, without an
     * allocation per entry. Returns how many were dropped.
     */
    int retain(Keep keep) {
        int to = 0;
        EntryInts[] movedSide = newSideColumns();
        EntryInts movedNamesAt = new EntryInts();
        List<Names> movedNames = new ArrayList<>();
        for (int e = 0; e < size; e++) {
            if (!keep.keep(e)) {
                int ref = getInt(e, HINT);
                arenaGarbage += ref == NO_HINT ? 0 : hintBytes(ref);
                int length = (getInt(e, META) >>> LENGTH_SHIFT) & 0xFF;
                arenaGarbage += length > 8 ? length : 0;
                continue;
            }
            if (to != e) {
                System.arraycopy(ints[e >>> PAGE_BITS], (e & MASK) * INTS, ints[to >>> PAGE_BITS], (to & MASK) * INTS, INTS);
                System.arraycopy(longs[e >>> PAGE_BITS], (e & MASK) * LONGS, longs[to >>> PAGE_BITS], (to & MASK) * LONGS, LONGS);
            }
            for (int k = 0; k < SIDE_COLUMNS; k++) {
                if (flag(to, F_SIDE_FIRST << k)) {
                    movedSide[k].put(to, side[k].get(e));
                }
            }
            if (flag(to, F_NAMES)) {
                movedNames.add(names.get(namesAt.get(e) - 1));
                movedNamesAt.put(to, movedNames.size());
            }
            to++;
        }
        int dropped = size - to;
        size = to;
        side = movedSide;
        namesAt = movedNamesAt;
        names = movedNames;
        int pages = (size + MASK) >>> PAGE_BITS;
        ints = Arrays.copyOf(ints, pages); // frees the pages no entry uses now
        longs = Arrays.copyOf(longs, pages);
        int capacity = 16;
        while ((long) size * 4 > (long) capacity * 3) {
            capacity *= 2;
        }
        rehash(capacity);
        if (wantsCompaction() || dirs.size() > 2 * size + 1024) {
            compactArena();
        }
        return dropped;
    }

    /** Rewrites the arena with only the live hints and long handles, and the directories they use. */
    private void compactArena() {
        byte[][] old = arena;
        List<String> oldDirs = new ArrayList<>(dirs);
        arena = new byte[0][];
        arenaEnd = 0;
        arenaGarbage = 0;
        dirs.clear();
        dirNumbers.clear();
        for (int e = 0; e < size; e++) {
            int ref = getInt(e, HINT);
            if (ref != NO_HINT) {
                byte[] page = old[ref >>> ARENA_PAGE_BITS];
                int at = ref & (ARENA_PAGE - 1);
                int n = (page[at + 4] & 0xFF) | (page[at + 5] & 0xFF) << 8;
                String path = oldDirs.get(readInt(page, at)) + "/" + new String(page, at + 6, n, StandardCharsets.UTF_8);
                setInt(e, HINT, putHint(path));
            }
            int length = (getInt(e, META) >>> LENGTH_SHIFT) & 0xFF;
            if (length > 8) {
                long stored = getLong(e, HANDLE);
                byte[] page = old[(int) (stored >>> ARENA_PAGE_BITS)];
                int at = (int) (stored & (ARENA_PAGE - 1));
                setLong(e, HANDLE, putBytes(Arrays.copyOfRange(page, at, at + length)));
            }
        }
    }

    /** Checks the table's own invariants in linear time (tests and the simulator). */
    void checkInvariants() {
        int indexed = 0;
        for (int slot : index) {
            indexed += slot != 0 ? 1 : 0;
        }
        if (indexed != size) {
            throw new AssertionError("the index holds " + indexed + " entries, the table " + size);
        }
        int[] flagged = new int[SIDE_COLUMNS];
        int named = 0;
        for (int e = 0; e < size; e++) {
            for (int k = 0; k < SIDE_COLUMNS; k++) {
                flagged[k] += flag(e, F_SIDE_FIRST << k) ? 1 : 0;
            }
            named += flag(e, F_NAMES) ? 1 : 0;
        }
        for (int k = 0; k < SIDE_COLUMNS; k++) {
            if (flagged[k] != side[k].size()) {
                throw new AssertionError("side column " + k + " holds " + side[k].size() + " values, " + flagged[k] + " entries say they have one");
            }
        }
        if (named != namesAt.size()) {
            throw new AssertionError("names are kept for " + namesAt.size() + " entries, " + named + " say they have them");
        }
        for (int e = 0; e < size; e++) {
            if (find(fileId(e)) != e) {
                throw new AssertionError("entry " + e + " (" + fileId(e) + ") is not found by its identity");
            }
            for (int k = 0; k < SIDE_COLUMNS; k++) {
                if (flag(e, F_SIDE_FIRST << k) != side[k].contains(e)) {
                    throw new AssertionError("entry " + e + "'s flag for side column " + k + " disagrees with the column");
                }
            }
            if (flag(e, F_NAMES) != namesAt.contains(e) || (flag(e, F_NAMES) && namesOrNull(e) == null)) {
                throw new AssertionError("entry " + e + "'s names flag disagrees with its names");
            }
            // Only a record sets these, and a record raises `highest` first.
            long recorded = Math.max(id(e, CREATED_IN),
                    Math.max(id(e, DELETED_IN), Math.max(id(e, ATTRIBUTES_IN), id(e, SCOPE_IN))));
            if (recorded > id(e, HIGHEST)) {
                throw new AssertionError("entry " + e + " (" + fileId(e) + ") has a namespace change or scope in snapshot "
                        + recorded + ", beyond its highest, " + id(e, HIGHEST));
            }
        }
    }
}
