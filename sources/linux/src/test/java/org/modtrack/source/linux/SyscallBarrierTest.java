package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.FileId;
import org.modtrack.engine.WriteBarrier;
import org.modtrack.posix.Errno;
import org.modtrack.posix.PosixException;
import org.modtrack.source.linux.SyscallBarrier.WritableFd;

/** The srcu barrier's decisions on a system it reads through a fake /proc. */
class SyscallBarrierTest {
    private static final TrackedFiles TRACKED = TrackedFiles.ofDevice(7, 7);
    private static final int PID = 100;
    private static final int FD = 5;
    /** {@code /proc/<tid>/syscall} of a thread blocked in write(5, ...): number, six arguments, stack pointer, program counter. */
    private static final String IN_WRITE = "1 0x5 0x7f0000001000 0x1000 0x0 0x0 0x0 0x7ffc00000000 0x7f0000002000";

    /** One thread, inside {@link #IN_WRITE} while {@code inCall} says so; its fd 5 open for writing while {@code writable} says so. */
    private static class OneWriter implements SyscallBarrier.SystemView {
        boolean inCall = true;
        boolean writable = true;
        /** The inode fd 5 leads to. */
        long ino = 1;
        char state = 'S';
        List<Path> mapped = List.of();

        @Override
        public List<long[]> threads() {
            return List.<long[]>of(new long[] {PID, PID});
        }

        @Override
        public String syscall(int pid, int tid) throws IOException {
            return inCall ? IN_WRITE : "-1 0x7ffc00000000 0x7f0000002000";
        }

        @Override
        public long writeCalls(int pid, int tid) {
            return 3;
        }

        @Override
        public char threadState(int pid, int tid) {
            return state;
        }

        @Override
        public boolean fdMayBeOf(int tid, int fd, TrackedFiles tracked) {
            return true;
        }

        @Override
        public WritableFd writableFd(int tid, int fd) {
            return writable ? new WritableFd(FD, 1, ino) : null;
        }

        @Override
        public List<WritableFd> writableFds(int pid, TrackedFiles tracked) {
            return writable ? List.of(writableFd(pid, FD)) : List.of();
        }

        @Override
        public List<Path> writableSharedMappings(int pid, TrackedFiles tracked) {
            return mapped;
        }

        @Override
        public boolean asyncIoUserOf(int pid, TrackedFiles tracked) {
            return false;
        }
    }

    private static List<FileId> carriedAtTheDeadline(OneWriter system, boolean fdReopenedForReading) throws Exception {
        SyscallBarrier.Identifier identifier = link -> FileId.ofPath("/mnt" + link);
        AlwaysWritable alwaysWritable = new AlwaysWritable(TRACKED, system, identifier, false);
        SyscallBarrier barrier = new SyscallBarrier(TRACKED, () -> { }, system, alwaysWritable, null);
        try (WriteBarrier.Wait wait = barrier.begin(1)) {
            if (fdReopenedForReading) {
                system.writable = false; // the write ended, fd 5 was closed, and its number now opens a file to be read
            }
            return wait.filesToCarry();
        }
    }

    @Test
    void aThreadStillInsideAWriteHasItsFileCarried() throws Exception {
        assertEquals(List.of(FileId.ofPath("/mnt/proc/" + PID + "/fd/" + FD)), carriedAtTheDeadline(new OneWriter(), false));
    }

    @Test
    void anFdNumberReusedForReadingIsNotCarried() throws Exception {
        assertEquals(List.of(), carriedAtTheDeadline(new OneWriter(), true));
    }

    /**
     * A writer that closes a written file and opens the next, to be read, gets the same number: the
     * file read was carried (named modified in two results) when the number was reused between the
     * look at its descriptors and the identification of the file behind it. Seen in a workload run
     * on ext4 with directory records, for a file the writers only ever opened to read.
     */
    @Test
    void anFdNumberReusedWhileItsFileIsIdentifiedIsNotCarried() throws Exception {
        for (boolean everyOpenWriter : new boolean[] {false, true}) {
            for (boolean reopenedForWriting : new boolean[] {false, true}) {
                OneWriter system = new OneWriter();
                system.inCall = !everyOpenWriter;
                SyscallBarrier.Identifier identifier = link -> {
                    system.writable = reopenedForWriting; // closed and opened again, for another file
                    system.ino = 2;
                    return FileId.ofPath("/mnt" + link);
                };
                SyscallBarrier barrier = new SyscallBarrier(TRACKED, () -> { }, system,
                        new AlwaysWritable(TRACKED, system, identifier, everyOpenWriter), null);
                try (WriteBarrier.Wait wait = barrier.begin(1)) {
                    assertEquals(List.of(), wait.filesToCarry(),
                            "every open writer " + everyOpenWriter + ", reopened for writing " + reopenedForWriting);
                }
            }
        }
    }

    /**
     * With every open writer carried (directory records), the files open for writing are looked at
     * when the wait ends. Taken at the flush, they missed a store in a schedule of the simulator's
     * directory-walks model: a store through a mapping before the checkpoint, the file opened again
     * during the wait, then the mapping removed; no CLOSE_WRITE came, and nothing named the store.
     */
    @Test
    void aFileOpenedForWritingDuringTheWaitIsCarried() throws Exception {
        SyscallBarrier.Identifier identifier = link -> FileId.ofPath("/mnt" + link);
        OneWriter system = new OneWriter();
        system.inCall = false;
        system.writable = false;
        SyscallBarrier barrier = new SyscallBarrier(TRACKED, () -> { }, system,
                new AlwaysWritable(TRACKED, system, identifier, true), null);
        try (WriteBarrier.Wait wait = barrier.begin(1)) {
            system.writable = true;
            assertEquals(List.of(FileId.ofPath("/mnt/proc/" + PID + "/fd/" + FD)), wait.filesToCarry());
        }
    }

    /**
     * The mappings are looked at when the wait ends: a thread inside mmap at the start is waited
     * for, and the mapping it makes lets stores change the file with no event (the simulator's
     * schedule that found it: a mapping made during the wait, stored through after the result).
     */
    @Test
    void aMappingMadeDuringTheWaitIsCarried() throws Exception {
        SyscallBarrier.Identifier identifier = link -> FileId.ofPath("/mnt" + link);
        OneWriter system = new OneWriter();
        system.inCall = false;
        SyscallBarrier barrier = new SyscallBarrier(TRACKED, () -> { }, system,
                new AlwaysWritable(TRACKED, system, identifier, false), null);
        try (WriteBarrier.Wait wait = barrier.begin(1)) {
            system.mapped = List.of(Path.of("/proc/" + PID + "/map_files/1000000-1002000"));
            assertEquals(List.of(FileId.ofPath("/mnt/proc/" + PID + "/map_files/1000000-1002000")), wait.filesToCarry());
        }
    }

    /**
     * A thread whose system call the kernel refuses to show (EACCES, EPERM: a ptrace access check)
     * makes its process one the barrier could not look into; a thread gone meanwhile (ENOENT) does
     * not. While such a thread runs or waits uninterruptibly (R, D), the checkpoint freezes.
     */
    @Test
    void processesWhoseThreadsTheKernelWillNotShowAreUninspectable() throws Exception {
        int denied = PID + 1;
        int gone = PID + 2;
        OneWriter system = new OneWriter() {
            @Override
            public List<long[]> threads() {
                return List.of(new long[] {PID, PID}, new long[] {denied, denied}, new long[] {gone, gone});
            }

            @Override
            public String syscall(int pid, int tid) throws IOException {
                if (pid == denied) {
                    throw new PosixException("open /proc/" + pid + "/task/" + tid + "/syscall", Errno.EPERM);
                }
                if (pid == gone) {
                    throw new PosixException("open /proc/" + pid + "/task/" + tid + "/syscall", Errno.ENOENT);
                }
                return super.syscall(pid, tid);
            }
        };
        system.inCall = false;
        SyscallBarrier.Identifier identifier = link -> FileId.ofPath("/mnt" + link);
        List<String> freezes = new ArrayList<>();
        SyscallBarrier barrier = new SyscallBarrier(TRACKED, () -> { }, system,
                new AlwaysWritable(TRACKED, system, identifier, false), why -> {
                    freezes.add(why);
                    return WriteBarrier.Wait.DONE;
                });
        assertEquals(Set.of(), barrier.uninspectable(), "before any scan");
        try (WriteBarrier.Wait wait = barrier.begin(1)) {
            assertEquals(Set.of(denied), barrier.uninspectable());
            assertEquals(List.of(), freezes, "its thread sleeps (S): outside any write");
        }
        for (char state : new char[] {'R', 'D'}) {
            system.state = state;
            freezes.clear();
            try (WriteBarrier.Wait wait = barrier.begin(2)) {
                assertEquals(1, freezes.size(), "a thread of it " + state + " may be inside a write: " + freezes);
                assertTrue(freezes.getFirst().startsWith("thread " + denied + " of process " + denied), freezes.getFirst());
            }
        }
    }

    @Test
    void aWarmUpReadsWhatACheckpointReadsButFlushesNothingAndChangesNoCheckpoint() throws Exception {
        OneWriter system = new OneWriter();
        int[] flushes = {0};
        SyscallBarrier.Identifier identifier = link -> FileId.ofPath("/mnt" + link);
        AlwaysWritable alwaysWritable = new AlwaysWritable(TRACKED, system, identifier, false);
        SyscallBarrier barrier = new SyscallBarrier(TRACKED, () -> flushes[0]++, system, alwaysWritable, null);
        for (int i = 0; i < CheckpointWarmUp.PASSES; i++) {
            barrier.warmUp();
        }
        assertEquals(0, flushes[0], "a warm-up flushes no ignore mark");
        try (WriteBarrier.Wait wait = barrier.begin(1)) {
            assertEquals(1, flushes[0]);
            assertEquals(List.of(FileId.ofPath("/mnt/proc/" + PID + "/fd/" + FD)), wait.filesToCarry(),
                    "the thread inside its write is waited for as without a warm-up");
        }
    }
}
