package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.Access;

/** The classification rules: when in doubt, a write. */
class AccessClassifierTest {
    private static final FileKey EVENT = new FileKey(2049, 12);
    private static final FileKey OTHER = new FileKey(2049, 99);

    /** A thread in {@code line}, whose fd 3 is the event's file (opened with {@code mode}) and fd 4 another file. */
    private static AccessClassifier.Decision classify(String line, int mode) {
        AccessClassifier.ThreadView view = new AccessClassifier.ThreadView() {
            @Override
            public String syscall(int tid) {
                return line;
            }

            @Override
            public FileKey fdTarget(int tid, int fd) throws IOException {
                FileKey k = Map.of(3, EVENT, 4, OTHER).get(fd);
                if (k == null) {
                    throw new IOException("no fd " + fd);
                }
                return k;
            }

            @Override
            public int fdAccessMode(int tid, int fd) {
                return mode;
            }
        };
        return new AccessClassifier(view).classify(100, EVENT);
    }

    /** A thread that /proc shows "running" {@code running} times, then reading fd 3 (a read of the event's file). */
    private static AccessClassifier.Decision classifyAfterRunning(int running) {
        int[] asked = {0};
        return new AccessClassifier(new AccessClassifier.ThreadView() {
            @Override
            public String syscall(int tid) {
                return asked[0]++ < running ? "running" : call(Syscalls.READ, 3, 0x7f0000, 0x1000);
            }

            @Override
            public FileKey fdTarget(int tid, int fd) {
                return EVENT;
            }

            @Override
            public int fdAccessMode(int tid, int fd) {
                return 0;
            }
        }).classify(100, EVENT);
    }

    /** Found by WorkloadTest: reads of untouched files were reported, because the reader had not yet gone to sleep. */
    @Test
    void aThreadStillOnItsWayToSleepIsLookedAtAgain() {
        assertEquals(Access.READ, classifyAfterRunning(3).access());
        assertEquals(Access.WRITE, classifyAfterRunning(AccessClassifier.RUNNING_RETRIES + 1).access(),
                "still running after every retry: a write");
    }

    private static boolean recordedOnOpen(String line) {
        return recordedOnOpen(line, false);
    }

    private static boolean recordedOnOpen(String line, boolean opensOnly) {
        return new AccessClassifier(new AccessClassifier.ThreadView() {
            @Override
            public String syscall(int tid) {
                return line;
            }

            @Override
            public FileKey fdTarget(int tid, int fd) throws IOException {
                throw new IOException("not asked");
            }

            @Override
            public int fdAccessMode(int tid, int fd) throws IOException {
                throw new IOException("not asked");
            }
        }).recordsOnOpen(100, opensOnly);
    }

    @Test
    void opensThatTruncateOrOnlyWriteAreRecordedAsWrites() {
        long oTrunc = 01000;
        long oWronly = 1;
        assertFalse(recordedOnOpen(call(Syscalls.OPENAT, -100 & 0xffffffffL, 0x1000, 0 /* O_RDONLY */, 0)));
        assertTrue(recordedOnOpen(call(Syscalls.OPENAT, 3, 0x1000, oWronly | 0100 /* O_CREAT */, 0644)),
                "a write-only open is recorded at once: its first write then costs no event");
        assertFalse(recordedOnOpen(call(Syscalls.OPENAT, 3, 0x1000, 2 /* O_RDWR */ | 0100, 0644)),
                "a read-write open waits for its first access to be classified");
        assertTrue(recordedOnOpen(call(Syscalls.OPENAT, 3, 0x1000, 0x80201, 0)), "O_WRONLY|O_TRUNC|O_LARGEFILE as seen on 6.18");
        assertTrue(recordedOnOpen(call(Syscalls.OPEN, 0x1000, oTrunc, 0)), "open(path, O_RDONLY|O_TRUNC) truncates too");
        assertFalse(recordedOnOpen(call(Syscalls.OPEN, 0x1000, 2, 0)));
        assertTrue(recordedOnOpen(call(Syscalls.OPEN_BY_HANDLE_AT, 3, 0x1000, oWronly | oTrunc)));
        assertTrue(recordedOnOpen(call(Syscalls.CREAT, 0x1000, 0644)), "creat is open(O_CREAT|O_WRONLY|O_TRUNC)");
        assertTrue(recordedOnOpen(call(Syscalls.OPENAT2, 3, 0x1000, 0x2000, 24)), "openat2's flags are out of reach");
        assertFalse(recordedOnOpen(call(Syscalls.EXECVE, 0x1000, 0x2000, 0x3000)));
        assertTrue(recordedOnOpen("running"));
        assertTrue(recordedOnOpen("garbage"));
    }

    /** Where opens are the only hook, no later event comes before a read-write descriptor's writes. */
    @Test
    void withOpensOnlyEveryOpenThatCanWriteIsRecorded() {
        assertTrue(recordedOnOpen(call(Syscalls.OPENAT, 3, 0x1000, 2 /* O_RDWR */, 0), true));
        assertTrue(recordedOnOpen(call(Syscalls.OPEN, 0x1000, 2, 0), true));
        assertTrue(recordedOnOpen(call(Syscalls.OPENAT, 3, 0x1000, 1 /* O_WRONLY */, 0), true));
        assertFalse(recordedOnOpen(call(Syscalls.OPENAT, 3, 0x1000, 0 /* O_RDONLY */ | 0100 /* O_CREAT */, 0644), true),
                "creating an empty file changes no content; the creation comes from the notification group");
        assertTrue(recordedOnOpen(call(Syscalls.OPENAT, 3, 0x1000, 01000 /* O_RDONLY|O_TRUNC */, 0), true));
        assertFalse(recordedOnOpen(call(Syscalls.EXECVE, 0x1000, 0x2000, 0x3000), true));
        assertTrue(recordedOnOpen(call(Syscalls.OPENAT2, 3, 0x1000, 0x2000, 24), true));
    }

    private static String call(int nr, long... args) {
        StringBuilder b = new StringBuilder(Integer.toString(nr));
        for (int i = 0; i < 6; i++) {
            b.append(" 0x").append(Long.toHexString(i < args.length ? args[i] : 0));
        }
        return b.append(" 0x7ffc0000 0x7f0000").toString();
    }

    @Test
    void readsOfTheEventsOwnFdAreReads() {
        assertEquals(Access.READ, classify(call(Syscalls.READ, 3, 0x1000, 4096), 0).access());
        assertEquals(Access.READ, classify(call(Syscalls.PREAD64, 3, 0x1000, 4096, 0), 2).access());
        assertEquals(Access.READ, classify(call(Syscalls.SENDFILE, 4, 3, 0, 100), 0).access(), "sendfile reads its in_fd");
        assertEquals(Access.READ, classify(call(Syscalls.COPY_FILE_RANGE, 3, 0, 4, 0, 100, 0), 0).access());
    }

    @Test
    void aReadOfAnotherFileIsAWriteOfThisOne() {
        // the buffer may be a shared mapping of the event's file, whose pages the read fills
        assertEquals(Access.WRITE, classify(call(Syscalls.READ, 4, 0x1000, 4096), 0).access());
        assertEquals(Access.WRITE, classify(call(Syscalls.COPY_FILE_RANGE, 4, 0, 3, 0, 100, 0), 2).access(),
                "copy_file_range into the event's file");
    }

    @Test
    void everythingUncertainIsAWrite() {
        assertEquals(Access.WRITE, classify("running", 0).access());
        assertEquals(Access.WRITE, classify("-1 0x7ffc 0x7f00", 0).access());
        assertEquals(Access.WRITE, classify("garbage", 0).access());
        assertEquals(Access.WRITE, classify(call(Syscalls.READ, 7, 0, 1), 0).access(), "an fd that cannot be inspected");
        assertEquals(Access.WRITE, classify(call(Syscalls.IO_URING_ENTER, 5, 1, 0, 0), 0).access());
        assertEquals(Access.WRITE, classify(call(Syscalls.FTRUNCATE, 3, 0), 2).access());
        assertEquals(Access.WRITE, classify(call(Syscalls.FALLOCATE, 3, 0, 0, 4096), 2).access());
        assertEquals(Access.WRITE, classify(call(Syscalls.WRITE, 3, 0, 1), 2).access());
    }

    @Test
    void mappingsAreWritesWhenSharedAndTheFileIsOpenForWriting() {
        long protRead = 0x1;
        long protRw = 0x3;
        assertEquals(Access.READ, classify(call(Syscalls.MMAP, 0, 4096, protRead, 0x2 /* private */, 3, 0), 2).access());
        assertEquals(Access.READ, classify(call(Syscalls.MMAP, 0, 4096, protRead, 0x1, 3, 0), 0).access(),
                "shared but read-only fd: can never be made writable");
        assertEquals(Access.WRITE, classify(call(Syscalls.MMAP, 0, 4096, protRead, 0x1, 3, 0), 2).access(),
                "shared on a read-write fd: mprotect can add PROT_WRITE later");
        assertEquals(Access.WRITE, classify(call(Syscalls.MMAP, 0, 4096, protRw, 0x3 /* shared_validate */, 3, 0), 2).access());
        assertEquals(Access.READ, classify(call(Syscalls.MMAP, 0, 4096, protRw, 0x2, 3, 0), 2).access(),
                "private writable: copy on write, the file is untouched");
    }
}
