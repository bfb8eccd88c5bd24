package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.source.linux.SyscallBarrier.WritableFd;
import org.modtrack.testing.LoopMount;

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
            assertEquals('S', proc.threadState(pid, pid), "asleep in its read of the fifo");
            assertEquals('?', proc.threadState(Integer.MAX_VALUE, Integer.MAX_VALUE), "no such thread");
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
            List<Path> mapped = new ProcFs().writableSharedMappings((int) p.pid(), TrackedFiles.ofDevice(dev, superblockDevice(data)));
            assertEquals(1, mapped.size(), "one shared writable mapping: " + mapped);
            assertEquals(ProcFs.keyOf(data), ProcFs.keyOf(mapped.getFirst()));
            assertEquals(List.of(), new ProcFs().writableSharedMappings((int) p.pid(), TrackedFiles.ofDevice(dev + 1, dev + 1)), "other devices are ignored");
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    /**
     * Shared mappings at low addresses, which maps prints with leading zeros and map_files names
     * without (the kernel refuses a name with them): one writable, one read-only of a file open for
     * writing (mprotect may make it writable), one read-only of a file open only for reading (it
     * cannot be), one private and writable. Both ways of finding them, the kernel's query and the
     * text of maps, name the same two files by links that lead to them.
     */
    @Test
    void sharedMappingsAtLowAddressesAreFoundByLinksThatLeadToTheirFiles() throws Exception {
        Path writable = Files.write(tmp.resolve("writable"), new byte[4096]);
        Path mayWrite = Files.write(tmp.resolve("may-write"), new byte[4096]);
        Path readOnly = Files.write(tmp.resolve("read-only"), new byte[4096]);
        Path privateCopy = Files.write(tmp.resolve("private"), new byte[4096]);
        long dev = ProcFs.keyOf(writable).dev();
        // ctypes' mmap at fixed addresses below 0x10000000 (MAP_FIXED_NOREPLACE: never over another mapping).
        Process p = new ProcessBuilder("python3", "-c", """
                import ctypes, os, sys, time
                libc = ctypes.CDLL(None, use_errno=True)
                libc.mmap.restype = ctypes.c_void_p
                libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
                R, W, SHARED, PRIVATE, NOREPLACE = 1, 2, 1, 2, 0x100000
                def at(address, path, flags, prot, share):
                    got = libc.mmap(address, 4096, prot, share | NOREPLACE, os.open(path, flags), 0)
                    assert got == address, (hex(address), got, ctypes.get_errno())
                at(0x1000000, sys.argv[1], os.O_RDWR, R | W, SHARED)
                at(0x1100000, sys.argv[2], os.O_RDWR, R, SHARED)
                at(0x1200000, sys.argv[3], os.O_RDONLY, R, SHARED)
                at(0x1300000, sys.argv[4], os.O_RDWR, R | W, PRIVATE)
                print('ok', flush=True)
                time.sleep(30)
                """, writable.toString(), mayWrite.toString(), readOnly.toString(), privateCopy.toString()).start();
        try {
            String started = p.inputReader().readLine();
            assertEquals("ok", started, started == null ? new String(p.getErrorStream().readAllBytes()) : started);
            ProcFs proc = new ProcFs();
            long superblockDev = superblockDevice(writable);
            List<Path> queried = proc.queriedSharedMappings((int) p.pid(), superblockDev);
            List<Path> fromText = proc.sharedMappingsFromMaps((int) p.pid(), superblockDev);
            for (List<Path> found : List.of(queried, fromText)) {
                assertEquals(List.of(ProcFs.keyOf(writable), ProcFs.keyOf(mayWrite)),
                        found.stream().map(ProcFsTest::keyOf).toList(), "found: " + found);
            }
            assertEquals(queried, fromText);
            assertEquals(queried, proc.writableSharedMappings((int) p.pid(), TrackedFiles.ofDevice(dev, superblockDev)));
            assertEquals(List.of(), proc.queriedSharedMappings((int) p.pid(), dev + 1), "other devices are ignored");
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    /**
     * On btrfs, /proc/PID/maps gives a mapped file the superblock's device, and stat its
     * subvolume's: mappings of files of the root's subvolume and of a subvolume below it are both
     * found by the superblock's device, both being files of the tracked file system.
     */
    @Test
    void sharedMappingsOnBtrfsAreFoundByTheSuperblocksDeviceInEverySubvolume() throws Exception {
        assumeTrue(LoopMount.unavailableReason("btrfs").isEmpty(), () -> LoopMount.unavailableReason("btrfs").get());
        try (LoopMount m = LoopMount.create("btrfs", 256L << 20)) {
            Path root = m.mountPoint();
            Path top = Files.write(root.resolve("top"), new byte[4096]);
            assertEquals(0, new ProcessBuilder("btrfs", "subvolume", "create", root.resolve("sub").toString())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor());
            Path inner = Files.write(root.resolve("sub/inner"), new byte[4096]);
            long dev = ProcFs.keyOf(root).dev();
            assertTrue(dev != ProcFs.keyOf(inner).dev(), "a subvolume below has a device of its own");
            Process p = new ProcessBuilder("python3", "-c", """
                    import mmap, os, sys, time
                    maps = [mmap.mmap(os.open(f, os.O_RDWR), 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
                            for f in sys.argv[1:]]
                    print('ok', flush=True)
                    time.sleep(30)
                    """, top.toString(), inner.toString()).start();
            try {
                assertEquals("ok", p.inputReader().readLine());
                ProcFs proc = new ProcFs();
                long superblockDev = superblockDevice(root);
                assertTrue(superblockDev != dev, "btrfs: stat gives a subvolume's files a device of their own");
                for (List<Path> found : List.of(proc.queriedSharedMappings((int) p.pid(), superblockDev),
                        proc.sharedMappingsFromMaps((int) p.pid(), superblockDev))) {
                    assertEquals(Set.of(ProcFs.keyOf(top), ProcFs.keyOf(inner)),
                            found.stream().map(ProcFsTest::keyOf).collect(Collectors.toSet()), "found: " + found);
                }
            } finally {
                p.destroyForcibly();
                p.waitFor();
            }
        }
    }

    /** A kernel thread has no address space: no mappings, and no error. */
    @Test
    void aKernelThreadHasNoSharedMappings() throws Exception {
        // kthreadd is pid 2 where this runs as the machine's kernel sees it; in a pid namespace it is not there.
        assumeTrue(Files.readString(Path.of("/proc/2/comm")).strip().equals("kthreadd"));
        long dev = ProcFs.keyOf(tmp).dev();
        assertEquals(List.of(), new ProcFs().queriedSharedMappings(2, dev));
    }

    /** The device of the superblock of the file system holding {@code path}, as mountinfo gives it. */
    private static List<Integer> fds(List<WritableFd> writable) {
        return writable.stream().map(WritableFd::fd).toList();
    }

    @Test
    void fdinfoGivesTheAccessModeMountAndInodeOfADescriptor() throws IOException {
        assertEquals(new ProcFs.FdInfo(1, 31, 1234), ProcFs.parseFdInfo("pos:\t0\nflags:\t0100001\nmnt_id:\t31\nino:\t1234\n", 1, 3));
        assertEquals(new ProcFs.FdInfo(2, 31, -1), ProcFs.parseFdInfo("pos:\t0\nflags:\t02\nmnt_id:\t31\n", 1, 3),
                "a kernel that gives no inode");
        assertEquals(0, ProcFs.parseFdInfo("flags:\t0100000\n", 1, 3).accessMode());
        IOException e = assertThrows(IOException.class, () -> ProcFs.parseFdInfo("pos:\t0\n", 1, 3));
        assertEquals("no flags in /proc/1/fdinfo/3", e.getMessage());
    }

    private static long superblockDevice(Path path) throws IOException {
        return TrackedFilesystem.mountOf(path.toRealPath(), MountInfo.parseAll(Files.readAllLines(MountInfo.FILE)))
                .superblockDev();
    }

    private static FileKey keyOf(Path link) {
        try {
            return ProcFs.keyOf(link);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aProcessWithAnIoUringAndAFileOnTheDeviceIsAnAsyncIoUser() throws Exception {
        assumeTrue(UringProbe.available(), "gcc builds the io_uring probe");
        Path file = tmp.resolve("ring-file");
        try (UringProbe probe = UringProbe.start(tmp, file)) {
            long dev = ProcFs.keyOf(file).dev();
            ProcFs proc = new ProcFs();
            assertTrue(proc.asyncIoUserOf((int) probe.pid(), TrackedFiles.ofDevice(dev, dev)), "started: " + probe.started);
            assertTrue(!proc.asyncIoUserOf((int) probe.pid(), TrackedFiles.ofDevice(dev + 1, dev + 1)), "no file on another device");
        }
    }

    @Test
    void filesOpenForWritingOfAnotherProcessAreFoundWithTheirAccessModes() throws Exception {
        Path both = Files.writeString(tmp.resolve("read-write"), "x");
        Path write = tmp.resolve("write-only");
        Path read = Files.writeString(tmp.resolve("read-only"), "x");
        long dev = ProcFs.keyOf(both).dev();
        Process p = new ProcessBuilder("python3", "-c",
                "import sys,time\nfs=[open(sys.argv[1],'r+b'),open(sys.argv[2],'wb'),open(sys.argv[3],'rb')]\n"
                        + "print(' '.join(str(f.fileno()) for f in fs),flush=True)\ntime.sleep(30)",
                both.toString(), write.toString(), read.toString()).start();
        try {
            String[] fds = p.inputReader().readLine().split(" ", -1);
            int pid = (int) p.pid();
            int bothFd = Integer.parseInt(fds[0]);
            int writeFd = Integer.parseInt(fds[1]);
            int readFd = Integer.parseInt(fds[2]);
            ProcFs proc = new ProcFs();
            assertEquals(2, proc.fdAccessMode(pid, bothFd), "O_RDWR");
            assertEquals(1, proc.fdAccessMode(pid, writeFd), "O_WRONLY");
            assertEquals(0, proc.fdAccessMode(pid, readFd), "O_RDONLY");
            assertEquals(ProcFs.keyOf(write).ino(), proc.writableFd(pid, writeFd).ino(), "the inode, from fdinfo");
            assertEquals(null, proc.writableFd(pid, readFd));
            List<WritableFd> writable = proc.writableFds(pid, TrackedFiles.ofDevice(dev, dev));
            assertEquals(List.of(bothFd, writeFd), writable.stream().map(WritableFd::fd).sorted().toList());
            assertEquals(List.of(ProcFs.keyOf(both).ino(), ProcFs.keyOf(write).ino()),
                    writable.stream().sorted(Comparator.comparingInt(WritableFd::fd))
                            .map(WritableFd::ino).toList());
            assertEquals(List.of(), proc.writableFds(pid, TrackedFiles.ofDevice(dev + 1, dev + 1)), "other devices are ignored");
            assertTrue(!proc.asyncIoUserOf(pid, TrackedFiles.ofDevice(dev, dev)), "no io_uring, no AIO context");
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    /**
     * A file of a btrfs subvolume below the tracked root, open for writing, is one of the tracked
     * files (its device is not the root's); a pipe and a file of another btrfs are not.
     */
    @Test
    void aDescriptorOfAFileInABtrfsSubvolumeBelowTheRootIsOfTheTrackedFiles() throws Exception {
        assumeTrue(LoopMount.unavailableReason("btrfs").isEmpty(), () -> LoopMount.unavailableReason("btrfs").get());
        try (LoopMount m = LoopMount.create("btrfs", 128L << 20); LoopMount other = LoopMount.create("btrfs", 128L << 20);
             TrackedFilesystem fs = TrackedFilesystem.holding(m.mountPoint())) {
            Path root = m.mountPoint();
            assertEquals(0, new ProcessBuilder("btrfs", "subvolume", "create", root.resolve("sub").toString())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor());
            Path inner = root.resolve("sub/inner");
            Path elsewhere = other.mountPoint().resolve("elsewhere");
            Process p = new ProcessBuilder("python3", "-c",
                    "import os,sys,time\nr,w=os.pipe()\nfs=[open(sys.argv[1],'wb'),open(sys.argv[2],'wb')]\n"
                            + "print(' '.join(str(x) for x in [fs[0].fileno(),fs[1].fileno(),w]),flush=True)\ntime.sleep(30)",
                    inner.toString(), elsewhere.toString()).start();
            try {
                String[] fds = p.inputReader().readLine().split(" ", -1);
                int pid = (int) p.pid();
                int innerFd = Integer.parseInt(fds[0]);
                int elsewhereFd = Integer.parseInt(fds[1]);
                int pipeFd = Integer.parseInt(fds[2]);
                ProcFs proc = new ProcFs();
                assertTrue(fs.dev() != ProcFs.keyOf(inner).dev(), "a subvolume below has a device of its own");
                assertTrue(proc.fdMayBeOf(pid, innerFd, fs), "a file of a subvolume below the root");
                assertTrue(!proc.fdMayBeOf(pid, elsewhereFd, fs), "a file of another btrfs");
                assertTrue(!proc.fdMayBeOf(pid, pipeFd, fs), "a pipe");
                assertEquals(List.of(innerFd), fds(proc.writableFds(pid, fs)));
                TrackedFiles look = fs.forOneLook(); // a device found not ours is not asked again within it
                for (int i = 0; i < 2; i++) {
                    assertTrue(proc.fdMayBeOf(pid, innerFd, look) && !proc.fdMayBeOf(pid, elsewhereFd, look), "look " + i);
                    assertEquals(List.of(innerFd), fds(proc.writableFds(pid, look)), "look " + i);
                }
                assertEquals(List.of(), proc.writableFds(pid, TrackedFiles.ofDevice(fs.dev(), fs.superblockDev())),
                        "by the root's device alone, it is not found");
            } finally {
                p.destroyForcibly();
                p.waitFor();
            }
        }
    }

    @Test
    void aProcFileIsReadWholeAcrossManyReads() throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 300_000; i++) {
            text.append("line ").append(i).append('\n');
        }
        Path big = Files.writeString(tmp.resolve("big"), text);
        assertEquals(text.toString(), ProcFs.readWhole(big.toString()));
        assertTrue(ProcFs.readWhole("/proc/self/maps").contains("\n"), "a /proc file of this process");
    }

    /**
     * A process that has exited but was not waited for (a zombie) has ended, though
     * {@code ProcessHandle.isAlive} says it is alive: a queue keeper killed is one until this JVM's
     * reaper waits for it, and its successor is started once it has ended.
     */
    @Test
    void aProcessNotWaitedForHasEnded() throws Exception {
        // sh starts a child that exits shortly, then becomes sleep, which never waits for it (sh
        // itself may wait for a child that exits before its exec).
        Process p = new ProcessBuilder("sh", "-c", "(sleep 0.2) & echo $!; exec sleep 30").start();
        try {
            long zombie = Long.parseLong(p.inputReader().readLine().strip());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!ProcFs.ended(zombie)) {
                assertTrue(System.nanoTime() < deadline, "pid " + zombie + " never became a zombie");
                Thread.sleep(10);
            }
            assertTrue(ProcessHandle.of(zombie).map(ProcessHandle::isAlive).orElse(false), "alive, as the JDK sees it");
            assertFalse(ProcFs.ended(ProcessHandle.current().pid()), "this process runs");
            assertFalse(ProcFs.ended(p.pid()), "sleep runs");
        } finally {
            p.destroyForcibly().waitFor();
        }
        assertFalse(ProcFs.ended(Long.MAX_VALUE), "no such process");
    }
}
