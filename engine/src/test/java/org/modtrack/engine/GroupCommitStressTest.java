package org.modtrack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.journal.JournalFailedException;
import org.modtrack.engine.storage.AppendFile;
import org.modtrack.engine.storage.DirectoryStorage;
import org.modtrack.engine.storage.Storage;
import org.modtrack.testing.Seeded;

/**
 * Group commit under many threads, on real files: no preWrite returns before a sync that began
 * after its own record was written has completed; no writer waits forever; a failed sync fails
 * every waiter instead of hanging it.
 */
@ExtendWith(Seeded.class)
class GroupCommitStressTest {
    @TempDir
    Path state;

    /** Wraps the real storage to number writes and syncs, and optionally fail a sync. */
    static final class Observed implements Storage {
        final Storage real;
        final AtomicLong writes = new AtomicLong();
        final AtomicLong durableThrough = new AtomicLong();
        final ThreadLocal<long[]> myLastWrite = ThreadLocal.withInitial(() -> new long[1]);
        volatile int failSyncNumber = -1;
        final AtomicInteger syncs = new AtomicInteger();

        Observed(Storage real) {
            this.real = real;
        }

        @Override
        public AppendFile create(String name, long capacity, boolean preallocate) throws IOException {
            AppendFile f = real.create(name, capacity, preallocate);
            return new AppendFile() {
                @Override
                public void write(long position, MemorySegment src) throws IOException {
                    f.write(position, src);
                    myLastWrite.get()[0] = writes.incrementAndGet();
                }

                @Override
                public void sync() throws IOException {
                    long covers = writes.get(); // every write numbered so far is handed to the kernel
                    if (syncs.incrementAndGet() == failSyncNumber) {
                        throw new IOException("injected fdatasync failure");
                    }
                    f.sync();
                    durableThrough.accumulateAndGet(covers, Math::max);
                }

                @Override
                public long capacity() {
                    return f.capacity();
                }

                @Override
                public void grow(long newCapacity, boolean preallocate) throws IOException {
                    f.grow(newCapacity, preallocate);
                }

                @Override
                public void close() throws IOException {
                    f.close();
                }
            };
        }

        // Only snapshot files need watching; everything else goes straight through.
        @Override public List<String> list() throws IOException { return real.list(); }
        @Override public ByteBuffer read(String name) throws IOException { return real.read(name); }
        @Override public void sync(String name) throws IOException { real.sync(name); }
        @Override public void truncate(String name, long size) throws IOException { real.truncate(name, size); }
        @Override public void writeDurably(String name, ByteBuffer contents) throws IOException { real.writeDurably(name, contents); }
        @Override public void rename(String from, String to) throws IOException { real.rename(from, to); }
        @Override public void delete(String name) throws IOException { real.delete(name); }
        @Override public void syncDirectory() throws IOException { real.syncDirectory(); }
        @Override public String bootId() throws IOException { return real.bootId(); }
        @Override public String describe() { return real.describe(); }
        @Override public void close() throws IOException { real.close(); }
    }

    @Test
    void noWriterProceedsBeforeItsRecordIsSyncedAndNoneWaitsForever(SplittableRandom random) throws Exception {
        Observed storage = new Observed(DirectoryStorage.open(state));
        int threads = 16;
        int perThread = 300;
        try (ChangeTracker tracker = ChangeTracker.open(storage, TrackerConfig.defaults().withSnapshotBytes(4096, 1 << 24));
             ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            AtomicInteger early = new AtomicInteger();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                long seed = random.nextLong();
                done.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    for (int i = 0; i < perThread; i++) {
                        // Some files repeat, so "already recorded" answers wait on another writer's record.
                        FileId f = FileId.ofPath("/stress/" + id + "/" + r.nextInt(perThread * 2 / 3));
                        storage.myLastWrite.get()[0] = 0;
                        WriteTicket ticket = tracker.preWrite(f);
                        long mine = storage.myLastWrite.get()[0];
                        if (mine > storage.durableThrough.get()) {
                            early.incrementAndGet();
                        }
                        tracker.postWrite(ticket.token());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS); // a lost wake-up shows up as a timeout here
            }
            assertEquals(0, early.get(), "preWrites that returned before their record was synced");
            TrackerStats s = tracker.stats();
            assertTrue(s.syncs() < s.records(), "concurrent writers shared syncs: " + s.records() + " records, "
                    + s.syncs() + " syncs");
        }
    }

    @Test
    void aFailedSyncFailsEveryWaiterAndHangsNone(SplittableRandom random) throws Exception {
        Observed storage = new Observed(DirectoryStorage.open(state));
        int threads = 8;
        try (ChangeTracker tracker = ChangeTracker.open(storage, TrackerConfig.defaults().withSnapshotBytes(4096, 1 << 24));
             ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            storage.failSyncNumber = storage.syncs.get() + 5 + random.nextInt(20);
            AtomicInteger failed = new AtomicInteger();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        try {
                            WriteTicket ticket = tracker.preWrite(FileId.ofPath("/fail/" + id + "/" + i));
                            tracker.postWrite(ticket.token());
                        } catch (JournalFailedException e) {
                            failed.incrementAndGet();
                            return null; // the write is refused; this writer stops
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(threads, failed.get(), "every writer learned that the journal failed");
            assertEquals(0, tracker.stats().writesInProgress(), "refused writes leave no write in progress");
        }
    }
}
