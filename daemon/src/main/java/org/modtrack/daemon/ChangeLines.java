package org.modtrack.daemon;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.modtrack.source.linux.EntrySink;
import org.modtrack.source.linux.PathChange;

/**
 * A result's entries as JSON, written into one buffer as the bytes Jackson's generator writes for
 * them ({@link Protocol#writeChangeFields}), and sent whenever the buffer holds enough: a line each
 * in the streaming form, else the elements of the {@code changes} array, comma-separated. A file only
 * a scan names comes as its directory and name ({@link EntrySink#scannedFile}), and each directory's
 * path is encoded once for all its files.
 *
 * <p>Why not the generator: a million-entry answer is a million such objects, and the generator's
 * per-token bookkeeping (a context check per field and value) took 156 ms of CPU per million
 * entries where these loops take 52 ms (the same entries into memory, warm, on this machine: a
 * throwaway comparison), on the thread that writes the answer, beside the scan's and the reader's
 * on two CPUs; and each entry was a {@code PathChange} and a path made for it alone.
 * {@code ChangeLinesTest} checks the bytes against the generator's.
 *
 * <p>In the compact form (a {@code root} given) an entry's paths are relative to the root ({@code .}
 * for the root itself; a path outside it, which a result never holds, would stay absolute) and only
 * the fields that differ from their defaults are written, with no {@code "type"} on a line: about a
 * third of the bytes of the full form for a file below a long root (docs/protocol.md, <i>Compact
 * entries</i>). {@code ChangeLinesTest} checks that {@code CompactEntries} expands each into the
 * full form's entry.
 *
 * <p>Strings are escaped as the generator escapes them: a quote, a backslash and the control
 * characters (the short forms where JSON has them, else {@code \\u00XX}), and each half of a
 * surrogate pair (a char above U+FFFF) as its {@code \\uXXXX}; everything else is UTF-8.
 */
final class ChangeLines implements EntrySink {
    /** Where the bytes go: they may be overwritten once it returns. */
    interface Output {
        void write(ByteBuffer bytes) throws IOException;
    }

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TYPE = ascii("{\"type\":\"change\",");
    private static final byte[] PATH = ascii("\"path\":\"");
    private static final byte[] KIND = ascii("\",\"kind\":\"");
    private static final byte[] FROM = ascii("\",\"from\":\"");
    private static final byte[] CHANGED = ascii("\",\"changed\":");
    private static final byte[] NAMES_ONLY = ascii(",\"namesOnly\":true");
    private static final byte[] DIRECTORY = ascii(",\"directory\":");
    private static final byte[] CARRIED = ascii(",\"carried\":");
    private static final byte[] RECOVERED = ascii(",\"recovered\":");
    private static final byte[] LINKS = ascii(",\"links\":");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");
    /** What follows a scanned file's kind: not a directory, not carried, then whether it was recovered. */
    private static final byte[] SCANNED_FILE_FLAGS = ascii("\",\"directory\":false,\"carried\":false,\"recovered\":");
    private static final byte[] ONE_LINK = ascii(",\"links\":1");
    private static final byte[][] KINDS = Arrays.stream(PathChange.Kind.values()).map(k -> ascii(k.wireName()))
            .toArray(byte[][]::new);
    private static final byte[] COMPACT_PATH = ascii("{\"path\":\"");
    /** More than the bytes of an entry's every field but its strings (about 170). */
    private static final int FIXED_BYTES = 256;
    /** The most bytes one char takes: a control character's {@code \\u00XX}. */
    private static final int MAX_BYTES_PER_CHAR = 6;

    private final boolean stream;
    /** The root the compact form's paths are relative to; null: the full form. */
    private final String root;
    private final boolean listsByName;
    private final int flushBytes;
    private final Output out;
    private byte[] bytes;
    private int length;
    private boolean first = true;
    /** The directory, kind and recovery of the last scanned file, and its entry's bytes before and after its name. */
    private String scannedDirectory;
    private PathChange.Kind scannedKind;
    private boolean scannedRecovered;
    private byte[] scannedHead;
    private byte[] scannedTail;

    /**
     * @param stream a line per entry ({@code "type":"change"}); else array elements
     * @param root the compact form, with paths relative to this root (an absolute path without a
     *     trailing slash, or "/"); null: the full form
     * @param listsByName whether the result's {@code list} entries compare names only ({@code namesOnly})
     * @param flushBytes how many bytes are kept before they are sent to {@code out}
     */
    ChangeLines(boolean stream, String root, boolean listsByName, int flushBytes, Output out) {
        assert root == null || root.equals("/") || root.startsWith("/") && !root.endsWith("/") : root;
        this.stream = stream;
        this.root = root;
        this.listsByName = listsByName;
        this.flushBytes = flushBytes;
        this.out = out;
        this.bytes = new byte[Math.max(flushBytes, 1) + FIXED_BYTES];
    }

    @Override
    public void change(PathChange c) throws IOException {
        String from = c.from();
        start(MAX_BYTES_PER_CHAR * ((long) c.path().length() + (from == null ? 0 : from.length())));
        path(c.path());
        put(KIND);
        put(KINDS[c.kind().ordinal()]);
        if (from != null) {
            put(FROM);
            path(from);
            put(CHANGED);
            put(c.changed() ? TRUE : FALSE);
        } else {
            bytes[length++] = '"';
        }
        if (c.kind() == PathChange.Kind.LIST && listsByName) {
            put(NAMES_ONLY);
        }
        flag(DIRECTORY, c.directory());
        flag(CARRIED, c.carried());
        flag(RECOVERED, c.recovered());
        if (root == null || c.links() != 1) {
            put(LINKS);
            number(c.links());
        }
        end();
    }

    /** A path as the form has it: whole, or relative to the root; in room {@link #ensure}d. */
    private void path(String path) {
        if (root == null) {
            string(path);
        } else {
            relative(path);
        }
    }

    /** A flag ({@code name} up to its colon): always in the full form, only where it is true in the compact one. */
    private void flag(byte[] name, boolean value) {
        if (root == null || value) {
            put(name);
            put(value ? TRUE : FALSE);
        }
    }

    @Override
    public void scannedFile(String directory, byte[] name, int offset, int length, PathChange.Kind kind, boolean recovered)
            throws IOException {
        if (!directory.equals(scannedDirectory) || kind != scannedKind || recovered != scannedRecovered) {
            scannedHeadAndTail(directory, kind, recovered);
        }
        ensure(scannedHead.length + scannedTail.length + 1 + (long) MAX_BYTES_PER_CHAR * length);
        separate();
        put(scannedHead);
        utf8(name, offset, length);
        put(scannedTail);
        flushIfFull();
    }

    /**
     * Encodes the bytes of a scanned file's entry before its name (up to and with its directory's
     * path) and after it (to the end of the entry), as {@link #start}, {@link #path} and
     * {@link #end} write them, once for every file of a directory: a million-file answer is mostly
     * such entries, and with three copies an entry instead of nine its writer's thread took a median
     * 50 ms of CPU where it took 65 (benchmarks/peers/answer --files 1000000, three runs each way).
     */
    private void scannedHeadAndTail(String directory, PathChange.Kind kind, boolean recovered) {
        ensure(2L * FIXED_BYTES + (long) MAX_BYTES_PER_CHAR * directory.length());
        int at = this.length;
        opening();
        if (root == null) {
            string(directory);
        } else {
            relativeDirectory(directory);
        }
        scannedHead = Arrays.copyOfRange(bytes, at, this.length);
        this.length = at;
        put(KIND);
        put(KINDS[kind.ordinal()]);
        if (root == null) {
            put(SCANNED_FILE_FLAGS);
            put(recovered ? TRUE : FALSE);
            put(ONE_LINK);
        } else {
            bytes[this.length++] = '"';
            flag(RECOVERED, recovered);
        }
        closing();
        scannedTail = Arrays.copyOfRange(bytes, at, this.length);
        this.length = at;
        scannedDirectory = directory;
        scannedKind = kind;
        scannedRecovered = recovered;
    }

    /** {@code path} relative to the root ("." for the root itself; absolute where it is not below it), in room {@link #ensure}d. */
    private void relative(String path) {
        int below = below(path);
        if (below < 0) {
            string(path, 0);
        } else if (below == path.length()) {
            bytes[length++] = '.';
        } else {
            string(path, below);
        }
    }

    /** A scanned file's directory (ending in a slash) relative to the root: nothing for the root itself. */
    private void relativeDirectory(String directory) {
        assert directory.endsWith("/") : directory;
        String path = directory.length() == 1 ? directory : directory.substring(0, directory.length() - 1);
        int below = below(path);
        if (below < 0) {
            string(directory, 0);
        } else if (below < path.length()) {
            string(directory, below);
        }
    }

    /**
     * Where {@code path}'s part below the root begins: its length for the root itself, -1 for a path
     * that is not the root or below it, or whose part below would not resolve back to it (empty, "."
     * or beginning with a slash: no path a result names, but then it is written whole).
     */
    private int below(String path) {
        int start;
        if (root.equals("/")) {
            if (!path.startsWith("/")) {
                return -1;
            }
            if (path.length() == 1) {
                return 1;
            }
            start = 1;
        } else {
            if (!path.startsWith(root)) {
                return -1;
            }
            if (path.length() == root.length()) {
                return path.length();
            }
            if (path.charAt(root.length()) != '/') {
                return -1;
            }
            start = root.length() + 1;
        }
        boolean resolvesBack = start < path.length() && path.charAt(start) != '/'
                && !(start == path.length() - 1 && path.charAt(start) == '.');
        return resolvesBack ? start : -1;
    }

    /** Sends what is kept. */
    void flush() throws IOException {
        if (length > 0) {
            out.write(ByteBuffer.wrap(bytes, 0, length));
            length = 0;
        }
    }

    /** Opens an entry whose strings take at most {@code stringBytes}, up to its path's opening quote. */
    private void start(long stringBytes) {
        ensure(FIXED_BYTES + stringBytes);
        separate();
        opening();
    }

    /** The comma between array elements: before every entry but the first, in the form that is not streamed. */
    private void separate() {
        if (!stream && !first) {
            bytes[length++] = ',';
        }
        first = false;
    }

    /** An entry's bytes up to its path's opening quote. */
    private void opening() {
        if (root != null) {
            put(COMPACT_PATH);
            return;
        }
        if (stream) {
            put(TYPE);
        } else {
            bytes[length++] = '{';
        }
        put(PATH);
    }

    private void end() throws IOException {
        closing();
        flushIfFull();
    }

    /** An entry's closing brace, and the newline that ends its line when streamed. */
    private void closing() {
        bytes[length++] = '}';
        if (stream) {
            bytes[length++] = '\n';
        }
    }

    private void flushIfFull() throws IOException {
        if (length >= flushBytes) {
            flush();
        }
    }

    private void ensure(long more) {
        if (length + more > bytes.length) {
            if (length + more > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("an entry of " + more + " bytes");
            }
            bytes = Arrays.copyOf(bytes, (int) Math.max(length + more, 2L * bytes.length));
        }
    }

    private void put(byte[] b) {
        System.arraycopy(b, 0, bytes, length, b.length);
        length += b.length;
    }

    /** {@code s}'s chars escaped, in room {@link #ensure}d. */
    private void string(String s) {
        string(s, 0);
    }

    /** {@code s}'s chars from {@code begin} on, escaped, in room {@link #ensure}d. */
    private void string(String s, int begin) {
        int n = s.length();
        for (int i = begin; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                if (c >= 0x20 && c != '"' && c != '\\') {
                    bytes[length++] = (byte) c;
                } else {
                    escape(c);
                }
            } else if (c < 0x800) {
                bytes[length++] = (byte) (0xc0 | (c >> 6));
                bytes[length++] = (byte) (0x80 | (c & 0x3f));
            } else if (Character.isSurrogate(c)) {
                unicodeEscape(c); // as the generator writes a pair (it does not combine them into UTF-8) and each half alone
            } else {
                bytes[length++] = (byte) (0xe0 | (c >> 12));
                bytes[length++] = (byte) (0x80 | ((c >> 6) & 0x3f));
                bytes[length++] = (byte) (0x80 | (c & 0x3f));
            }
        }
    }

    /**
     * The UTF-8 {@code b[offset, offset + n)} escaped as {@link #string} escapes what it decodes to, in
     * room {@link #ensure}d ({@link #MAX_BYTES_PER_CHAR} a byte is enough: a char past U+FFFF is four
     * bytes and two escapes of six): a name's bytes are most often copied as they are.
     */
    private void utf8(byte[] b, int offset, int n) {
        int end = offset + n;
        int i = offset;
        while (i < end) {
            int from = i;
            while (i < end && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\') { // ASCII that needs no escape; a byte past 0x7f is negative
                i++;
            }
            System.arraycopy(b, from, bytes, length, i - from);
            length += i - from;
            if (i == end) {
                return;
            }
            int u = b[i] & 0xff;
            if (u < 0x80) {
                escape((char) u);
                i++;
            } else if (u >= 0xf0) { // four bytes: a char past U+FFFF, which the generator writes as its surrogates' escapes
                int cp = ((u & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
                unicodeEscape(Character.highSurrogate(cp));
                unicodeEscape(Character.lowSurrogate(cp));
                i += 4;
            } else { // two or three bytes: the generator writes the same UTF-8
                int k = u >= 0xe0 ? 3 : 2;
                System.arraycopy(b, i, bytes, length, k);
                length += k;
                i += k;
            }
        }
    }

    /** {@code n} in decimal, as the generator writes an int. */
    private void number(int n) {
        if (n >= 0 && n < 10) {
            bytes[length++] = (byte) ('0' + n); // the usual link count: no string made
        } else {
            put(ascii(Integer.toString(n)));
        }
    }

    private void escape(char c) {
        char shortForm = switch (c) {
            case '"' -> '"';
            case '\\' -> '\\';
            case '\b' -> 'b';
            case '\t' -> 't';
            case '\n' -> 'n';
            case '\f' -> 'f';
            case '\r' -> 'r';
            default -> 0;
        };
        if (shortForm != 0) {
            bytes[length++] = '\\';
            bytes[length++] = (byte) shortForm;
        } else {
            unicodeEscape(c);
        }
    }

    private void unicodeEscape(char c) {
        bytes[length++] = '\\';
        bytes[length++] = 'u';
        bytes[length++] = HEX[(c >> 12) & 0xf];
        bytes[length++] = HEX[(c >> 8) & 0xf];
        bytes[length++] = HEX[(c >> 4) & 0xf];
        bytes[length++] = HEX[c & 0xf];
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
