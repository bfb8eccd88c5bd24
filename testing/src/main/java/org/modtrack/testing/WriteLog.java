package org.modtrack.testing;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The log a {@link RecordingDisk} wrote: every write, fsync, fdatasync, truncation and close of its
 * files, and the test's marks, in the one order the disk saw them (format: recording_disk.py).
 * Record {@code i} is the {@code i}-th; a <em>cut</em> {@code c} is the point after the first
 * {@code c} records (0 to {@link #size()}).
 */
public final class WriteLog implements AutoCloseable {
    /** What a record is. */
    public enum Type { WRITE, FSYNC, CLOSE, MARK, NAME, TRUNCATE }

    private static final byte[] MAGIC = "MTRLOG1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 24;

    private final FileChannel channel;
    private int size;
    private byte[] types = new byte[1024];
    private int[] files = new int[1024];
    private long[] offsets = new long[1024];
    private long[] lengths = new long[1024];
    private long[] payloads = new long[1024]; // where the payload starts in the log
    private final Map<Integer, String> names = new HashMap<>();

    private WriteLog(FileChannel channel) {
        this.channel = channel;
    }

    /** Reads the record headers of {@code log} (payloads are read when asked for); a torn last record is left out. */
    public static WriteLog read(Path log) throws IOException {
        FileChannel channel = FileChannel.open(log, StandardOpenOption.READ);
        WriteLog w = new WriteLog(channel);
        try {
            w.parse();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return w;
    }

    private void parse() throws IOException {
        ByteBuffer magic = ByteBuffer.allocate(MAGIC.length);
        readFully(magic, 0);
        if (!Arrays.equals(magic.array(), MAGIC)) {
            throw new IOException("not a recording disk's log (no MTRLOG1 header)");
        }
        long end = channel.size();
        long at = MAGIC.length;
        ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        while (at + HEADER <= end) {
            h.clear();
            readFully(h, at);
            h.flip();
            int type = h.getInt();
            int file = h.getInt();
            long offset = h.getLong();
            long length = h.getLong();
            if (type < 1 || type > Type.values().length) {
                throw new IOException("record " + size + " at byte " + at + " has an unknown type " + type);
            }
            Type t = Type.values()[type - 1];
            boolean carries = t == Type.WRITE || t == Type.MARK || t == Type.NAME;
            long next = at + HEADER + (carries ? length : 0);
            if (next > end) {
                break;
            }
            if (t == Type.NAME) {
                ByteBuffer name = ByteBuffer.allocate((int) length);
                readFully(name, at + HEADER);
                names.put(file, new String(name.array(), StandardCharsets.UTF_8));
            }
            add(t, file, offset, length, at + HEADER);
            at = next;
        }
    }

    private void add(Type t, int file, long offset, long length, long payload) {
        if (size == types.length) {
            int n = size * 2;
            types = Arrays.copyOf(types, n);
            files = Arrays.copyOf(files, n);
            offsets = Arrays.copyOf(offsets, n);
            lengths = Arrays.copyOf(lengths, n);
            payloads = Arrays.copyOf(payloads, n);
        }
        types[size] = (byte) t.ordinal();
        files[size] = file;
        offsets[size] = offset;
        lengths[size] = length;
        payloads[size] = payload;
        size++;
    }

    private void readFully(ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            int n = channel.read(b, at + b.position());
            if (n < 0) {
                throw new EOFException("the log ends at byte " + (at + b.position()));
            }
        }
    }

    /** How many records the log holds. */
    public int size() {
        return size;
    }

    public Type type(int i) {
        return Type.values()[types[check(i)]];
    }

    /** The file a record is about (its id; {@link #fileName}); 0 for a mark. */
    public int file(int i) {
        return files[check(i)];
    }

    /** A write's offset; a truncation's new size; 1 for an fdatasync, 0 for an fsync. */
    public long offset(int i) {
        return offsets[check(i)];
    }

    /** A write's or a mark's number of bytes. */
    public long length(int i) {
        return lengths[check(i)];
    }

    /** The bytes a write wrote, or a mark's label as bytes. */
    public byte[] payload(int i) throws IOException {
        Type t = type(i);
        if (t != Type.WRITE && t != Type.MARK && t != Type.NAME) {
            return new byte[0];
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(lengths[i]));
        readFully(b, payloads[i]);
        return b.array();
    }

    /** A mark's label. */
    public String label(int i) throws IOException {
        return new String(payload(i), StandardCharsets.UTF_8);
    }

    /** The id of the file named {@code name}, or -1 if the log has no record of it. */
    public int fileId(String name) {
        return names.entrySet().stream().filter(e -> e.getKey() != 0 && e.getValue().equals(name))
                .mapToInt(Map.Entry::getKey).max().orElse(-1);
    }

    public String fileName(int file) {
        return names.getOrDefault(file, "file " + file);
    }

    /** The index of the first mark labelled {@code label} at or after {@code from}, or -1. */
    public int findMark(String label, int from) throws IOException {
        for (int i = Math.max(0, from); i < size; i++) {
            if (types[i] == Type.MARK.ordinal() && label(i).equals(label)) {
                return i;
            }
        }
        return -1;
    }

    /** The indexes of every fsync and fdatasync, in order. */
    public List<Integer> flushes() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            if (types[i] == Type.FSYNC.ordinal()) {
                out.add(i);
            }
        }
        return out;
    }

    /** The label of the last mark before cut {@code cut} (what the test had last said when the power went), or "". */
    public String lastMarkBefore(int cut) throws IOException {
        for (int i = Math.min(cut, size) - 1; i >= 0; i--) {
            if (types[i] == Type.MARK.ordinal()) {
                return label(i);
            }
        }
        return "";
    }

    private int check(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("record " + i + " of " + size);
        }
        return i;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
