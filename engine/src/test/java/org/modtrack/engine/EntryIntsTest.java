package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link EntryInts} against a {@link HashMap} under random puts and removals, dense and sparse. */
class EntryIntsTest {
    @Test
    void agreesWithAMapUnderRandomPutsAndRemovals() {
        long seed = new Random().nextLong();
        for (int range : new int[] {16, 1_000, 1_000_000}) { // few keys fill runs: removal shifts them back
            Random random = new Random(seed + range);
            EntryInts ints = new EntryInts();
            Map<Integer, Integer> model = new HashMap<>();
            for (int step = 0; step < 200_000; step++) {
                int entry = random.nextInt(range);
                String where = "seed " + seed + ", range " + range + ", step " + step + ", entry " + entry;
                switch (random.nextInt(4)) {
                    case 0, 1 -> {
                        int value = random.nextInt(1000) + 1;
                        ints.put(entry, value);
                        model.put(entry, value);
                    }
                    case 2 -> {
                        ints.remove(entry);
                        model.remove(entry);
                    }
                    default -> {
                        ints.put(entry, 0); // 0 takes the value away
                        model.remove(entry);
                    }
                }
                int probe = random.nextInt(range);
                assertEquals(model.getOrDefault(probe, 0), ints.get(probe), where + ", probe " + probe);
                assertEquals(model.containsKey(probe), ints.contains(probe), where + ", probe " + probe);
                assertEquals(model.size(), ints.size(), where);
            }
            for (Map.Entry<Integer, Integer> e : model.entrySet()) {
                assertEquals(e.getValue(), ints.get(e.getKey()), "seed " + seed + ", range " + range);
            }
        }
    }
}
