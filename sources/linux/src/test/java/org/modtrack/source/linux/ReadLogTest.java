package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.testing.Seeded;

@ExtendWith(Seeded.class)
class ReadLogTest {
    /** Names that share prefixes, and chars of one, two and three encoded bytes, surrogates alone included. */
    private static final String[] NAMES = {"a", "ab", "b", "dir", "f1", "f10", "caf\u00e9", "\u4e2d", "\ud83d\ude00", "x y",
            "\ud800", ""};

    @Test
    void everyReadComesBackAsItWentIn(SplittableRandom random) {
        for (int round = 0; round < 200; round++) {
            List<PathChange> entries = new ArrayList<>();
            int n = random.nextInt(100);
            for (int i = 0; i < n; i++) {
                entries.add(entry(random));
            }
            List<PathChange> reads = entries.stream().filter(e -> e.kind() != PathChange.Kind.DELETED).toList();
            ReadLog log = ReadLog.of(entries);
            assertEquals(reads.size(), log.size());
            List<ReadLog.Read> iterated = new ArrayList<>();
            log.forEach(iterated::add);
            for (int i = 0; i < reads.size(); i++) {
                PathChange e = reads.get(i);
                ReadLog.Read expected = new ReadLog.Read(e.path(), e.kind(), e.directory(), e.carried(), e.recovered(), e.links());
                assertEquals(expected, iterated.get(i), "read " + i + " in order");
                assertEquals(expected, log.get(i), "read " + i + " by its index");
                assertTrue(log.containsPath(e.path()), e.path());
            }
            List<String> whole = reads.stream().filter(e -> e.kind() == PathChange.Kind.RESCAN || e.kind() == PathChange.Kind.LIST
                    || (e.kind() == PathChange.Kind.RENAMED && e.directory())).map(PathChange::path).toList();
            assertEquals(whole, log.wholeReads().stream().map(ReadLog.Read::path).toList());
            for (int i = 0; i < 20; i++) {
                String other = path(random);
                assertEquals(reads.stream().anyMatch(e -> e.path().equals(other)), log.containsPath(other), other);
                assertEquals(whole.stream().anyMatch(w -> ResultPlanner.isAtOrBelow(other, w)), log.readWholeAtOrAbove(other),
                        other + " at or below one of " + whole);
            }
        }
    }

    /**
     * A result's files that only scans name are kept as the result's lists of their names, not
     * encoded: the log gives the reads their paths would, in order, by index and by path.
     */
    @Test
    void scanNamedFilesAreLoggedAsTheirPathsWouldBe(SplittableRandom random) {
        for (int round = 0; round < 100; round++) {
            List<ScanNamedFiles.Directory> dirs = new ArrayList<>();
            Set<String> paths = new TreeSet<>();
            for (int d = random.nextInt(6); d > 0; d--) {
                paths.add(path(random));
            }
            for (String dir : paths) {
                Set<String> born = new TreeSet<>();
                Set<String> written = new TreeSet<>();
                for (int f = random.nextInt(40); f > 0; f--) {
                    // A listed name is valid UTF-8: not the half surrogate pair, NAMES' one before last.
                    String name = NAMES[random.nextInt(NAMES.length - 2)] + random.nextInt(30);
                    if (!born.contains(name)) {
                        (random.nextBoolean() ? born : written).add(name);
                    }
                }
                written.removeAll(born);
                dirs.add(new ScanNamedFiles.Directory(dir, random.nextBoolean(), NameList.of(born.toArray(new String[0])),
                        NameList.of(written.toArray(new String[0]))));
            }
            List<PathChange> before = new ArrayList<>();
            List<PathChange> after = new ArrayList<>();
            for (int i = random.nextInt(20); i > 0; i--) {
                (random.nextBoolean() ? before : after).add(entry(random));
            }
            ResultEntries entries = new ResultEntries(before, new ScanNamedFiles(dirs).ordered(List.of(), Set.of()), after);
            ReadLog kept = ReadLog.of(entries);
            ReadLog ofPaths = ReadLog.of(new ArrayList<>(entries));
            assertEquals(ofPaths.size(), kept.size());
            List<ReadLog.Read> iterated = new ArrayList<>();
            kept.forEach(iterated::add);
            List<ReadLog.Read> expected = new ArrayList<>();
            ofPaths.forEach(expected::add);
            assertEquals(expected, iterated, "round " + round + ": in order");
            for (int i = 0; i < kept.size(); i++) {
                assertEquals(ofPaths.get(i), kept.get(i), "read " + i);
                assertTrue(kept.containsPath(expected.get(i).path()), expected.get(i).path());
            }
            assertEquals(ofPaths.wholeReads(), kept.wholeReads());
            for (int i = 0; i < 20; i++) {
                String other = paths.isEmpty() || random.nextBoolean() ? path(random)
                        : List.copyOf(paths).get(random.nextInt(paths.size())) + "/" + NAMES[random.nextInt(NAMES.length - 2)]
                                + random.nextInt(30);
                assertEquals(ofPaths.containsPath(other), kept.containsPath(other), other);
            }
            assertTrue(kept.bytes() <= ofPaths.bytes(), "the scanned files are not encoded");
        }
    }

    @Test
    void sortedPathsTakeAFewBytesEach() {
        List<PathChange> entries = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            entries.add(new PathChange(String.format("/srv/modtrack-data/sweep/d%05d/f%d", i / 1000, i), PathChange.Kind.CREATED,
                    null, false, false, false, 1));
        }
        ReadLog log = ReadLog.of(entries);
        assertTrue(log.bytes() < 12 * entries.size(), log.bytes() + " bytes for " + entries.size() + " reads");
        assertTrue(log.containsPath("/srv/modtrack-data/sweep/d00099/f99999"));
        assertFalse(log.containsPath("/srv/modtrack-data/sweep/d00099/f100000"));
        assertEquals(0, ReadLog.EMPTY.size());
        assertFalse(ReadLog.EMPTY.containsPath("/"));
    }

    private static PathChange entry(SplittableRandom random) {
        PathChange.Kind kind = PathChange.Kind.values()[random.nextInt(PathChange.Kind.values().length)];
        String path = path(random);
        return new PathChange(path, kind, kind == PathChange.Kind.RENAMED ? path(random) : null, random.nextBoolean(),
                random.nextBoolean(), random.nextBoolean(), random.nextInt(4) == 0 ? random.nextInt(1 << 20) : 1);
    }

    private static String path(SplittableRandom random) {
        StringBuilder b = new StringBuilder("/m");
        for (int depth = random.nextInt(4); depth >= 0; depth--) {
            b.append('/').append(NAMES[random.nextInt(NAMES.length)]);
        }
        return b.toString();
    }
}
