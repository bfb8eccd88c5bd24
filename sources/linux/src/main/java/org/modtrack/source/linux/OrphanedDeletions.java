package org.modtrack.source.linux;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.modtrack.engine.FileId;

/**
 * Names the entries deleted from a directory that was itself gone by the time the reader handled
 * their events. A recursive delete ({@code rm -r}) removes the children first and the directory
 * last; if the reader is behind, the directory's handle no longer resolves when a child's
 * {@code FAN_DELETE} is read, and the child would be recorded without a path, which a result can
 * only report as a rescan of the whole file system. But the directory's own {@code FAN_DELETE},
 * which comes later, names it by its parent's handle and its name: that gives its path, and with
 * it the paths of the children kept here (recursively, for directories whose parents went too).
 *
 * <p>Bounded: at most {@link #CAPACITY} children wait; beyond it a child is not kept and stays
 * recorded without a path (a rescan: never a miss). Used by the reader's thread only.
 */
final class OrphanedDeletions {
    /** A bound on memory: a few MiB of handles and names at most. */
    static final int CAPACITY = 65_536;

    /** A deleted entry of a gone directory: its handle, its name in that directory, whether it is a directory. */
    record Orphan(FileId child, String name, boolean directory) {}

    /** Records a child's deletion under the path found for it. */
    @FunctionalInterface
    interface Recorder {
        void deleted(FileId child, String path, boolean directory) throws IOException;
    }

    private final Map<FileId, List<Orphan>> byDirectory = new HashMap<>();
    private int waiting;

    /** Keeps {@code orphan} until {@code directory}'s path is known; false if the bound is reached. */
    boolean add(FileId directory, Orphan orphan) {
        if (waiting >= CAPACITY) {
            return false;
        }
        byDirectory.computeIfAbsent(directory, d -> new ArrayList<>()).add(orphan);
        waiting++;
        version++;
        return true;
    }

    /**
     * {@code directory} was removed from {@code path}: records every child kept for it, and for the
     * kept directories among them, theirs, each under its full path. Does nothing if none was kept.
     */
    void resolve(FileId directory, String path, Recorder recorder) throws IOException {
        Deque<Map.Entry<FileId, String>> todo = new ArrayDeque<>();
        todo.push(Map.entry(directory, path));
        while (!todo.isEmpty()) {
            Map.Entry<FileId, String> dir = todo.pop();
            List<Orphan> children = byDirectory.remove(dir.getKey());
            if (children == null) {
                continue;
            }
            waiting -= children.size();
            version++;
            for (Orphan o : children) {
                String childPath = dir.getValue().endsWith("/") ? dir.getValue() + o.name() : dir.getValue() + "/" + o.name();
                recorder.deleted(o.child(), childPath, o.directory());
                if (o.directory()) {
                    todo.push(Map.entry(o.child(), childPath));
                }
            }
        }
        assert waiting >= 0 : waiting;
    }

    /** Forgets everything (after a queue overflow the result says "rescan" anyway). */
    void clear() {
        byDirectory.clear();
        waiting = 0;
        version++;
    }

    private long version;

    /** Changes with every add, resolution that found children, and clear: whether there is something new to save. */
    long version() {
        return version;
    }

    /**
     * The orphans as bytes, for a successor to take over ({@link Handover#saveOrphans}); null if
     * they take more than {@code maxBytes}.
     */
    byte[] encode(int maxBytes) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(byDirectory.size());
            for (Map.Entry<FileId, List<Orphan>> e : byDirectory.entrySet()) {
                writeHandle(out, e.getKey());
                out.writeInt(e.getValue().size());
                for (Orphan o : e.getValue()) {
                    writeHandle(out, o.child());
                    out.writeUTF(o.name());
                    out.writeBoolean(o.directory());
                }
                if (bytes.size() > maxBytes) {
                    return null;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.size() > maxBytes ? null : bytes.toByteArray();
    }

    /** Adds the orphans {@link #encode} wrote (a predecessor's); false, adding nothing, if they are malformed. */
    boolean restore(byte[] encoded) {
        if (encoded.length == 0) {
            return true; // none were saved
        }
        Map<FileId, List<Orphan>> read = new HashMap<>();
        int count = 0;
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
            int directories = in.readInt();
            for (int d = 0; d < directories; d++) {
                FileId directory = readHandle(in);
                int children = in.readInt();
                if (children < 1 || count + children > CAPACITY) {
                    return false;
                }
                List<Orphan> list = new ArrayList<>(children);
                for (int c = 0; c < children; c++) {
                    list.add(new Orphan(readHandle(in), in.readUTF(), in.readBoolean()));
                }
                read.put(directory, list);
                count += children;
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        byDirectory.putAll(read);
        waiting += count;
        version++;
        return true;
    }

    private static void writeHandle(DataOutputStream out, FileId id) throws IOException {
        out.writeLong(id.fsid());
        out.writeInt(id.handleType());
        byte[] h = id.handle();
        out.writeShort(h.length);
        out.write(h);
    }

    private static FileId readHandle(DataInputStream in) throws IOException {
        long fsid = in.readLong();
        int type = in.readInt();
        int length = in.readUnsignedShort();
        if (length > MAX_HANDLE_BYTES) {
            throw new IOException("a handle of " + length + " bytes");
        }
        byte[] h = new byte[length];
        in.readFully(h);
        return FileId.ofHandle(fsid, type, h, null, null);
    }

    /** MAX_HANDLE_SZ of the kernel's exportfs. */
    private static final int MAX_HANDLE_BYTES = 128;

    int waiting() {
        return waiting;
    }
}
