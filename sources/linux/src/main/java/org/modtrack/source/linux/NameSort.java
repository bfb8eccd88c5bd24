package org.modtrack.source.linux;

import java.util.Arrays;

/**
 * Sorts a directory's names as {@link String#compareTo} orders them, by primitive keys: each name's
 * first {@value #KEY_CHARS} chars past the prefix all of them share, with its place in the array,
 * in one {@code long}; only names whose keys tie are compared whole.
 *
 * <p>Why not {@link Arrays#sort(Object[])}: a result's scans sort every listed directory's names
 * (their listing comes in the file system's hash order), and at 1,000,000 files in directories of
 * 1,000 the comparisons of {@code String}s were 0.14 s of the scans' 0.3 s of Java CPU (1 ms
 * samples of {@code benchmarks/peers/answer}); a sort of 1,000 {@code long}s and a pass over the
 * names take a fraction of that. {@code NameSortTest} checks the order against {@code Arrays.sort}.
 */
final class NameSort {
    /** Chars per key: 8 bits each, beside {@link #INDEX_BITS} for the name's place. */
    static final int KEY_CHARS = 6;
    private static final int INDEX_BITS = 16;
    /** Fewer names than this are sorted as objects: the keys would cost more than they save. */
    private static final int FEW = 16;

    private NameSort() {}

    /** Sorts {@code names} in place, as {@code Arrays.sort(names)} would. */
    static void sort(String[] names) {
        int n = names.length;
        if (n < FEW || n > 1 << INDEX_BITS) {
            Arrays.sort(names);
            return;
        }
        int common = names[0].length();
        for (int i = 1; i < n && common > 0; i++) {
            common = Math.min(common, ScanNamedFiles.sharedLength(names[0], names[i]));
        }
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            String s = names[i];
            long key = 0;
            for (int k = common; k < common + KEY_CHARS; k++) {
                char c = k < s.length() ? s.charAt(k) : 0; // shorter sorts first: no name holds a NUL
                if (c > 0xff) {
                    Arrays.sort(names); // a char past 8 bits: rare, sorted as objects
                    return;
                }
                key = (key << 8) | c;
            }
            // The sign bit flipped so that the signed sort orders the chars as unsigned.
            keys[i] = ((key << INDEX_BITS) | i) ^ Long.MIN_VALUE;
        }
        Arrays.sort(keys);
        String[] sorted = new String[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = names[(int) (keys[i] & ((1 << INDEX_BITS) - 1))];
        }
        for (int i = 0; i < n; ) {
            int j = i + 1;
            while (j < n && keys[j] >>> INDEX_BITS == keys[i] >>> INDEX_BITS) {
                j++;
            }
            if (j - i > 1) {
                Arrays.sort(sorted, i, j); // the same chars up to the key's end: told apart by the rest
            }
            i = j;
        }
        System.arraycopy(sorted, 0, names, 0, n);
    }
}
