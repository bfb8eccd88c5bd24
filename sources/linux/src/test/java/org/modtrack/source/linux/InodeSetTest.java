package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.testing.Seeded;

/** The scan's table of known inode numbers, and its distinct names, against the JDK's collections. */
@ExtendWith(Seeded.class)
class InodeSetTest {
    @Test
    void answersAsAHashSetWould(SplittableRandom random) {
        for (int round = 0; round < 300; round++) {
            int n = random.nextInt(3) == 0 ? random.nextInt(4) : random.nextInt(5_000);
            // Runs of neighbouring numbers (a directory's files), numbers far apart, and repeats.
            long base = random.nextLong(1L << 40);
            long stride = random.nextInt(3) == 0 ? 1 : 1L << random.nextInt(33);
            Set<Long> expected = new HashSet<>();
            DirectoryScan.InodeSet set = new DirectoryScan.InodeSet(n);
            for (int i = 0; i < n; i++) {
                long ino = random.nextInt(8) == 0 && !expected.isEmpty() ? expected.iterator().next()
                        : random.nextInt(4) == 0 ? random.nextLong(Long.MAX_VALUE) : base + i * stride;
                expected.add(ino);
                set.add(ino);
            }
            for (long ino : expected) {
                assertEquals(true, set.contains(ino), "round " + round + ": " + ino + " added");
            }
            for (int i = 0; i < 2 * n + 10; i++) {
                long ino = random.nextInt(2) == 0 ? base + random.nextInt(2 * n + 10) * stride : random.nextLong(Long.MAX_VALUE);
                assertEquals(expected.contains(ino), set.contains(ino), "round " + round + ": " + ino);
            }
        }
    }

    @Test
    void refusesMoreNumbersThanItWasMadeForAndNegativeOnes() {
        DirectoryScan.InodeSet set = new DirectoryScan.InodeSet(3);
        set.add(1);
        set.add(2);
        set.add(3);
        set.add(3); // already in: no room taken
        assertThrows(IllegalStateException.class, () -> set.add(4));
        assertThrows(IllegalArgumentException.class, () -> set.add(-1));
        assertThrows(IllegalArgumentException.class, () -> new DirectoryScan.InodeSet(-1));
        DirectoryScan.InodeSet none = new DirectoryScan.InodeSet(0);
        assertEquals(false, none.contains(0));
    }
}
