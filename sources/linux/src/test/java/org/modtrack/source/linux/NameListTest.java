package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.testing.Seeded;

@ExtendWith(Seeded.class)
class NameListTest {
    /**
     * Pieces of names that sort apart as bytes and as chars: ASCII, Latin-1 above 0x7f, past 8 bits,
     * U+E000-U+FFFF (after a surrogate pair as chars, before it as code points) and past U+FFFF.
     */
    private static final String[] PIECES = {"a", "b", "z", "A", "0", "9", ".", "-", " ", "~", "\u007f", "\u0080", "\u00e9",
            "\u00ff", "\u0100", "\u07ff", "\u0800", "\u4e2d", "\ud7ff", "\ue000", "\uf8ff", "\ufffd", "\uffff", "\ud83d\ude00",
            "\ud800\udc00", "\udbff\udfff"};

    @Test
    void sortsAndFindsAsStringsCompare(SplittableRandom random) {
        // One builder for every round as well, as a scanning thread keeps one from a directory to the
        // next: a list of a few names after one of thousands leaves the scratch longer than the names.
        NameList.Builder reused = new NameList.Builder();
        for (int round = 0; round < 2_000; round++) {
            int n = random.nextInt(3) == 0 ? random.nextInt(20) : random.nextInt(2_000);
            String shared = name(random, random.nextInt(3) == 0 ? 8 : 2, random.nextInt(4) == 0);
            boolean wide = random.nextInt(5) == 0;
            String[] names = new String[n];
            for (int i = 0; i < n; i++) {
                // A shared prefix (as a directory's "f123000".."f123999" have), then names that often
                // tie in the key's bytes and differ past them, or are a prefix of another, or repeat.
                names[i] = i > 0 && random.nextInt(10) == 0 ? names[random.nextInt(i)]
                        : shared + name(random, random.nextInt(12), wide);
            }
            List<String> expected = new ArrayList<>(new TreeSet<>(List.of(names)));
            NameList list = NameList.of(names);
            assertEquals(expected, names(list), "round " + round + ", " + n + " names");
            reused.clear();
            for (String name : names) {
                reused.add(name);
            }
            assertEquals(expected, names(reused.sorted(NameList.EMPTY)), "round " + round + ", " + n + " names, a reused builder");
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(i, list.indexOf(expected.get(i)), "round " + round);
            }
            String absent = shared + name(random, 1 + random.nextInt(12), wide);
            assertEquals(expected.contains(absent), list.contains(absent), "round " + round + ": " + absent);
        }
    }

    /** A builder emptied after a directory too large for its arrays to be kept sorts the next one as a new builder would. */
    @Test
    void aBuilderReusedAfterAVeryLargeDirectorySortsTheNextOne(SplittableRandom random) {
        NameList.Builder reused = new NameList.Builder();
        for (int n : new int[] {NameList.Builder.KEPT_NAMES + 1_000, 40, NameList.Builder.KEPT_NAMES + 1, 3}) {
            String[] names = new String[n];
            for (int i = 0; i < n; i++) {
                names[i] = "f" + random.nextInt(4 * n) + name(random, random.nextInt(3), true);
            }
            reused.clear();
            for (String name : names) {
                reused.add(name);
            }
            assertEquals(new ArrayList<>(new TreeSet<>(List.of(names))), names(reused.sorted(NameList.EMPTY)), n + " names");
        }
    }

    @Test
    void comparesBytesAsStringsCompare(SplittableRandom random) {
        for (int round = 0; round < 100_000; round++) {
            String a = name(random, random.nextInt(4), true);
            String b = random.nextInt(4) == 0 ? a + name(random, random.nextInt(3), true) : name(random, random.nextInt(4), true);
            byte[] x = a.getBytes(StandardCharsets.UTF_8);
            byte[] y = b.getBytes(StandardCharsets.UTF_8);
            assertEquals(Integer.signum(a.compareTo(b)), Integer.signum(NameList.compare(x, 0, x.length, y, 0, y.length)),
                    "'" + a + "' and '" + b + "'");
        }
    }

    @Test
    void unionsHaveEachNameOnceLessThoseTaken(SplittableRandom random) {
        for (int round = 0; round < 2_000; round++) {
            TreeSet<String> a = someNames(random);
            TreeSet<String> b = random.nextInt(3) == 0 ? new TreeSet<>() : someNames(random);
            TreeSet<String> taken = random.nextInt(3) == 0 ? someNames(random) : new TreeSet<>();
            TreeSet<String> expected = new TreeSet<>(a);
            expected.addAll(b);
            expected.removeAll(taken);
            NameList la = NameList.of(a.toArray(new String[0]));
            NameList got = NameList.union(la, NameList.of(b.toArray(new String[0])), NameList.of(taken.toArray(new String[0])));
            assertEquals(List.copyOf(expected), names(got), "round " + round);
            if (b.isEmpty() && expected.size() == a.size()) {
                assertSame(la, got, "round " + round + ": nothing to add or take out, so no copy");
            }
            NameList.Builder builder = new NameList.Builder();
            b.forEach(builder::add);
            a.forEach(builder::add); // again: each once
            TreeSet<String> less = new TreeSet<>(b);
            less.removeAll(a);
            assertEquals(List.copyOf(less), names(builder.sorted(la)), "round " + round + ": sorted less those taken");
        }
    }

    /**
     * A name that is not UTF-8 is refused where only UTF-8 is taken (it is to stay a record) and
     * otherwise kept as what it decodes to; a name with half a surrogate pair is none of the names.
     */
    @Test
    void namesThatAreNotUtf8AreRefusedOrKeptAsDecoded() {
        byte[][] bad = {{'a', (byte) 0xff}, {(byte) 0xc0, (byte) 0x80}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                {'x', (byte) 0xe4, (byte) 0xb8}, "\ufffd".getBytes(StandardCharsets.UTF_8)};
        for (byte[] name : bad) {
            NameList.Builder strict = new NameList.Builder();
            assertEquals(false, strict.add(name, true), new String(name, StandardCharsets.UTF_8));
            assertEquals(0, strict.sorted(NameList.EMPTY).size());
            NameList.Builder kept = new NameList.Builder();
            assertTrue(kept.add(name, false));
            NameList list = kept.sorted(NameList.EMPTY);
            String decoded = new String(name, StandardCharsets.UTF_8);
            assertEquals(List.of(decoded), names(list));
            assertEquals(0, list.indexOf(decoded));
        }
        NameList.Builder good = new NameList.Builder();
        assertTrue(good.add("\u00e9\ud83d\ude00".getBytes(StandardCharsets.UTF_8), true));
        NameList question = NameList.of("?", "a?");
        assertEquals(-1, question.indexOf("\ud800"), "half a pair is no name, though the JDK encodes it as ?");
        assertEquals(-1, question.indexOf("a\udc00"));
        assertEquals(0, question.indexOf("?"));
    }

    private static List<String> names(NameList list) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            out.add(list.name(i));
        }
        return out;
    }

    private static TreeSet<String> someNames(SplittableRandom random) {
        TreeSet<String> names = new TreeSet<>();
        for (int i = random.nextInt(40); i > 0; i--) {
            names.add("f" + name(random, random.nextInt(3), random.nextInt(4) == 0));
        }
        return names;
    }

    private static String name(SplittableRandom random, int pieces, boolean wide) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < pieces; i++) {
            b.append(PIECES[random.nextInt(wide ? PIECES.length : 10)]);
        }
        return b.toString();
    }
}
