package org.modtrack.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What the files of a {@link RecordingDisk} may hold after a power cut at any point of its
 * {@link WriteLog}, as CrashMonkey builds crash states: each file holds every write logged before its
 * last fsync or fdatasync before the cut (a flush of the loop device above it), and a chosen subset
 * of its writes after that flush and before the cut, which the disk may or may not have persisted
 * ({@link Subset}). Each file is a disk of its own: the subsets are chosen for each apart.
 *
 * <p>Cuts are cheapest in increasing order: the durable part of each file is kept and advanced (a
 * copy of its base image, with the writes up to its last flush applied); a cut before the last one
 * starts that copy again from the base.
 *
 * <p>As a tool: {@code java -cp testing/target/classes org.modtrack.testing.CrashImages LOG BASE_DIR
 * OUT_DIR CUT [none|all|prefix|random] [SEED]} writes into OUT_DIR each file of BASE_DIR (the images as
 * they were when the log began) as it may be after a cut after the first CUT records.
 */
public final class CrashImages {
    /** Which of the writes after a file's last flush the disk persisted. */
    public enum Subset {
        /** None: only what was flushed. */
        NONE,
        /** All of them. */
        ALL,
        /** The first k of them, k chosen at random from 0 to all. */
        PREFIX,
        /** Each with probability 1/2. */
        RANDOM;

        public static Subset parse(String name) {
            return valueOf(name.toUpperCase(Locale.ROOT));
        }
    }

    /** What a cut gave one file: the writes since its last flush ({@code pending}), and which of them it kept. */
    public record FileState(String name, int lastFlush, int pending, List<Integer> kept) {
        @Override
        public String toString() {
            return name + ": " + pending + " write(s) after its last flush (record " + lastFlush + "), kept "
                    + (kept.size() == pending ? "all" : kept.size() == 0 ? "none" : kept.size() + " " + kept);
        }
    }

    private final WriteLog log;
    private final Map<String, Path> bases;
    private final Path work;
    private final Map<String, Integer> appliedUpTo = new LinkedHashMap<>(); // records below this are in the durable copy
    private final Map<String, int[]> flushesOf = new HashMap<>(); // name: its fsyncs' record indexes, in order
    private final Map<String, int[]> writesOf = new HashMap<>(); // name: its writes' and truncations' record indexes

    /**
     * Cuts of {@code log}, whose files were {@code bases} (name: a copy of the file when the log began)
     * when it began; {@code work} holds the durable copies.
     */
    public CrashImages(WriteLog log, Map<String, Path> bases, Path work) throws IOException {
        this.log = log;
        this.bases = Map.copyOf(bases);
        this.work = Files.createDirectories(work);
        for (String name : bases.keySet()) {
            int id = log.fileId(name);
            List<Integer> flushes = new ArrayList<>();
            List<Integer> writes = new ArrayList<>();
            for (int i = 0; id >= 0 && i < log.size(); i++) {
                if (log.file(i) == id && log.type(i) == WriteLog.Type.FSYNC) {
                    flushes.add(i);
                } else if (log.file(i) == id && (log.type(i) == WriteLog.Type.WRITE || log.type(i) == WriteLog.Type.TRUNCATE)) {
                    writes.add(i);
                }
            }
            flushesOf.put(name, flushes.stream().mapToInt(Integer::intValue).toArray());
            writesOf.put(name, writes.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    /**
     * Writes into {@code out} each file as it may be after a cut after the first {@code cut} records,
     * with the writes after its last flush kept as {@code subset} says ({@code random} chooses the
     * prefix's length and the random subsets); returns what each file kept.
     */
    public List<FileState> build(int cut, Subset subset, SplittableRandom random, Path out) throws IOException {
        if (cut < 0 || cut > log.size()) {
            throw new IllegalArgumentException("cut " + cut + " is outside the log (0 to " + log.size() + ")");
        }
        Files.createDirectories(out);
        List<FileState> states = new ArrayList<>();
        for (Map.Entry<String, Path> e : bases.entrySet()) {
            String name = e.getKey();
            int[] flushes = flushesOf.get(name);
            int[] writes = writesOf.get(name);
            int k = Arrays.binarySearch(flushes, cut);
            k = k >= 0 ? k - 1 : -k - 2; // the last flush before the cut
            int lastFlush = k >= 0 ? flushes[k] : -1;
            List<Integer> pending = new ArrayList<>();
            int w = Arrays.binarySearch(writes, lastFlush + 1);
            for (w = w >= 0 ? w : -w - 1; w < writes.length && writes[w] < cut; w++) {
                pending.add(writes[w]);
            }
            Path durable = advance(name, e.getValue(), Math.max(lastFlush, 0));
            Path image = out.resolve(name);
            Files.deleteIfExists(image);
            Command.run("cp", "--sparse=always", "--reflink=auto", durable.toString(), image.toString());
            List<Integer> kept = choose(pending, subset, random);
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                for (int i : kept) {
                    apply(f, i);
                }
            }
            states.add(new FileState(name, lastFlush, pending.size(), kept));
        }
        return states;
    }

    /** The durable copy of {@code name} with every write of it before record {@code upTo} applied. */
    private Path advance(String name, Path base, int upTo) throws IOException {
        Path durable = work.resolve(name);
        int from = appliedUpTo.getOrDefault(name, -1);
        if (from < 0 || from > upTo) {
            Files.deleteIfExists(durable);
            Command.run("cp", "--sparse=always", "--reflink=auto", base.toString(), durable.toString());
            from = 0;
        }
        try (RandomAccessFile f = new RandomAccessFile(durable.toFile(), "rw")) {
            for (int i : writesOf.get(name)) {
                if (i >= from && i < upTo) {
                    apply(f, i);
                }
            }
        }
        appliedUpTo.put(name, upTo);
        return durable;
    }

    private void apply(RandomAccessFile f, int i) throws IOException {
        if (log.type(i) == WriteLog.Type.TRUNCATE) {
            f.setLength(log.offset(i));
        } else {
            f.seek(log.offset(i));
            f.write(log.payload(i));
        }
    }

    private static List<Integer> choose(List<Integer> pending, Subset subset, SplittableRandom random) {
        return switch (subset) {
            case NONE -> List.of();
            case ALL -> List.copyOf(pending);
            case PREFIX -> List.copyOf(pending.subList(0, pending.isEmpty() ? 0 : random.nextInt(pending.size() + 1)));
            case RANDOM -> pending.stream().filter(i -> random.nextBoolean()).toList();
        };
    }

    /** The tool: see the class comment. */
    public static void main(String[] args) throws IOException {
        if (args.length < 4) {
            System.err.println("usage: CrashImages LOG BASE_DIR OUT_DIR CUT [none|all|prefix|random] [SEED]");
            System.exit(2);
        }
        try (WriteLog log = WriteLog.read(Path.of(args[0]))) {
            Map<String, Path> bases = new LinkedHashMap<>();
            try (var files = Files.list(Path.of(args[1]))) {
                files.filter(p -> log.fileId(p.getFileName().toString()) >= 0).sorted()
                        .forEach(p -> bases.put(p.getFileName().toString(), p));
            }
            Path out = Path.of(args[2]);
            CrashImages images = new CrashImages(log, bases, out.resolve(".durable"));
            Subset subset = args.length > 4 ? Subset.parse(args[4]) : Subset.NONE;
            long seed = args.length > 5 ? Long.parseLong(args[5]) : 1;
            for (FileState s : images.build(Integer.parseInt(args[3]), subset, new SplittableRandom(seed), out)) {
                System.out.println(s);
            }
            TempMounts.deleteTree(out.resolve(".durable"));
        }
    }
}
