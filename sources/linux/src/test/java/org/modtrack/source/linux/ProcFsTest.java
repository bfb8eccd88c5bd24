package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading /proc about a real child process (no fanotify involved). */
class ProcFsTest {
    @TempDir
    Path tmp;

    @Test
    void deviceNumbersFromMapsMatchStat() throws Exception {
        Path f = Files.writeString(tmp.resolve("x"), "x");
        long dev = ProcFs.keyOf(f).dev();
        long major = dev >>> 8 & 0xfff;
        long minor = (dev & 0xff) | (dev >>> 12 & ~0xffL);
        assertEquals(dev, ProcFs.deviceOf(Long.toHexString(major) + ":" + Long.toHexString(minor)));
    }

    @Test
    void aChildBlockedInAWriteIsSeenInsideItWithItsFdOnTheRightDevice() throws Exception {
        Path fifo = tmp.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mk.waitFor());
        Path out = tmp.resolve("out");
        // dd blocks in read(0) on the fifo; then we see it inside read, not a write-family call.
        Process dd = new ProcessBuilder("dd", "if=" + fifo, "of=" + out, "status=none").start();
        try {
            ProcFs proc = new ProcFs();
            int pid = (int) dd.pid();
            String line = "";
            for (int i = 0; i < 200 && !line.startsWith("0 ") && !line.startsWith("2 ") && !line.startsWith("257 "); i++) {
                Thread.sleep(10);
                line = proc.syscall(pid, pid);
            }
            SyscallState s = SyscallState.parse(proc.syscall(pid, pid));
            assertTrue(s.inSyscall(), "dd is blocked in a system call: " + s);
            assertTrue(proc.writeCalls(pid, pid) >= 0);
            List<long[]> threads = proc.threads();
            assertTrue(threads.stream().anyMatch(t -> t[0] == pid), "dd is listed");
        } finally {
            dd.destroyForcibly();
            dd.waitFor();
        }
    }

    @Test
    void sharedWritableMappingsOfAnotherProcessAreFound() throws Exception {
        Path data = Files.write(tmp.resolve("mapped"), new byte[8192]);
        long dev = ProcFs.keyOf(data).dev();
        // python3 maps the file shared and writable, then sleeps.
        Process p = new ProcessBuilder("python3", "-c",
                "import mmap,time,sys\nf=open(sys.argv[1],'r+b')\nm=mmap.mmap(f.fileno(),8192)\nprint('ok',flush=True)\ntime.sleep(30)",
                data.toString()).start();
        try {
            assertEquals("ok", new String(p.getInputStream().readNBytes(2)));
            List<Path> mapped = new ProcFs().writableSharedMappings((int) p.pid(), dev);
            assertEquals(1, mapped.size(), "one shared writable mapping: " + mapped);
            assertEquals(ProcFs.keyOf(data), ProcFs.keyOf(mapped.getFirst()));
            assertEquals(List.of(), new ProcFs().writableSharedMappings((int) p.pid(), dev + 1), "other devices are ignored");
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    @Test
    void aProcessWithAnIoUringAndAFileOnTheDeviceIsAnAsyncIoUser() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(UringProbe.available(), "gcc builds the io_uring probe");
        Path file = tmp.resolve("ring-file");
        try (UringProbe probe = UringProbe.start(tmp, file)) {
            long dev = ProcFs.keyOf(file).dev();
            ProcFs proc = new ProcFs();
            assertTrue(proc.asyncIoUserOf((int) probe.pid(), dev), "started: " + probe.started);
            assertTrue(!proc.asyncIoUserOf((int) probe.pid(), dev + 1), "no file on another device");
        }
    }
}
