package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

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

    private final byte[] bytes;
    private final int[] restarts;
    private final int size;
    private final List<Read> wholeReads;
    /** Open addressing by path hash, each slot an entry's index + 1; built at the first {@link #containsPath}. */
    private int[] index;

    private ReadLog(byte[] bytes, int[] restarts, int size, List<Read> wholeReads) {
        this.bytes = bytes;
        this.restarts = restarts;
        this.size = size;
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
        try {
            ResultEntries.forEach(entries, e);
        } catch (IOException impossible) {
            throw new AssertionError("an encoder in memory does no I/O", impossible);
        }
        return e.log();
    }

    /**
     * Builds a log entry by entry. A scanned file comes as its directory and its name's bytes
     * ({@link EntrySink#scannedFile}): a million of them would otherwise each be made a path; the
     * directory's chars are put in place once for all its files, and each path compared with the one
     * before it by {@link Arrays#mismatch}.
     */
    private static final class Encoder implements EntrySink {
        private final Writer w = new Writer();
        private final List<Read> whole = new ArrayList<>();
        private final int[] restarts;
        private int n;
        /** The path being added, and the directory it begins with when a scanned file's (else null). */
        private char[] path = new char[256];
        private String pathPrefix;
        /** The path added before, which the next is stored against. */
        private char[] previous = new char[256];
        private int previousLength;

        Encoder(int most) {
            restarts = new int[most / RESTART + 1];
        }

        @Override
        public void change(PathChange c) {
            if (c.kind() == PathChange.Kind.DELETED) {
                return;
            }
            String p = c.path();
            pathPrefix = null;
            ensurePath(p.length());
            p.getChars(0, p.length(), path, 0);
            add(p.length(), c.kind(), c.directory(), c.carried(), c.recovered(), c.links());
            if (c.kind() == PathChange.Kind.RESCAN || c.kind() == PathChange.Kind.LIST) {
                whole.add(new Read(p, c.kind(), c.directory(), c.carried(), c.recovered(), c.links()));
            }
        }

        @Override
        public void scannedFile(String directory, byte[] name, int offset, int length, PathChange.Kind kind, boolean recovered) {
            int p = directory.length();
            if (directory != pathPrefix) { // the same String for every file of a directory: its chars are in place
                ensurePath(p);
                directory.getChars(0, p, path, 0);
                pathPrefix = directory;
            }
            int ascii = 0;
            while (ascii < length && name[offset + ascii] >= 0) {
                ascii++;
            }
            if (ascii == length) { // the usual name: its chars are its bytes
                ensurePath(p + length);
                for (int i = 0; i < length; i++) {
                    path[p + i] = (char) name[offset + i];
                }
                add(p + length, kind, false, false, recovered, 1);
            } else {
                String decoded = new String(name, offset, length, StandardCharsets.UTF_8);
                ensurePath(p + decoded.length());
                decoded.getChars(0, decoded.length(), path, p);
                add(p + decoded.length(), kind, false, false, recovered, 1);
            }
        }

        private void ensurePath(int length) {
            if (length > path.length) {
                path = Arrays.copyOf(path, Math.max(length, 2 * path.length));
            }
        }

        /** Adds the first {@code length} chars of {@link #path}. */
        private void add(int length, PathChange.Kind kind, boolean directory, boolean carried, boolean recovered, int links) {
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
            w.put(kind.ordinal() | (directory ? DIRECTORY : 0) | (carried ? CARRIED : 0) | (recovered ? RECOVERED : 0));
            w.varint(links);
            w.varint(shared);
            w.varint(length - shared);
            for (int i = shared; i < length; i++) {
                w.varint(path[i]);
            }
            if (length > previous.length) {
                previous = Arrays.copyOf(previous, Math.max(length, 2 * previous.length));
            }
            System.arraycopy(path, shared, previous, shared, length - shared);
            previousLength = length;
            n++;
        }

        ReadLog log() {
            return new ReadLog(Arrays.copyOf(w.bytes, w.length), Arrays.copyOf(restarts, (n + RESTART - 1) / RESTART), n,
                    List.copyOf(whole));
        }
    }

    /** A log of one read: everything below {@code path}, read whole. */
    static ReadLog rescanOf(String path) {
        return of(List.of(new PathChange(path, PathChange.Kind.RESCAN, null, true, false, false, 0)));
    }

    int size() {
        return size;
    }

    /** The bytes its reads take (the index of {@link #containsPath} aside). */
    int bytes() {
        return bytes.length + restarts.length * Integer.BYTES;
    }

    /** The {@code rescan} and {@code list} reads, in order: the consumer read what was below them then. */
    List<Read> wholeReads() {
        return wholeReads;
    }

    /** Every read, in the result's order. */
    @Override
    public Iterator<Read> iterator() {
        return new Iterator<>() {
            private final Reader reader = new Reader(0);
            private int next;

            @Override
            public boolean hasNext() {
                return next < size;
            }

            @Override
            public Read next() {
                if (next >= size) {
                    throw new NoSuchElementException();
                }
                if (next % RESTART == 0) {
                    reader.at = restarts[next / RESTART];
                }
                next++;
                return reader.read();
            }
        };
    }

    /** Whether one of the reads is at {@code path}. */
    boolean containsPath(String path) {
        if (size == 0) {
            return false;
        }
        int[] table = index();
        int mask = table.length - 1;
        for (int slot = spread(path.hashCode()) & mask; table[slot] != 0; slot = (slot + 1) & mask) {
            if (get(table[slot] - 1).path().equals(path)) {
                return true;
            }
        }
        return false;
    }

    private int[] index() {
        if (index == null) {
            int[] table = new int[Integer.highestOneBit(Math.max(1, size) * 2 - 1) << 1];
            int mask = table.length - 1;
            int e = 0;
            for (Read r : this) {
                int slot = spread(r.path().hashCode()) & mask;
                while (table[slot] != 0) {
                    slot = (slot + 1) & mask;
                }
                table[slot] = ++e;
            }
            index = table;
        }
        return index;
    }

    private static int spread(int hash) {
        return hash ^ (hash >>> 16);
    }

    /** Entry {@code e}: decoded from the whole path stored at or before it. */
    Read get(int e) {
        if (e < 0 || e >= size) {
            throw new IndexOutOfBoundsException(e + " of " + size);
        }
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
