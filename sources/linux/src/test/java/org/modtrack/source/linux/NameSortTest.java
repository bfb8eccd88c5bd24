package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.testing.Seeded;

@ExtendWith(Seeded.class)
class NameSortTest {
    /** Chars that sort apart as unsigned bytes (the key) and as chars: ASCII, Latin-1 above 0x7f, and past 8 bits. */
    private static final char[] CHARS = {'a', 'b', 'z', 'A', '0', '9', '.', '-', ' ', '~', '\u007f', '\u0080', '\u00e9', '\u00ff',
            '\u0100', '\u4e2d', '\ufffd'};

    @Test
    void sortsAsStringsCompare(SplittableRandom random) {
        for (int round = 0; round < 2_000; round++) {
            int n = random.nextInt(3) == 0 ? random.nextInt(20) : random.nextInt(2_000);
            String shared = name(random, random.nextInt(3) == 0 ? 8 : 2, random.nextInt(4) == 0);
            boolean wide = random.nextInt(10) == 0;
            String[] names = new String[n];
            for (int i = 0; i < n; i++) {
                // A shared prefix (as a directory's "f123000".."f123999" have), then names that often
                // tie in the key's chars and differ past them, or are a prefix of another.
                names[i] = i > 0 && random.nextInt(10) == 0 ? names[random.nextInt(i)]
                        : shared + name(random, random.nextInt(12), wide);
            }
            String[] expected = names.clone();
            Arrays.sort(expected);
            NameSort.sort(names);
            assertArrayEquals(expected, names, "round " + round + ", " + n + " names");
        }
    }

    private static String name(SplittableRandom random, int length, boolean wide) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            b.append(CHARS[random.nextInt(wide ? CHARS.length : CHARS.length - 3)]);
        }
        return b.toString();
    }
}
