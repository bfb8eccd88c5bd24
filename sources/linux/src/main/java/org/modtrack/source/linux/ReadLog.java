package org.modtrack.source.linux;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * What a result told its consumer to read (every entry but a removal), kept until the next result
 * is resolved ({@link ResultResolver}: a directory moved before the consumer got to an entry
 * took along what it read, or put it elsewhere, so the next result looks at these again).
 *
 * <p>Kept compactly because it lives between answers: a million entries as {@link PathChange}s
 * and their path strings were about 150 MB of the daemon's live heap, more than the engine's
 * records of the same files (docs/benchmarks.md, *Memory per changed file*). Each path is stored
 * as its difference from the one before it (the length they share, then the rest), in one byte
 * array with the entry's kind, flags and link count; a result's entries come in sorted runs, so
 * most share all but their last name. Every {@value #RESTART}th path is stored whole, so any entry
 * decodes from at most that many. Paths are kept as chars (one byte each below 128), so every
 * string comes back exactly as it went in.
 *
 * <p>The files only a scan names ({@link ScanNamedFiles.Ordered}) are not encoded: the log keeps the
 * result's own lists of them (each directory's names as bytes, about 20 B a file with its place in
 * the order), which are not changed once the result is made. Encoding a million of them was 0.05-0.14
 * s of CPU an answer (benchmarks/peers/answer), on a machine whose two CPUs the answer's writing and
 * its reader share.
 */
final class ReadLog implements Iterable<ReadLog.Read> {
    /** One read: what the resolver needs of an entry. */
    record Read(String path, PathChange.Kind kind, boolean directory, boolean carried, boolean recovered, int links) {}

    static final ReadLog EMPTY = of(List.of());

    private static final int RESTART = 16;
    private static final PathChange.Kind[] KINDS = PathChange.Kind.values();
    private static final int DIRECTORY = 1 << 3;
    private static final int CARRIED = 1 << 4;
    private static final int RECOVERED = 1 << 5;
    /** The largest array the JVM allocates safely; a log that would pass it is refused (see {@link Writer#ensure}). */
    private static final int MAX_BYTES = Integer.MAX_VALUE - 16;

    /** The encoded reads: those before the scanned files', then those after. */
    private final byte[] bytes;
    private final int[] restarts;
    private final int encoded;
    /** How many encoded reads come before the scanned files' ({@link #scanned}). */
    private final int split;
    /** The files only a scan names, read between the encoded ones; empty if none. */
    private final List<PathChange> scanned;
    private final List<Read> wholeReads;
    /** Open addressing by path hash, each slot an encoded read's index + 1; built at the first {@link #containsPath}. */
    private int[] index;
    /** The paths of {@link #wholeReads}, built at the first {@link #readWholeAtOrAbove}. */
    private Set<String> wholePaths;

    private ReadLog(byte[] bytes, int[] restarts, int encoded, int split, List<PathChange> scanned, List<Read> wholeReads) {
        assert split <= encoded : split + " of " + encoded + " encoded reads before the scanned files";
        this.bytes = bytes;
        this.restarts = restarts;
        this.encoded = encoded;
        this.split = split;
        this.scanned = scanned;
        this.wholeReads = wholeReads;
    }

    /**
     * The reads of {@code entries} (a result, in its order), leaving out removals.
     *
     * @throws IllegalStateException if they would take more than 2 GiB (about 200 million paths
     *     of a usual length: more than a journal at its limit holds)
     */
    static ReadLog of(List<PathChange> entries) {
        Encoder e = new Encoder(entries.size());
        if (entries instanceof ResultEntries r && r.scanNamed() instanceof ScanNamedFiles.Ordered files) {
            r.before().forEach(e::add);
            int split = e.n;
            r.after().forEach(e::add);
            return e.log(split, files);
        }
        entries.forEach(e::add);
        return e.log(e.n, List.of());
    }

    /**
     * Builds a log entry by entry, each path compared with the one before it by
     * {@link Arrays#mismatch}.
     */
    private static final class Encoder {
        private final Writer w = new Writer();
        private final List<Read> whole = new ArrayList<>();
        private final int[] restarts;
        private int n;
        private char[] path = new char[256];
        /** The path added before, which the next is stored against. */
        private char[] previous = new char[256];
        private int previousLength;

        Encoder(int most) {
            restarts = new int[most / RESTART + 1];
        }

        void add(PathChange c) {
            if (c.kind() == PathChange.Kind.DELETED) {
                return;
            }
            String p = c.path();
            int length = p.length();
            if (length > path.length) {
                path = new char[Math.max(length, 2 * path.length)];
                previous = Arrays.copyOf(previous, path.length);
            }
            p.getChars(0, length, path, 0);
            if (n % RESTART == 0) {
                restarts[n / RESTART] = w.length;
                previousLength = 0;
            }
            int shared = Arrays.mismatch(path, 0, length, previous, 0, previousLength);
            if (shared < 0) {
                shared = length; // the same path again
            }
            // Room for the whole entry at once: its flags, three ints and a char in at most 3 bytes each.
            w.ensure(1 + 3 * 5 + 3L * (length - shared));
            w.put(c.kind().ordinal() | (c.directory() ? DIRECTORY : 0) | (c.carried() ? CARRIED : 0)
                    | (c.recovered() ? RECOVERED : 0));
            w.varint(c.links());
            w.varint(shared);
            w.varint(length - shared);
            for (int i = shared; i < length; i++) {
                w.varint(path[i]);
            }
            System.arraycopy(path, shared, previous, shared, length - shared);
            previousLength = length;
            // A consumer that has nothing at a renamed directory's `from` (it applied the entry
            // before, and applies it again after a stop) reads the directory whole
            // (docs/protocol.md, *Applying a result*).
            if (c.kind() == PathChange.Kind.RESCAN || c.kind() == PathChange.Kind.LIST
                    || (c.kind() == PathChange.Kind.RENAMED && c.directory())) {
                whole.add(new Read(p, c.kind(), c.directory(), c.carried(), c.recovered(), c.links()));
            }
            n++;
        }

        ReadLog log(int split, List<PathChange> scanned) {
            return new ReadLog(Arrays.copyOf(w.bytes, w.length), Arrays.copyOf(restarts, (n + RESTART - 1) / RESTART), n, split,
                    scanned, List.copyOf(whole));
        }
    }

    /** A log of one read: everything below {@code path}, read whole. */
    static ReadLog rescanOf(String path) {
        return of(List.of(new PathChange(path, PathChange.Kind.RESCAN, null, true, false, false, 0)));
    }

    int size() {
        return encoded + scanned.size();
    }

    /** The bytes its encoded reads take (the index of {@link #containsPath} and the scanned files' lists aside). */
    int bytes() {
        return bytes.length + restarts.length * Integer.BYTES;
    }

    /**
     * The {@code rescan} and {@code list} reads and the renamed directories, in order: the consumer
     * read what was below them then.
     */
    List<Read> wholeReads() {
        return wholeReads;
    }

    /**
     * Whether {@code path} or a directory above it is one of the {@link #wholeReads} (every object
     * made and removed again in a period asks, and a result can rename thousands of directories).
     */
    boolean readWholeAtOrAbove(String path) {
        if (wholeReads.isEmpty()) {
            return false;
        }
        if (wholePaths == null) {
            wholePaths = HashSet.newHashSet(wholeReads.size());
            for (Read read : wholeReads) {
                wholePaths.add(read.path());
            }
        }
        return ResultPlanner.isAtOrBelowAny(path, wholePaths);
    }

    /** Every read, in the result's order. */
    @Override
    public Iterator<Read> iterator() {
        return new Iterator<>() {
            private final Reader reader = new Reader(0);
            private int next;
            private int nextEncoded;

            @Override
            public boolean hasNext() {
                return next < size();
            }

            @Override
            public Read next() {
                if (next >= size()) {
                    throw new NoSuchElementException();
                }
                int e = next++;
                if (e >= split && e < split + scanned.size()) {
                    return scannedRead(e - split);
                }
                if (nextEncoded % RESTART == 0) {
                    reader.at = restarts[nextEncoded / RESTART];
                }
                nextEncoded++;
                return reader.read();
            }
        };
    }

    private Read scannedRead(int i) {
        PathChange c = scanned.get(i);
        return new Read(c.path(), c.kind(), c.directory(), c.carried(), c.recovered(), c.links());
    }

    /** Whether one of the reads is at {@code path}. */
    boolean containsPath(String path) {
        if (scanned instanceof ScanNamedFiles.Ordered files && files.names(path)) {
            return true;
        }
        if (encoded == 0) {
            return false;
        }
        int[] table = index();
        int mask = table.length - 1;
        for (int slot = spread(path.hashCode()) & mask; table[slot] != 0; slot = (slot + 1) & mask) {
            if (encodedRead(table[slot] - 1).path().equals(path)) {
                return true;
            }
        }
        return false;
    }

    private int[] index() {
        if (index == null) {
            int[] table = new int[Integer.highestOneBit(Math.max(1, encoded) * 2 - 1) << 1];
            int mask = table.length - 1;
            Reader reader = new Reader(0);
            for (int e = 0; e < encoded; e++) {
                if (e % RESTART == 0) {
                    reader.at = restarts[e / RESTART];
                }
                int slot = spread(reader.read().path().hashCode()) & mask;
                while (table[slot] != 0) {
                    slot = (slot + 1) & mask;
                }
                table[slot] = e + 1;
            }
            index = table;
        }
        return index;
    }

    private static int spread(int hash) {
        return hash ^ (hash >>> 16);
    }

    /** Read {@code e}, in the result's order. */
    Read get(int e) {
        if (e < 0 || e >= size()) {
            throw new IndexOutOfBoundsException(e + " of " + size());
        }
        if (e < split) {
            return encodedRead(e);
        }
        return e < split + scanned.size() ? scannedRead(e - split) : encodedRead(e - scanned.size());
    }

    /** Encoded read {@code e}: decoded from the whole path stored at or before it. */
    private Read encodedRead(int e) {
        Reader reader = new Reader(restarts[e / RESTART]);
        Read r = reader.read();
        for (int i = e - e % RESTART; i < e; i++) {
            r = reader.read();
        }
        return r;
    }

    /** Decodes entries one after the other, each against the path before it. */
    private final class Reader {
        int at;
        private char[] path = new char[64];
        private int length;

        Reader(int at) {
            this.at = at;
        }

        Read read() {
            int header = bytes[at++];
            int links = varint();
            int shared = varint();
            int rest = varint();
            assert shared <= length : "a path shares " + shared + " chars with one of " + length;
            if (shared + rest > path.length) {
                path = Arrays.copyOf(path, Math.max(shared + rest, path.length * 2));
            }
            for (int i = 0; i < rest; i++) {
                path[shared + i] = (char) varint();
            }
            length = shared + rest;
            return new Read(new String(path, 0, length), KINDS[header & 7], (header & DIRECTORY) != 0,
                    (header & CARRIED) != 0, (header & RECOVERED) != 0, links);
        }

        private int varint() {
            int value = 0;
            for (int shift = 0; ; shift += 7) {
                byte b = bytes[at++];
                value |= (b & 0x7f) << shift;
                if (b >= 0) {
                    return value;
                }
            }
        }
    }

    /** A growing byte array. */
    private static final class Writer {
        byte[] bytes = new byte[256];
        int length;

        void ensure(long more) {
            if (length + more > bytes.length) {
                if (length + more > MAX_BYTES) {
                    throw new IllegalStateException("a result's reads would take more than " + MAX_BYTES + " bytes");
                }
                bytes = Arrays.copyOf(bytes, (int) Math.min(MAX_BYTES, Math.max(length + more, 2L * bytes.length)));
            }
        }

        void put(int b) {
            bytes[length++] = (byte) b;
        }

        /** A non-negative value, seven bits a byte (at most 5 bytes for an int, 3 for a char), in room {@link #ensure}d. */
        void varint(int value) {
            while ((value & ~0x7f) != 0) {
                put((value & 0x7f) | 0x80);
                value >>>= 7;
            }
            put(value);
        }
    }
}
