package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.posix.Posix;

/** ThreadSyscall parses the kernel's three answers, and reads a blocked thread's system call. */
class ThreadSyscallTest {
    @TempDir
    Path tmp;

    @Test
    void parsesTheThreeForms() {
        ThreadSyscall pwrite = ThreadSyscall.parse("18 0x5 0x7ffd1000 0x1 0x1388 0x0 0x0 0x7ffd0ff8 0x7f0012345678\n");
        assertEquals(ThreadSyscall.State.IN_SYSCALL, pwrite.state());
        assertEquals(ThreadSyscall.PWRITE64, pwrite.number());
        assertArrayEquals(new long[] {5, 0x7ffd1000L, 1, 0x1388, 0, 0}, pwrite.args());
        assertEquals("18 (0x5, 0x7ffd1000, 0x1, 0x1388, 0x0, 0x0)", pwrite.toString());
        assertEquals(0xffffffffffffff9cL, ThreadSyscall.parse("257 0xffffffffffffff9c 0x1 0x0 0x0 0x0 0x0 0x1 0x2").arg(0));
        assertEquals(ThreadSyscall.State.NOT_IN_SYSCALL, ThreadSyscall.parse("-1 0x7ffd0ff8 0x401000").state());
        assertEquals(ThreadSyscall.State.RUNNING, ThreadSyscall.parse("running").state());
        assertThrows(IllegalArgumentException.class, () -> ThreadSyscall.parse("garbage"));
        assertThrows(IllegalArgumentException.class, () -> ThreadSyscall.parse("0 0x1 0x2"));
    }

    @Test
    void readsTheSystemCallABlockedThreadIsIn() throws Exception {
        Path fifo = tmp.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        int fd = Posix.open(fifo.toString(), Posix.O_RDWR | Posix.O_CLOEXEC, 0);
        Thread reader = Thread.ofPlatform().name("mt-syscall-test").start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                Posix.read(fd, arena.allocate(16));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            int tid = awaitTid("mt-syscall-test");
            ThreadSyscall seen = awaitBlocked(tid);
            assertEquals(ThreadSyscall.READ, seen.number());
            assertEquals(fd, seen.arg(0));
            assertEquals(16, seen.arg(2));
            assertEquals(seen, ThreadSyscall.read(tid), "/proc/<tid>/syscall answers for a thread id too");
        } finally {
            try (Arena arena = Arena.ofConfined()) {
                Posix.write(fd, arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 1));
            }
            reader.join(5_000);
            Posix.close(fd, fifo.toString());
        }
    }

    private static ThreadSyscall awaitBlocked(int tid) throws Exception {
        int pid = (int) ProcessHandle.current().pid();
        for (int i = 0; i < 500; i++) {
            ThreadSyscall s = ThreadSyscall.read(pid, tid);
            if (s.state() == ThreadSyscall.State.IN_SYSCALL && s.number() == ThreadSyscall.READ) {
                return s;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the reader thread never blocked in read(2)");
    }

    /** The native thread id of the Java thread called {@code name} (the JDK names native threads too). */
    private static int awaitTid(String name) throws Exception {
        for (int i = 0; i < 500; i++) {
            try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
                Optional<Path> found = tasks.filter(t -> name.equals(comm(t))).findFirst();
                if (found.isPresent()) {
                    return Integer.parseInt(found.get().getFileName().toString());
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no native thread named " + name);
    }

    private static String comm(Path task) {
        try {
            return Files.readString(task.resolve("comm")).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
