package org.modtrack.source.linux;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.modtrack.posix.DirectoryReader;

/**
 * A directory's names as their UTF-8 bytes, one after another in one array, sorted as
 * {@link String#compareTo} sorts the names they decode to, each once. Immutable.
 *
 * <p>Why not a {@code String[]}: a result's scans keep every name they list until the answer is
 * written, and at a million changed files those were a million {@code String}s (about 56 B each with
 * their arrays) that the collector copied from one space to the next while the answer was made, the
 * largest part of its work then (perf of benchmarks/peers/answer --files 1000000: the collector's
 * threads a quarter of the daemon's CPU). Here a directory of a thousand names is two arrays; its
 * names go to the socket as the bytes the kernel listed ({@link EntrySink#scannedFile}), with no
 * decoding and encoding on the way.
 *
 * <p>The bytes are always valid UTF-8: a name that is not is kept as the bytes of the {@code String}
 * it decodes to (each bad sequence a U+FFFD), or refused ({@link Builder#add}); so {@link #name} is
 * exactly that {@code String}, and byte order with one remapping ({@link #rank}) is its order.
 */
final class NameList {
    static final NameList EMPTY = new NameList(new byte[0], new int[0]);

    private final byte[] bytes;
    /** Where each name ends in {@link #bytes}: the {@code i}th is {@code [ends[i - 1], ends[i])}. */
    private final int[] ends;

    private NameList(byte[] bytes, int[] ends) {
        this.bytes = bytes;
        this.ends = ends;
        assert sortedAndDistinct() : "names out of order or repeated: " + this;
    }

    private boolean sortedAndDistinct() {
        for (int i = 1; i < ends.length; i++) {
            if (compare(bytes, start(i - 1), ends[i - 1], bytes, start(i), ends[i]) >= 0) {
                return false;
            }
        }
        return true;
    }

    /** The names of {@code names}, sorted, each once (names that are not distinct or valid are for tests). */
    static NameList of(String... names) {
        Builder b = new Builder();
        for (String n : names) {
            b.add(n);
        }
        return b.sorted(EMPTY);
    }

    int size() {
        return ends.length;
    }

    /** The array holding every name's bytes; not to be modified. */
    byte[] bytes() {
        return bytes;
    }

    /** Where name {@code i}'s bytes begin in {@link #bytes}. */
    int start(int i) {
        return i == 0 ? 0 : ends[i - 1];
    }

    /** Where name {@code i}'s bytes end in {@link #bytes} (exclusive). */
    int end(int i) {
        return ends[i];
    }

    /** Name {@code i}. */
    String name(int i) {
        return new String(bytes, start(i), ends[i] - start(i), StandardCharsets.UTF_8);
    }

    /** The index of {@code name}; -1 if it is none of these. */
    int indexOf(String name) {
        byte[] b = utf8(name);
        return b == null ? -1 : indexOf(b, 0, b.length);
    }

    boolean contains(String name) {
        return indexOf(name) >= 0;
    }

    /** The index of the name whose bytes are {@code b[from, to)}; -1 if it is none of these. */
    int indexOf(byte[] b, int from, int to) {
        int lo = 0;
        int hi = ends.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = compare(bytes, start(mid), ends[mid], b, from, to);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /**
     * {@code name} as UTF-8; null if it holds a surrogate that is not half of a pair, which no name
     * decoded from UTF-8 holds (the JDK's encoder would turn it into a {@code ?}, another name).
     */
    private static byte[] utf8(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < name.length() && Character.isLowSurrogate(name.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return null;
            }
        }
        return name.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Compares the UTF-8 names {@code a[af, at)} and {@code b[bf, bt)} as {@link String#compareTo}
     * compares what they decode to: by bytes ({@link Arrays#mismatch}, vectorized), the first that
     * differ {@link #rank}ed.
     */
    static int compare(byte[] a, int af, int at, byte[] b, int bf, int bt) {
        int i = Arrays.mismatch(a, af, at, b, bf, bt);
        if (i < 0) {
            return 0;
        }
        if (i == at - af || i == bt - bf) {
            return (at - af) - (bt - bf); // one is a prefix of the other: the shorter first
        }
        return rank(a[af + i]) - rank(b[bf + i]);
    }

    /**
     * A byte of valid UTF-8 as a key whose order is {@link String#compareTo}'s (UTF-16 code units):
     * byte order is code point order, which differs from it only in that a char past U+FFFF (4
     * bytes, lead 0xF0-0xF4; in UTF-16 a surrogate pair, 0xD800-0xDBFF first) sorts before those of
     * U+E000-U+FFFF (lead 0xEE-0xEF). Two names first differ either in lead bytes (or ASCII) or in
     * continuation bytes of chars with one lead byte, where code point order holds; so moving the
     * four-byte leads below 0xEE-0xEF is all it takes. Bytes above 0xF4 are in no valid UTF-8.
     */
    static int rank(byte b) {
        int u = b & 0xff;
        if (u < 0xee) {
            return u;
        }
        return u >= 0xf0 && u <= 0xf4 ? u - 2 : u + 5; // 0xF0-0xF4 -> 0xEE-0xF2; 0xEE-0xEF -> 0xF3-0xF4
    }

    /**
     * The names of both lists, sorted, each once, less those of {@code taken}; {@code a} itself when
     * {@code b} is empty and {@code a} has none of {@code taken}.
     */
    static NameList union(NameList a, NameList b, NameList taken) {
        if (b.size() == 0 && !a.sharesAny(taken)) {
            return a;
        }
        byte[] out = new byte[a.bytes.length + b.bytes.length];
        int[] ends = new int[a.size() + b.size()];
        int length = 0;
        int n = 0;
        int lastStart = -1;
        for (int i = 0, j = 0; i < a.size() || j < b.size(); ) {
            boolean fromA = j >= b.size()
                    || (i < a.size() && compare(a.bytes, a.start(i), a.ends[i], b.bytes, b.start(j), b.ends[j]) <= 0);
            NameList from = fromA ? a : b;
            int k = fromA ? i++ : j++;
            int s = from.start(k);
            int e = from.ends[k];
            boolean repeat = lastStart >= 0 && compare(out, lastStart, length, from.bytes, s, e) == 0;
            if (!repeat && taken.indexOf(from.bytes, s, e) < 0) {
                System.arraycopy(from.bytes, s, out, length, e - s);
                lastStart = length;
                length += e - s;
                ends[n++] = length;
            }
        }
        return new NameList(Arrays.copyOf(out, length), Arrays.copyOf(ends, n));
    }

    private boolean sharesAny(NameList taken) {
        if (taken.size() == 0) {
            return false;
        }
        for (int i = 0; i < size(); i++) {
            if (taken.indexOf(bytes, start(i), ends[i]) >= 0) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < size(); i++) {
            b.append(i == 0 ? "" : ", ").append(name(i));
        }
        return b.append(']').toString();
    }

    /**
     * Collects a directory's names as they are listed (in the file system's order, perhaps a name
     * twice if the directory changed while it was read), then sorts them ({@link #sorted}).
     */
    static final class Builder {
        /** Names sorted by their objects below this many, or past {@link #INDEX_BITS}: the keys would cost more, or not fit. */
        private static final int FEW = 16;
        /** Bits of a sort key for the name's place; the other 40 hold {@link #KEY_BYTES} of its bytes. */
        private static final int INDEX_BITS = 24;
        private static final int KEY_BYTES = 5;
        /**
         * The most names, and bytes of names, whose arrays {@link #clear} keeps: a directory of
         * thousands of names is common, and the next one reuses its arrays; one of millions is
         * rare, and its arrays (about 30 B a name) are not held for the rest of the scan.
         */
        static final int KEPT_NAMES = 1 << 16;
        static final int KEPT_BYTES = 1 << 20;

        private byte[] bytes = new byte[256];
        private int length;
        private int[] ends = new int[16];
        private int size;
        /** The sort's scratch, kept for the next directory's names with the arrays above ({@link #clear}). */
        private long[] keys = new long[0];
        private int[] order = new int[0];

        /** Forgets the names added, keeping the arrays for the next ones up to {@link #KEPT_NAMES} and {@link #KEPT_BYTES}. */
        void clear() {
            length = 0;
            size = 0;
            if (bytes.length > KEPT_BYTES) {
                bytes = new byte[256];
            }
            if (ends.length > KEPT_NAMES) {
                ends = new int[16];
            }
            if (keys.length > KEPT_NAMES) {
                keys = new long[0];
            }
            if (order.length > KEPT_NAMES) {
                order = new int[0];
            }
        }

        /**
         * Adds the name of {@code reader}'s current entry, as its bytes are. One that is not UTF-8 (or
         * holds U+FFFD) is added as the bytes of the {@code String} it decodes to, unless {@code onlyUtf8}:
         * then nothing is added, and false returned.
         */
        boolean add(DirectoryReader reader, boolean onlyUtf8) {
            int n = reader.nameLength();
            ensure(n);
            reader.copyName(bytes, length);
            return accept(n, onlyUtf8);
        }

        /** Adds a name given as bytes, as {@link #add(DirectoryReader, boolean)} adds a listed one. */
        boolean add(byte[] name, boolean onlyUtf8) {
            ensure(name.length);
            System.arraycopy(name, 0, bytes, length, name.length);
            return accept(name.length, onlyUtf8);
        }

        /** Adds {@code name} (one with a surrogate that is not half of a pair is refused). */
        void add(String name) {
            byte[] b = utf8(name);
            if (b == null) {
                throw new IllegalArgumentException("a name with half a surrogate pair: " + name);
            }
            add(b, false);
        }

        /** Takes the {@code n} bytes just copied past {@link #length} as a name. */
        private boolean accept(int n, boolean onlyUtf8) {
            for (int i = length; i < length + n; i++) {
                if (bytes[i] < 0) {
                    String decoded = new String(bytes, length, n, StandardCharsets.UTF_8);
                    if (decoded.indexOf(ResultResolver.UNNAMABLE) >= 0) {
                        if (onlyUtf8) {
                            return false;
                        }
                        byte[] again = decoded.getBytes(StandardCharsets.UTF_8);
                        ensure(again.length);
                        System.arraycopy(again, 0, bytes, length, again.length);
                        n = again.length;
                    }
                    break;
                }
            }
            if (size == ends.length) {
                ends = Arrays.copyOf(ends, size * 2);
            }
            length += n;
            ends[size++] = length;
            return true;
        }

        private void ensure(int more) {
            if (length + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(length + more, 2 * bytes.length));
            }
        }

        /** The names added, sorted, each once, less those of {@code taken}. */
        NameList sorted(NameList taken) {
            boolean keyed = sortOrder();
            byte[] out = new byte[length];
            int[] outEnds = new int[size];
            int outLength = 0;
            int n = 0;
            int lastStart = -1;
            for (int i = 0; i < size; i++) {
                int k = order[i];
                int s = k == 0 ? 0 : ends[k - 1];
                int e = ends[k];
                // Names whose keys differ differ (and the last one kept sorts no later than the one
                // before this): only a tie is compared, not a million names each with the one before.
                boolean mayRepeat = lastStart >= 0 && (!keyed || keys[i] >>> INDEX_BITS == keys[i - 1] >>> INDEX_BITS);
                boolean repeat = mayRepeat && compare(out, lastStart, outLength, bytes, s, e) == 0;
                if (!repeat && (taken.size() == 0 || taken.indexOf(bytes, s, e) < 0)) {
                    System.arraycopy(bytes, s, out, outLength, e - s);
                    lastStart = outLength;
                    outLength += e - s;
                    outEnds[n++] = outLength;
                }
            }
            return new NameList(outLength == out.length ? out : Arrays.copyOf(out, outLength),
                    n == outEnds.length ? outEnds : Arrays.copyOf(outEnds, n));
        }

        /**
         * Puts the names' indices in sorted order in {@code order[0, size)}, by primitive keys: each
         * name's first {@link #KEY_BYTES} bytes past the prefix all of them share, {@link #rank}ed,
         * with its index in one {@code long}; only names whose keys tie are compared whole. Why not a comparator over the indices: at a
         * million names in directories of a thousand, comparisons of whole names were most of the
         * sort's time (as they were for {@code String}s: 0.14 s of a scan's 0.3 s of Java CPU).
         *
         * @return whether {@code keys[0, size)} hold the sorted keys (false: the names were compared whole)
         */
        private boolean sortOrder() {
            if (order.length < size) {
                order = new int[Math.max(size, 2 * order.length)];
            }
            if (size < FEW || size >= 1 << INDEX_BITS) {
                sortRange(order, 0, size, true);
                return false;
            }
            int common = ends[0];
            for (int i = 1; i < size && common > 0; i++) {
                int m = Arrays.mismatch(bytes, 0, common, bytes, ends[i - 1], ends[i]);
                if (m >= 0) {
                    common = m;
                }
            }
            if (keys.length < size) {
                keys = new long[Math.max(size, 2 * keys.length)];
            }
            for (int i = 0; i < size; i++) {
                int s = i == 0 ? 0 : ends[i - 1];
                long key = 0;
                for (int k = s + common; k < s + common + KEY_BYTES; k++) {
                    key = (key << 8) | (k < ends[i] ? rank(bytes[k]) : 0); // shorter first: no name holds a NUL
                }
                keys[i] = ((key << INDEX_BITS) | i) ^ Long.MIN_VALUE; // sign flipped: the signed sort orders bytes unsigned
            }
            Arrays.sort(keys, 0, size);
            for (int i = 0; i < size; i++) {
                order[i] = (int) (keys[i] & ((1 << INDEX_BITS) - 1));
            }
            for (int i = 0; i < size; ) {
                int j = i + 1;
                while (j < size && keys[j] >>> INDEX_BITS == keys[i] >>> INDEX_BITS) {
                    j++;
                }
                if (j - i > 1) {
                    sortRange(order, i, j, false); // the same bytes up to the key's end: told apart by the rest
                }
                i = j;
            }
            return true;
        }

        /** Sorts {@code order[from, to)} by comparing whole names ({@code fill}: with the indices {@code from..to - 1} first). */
        private void sortRange(int[] order, int from, int to, boolean fill) {
            Integer[] boxed = new Integer[to - from];
            for (int i = 0; i < boxed.length; i++) {
                boxed[i] = fill ? from + i : order[from + i];
            }
            Arrays.sort(boxed, (x, y) -> compare(bytes, x == 0 ? 0 : ends[x - 1], ends[x], bytes, y == 0 ? 0 : ends[y - 1],
                    ends[y]));
            for (int i = 0; i < boxed.length; i++) {
                order[from + i] = boxed[i];
            }
        }
    }
}
