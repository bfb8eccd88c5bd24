package org.modtrack.simulation;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.modtrack.engine.storage.AppendFile;
import org.modtrack.engine.storage.Storage;

/**
 * A {@link Storage} in memory that fails the way a real disk and kernel may.
 *
 * <p>Each file has the contents the process sees (the page cache) and the contents on the disk. A
 * file sync copies one to the other; a directory sync makes every pending creation, removal and
 * rename durable, in order. A crash of the process loses nothing (the kernel keeps its page cache
 * and pending directory changes). A power loss keeps the synced state plus, at random: any subset of
 * the unsynced pages (write-back happens in any order), a torn prefix of one of them, and an ordered
 * prefix of the pending directory changes (as a journalling file system commits them).
 *
 * <p>A crash can also be armed to strike at the k-th next storage operation; a write it strikes lands
 * partly. After a crash every operation fails until {@link #reboot}, so no code of the dead process
 * can touch the disk again. Deterministic: every random choice comes from the seed given to
 * {@link #reboot} or {@link #arm}.
 */
public final class SimulatedStorage implements Storage {
    /** Granularity of write-back in the simulation: small, so that records tear often. */
    static final int PAGE = 64;

    /** How a crash strikes. */
    public enum CrashKind {
        /** The tracker's process dies; the kernel and its page cache live on. */
        PROCESS,
        /** The machine loses power: whatever was not synced may be lost, partly or entirely. */
        POWER
    }

    private static final class Inode {
        byte[] cached;
        byte[] durable;

        Inode(byte[] cached, byte[] durable) {
            this.cached = cached;
            this.durable = durable;
        }
    }

    private sealed interface DirOp permits Link, Unlink, Rename {}

    private record Link(String name, Inode inode) implements DirOp {}

    private record Unlink(String name) implements DirOp {}

    private record Rename(String from, String to) implements DirOp {}

    private Map<String, Inode> durableNames = new HashMap<>();
    private final Map<String, Inode> names = new HashMap<>();
    private final List<DirOp> pending = new ArrayList<>();
    private int boot = 1;
    private int epoch = 1;
    private boolean crashed;
    private int armedCountdown; // 0: not armed
    private CrashKind armedKind;
    private SplittableRandom armedRandom;
    private long operations;

    /** Thrown by the operation a crash struck; never caught by engine code (it is an Error). */
    public static final class Crash extends Error {
        private final CrashKind kind;

        Crash(CrashKind kind) {
            super("simulated " + kind.name().toLowerCase() + " crash", null, false, false);
            this.kind = kind;
        }

        /** What kind of crash struck. */
        public CrashKind kind() {
            return kind;
        }
    }

    /** Arms a crash of {@code kind} to strike at the {@code k}-th next operation (k >= 1). */
    public void arm(CrashKind kind, int k, long seed) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1");
        }
        armedCountdown = k;
        armedKind = kind;
        armedRandom = new SplittableRandom(seed);
    }

    /** Whether an armed crash has yet to strike. */
    public boolean armed() {
        return armedCountdown > 0;
    }

    /** Disarms a pending crash. */
    public void disarm() {
        armedCountdown = 0;
    }

    /** Crashes now (between operations). */
    public Crash crashNow(CrashKind kind) {
        crashed = true;
        return new Crash(kind);
    }

    /** Whether the storage is down after a crash, awaiting {@link #reboot}. */
    public boolean isCrashed() {
        return crashed;
    }

    /**
     * Brings the storage back after a crash of {@code kind}: for a power loss, decides at random from
     * {@code seed} what of the unsynced state survived.
     */
    public void reboot(CrashKind kind, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        if (kind == CrashKind.POWER) {
            loseUnsynced(random);
            boot++;
        }
        crashed = false;
        armedCountdown = 0;
        epoch++;
    }

    private void loseUnsynced(SplittableRandom random) {
        int survive = random.nextInt(pending.size() + 1);
        Map<String, Inode> namespace = new HashMap<>(durableNames);
        for (DirOp op : pending.subList(0, survive)) {
            apply(namespace, op);
        }
        pending.clear();
        // Sorted by name, so that the random choices fall the same way on every run.
        Set<Inode> done = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Inode inode : new TreeMap<>(namespace).values()) {
            if (done.add(inode)) {
                inode.durable = writtenBack(inode, random);
                inode.cached = inode.durable.clone();
            }
        }
        durableNames = namespace;
        names.clear();
        names.putAll(namespace);
    }

    /** What the disk holds after a power loss: the synced bytes plus a random subset of changed pages. */
    private static byte[] writtenBack(Inode inode, SplittableRandom random) {
        byte[] cached = inode.cached;
        byte[] durable = inode.durable;
        int length = cached.length == durable.length || random.nextBoolean() ? cached.length : durable.length;
        byte[] disk = Arrays.copyOf(durable, length);
        boolean tornOne = false;
        for (int page = 0; page < length; page += PAGE) {
            int end = Math.min(length, page + PAGE);
            if (Arrays.equals(cached, page, Math.min(end, cached.length), disk, page, end)
                    && end <= cached.length) {
                continue;
            }
            int roll = random.nextInt(4);
            if (roll == 0 || roll == 1) {
                continue; // this page never reached the disk
            }
            int upTo = end;
            if (roll == 2 && !tornOne) {
                tornOne = true;
                upTo = page + random.nextInt(end - page + 1); // a torn page: a prefix landed
            }
            for (int i = page; i < upTo; i++) {
                disk[i] = i < cached.length ? cached[i] : 0;
            }
        }
        return disk;
    }

    private static void apply(Map<String, Inode> namespace, DirOp op) {
        switch (op) {
            case Link l -> namespace.put(l.name(), l.inode());
            case Unlink u -> namespace.remove(u.name());
            case Rename r -> {
                Inode i = namespace.remove(r.from());
                if (i != null) {
                    namespace.put(r.to(), i);
                }
            }
        }
    }

    /** Counts an operation; strikes an armed crash. */
    private void operation() {
        if (crashed) {
            throw new Crash(CrashKind.PROCESS);
        }
        operations++;
        if (armedCountdown > 0 && --armedCountdown == 0) {
            crashed = true;
            throw new Crash(armedKind);
        }
    }

    /** Storage operations done so far. */
    public long operations() {
        return operations;
    }

    private Inode inode(String name) throws IOException {
        Inode i = names.get(name);
        if (i == null) {
            throw new FileNotFoundException("no file " + name + " in the simulated storage");
        }
        return i;
    }

    private void link(String name, Inode inode) {
        names.put(name, inode);
        pending.add(new Link(name, inode));
    }

    @Override
    public List<String> list() {
        operation();
        return new ArrayList<>(new TreeMap<>(names).keySet());
    }

    @Override
    public AppendFile create(String name, long capacity, boolean preallocate) throws IOException {
        operation();
        if (names.containsKey(name)) {
            throw new IOException("the simulated file " + name + " already exists");
        }
        byte[] zeros = new byte[Math.toIntExact(capacity)];
        Inode inode = new Inode(zeros, zeros.clone());
        link(name, inode);
        return new SimFile(inode, name, epoch);
    }

    @Override
    public ByteBuffer read(String name) throws IOException {
        operation();
        return ByteBuffer.wrap(inode(name).cached.clone());
    }

    @Override
    public void sync(String name) throws IOException {
        operation();
        Inode i = inode(name);
        i.durable = i.cached.clone();
    }

    @Override
    public void truncate(String name, long size) throws IOException {
        operation();
        Inode i = inode(name);
        i.cached = Arrays.copyOf(i.cached, Math.toIntExact(size));
        i.durable = i.cached.clone();
    }

    @Override
    public void writeDurably(String name, ByteBuffer contents) {
        operation();
        byte[] bytes = new byte[contents.remaining()];
        contents.duplicate().get(bytes);
        link(name, new Inode(bytes, bytes.clone()));
    }

    @Override
    public void rename(String from, String to) throws IOException {
        operation();
        Inode i = inode(from);
        names.remove(from);
        names.put(to, i);
        pending.add(new Rename(from, to));
    }

    @Override
    public void delete(String name) {
        operation();
        if (names.remove(name) != null) {
            pending.add(new Unlink(name));
        }
    }

    @Override
    public void syncDirectory() {
        operation();
        for (DirOp op : pending) {
            apply(durableNames, op);
        }
        pending.clear();
    }

    @Override
    public String bootId() {
        operation();
        return "simulated-boot-" + boot;
    }

    @Override
    public String describe() {
        return "simulated storage";
    }

    @Override
    public void close() {}

    /** A file open for writing; refuses use after the crash of the process that opened it. */
    private final class SimFile implements AppendFile {
        private final Inode inode;
        private final String name;
        private final int openedIn;
        private boolean closed;

        SimFile(Inode inode, String name, int openedIn) {
            this.inode = inode;
            this.name = name;
            this.openedIn = openedIn;
        }

        private void check() {
            if (openedIn != epoch) {
                throw new AssertionError("a file descriptor outlived the crash of the process that opened " + name);
            }
        }

        @Override
        public void write(long position, MemorySegment src) {
            check();
            byte[] bytes = src.toArray(ValueLayout.JAVA_BYTE);
            int at = Math.toIntExact(position);
            if (at + bytes.length > inode.cached.length) {
                throw new IllegalArgumentException("write beyond the end of " + name);
            }
            if (armedCountdown == 1 && !crashed) {
                // The crash strikes during this write: part of it lands.
                int landed = armedRandom.nextInt(bytes.length + 1);
                System.arraycopy(bytes, 0, inode.cached, at, landed);
            }
            operation();
            System.arraycopy(bytes, 0, inode.cached, at, bytes.length);
        }

        @Override
        public void sync() {
            check();
            if (closed) {
                return;
            }
            operation();
            inode.durable = inode.cached.clone();
        }

        @Override
        public long capacity() {
            return inode.cached.length;
        }

        @Override
        public void grow(long newCapacity, boolean preallocate) {
            check();
            operation();
            inode.cached = Arrays.copyOf(inode.cached, Math.toIntExact(newCapacity));
            if (preallocate) {
                inode.durable = inode.cached.clone();
            }
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
