package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modtrack.posix.Errno;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FanotifyEvents;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;
import org.modtrack.testing.LoopMount;
import org.modtrack.testing.TmpfsMount;

/**
 * What the Linux source relies on, asserted against the running kernel, and printed (to the test
 * output and target/kernel-behaviour.md; docs/kernel-facts.md summarises it). Accesses come from
 * child processes (python3, sh, dd, truncate) that take one step at a time, so each event is
 * attributed to exactly one access. Every permission mark is on a loop-mounted ext4 the test
 * creates; a listener thread answers every event with FAN_ALLOW.
 *
 * <ol>
 *   <li>which calls raise FAN_PRE_ACCESS, with their range records; 1b: open(O_TRUNC), seen only by
 *       FAN_OPEN_PERM; 1c: files opened before the mark raise none (except on truncate);</li>
 *   <li>the system call /proc shows while the accessing thread waits, also via /proc/tid/task/tid;</li>
 *   <li>ignore marks on the event fd, and FAN_MARK_FLUSH;</li>
 *   <li>the listener's own process is not exempt; handles, statx and event-fd reads raise nothing;</li>
 *   <li>multigrain timestamps on ext4, xfs and btrfs;</li>
 *   <li>a notification group's name events and their handles;</li>
 *   <li>tmpfs refuses FAN_PRE_ACCESS marks;</li>
 *   <li>how /proc names a mapped file: map_files without maps' leading zeros, maps by the
 *       superblock's device (a btrfs subvolume's files have another in stat).</li>
 * </ol>
 *
 * Skipped, saying why, when not root (loop devices and fanotify permission groups need it).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KernelBehaviourTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path scratch;

    @BeforeAll
    static void requireRootAndLoopDevices() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "KernelBehaviourTest skipped: " + LoopMount.unavailableReason("ext4").get());
        Report.line("Kernel: " + System.getProperty("os.version"));
    }

    @AfterAll
    static void writeReport() throws Exception {
        Report.write();
    }

    // ---- probe 1 and 2: which calls raise FAN_PRE_ACCESS, and what /proc says while they wait

    private static final String ACCESSES = """
            r = os.open(P("r.dat"), os.O_RDONLY)
            step("open O_RDONLY")
            r2 = os.open(P("r.dat"), os.O_RDONLY)
            step("open O_RDWR")
            w = os.open(P("w.dat"), os.O_RDWR)
            step("read")
            os.read(r, 100)
            step("pread")
            os.pread(r, 100, 8192)
            step("write")
            os.write(w, b"x")
            step("pwrite")
            os.pwrite(w, b"y", 5000)
            step("writev")
            os.writev(w, [b"a", b"b"])
            step("ftruncate")
            os.ftruncate(w, 15000)
            step("truncate(path)")
            os.truncate(P("t.dat"), 5000)
            step("fallocate")
            os.posix_fallocate(w, 0, 65536)
            step("mmap PROT_READ MAP_SHARED")
            mr = mmap.mmap(r, 8192, mmap.MAP_SHARED, mmap.PROT_READ)
            step("loads through a shared mapping")
            x = mr[0] + mr[4096]
            step("mmap PROT_READ|PROT_WRITE MAP_SHARED")
            mw = mmap.mmap(w, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            step("stores through an existing shared mapping")
            mw[0:1] = b"z"
            mw[4096:4097] = b"z"
            step("msync")
            mw.flush()
            step("munmap")
            mw.close()
            mr.close()
            step("mmap PROT_READ|PROT_WRITE MAP_PRIVATE and a store")
            mp = mmap.mmap(w, 4096, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE)
            mp[0:1] = b"p"
            mp.close()
            step("open O_WRONLY|O_TRUNC of a non-empty file")
            os.close(os.open(P("o.dat"), os.O_WRONLY | os.O_TRUNC))
            step("open O_WRONLY|O_TRUNC of an empty file")
            os.close(os.open(P("o.dat"), os.O_WRONLY | os.O_TRUNC))
            step("open O_CREAT of a new file")
            os.close(os.open(P("new.dat"), os.O_WRONLY | os.O_CREAT, 0o644))
            step("rename")
            os.rename(P("n.dat"), P("n2.dat"))
            step("rename over an existing file")
            os.rename(P("n2.dat"), P("victim.dat"))
            step("unlink")
            os.unlink(P("u.dat"))
            step("link")
            os.link(P("l.dat"), P("l2.dat"))
            step("chmod")
            os.chmod(P("c.dat"), 0o600)
            step("utime")
            os.utime(P("c.dat"))
            step("copy_file_range")
            d = os.open(P("dst.dat"), os.O_WRONLY)
            info("copied", os.copy_file_range(r, d, 5000, 0, 0))
            step("sendfile")
            s = os.open(P("s.dat"), os.O_WRONLY)
            info("sent", os.sendfile(s, r, 0, 5000))
            step("pwrite from a second thread")
            def second():
                info("tid", threading.get_native_id())
                os.pwrite(w, b"t", 100)
            t = threading.Thread(target=second)
            t.start()
            t.join()
            step("close")
            os.close(w)
            os.close(r)
            os.close(r2)
            step("end")
            """;

    @Test
    @Order(1)
    void whichAccessesRaisePreAccessAndWhatProcSaysMeanwhile() throws Exception {
        assumeTrue(ChildScript.available(), "python3 is needed for the access probes");
        try (LoopMount mount = LoopMount.create("ext4", 64 * MIB)) {
            Path mnt = mount.mountPoint();
            for (String name : List.of("r.dat", "w.dat", "t.dat", "o.dat", "n.dat", "victim.dat", "u.dat", "l.dat", "c.dat",
                    "sh.dat", "dd.dat", "tr.dat")) {
                Files.write(mnt.resolve(name), new byte[20_000]);
            }
            Files.write(mnt.resolve("dst.dat"), new byte[0]);
            Files.write(mnt.resolve("s.dat"), new byte[0]);
            ChildScript.Result child;
            try (ProbeListener listener = ProbeListener.start(mnt)) {
                child = ChildScript.run(scratch, mnt, ACCESSES, listener::label);
                listener.label("sh -c 'echo appended >> sh.dat'");
                ChildScript.command(scratch, "sh", "-c", "echo appended >> " + mnt.resolve("sh.dat"));
                listener.label("dd conv=notrunc");
                ChildScript.command(scratch, "dd", "if=/dev/zero", "of=" + mnt.resolve("dd.dat"), "bs=512", "count=1",
                        "conv=notrunc", "status=none");
                listener.label("truncate -s 100");
                ChildScript.command(scratch, "truncate", "-s", "100", mnt.resolve("tr.dat").toString());
                listener.label("done");
                reportAccesses(listener, child);
                assertNull(listener.failure(), () -> "the listener failed: " + listener.failure());
                assertAccesses(listener, child);
            }
            assertEquals(0, Files.size(mnt.resolve("o.dat")), "open(O_TRUNC) did truncate, without any event");
        }
    }

    /** An access, the system call its event(s) must show, and the files they name (none: no event). */
    private record Expected(String label, int syscall, String... files) {}

    private static final List<Expected> EXPECTED = List.of(
            new Expected("open O_RDONLY", -1),
            new Expected("open O_RDWR", -1),
            new Expected("read", ThreadSyscall.READ, "r.dat"),
            new Expected("pread", ThreadSyscall.PREAD64, "r.dat"),
            new Expected("write", ThreadSyscall.WRITE, "w.dat"),
            new Expected("pwrite", ThreadSyscall.PWRITE64, "w.dat"),
            new Expected("writev", ThreadSyscall.WRITEV, "w.dat"),
            new Expected("ftruncate", ThreadSyscall.FTRUNCATE, "w.dat"),
            new Expected("truncate(path)", ThreadSyscall.TRUNCATE, "t.dat"),
            new Expected("fallocate", ThreadSyscall.FALLOCATE, "w.dat"),
            new Expected("mmap PROT_READ MAP_SHARED", ThreadSyscall.MMAP, "r.dat"),
            new Expected("loads through a shared mapping", -1),
            new Expected("mmap PROT_READ|PROT_WRITE MAP_SHARED", ThreadSyscall.MMAP, "w.dat"),
            new Expected("stores through an existing shared mapping", -1),
            new Expected("msync", -1),
            new Expected("munmap", -1),
            new Expected("mmap PROT_READ|PROT_WRITE MAP_PRIVATE and a store", ThreadSyscall.MMAP, "w.dat"),
            // open(O_TRUNC) truncates without any pre-content event (FAN_OPEN_PERM sees it: probe 1b)
            new Expected("open O_WRONLY|O_TRUNC of a non-empty file", -1),
            new Expected("open O_WRONLY|O_TRUNC of an empty file", -1),
            new Expected("open O_CREAT of a new file", -1),
            new Expected("rename", -1),
            new Expected("rename over an existing file", -1),
            new Expected("unlink", -1),
            new Expected("link", -1),
            new Expected("chmod", -1),
            new Expected("utime", -1),
            new Expected("copy_file_range", ThreadSyscall.COPY_FILE_RANGE, "r.dat", "dst.dat"),
            new Expected("sendfile", ThreadSyscall.SENDFILE, "r.dat", "s.dat"),
            new Expected("pwrite from a second thread", ThreadSyscall.PWRITE64, "w.dat"),
            new Expected("close", -1),
            new Expected("sh -c 'echo appended >> sh.dat'", ThreadSyscall.WRITE, "sh.dat"),
            new Expected("dd conv=notrunc", ThreadSyscall.WRITE, "dd.dat"),
            new Expected("truncate -s 100", ThreadSyscall.FTRUNCATE, "tr.dat"));

    private static void assertAccesses(ProbeListener listener, ChildScript.Result child) {
        for (Expected e : EXPECTED) {
            List<ProbeListener.Seen> seen = listener.seen(e.label());
            assertEquals(List.of(e.files()), seen.stream().map(ProbeListener.Seen::fileName).toList(),
                    e.label() + ": the files of its FAN_PRE_ACCESS events, in order");
            for (ProbeListener.Seen s : seen) {
                assertEquals(Fanotify.FAN_PRE_ACCESS, s.mask(), e.label());
                assertEquals(ThreadSyscall.State.IN_SYSCALL, s.viaTid().state(), e.label());
                assertEquals(e.syscall(), s.viaTid().number(), e.label() + ": the system call the thread waits in");
                assertEquals(s.viaTid(), s.viaTidTask(), e.label() + ": /proc/<tid>/task/<tid>/syscall works with the event's pid");
                assertEquals(s.viaTid(), s.viaTgidTask(), e.label() + ": /proc/<tgid>/task/<tid>/syscall too");
                assertTrue(s.rangeOffset() % 4096 == 0 && s.rangeCount() > 0 && s.rangeCount() % 4096 == 0,
                        e.label() + ": the range is whole pages: " + s.rangeOffset() + "+" + s.rangeCount());
            }
        }
        // the arguments tell the accesses apart while the thread waits
        assertEquals(100, listener.seen("read").getFirst().viaTid().arg(2), "read's count");
        assertEquals(5000, listener.seen("pwrite").getFirst().viaTid().arg(3), "pwrite's offset");
        assertEquals(new Range(4096, 4096), range(listener.seen("pwrite").getFirst()), "1 byte at 5000: its page");
        assertEquals(new Range(0, 65536), range(listener.seen("fallocate").getFirst()));
        assertMmap(listener, "mmap PROT_READ MAP_SHARED", ThreadSyscall.PROT_READ, ThreadSyscall.MAP_SHARED);
        assertMmap(listener, "mmap PROT_READ|PROT_WRITE MAP_SHARED", ThreadSyscall.PROT_READ | ThreadSyscall.PROT_WRITE,
                ThreadSyscall.MAP_SHARED);
        assertMmap(listener, "mmap PROT_READ|PROT_WRITE MAP_PRIVATE and a store",
                ThreadSyscall.PROT_READ | ThreadSyscall.PROT_WRITE, ThreadSyscall.MAP_PRIVATE);
        ProbeListener.Seen thread = listener.seen("pwrite from a second thread").getFirst();
        assertEquals(Integer.parseInt(child.info().get("tid")), thread.tid(), "FAN_REPORT_TID: the event's pid is the thread id");
        assertEquals(child.pid(), thread.tgid());
    }

    private record Range(long offset, long count) {}

    private static Range range(ProbeListener.Seen s) {
        return new Range(s.rangeOffset(), s.rangeCount());
    }

    private static void assertMmap(ProbeListener listener, String label, long prot, long flags) {
        ThreadSyscall mmap = listener.seen(label).getFirst().viaTid();
        assertEquals(prot, mmap.arg(2), label + ": prot");
        assertEquals(flags, mmap.arg(3) & 0xf, label + ": flags");
    }

    private static void reportAccesses(ProbeListener listener, ChildScript.Result child) {
        Report.section("1-2. Which accesses raise FAN_PRE_ACCESS (ext4), and /proc/<tid>/syscall while they wait");
        Report.line("Child pid " + child.pid() + ", info " + child.info());
        Report.line("");
        Report.line("| access | event? | syscall seen (nr, args) | range offset+count | file | note |");
        Report.line("| --- | --- | --- | --- | --- | --- |");
        List<String> labels = new ArrayList<>(ChildScript.steps(ACCESSES));
        labels.addAll(List.of("sh -c 'echo appended >> sh.dat'", "dd conv=notrunc", "truncate -s 100"));
        for (String label : labels) {
            List<ProbeListener.Seen> seen = listener.seen(label);
            Report.eventRow(label, seen, note(seen, child));
        }
    }

    private static String note(List<ProbeListener.Seen> seen, ChildScript.Result child) {
        StringBuilder note = new StringBuilder();
        for (ProbeListener.Seen s : seen) {
            if (s.tid() != child.pid() && s.tgid() == child.pid()) {
                note.append("tid ").append(s.tid()).append(" != pid; ");
            }
            if (s.viaTid() != null && !s.viaTid().equals(s.viaTidTask())) {
                note.append("/proc/tid/task/tid differs: ").append(Report.describe(s.viaTidTask())).append("; ");
            }
            if (s.viaTid() != null && !s.viaTid().equals(s.viaTgidTask())) {
                note.append("/proc/tgid/task/tid differs: ").append(Report.describe(s.viaTgidTask())).append("; ");
            }
            if (!s.problem().isEmpty()) {
                note.append(s.problem()).append("; ");
            }
        }
        return note.toString().strip();
    }

    // ---- probe 1b: open(O_TRUNC) raises no pre-content event; does FAN_OPEN_PERM see it in time?

    private static final String TRUNCATING_OPEN = """
            step("open O_WRONLY|O_TRUNC")
            os.close(os.open(P("o.dat"), os.O_WRONLY | os.O_TRUNC))
            step("open O_RDONLY")
            os.close(os.open(P("o.dat"), os.O_RDONLY))
            step("end")
            """;

    @Test
    @Order(2)
    void aTruncatingOpenIsSeenOnlyByOpenPermissionEventsBeforeItTruncates() throws Exception {
        assumeTrue(ChildScript.available(), "python3 is needed for the access probes");
        try (LoopMount mount = LoopMount.create("ext4", 64 * MIB)) {
            Path mnt = mount.mountPoint();
            Files.write(mnt.resolve("o.dat"), new byte[20_000]);
            try (ProbeListener listener = ProbeListener.start(mnt, Fanotify.FAN_PRE_ACCESS | Fanotify.FAN_OPEN_PERM)) {
                ChildScript.run(scratch, mnt, TRUNCATING_OPEN, listener::label);
                listener.label("done");
                Report.section("1b. open(O_TRUNC) with FAN_OPEN_PERM added to the mark");
                Report.line("| access | event? | syscall seen (nr, args) | range | file | size while the event waits |");
                Report.line("| --- | --- | --- | --- | --- | --- |");
                for (String label : ChildScript.steps(TRUNCATING_OPEN)) {
                    List<ProbeListener.Seen> seen = listener.seen(label);
                    Report.eventRow(label, seen, seen.stream().map(s -> Long.toString(s.sizeWhileWaiting())).toList().toString());
                }
                assertNull(listener.failure(), () -> "the listener failed: " + listener.failure());
                ProbeListener.Seen trunc = only(listener.seen("open O_WRONLY|O_TRUNC"));
                assertEquals(Fanotify.FAN_OPEN_PERM, trunc.mask());
                assertEquals(ThreadSyscall.OPENAT, trunc.viaTid().number());
                assertEquals(Posix.O_TRUNC, trunc.viaTid().arg(2) & Posix.O_TRUNC, "openat's flags show O_TRUNC");
                assertEquals(20_000, trunc.sizeWhileWaiting(), "the open permission event comes before the truncation");
                assertEquals(Fanotify.FAN_OPEN_PERM, only(listener.seen("open O_RDONLY")).mask());
            }
        }
    }

    // ---- probe 1c: a file opened before the group existed

    private static final String OPENED_EARLY = """
            w = os.open(P("early.dat"), os.O_RDWR)
            step("opened before the group existed")
            step("pwrite through an fd opened before the mark")
            os.pwrite(w, b"e", 0)
            step("pread through an fd opened before the mark")
            os.pread(w, 10, 0)
            step("mmap through an fd opened before the mark")
            m = mmap.mmap(w, 4096)
            m.close()
            step("ftruncate through an fd opened before the mark")
            os.ftruncate(w, 100)
            step("pwrite through an fd opened after the mark")
            w2 = os.open(P("early.dat"), os.O_RDWR)
            os.pwrite(w2, b"l", 0)
            step("end")
            """;

    @Test
    @Order(3)
    void aFileOpenedBeforeTheMarkRaisesNoPreContentEventsExceptOnTruncate() throws Exception {
        assumeTrue(ChildScript.available(), "python3 is needed for the access probes");
        try (LoopMount mount = LoopMount.create("ext4", 64 * MIB)) {
            Path mnt = mount.mountPoint();
            Files.write(mnt.resolve("early.dat"), new byte[20_000]);
            AtomicReference<ProbeListener> holder = new AtomicReference<>();
            try {
                ChildScript.run(scratch, mnt, OPENED_EARLY, name -> {
                    if (name.equals("pwrite through an fd opened before the mark")) {
                        holder.set(ProbeListener.start(mnt));
                    }
                    if (holder.get() != null) {
                        holder.get().label(name);
                    }
                });
                ProbeListener listener = holder.get();
                listener.label("done");
                Report.section("1c. A file opened before the pre-content mark existed");
                Report.line("| access | event? | syscall seen (nr, args) | range | file | note |");
                Report.line("| --- | --- | --- | --- | --- | --- |");
                for (String label : ChildScript.steps(OPENED_EARLY)) {
                    Report.eventRow(label, listener.seen(label), "");
                }
                assertNull(listener.failure(), () -> "the listener failed: " + listener.failure());
                for (String before : List.of("pwrite", "pread", "mmap")) {
                    assertEquals(List.of(), listener.seen(before + " through an fd opened before the mark"),
                            before + " through a file opened before the mark: the kernel decided at open that no one listens");
                }
                // ftruncate is checked on the inode, not on how the file was opened
                assertEquals(ThreadSyscall.FTRUNCATE,
                        only(listener.seen("ftruncate through an fd opened before the mark")).viaTid().number());
                assertEquals(1, listener.seen("pwrite through an fd opened after the mark").size());
            } finally {
                if (holder.get() != null) {
                    holder.get().close();
                }
            }
        }
    }

    // ---- probe 3: ignore marks, and FAN_MARK_FLUSH

    private static final String IGNORED = """
            w = os.open(P("i.dat"), os.O_RDWR)
            o = os.open(P("other.dat"), os.O_RDWR)
            step("first write (the listener sets the ignore mark)")
            os.pwrite(w, b"1", 0)
            step("second write")
            os.pwrite(w, b"2", 4096)
            step("read")
            os.pread(w, 10, 0)
            step("write through a new fd")
            w2 = os.open(P("i.dat"), os.O_RDWR)
            os.pwrite(w2, b"3", 0)
            step("mmap PROT_WRITE MAP_SHARED")
            m = mmap.mmap(w, 4096)
            m.close()
            step("ftruncate")
            os.ftruncate(w, 9000)
            step("write to another file")
            os.pwrite(o, b"o", 0)
            step("write after FAN_MARK_FLUSH")
            os.pwrite(w, b"4", 0)
            step("read after FAN_MARK_FLUSH")
            os.pread(w, 10, 0)
            j = os.open(P("j.dat"), os.O_RDWR)
            step("read (the listener sets an ignore mark without SURV_MODIFY)")
            os.pread(j, 10, 0)
            step("read again (no SURV_MODIFY)")
            os.pread(j, 10, 0)
            step("first write after it (no SURV_MODIFY)")
            os.pwrite(j, b"j", 0)
            step("second write (no SURV_MODIFY)")
            os.pwrite(j, b"j", 0)
            k = os.open(P("k.dat"), os.O_RDWR)
            step("read (the listener sets a plain FAN_MARK_IGNORE)")
            os.pread(k, 10, 0)
            step("read again (plain FAN_MARK_IGNORE)")
            os.pread(k, 10, 0)
            step("write (plain FAN_MARK_IGNORE)")
            os.pwrite(k, b"k", 0)
            step("read after that write (plain FAN_MARK_IGNORE)")
            os.pread(k, 10, 0)
            q = os.open(P("q.dat"), os.O_RDWR)
            step("read (the listener sets a legacy FAN_MARK_IGNORED_MASK)")
            os.pread(q, 10, 0)
            step("read again (legacy FAN_MARK_IGNORED_MASK)")
            os.pread(q, 10, 0)
            step("end")
            """;

    private static final int IGNORE_SURVIVING = Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_IGNORE
            | Fanotify.FAN_MARK_IGNORED_SURV_MODIFY | Fanotify.FAN_MARK_EVICTABLE;

    @Test
    @Order(4)
    void anIgnoreMarkHidesLaterAccessesUntilFlushed() throws Exception {
        assumeTrue(ChildScript.available(), "python3 is needed for the access probes");
        try (LoopMount mount = LoopMount.create("ext4", 64 * MIB)) {
            Path mnt = mount.mountPoint();
            for (String name : List.of("i.dat", "j.dat", "k.dat", "q.dat", "other.dat")) {
                Files.write(mnt.resolve(name), new byte[20_000]);
            }
            try (ProbeListener listener = ProbeListener.start(mnt)) {
                ChildScript.run(scratch, mnt, IGNORED, name -> {
                    listener.label(name);
                    switch (name) {
                        case "first write (the listener sets the ignore mark)" -> listener.hook(ignoreOnce("i.dat", IGNORE_SURVIVING));
                        case "write after FAN_MARK_FLUSH" -> {
                            listener.hook(null);
                            Fanotify.mark(listener.group(), Fanotify.FAN_MARK_FLUSH, 0, Statx.AT_FDCWD, mnt.toString());
                        }
                        case "read (the listener sets an ignore mark without SURV_MODIFY)" -> listener.hook(ignoreOnce("j.dat",
                                Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_IGNORE | Fanotify.FAN_MARK_EVICTABLE));
                        case "read (the listener sets a plain FAN_MARK_IGNORE)" -> listener.hook(ignoreOnce("k.dat",
                                Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_IGNORE));
                        case "read (the listener sets a legacy FAN_MARK_IGNORED_MASK)" -> listener.hook(ignoreOnce("q.dat",
                                Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_IGNORED_MASK));
                        default -> { }
                    }
                });
                listener.label("done");
                Report.section("3. Ignore marks (FAN_MARK_IGNORE on the event fd) and FAN_MARK_FLUSH");
                Report.line("Mark: " + Fanotify.markFlagNames(IGNORE_SURVIVING) + ", mask FAN_PRE_ACCESS, dirfd = the event fd,"
                        + " path null; flush: FAN_MARK_FLUSH, mask 0, AT_FDCWD, the mount point.");
                Report.line("");
                Report.line("| access | event? | syscall seen (nr, args) | range | file | note |");
                Report.line("| --- | --- | --- | --- | --- | --- |");
                for (String label : ChildScript.steps(IGNORED)) {
                    Report.eventRow(label, listener.seen(label), "");
                }
                assertNull(listener.failure(), () -> "the listener failed: " + listener.failure());
                Map<String, Integer> expected = new LinkedHashMap<>();
                expected.put("first write (the listener sets the ignore mark)", 1);
                expected.put("second write", 0);
                expected.put("read", 0);
                expected.put("write through a new fd", 0);
                expected.put("mmap PROT_WRITE MAP_SHARED", 0);
                expected.put("ftruncate", 0);
                expected.put("write to another file", 1);
                expected.put("write after FAN_MARK_FLUSH", 1);
                expected.put("read after FAN_MARK_FLUSH", 1);
                // without IGNORED_SURV_MODIFY an ignore mark does not hide pre-content events at all, not even reads
                for (String label : List.of("read (the listener sets an ignore mark without SURV_MODIFY)",
                        "read again (no SURV_MODIFY)", "first write after it (no SURV_MODIFY)", "second write (no SURV_MODIFY)",
                        "read (the listener sets a plain FAN_MARK_IGNORE)", "read again (plain FAN_MARK_IGNORE)",
                        "write (plain FAN_MARK_IGNORE)", "read after that write (plain FAN_MARK_IGNORE)",
                        "read (the listener sets a legacy FAN_MARK_IGNORED_MASK)", "read again (legacy FAN_MARK_IGNORED_MASK)")) {
                    expected.put(label, 1);
                }
                expected.forEach((label, count) -> assertEquals(count, listener.seen(label).size(), label));
            }
        }
    }

    /** A hook that puts an ignore mark ({@code flags}) on the first event of {@code fileName}, then does nothing. */
    private static ProbeListener.Hook ignoreOnce(String fileName, int flags) {
        AtomicBoolean done = new AtomicBoolean();
        return (group, eventFd, path) -> {
            if (path != null && path.endsWith("/" + fileName) && done.compareAndSet(false, true)) {
                Fanotify.mark(group, flags, Fanotify.FAN_PRE_ACCESS, eventFd, null);
            }
        };
    }

    // ---- probe 4: the listener's own process, and what it may do on the event path

    @Test
    @Order(5)
    void theListenersOwnProcessIsNotExemptButHandlesAndStatxRaiseNothing() throws Exception {
        try (LoopMount mount = LoopMount.create("ext4", 64 * MIB)) {
            Path mnt = mount.mountPoint();
            Path own = Files.write(mnt.resolve("own.dat"), new byte[20_000]);
            Path viaEventFd = Files.write(mnt.resolve("evfd.dat"), new byte[20_000]);
            long pid = ProcessHandle.current().pid();
            AtomicReference<String> eventFdRead = new AtomicReference<>("not tried");
            try (ProbeListener listener = ProbeListener.start(mnt)) {
                listener.label("this JVM reads a file (the test thread)");
                Files.readAllBytes(own);
                listener.label("this JVM writes a file (the test thread)");
                Files.write(own, new byte[] {1}, StandardOpenOption.WRITE);
                String handles = "name_to_handle_at, open_by_handle_at(O_PATH), readlink /proc/self/fd/N, statx, fstatfs";
                listener.label(handles);
                String resolved = resolveThroughHandle(mnt, own, Posix.O_PATH);
                String openOnly = "open_by_handle_at(O_RDONLY), no read";
                listener.label(openOnly);
                resolveThroughHandle(mnt, own, Posix.O_RDONLY);
                String eventFd = "pread through the event fd (another thread, while the event waits)";
                listener.hook(readThroughEventFdOnce("evfd.dat", eventFdRead));
                listener.label(eventFd);
                Files.readAllBytes(viaEventFd);
                listener.hook(null);
                listener.label("done");

                Report.section("4. The listener's own process; handles, statx and the event fd on the event path");
                Report.line("| access | event? | syscall seen (nr, args) | range | file | note |");
                Report.line("| --- | --- | --- | --- | --- | --- |");
                for (String label : List.of("this JVM reads a file (the test thread)", "this JVM writes a file (the test thread)",
                        handles, openOnly, eventFd)) {
                    List<ProbeListener.Seen> seen = listener.seen(label);
                    String note = seen.stream().allMatch(s -> s.tgid() == pid) && !seen.isEmpty() ? "tgid = this JVM" : "";
                    Report.eventRow(label, seen, label.equals(eventFd) ? note + "; helper's pread: " + eventFdRead.get() : note);
                }
                Report.line("");
                Report.line("The handle resolved to " + resolved + ".");
                assertNull(listener.failure(), () -> "the listener failed: " + listener.failure());

                assertTrue(!listener.seen("this JVM reads a file (the test thread)").isEmpty()
                        && listener.seen("this JVM reads a file (the test thread)").stream().allMatch(s -> s.tgid() == pid),
                        "the listener's own process gets pre-content events for its other threads' reads");
                assertTrue(!listener.seen("this JVM writes a file (the test thread)").isEmpty());
                assertEquals(List.of(), listener.seen(handles));
                assertEquals(List.of(), listener.seen(openOnly));
                assertEquals(own.toString(), resolved);
                assertTrue(eventFdRead.get().startsWith("done"), "a read through the event fd raises no event: " + eventFdRead.get());
                assertEquals(1, listener.seen(eventFd).stream().map(ProbeListener.Seen::tid).distinct().count(),
                        "only the test thread's read raised events, not the helper's read through the event fd");
            }
        }
    }

    /** Everything the event path may do with a file: none of it may raise an event. Returns the resolved path. */
    private static String resolveThroughHandle(Path mnt, Path file, int openFlags) throws Exception {
        FileHandles.FileHandle handle = FileHandles.nameToHandleAt(Statx.AT_FDCWD, file.toString(), 0);
        int mountFd = Posix.open(mnt.toString(), Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
        try {
            int fd = FileHandles.openByHandleAt(mountFd, handle, openFlags | Posix.O_CLOEXEC);
            try {
                Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_BASIC_STATS | Statx.STATX_BTIME);
                Posix.fstatfs(fd);
                Statx.statx(Statx.AT_FDCWD, file.toString(), 0, Statx.STATX_BASIC_STATS);
                return Posix.readlink("/proc/self/fd/" + fd);
            } finally {
                Posix.close(fd, file.toString());
            }
        } finally {
            Posix.close(mountFd, mnt.toString());
        }
    }

    /**
     * A hook that, on the first event of {@code fileName}, reads through the event fd from another
     * thread and waits up to 2 s for it. Were that read to raise an event, it would wait for this
     * very listener, which is busy waiting for it: the 2 s would run out (and then the listener
     * answers it, so nothing hangs).
     */
    private static ProbeListener.Hook readThroughEventFdOnce(String fileName, AtomicReference<String> result) {
        AtomicBoolean done = new AtomicBoolean();
        return (group, eventFd, path) -> {
            if (path == null || !path.endsWith("/" + fileName) || !done.compareAndSet(false, true)) {
                return;
            }
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    long n = Posix.pread(eventFd, arena.allocate(4096), 0, "event fd");
                    result.set("done (" + n + " bytes)");
                } catch (Exception e) {
                    result.set("failed: " + e.getMessage());
                }
            });
            reader.join(2_000);
            if (reader.isAlive()) {
                result.set("still blocked after 2 s");
            }
        };
    }

    // ---- probe 5: multigrain timestamps

    private static final int TIMESTAMP_ROUNDS = 2_000;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    @Order(6)
    void aQueriedCtimeChangesOnEveryWrite(String fsType) throws Exception {
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> "skipped: " + LoopMount.unavailableReason(fsType).get());
        try (LoopMount mount = LoopMount.create(fsType, 320 * MIB)) {
            Path file = mount.mountPoint().resolve("stamped");
            int fd = Posix.open(file.toString(), Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC, 0644);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment page = arena.allocate(4096);
                Posix.pwriteFully(fd, page, 0, file.toString());
                MemorySegment oneByte = arena.allocate(1);
                int ctimeSame = 0;
                int mtimeSame = 0;
                long smallestStep = Long.MAX_VALUE;
                long start = System.nanoTime();
                for (int i = 0; i < TIMESTAMP_ROUNDS; i++) {
                    Statx before = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_CTIME | Statx.STATX_MTIME);
                    oneByte.set(ValueLayout.JAVA_BYTE, 0, (byte) i);
                    Posix.pwriteFully(fd, oneByte, 0, file.toString());
                    Statx after = Statx.statx(fd, "", Statx.AT_EMPTY_PATH, Statx.STATX_CTIME | Statx.STATX_MTIME);
                    ctimeSame += after.ctimeNanos() == before.ctimeNanos() ? 1 : 0;
                    mtimeSame += after.mtimeNanos() == before.mtimeNanos() ? 1 : 0;
                    if (after.ctimeNanos() > before.ctimeNanos()) {
                        smallestStep = Math.min(smallestStep, after.ctimeNanos() - before.ctimeNanos());
                    }
                }
                long micros = (System.nanoTime() - start) / 1000 / TIMESTAMP_ROUNDS;
                Report.section("5. Multigrain timestamps: " + fsType);
                Report.line("statx(CTIME|MTIME), pwrite 1 byte in place, statx again, " + TIMESTAMP_ROUNDS + " times ("
                        + micros + " µs a round): ctime unchanged " + ctimeSame + " times, mtime unchanged " + mtimeSame
                        + " times; smallest ctime step " + smallestStep + " ns.");
                assertEquals(0, ctimeSame, fsType + ": a write after a query must change ctime");
                assertEquals(0, mtimeSame, fsType + ": and mtime");
            } finally {
                Posix.close(fd, file.toString());
            }
        }
    }

    // ---- probe 6: the notification group for names (create, delete, rename, attrib, close_write)

    private static final long NAME_EVENTS = Fanotify.FAN_CREATE | Fanotify.FAN_DELETE | Fanotify.FAN_RENAME
            | Fanotify.FAN_MOVED_FROM | Fanotify.FAN_MOVED_TO | Fanotify.FAN_ATTRIB | Fanotify.FAN_CLOSE_WRITE
            | Fanotify.FAN_DELETE_SELF | Fanotify.FAN_ONDIR;

    /** One info record as read, with its handle resolved (when it has one) at read time. */
    private record Info(int type, String name, String resolved, long fsid) {
        @Override
        public String toString() {
            String kind = switch (type) {
                case Fanotify.FAN_EVENT_INFO_TYPE_FID -> "FID";
                case Fanotify.FAN_EVENT_INFO_TYPE_DFID -> "DFID";
                case Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME -> "DFID_NAME";
                case Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME -> "OLD_DFID_NAME";
                case Fanotify.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME -> "NEW_DFID_NAME";
                default -> "type " + type;
            };
            return kind + (name == null ? "" : " \"" + name + "\"") + " -> " + resolved;
        }
    }

    private record NameEvent(long mask, List<Info> infos) {
        List<Integer> types() {
            return infos.stream().map(Info::type).toList();
        }

        Info of(int type) {
            return infos.stream().filter(i -> i.type() == type).findFirst()
                    .orElseThrow(() -> new AssertionError("no info record of type " + type + " in " + this));
        }

        @Override
        public String toString() {
            return Fanotify.maskNames(mask) + " " + infos;
        }
    }

    @Test
    @Order(7)
    void aNotificationGroupReportsNamesAndHandlesThatResolveToPaths() throws Exception {
        try (LoopMount mount = LoopMount.create("ext4", 64 * MIB)) {
            Path mnt = mount.mountPoint();
            long fsid = Posix.statfs(mnt.toString()).fsid();
            int group = Fanotify.init(Fanotify.FAN_CLASS_NOTIF | Fanotify.FAN_CLOEXEC | Fanotify.FAN_NONBLOCK
                    | Fanotify.FAN_REPORT_DFID_NAME_TARGET, ProbeListener.EVENT_F_FLAGS);
            int mountFd = Posix.open(mnt.toString(), Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
            try (Arena arena = Arena.ofConfined()) {
                Fanotify.mark(group, Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_FILESYSTEM, NAME_EVENTS, Statx.AT_FDCWD, mnt.toString());
                MemorySegment buffer = arena.allocate(64 * 1024, 8);
                Map<String, List<NameEvent>> phases = new LinkedHashMap<>();
                Report.section("6. A notification group with FAN_REPORT_DFID_NAME_TARGET and a filesystem mark (ext4)");
                Report.line("Mask: " + Fanotify.maskNames(NAME_EVENTS) + ". Handles resolved right after each step with"
                        + " open_by_handle_at(mount fd, O_PATH) and readlink; paths relative to the mount.");
                Report.line("");
                Report.line("| step | events and their info records |");
                Report.line("| --- | --- |");
                phase(phases, "mkdir d1", group, mountFd, mnt, buffer, () -> Files.createDirectory(mnt.resolve("d1")));
                phase(phases, "create and write d1/f", group, mountFd, mnt, buffer, () -> Files.writeString(mnt.resolve("d1/f"), "x"));
                phase(phases, "rename d1/f to d1/g", group, mountFd, mnt, buffer, () -> Files.move(mnt.resolve("d1/f"), mnt.resolve("d1/g")));
                phase(phases, "mkdir d2, rename d1/g to d2/g", group, mountFd, mnt, buffer, () -> {
                    Files.createDirectory(mnt.resolve("d2"));
                    Files.move(mnt.resolve("d1/g"), mnt.resolve("d2/g"));
                });
                phase(phases, "rename directory d1 to d3", group, mountFd, mnt, buffer, () -> Files.move(mnt.resolve("d1"), mnt.resolve("d3")));
                phase(phases, "chmod d2/g", group, mountFd, mnt, buffer,
                        () -> Files.setPosixFilePermissions(mnt.resolve("d2/g"), PosixFilePermissions.fromString("rw-------")));
                phase(phases, "ln d2/g d2/h, unlink d2/h", group, mountFd, mnt, buffer, () -> {
                    Files.createLink(mnt.resolve("d2/h"), mnt.resolve("d2/g"));
                    Files.delete(mnt.resolve("d2/h"));
                });
                SeekableByteChannel held = Files.newByteChannel(Files.writeString(mnt.resolve("d2/k"), "x"));
                try {
                    phase(phases, "create d2/k, open it, unlink it", group, mountFd, mnt, buffer, () -> Files.delete(mnt.resolve("d2/k")));
                } finally {
                    phase(phases, "close d2/k", group, mountFd, mnt, buffer, held::close);
                }
                phase(phases, "unlink d2/g", group, mountFd, mnt, buffer, () -> Files.delete(mnt.resolve("d2/g")));
                phase(phases, "rmdir d3", group, mountFd, mnt, buffer, () -> Files.delete(mnt.resolve("d3")));
                assertNameEvents(phases, fsid);
            } finally {
                Posix.close(mountFd, mnt.toString());
                Posix.close(group, "fanotify group");
            }
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void phase(Map<String, List<NameEvent>> phases, String name, int group, int mountFd, Path mnt,
            MemorySegment buffer, Step step) throws Exception {
        step.run();
        List<NameEvent> events = readNameEvents(group, mountFd, mnt, buffer);
        phases.put(name, events);
        Report.line("| " + name + " | " + events.stream().map(NameEvent::toString).collect(Collectors.joining("<br>")) + " |");
    }

    private static List<NameEvent> readNameEvents(int group, int mountFd, Path mnt, MemorySegment buffer) throws Exception {
        List<NameEvent> out = new ArrayList<>();
        FanotifyEvents events = new FanotifyEvents();
        for (long n; (n = Posix.read(group, buffer)) > 0; ) {
            events.reset(buffer, n);
            while (events.next()) {
                List<Info> infos = new ArrayList<>();
                while (events.nextInfo()) {
                    if (events.isFid()) {
                        infos.add(new Info(events.infoType(), events.hasName() ? events.name() : null,
                                resolve(mountFd, mnt, events.handleType(), events.handleBytes()), events.fsid()));
                    } else {
                        infos.add(new Info(events.infoType(), null, "-", 0));
                    }
                }
                if (events.fd() >= 0) {
                    Posix.close(events.fd(), "event fd");
                }
                out.add(new NameEvent(events.mask(), infos));
            }
        }
        return out;
    }

    /** The handle's current path relative to the mount ("." for its root), or the error that stopped it. */
    private static String resolve(int mountFd, Path mnt, int type, byte[] handle) {
        try {
            int fd = FileHandles.openByHandleAt(mountFd, type, handle, Posix.O_PATH | Posix.O_CLOEXEC);
            try {
                Path path = Path.of(Posix.readlink("/proc/self/fd/" + fd));
                String relative = mnt.relativize(path).toString();
                return relative.isEmpty() ? "." : relative;
            } finally {
                Posix.close(fd, "handle");
            }
        } catch (PosixException e) {
            return Errno.describe(e.errno()).split(" ")[0];
        }
    }

    private static void assertNameEvents(Map<String, List<NameEvent>> phases, long fsid) {
        for (List<NameEvent> events : phases.values()) {
            for (NameEvent e : events) {
                e.infos().stream().filter(i -> i.fsid() != 0).forEach(i -> assertEquals(fsid, i.fsid(), "fsid = statfs's f_fsid"));
            }
        }
        NameEvent rename = single(phases.get("rename d1/f to d1/g"), Fanotify.FAN_RENAME);
        assertEquals(List.of(Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, Fanotify.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME,
                Fanotify.FAN_EVENT_INFO_TYPE_FID), rename.types());
        assertEquals("f", rename.of(Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME).name());
        assertEquals("d1", rename.of(Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME).resolved());
        assertEquals("g", rename.of(Fanotify.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME).name());
        assertEquals("d1/g", rename.of(Fanotify.FAN_EVENT_INFO_TYPE_FID).resolved(), "the target's handle: the renamed file");
        NameEvent movedFrom = single(phases.get("rename d1/f to d1/g"), Fanotify.FAN_MOVED_FROM);
        assertEquals("f", movedFrom.of(Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME).name());
        assertEquals("d1/g", movedFrom.of(Fanotify.FAN_EVENT_INFO_TYPE_FID).resolved());
        NameEvent across = single(phases.get("mkdir d2, rename d1/g to d2/g"), Fanotify.FAN_RENAME);
        assertEquals("d1", across.of(Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME).resolved());
        assertEquals("d2", across.of(Fanotify.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME).resolved());
        NameEvent dir = single(phases.get("rename directory d1 to d3"), Fanotify.FAN_RENAME | Fanotify.FAN_ONDIR);
        assertEquals("d1", dir.of(Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME).name());
        assertEquals(".", dir.of(Fanotify.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME).resolved());
        assertEquals("d3", dir.of(Fanotify.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME).name());
        assertEquals("d3", dir.of(Fanotify.FAN_EVENT_INFO_TYPE_FID).resolved(), "the directory's handle follows it");
        single(phases.get("mkdir d1"), Fanotify.FAN_CREATE | Fanotify.FAN_ONDIR);
        single(phases.get("chmod d2/g"), Fanotify.FAN_ATTRIB);
        NameEvent deleted = single(phases.get("unlink d2/g"), Fanotify.FAN_DELETE);
        assertEquals("g", deleted.of(Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME).name());
        // FAN_DELETE_SELF: with the last link, before the unlink's DELETE; with the last close of a
        // file unlinked while open; never while another link remains (NotificationListener.freed).
        List<NameEvent> unlinked = phases.get("unlink d2/g");
        assertTrue(unlinked.indexOf(single(unlinked, Fanotify.FAN_ATTRIB | Fanotify.FAN_DELETE_SELF)) < unlinked.indexOf(deleted),
                "the last link's DELETE_SELF comes before its DELETE: " + unlinked);
        assertTrue(phases.get("ln d2/g d2/h, unlink d2/h").stream().noneMatch(e -> (e.mask() & Fanotify.FAN_DELETE_SELF) != 0),
                () -> "no DELETE_SELF while another link remains: " + phases.get("ln d2/g d2/h, unlink d2/h"));
        assertEquals(1, phases.get("ln d2/g d2/h, unlink d2/h").stream().filter(e -> (e.mask() & Fanotify.FAN_DELETE) != 0).count(),
                () -> "one DELETE (merged with the link's CREATE): " + phases.get("ln d2/g d2/h, unlink d2/h"));
        assertTrue(phases.get("create d2/k, open it, unlink it").stream().noneMatch(e -> (e.mask() & Fanotify.FAN_DELETE_SELF) != 0),
                () -> "no DELETE_SELF while it is open: " + phases.get("create d2/k, open it, unlink it"));
        assertEquals(1, phases.get("close d2/k").stream().filter(e -> (e.mask() & Fanotify.FAN_DELETE_SELF) != 0).count(),
                () -> "DELETE_SELF at the last close: " + phases.get("close d2/k"));
        assertTrue(phases.get("create and write d1/f").stream().anyMatch(e -> (e.mask() & Fanotify.FAN_CLOSE_WRITE) != 0));
    }

    /** The one event among {@code events} whose mask is exactly {@code mask}. */
    private static NameEvent single(List<NameEvent> events, long mask) {
        List<NameEvent> matching = events.stream().filter(e -> e.mask() == mask).toList();
        assertEquals(1, matching.size(), () -> "expected one " + Fanotify.maskNames(mask) + " event in " + events);
        return matching.getFirst();
    }

    // ---- probe 7: tmpfs has no pre-content events

    @Test
    @Order(8)
    void aPreAccessMarkOnTmpfsFailsWithEopnotsupp() throws Exception {
        try (TmpfsMount tmpfs = TmpfsMount.create(4 * MIB)) {
            Path file = Files.writeString(tmpfs.mountPoint().resolve("f"), "x");
            int group = Fanotify.init(Fanotify.FAN_CLASS_PRE_CONTENT | Fanotify.FAN_CLOEXEC | Fanotify.FAN_NONBLOCK
                    | Fanotify.FAN_REPORT_TID, ProbeListener.EVENT_F_FLAGS);
            try {
                Report.section("7. tmpfs");
                for (int kind : List.of(Fanotify.FAN_MARK_FILESYSTEM, Fanotify.FAN_MARK_MOUNT, Fanotify.FAN_MARK_INODE)) {
                    String target = kind == Fanotify.FAN_MARK_INODE ? file.toString() : tmpfs.mountPoint().toString();
                    PosixException e = assertThrows(
                            PosixException.class,
                            () -> Fanotify.mark(group, Fanotify.FAN_MARK_ADD | kind, Fanotify.FAN_PRE_ACCESS, Statx.AT_FDCWD, target));
                    Report.line("- " + e.getMessage());
                    assertEquals(Errno.EOPNOTSUPP, e.errno(), e.getMessage());
                }
            } finally {
                Posix.close(group, "fanotify group");
            }
        }
    }

    // ---- probe 8: how /proc names a mapped file

    /**
     * A file mapped shared at an address below 0x10000000: maps pads the range to 8 hex digits, and
     * map_files knows it only without the zeros. maps (and PROCMAP_QUERY) give the file the
     * superblock's device, mountinfo's "major:minor"; stat gives the same on ext4 and xfs, and a
     * btrfs subvolume's files a device of their own.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    @Order(9)
    void procNamesAMappedFileByItsRangeWithoutZerosAndItsSuperblocksDevice(String fsType) throws Exception {
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> LoopMount.unavailableReason(fsType).get());
        try (LoopMount m = LoopMount.create(fsType, (fsType.equals("ext4") ? 64 : 320) * MIB)) {
            Path file = Files.write(m.mountPoint().resolve("mapped"), new byte[4096]);
            Process mapper = new ProcessBuilder(ChildScript.PYTHON, "-c", """
                    import ctypes, os, sys, time
                    libc = ctypes.CDLL(None, use_errno=True)
                    libc.mmap.restype = ctypes.c_void_p
                    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
                    fd = os.open(sys.argv[1], os.O_RDWR)
                    at = libc.mmap(0x1000000, 4096, 3, 1 | 0x100000, fd, 0)  # MAP_SHARED | MAP_FIXED_NOREPLACE
                    assert at == 0x1000000, (at, ctypes.get_errno())
                    os.close(fd)
                    print("mapped", flush=True)
                    time.sleep(30)
                    """, file.toString()).start();
            try {
                assertEquals("mapped", mapper.inputReader().readLine());
                Path proc = Path.of("/proc/" + mapper.pid());
                String line = Files.readAllLines(proc.resolve("maps")).stream().filter(l -> l.endsWith(" " + file))
                        .findFirst().orElseThrow();
                String[] f = line.split("\\s+");
                Statx viaStat = Statx.statx(Statx.AT_FDCWD, file.toString(), 0, Statx.STATX_INO);
                String mountinfo = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                        .filter(l -> l.split(" ")[4].equals(m.mountPoint().toString())).findFirst().orElseThrow();
                String[] superblock = mountinfo.split(" ")[2].split(":");
                String[] mapped = f[3].split(":");
                Report.section("8. /proc's names for a mapped file: " + fsType);
                Report.line("- maps: `" + line + "`");
                Report.line("- mountinfo's major:minor " + String.join(":", superblock) + "; stat's " + viaStat.devMajor()
                        + ":" + viaStat.devMinor());
                assertEquals("01000000-01001000", f[0], "maps pads the range to 8 hex digits");
                assertThrows(PosixException.class,
                        () -> Statx.statx(Statx.AT_FDCWD, proc.resolve("map_files/01000000-01001000").toString(), 0, Statx.STATX_INO),
                        "map_files refuses a name with leading zeros");
                Statx viaMapFiles = Statx.statx(Statx.AT_FDCWD, proc.resolve("map_files/1000000-1001000").toString(), 0,
                        Statx.STATX_INO);
                assertEquals(viaStat.ino(), viaMapFiles.ino(), "map_files knows the range without zeros");
                Report.line("- map_files/01000000-01001000: refused; map_files/1000000-1001000: the file");
                assertEquals(Long.parseLong(superblock[0]), Long.parseLong(mapped[0], 16), "maps' major is the superblock's");
                assertEquals(Long.parseLong(superblock[1]), Long.parseLong(mapped[1], 16), "maps' minor is the superblock's");
                boolean same = viaStat.devMajor() == Long.parseLong(superblock[0]) && viaStat.devMinor() == Long.parseLong(superblock[1]);
                assertEquals(!fsType.equals("btrfs"), same, "stat's device is the superblock's but on btrfs");
            } finally {
                mapper.destroyForcibly();
                mapper.waitFor();
            }
        }
    }

    // ---- probe 9: how a btrfs subvolume names its file system

    /**
     * Each btrfs subvolume gives its files a device and an {@code f_fsid} of their own; statx says
     * which subvolume ({@code STATX_SUBVOL}, Linux 6.10+), and the fsid with that id mixed out
     * ({@link TrackedFilesystem#unmixedFsid}) is the same in every subvolume of one file system and
     * another for another btrfs: how the source knows a subvolume below its root as its own.
     */
    @Test
    @Order(10)
    void aBtrfsSubvolumesFsidWithItsIdMixedOutIsItsFileSystems() throws Exception {
        assumeTrue(LoopMount.unavailableReason("btrfs").isEmpty(), () -> LoopMount.unavailableReason("btrfs").get());
        try (LoopMount m = LoopMount.create("btrfs", 128 * MIB); LoopMount other = LoopMount.create("btrfs", 128 * MIB)) {
            Path top = m.mountPoint();
            LinuxSourceTest.sh(top, "btrfs subvolume create s > /dev/null; btrfs subvolume create s/inner > /dev/null;"
                    + " echo a > f; echo b > s/f; echo c > s/inner/f");
            int mask = Statx.STATX_INO | Statx.STATX_SUBVOL;
            Statx atTop = Statx.statx(Statx.AT_FDCWD, top.resolve("f").toString(), 0, mask);
            assumeTrue((atTop.mask() & Statx.STATX_SUBVOL) != 0, "statx names no subvolume before Linux 6.10");
            long base = TrackedFilesystem.unmixedFsid(Posix.statfs(top.resolve("f").toString()).fsid(), atTop.subvolume());
            Report.section("9. A btrfs subvolume's fsid");
            Report.line("- f: subvolume " + atTop.subvolume() + ", device " + atTop.devMajor() + ":" + atTop.devMinor()
                    + ", f_fsid " + Long.toHexString(Posix.statfs(top.resolve("f").toString()).fsid()));
            for (String path : List.of("s/f", "s/inner/f", "s", "s/inner")) {
                Statx st = Statx.statx(Statx.AT_FDCWD, top.resolve(path).toString(), 0, mask);
                long fsid = Posix.statfs(top.resolve(path).toString()).fsid();
                Report.line("- " + path + ": subvolume " + st.subvolume() + ", device " + st.devMajor() + ":" + st.devMinor()
                        + ", f_fsid " + Long.toHexString(fsid));
                assertNotEquals(atTop.subvolume(), st.subvolume(), path);
                assertFalse(st.devMajor() == atTop.devMajor() && st.devMinor() == atTop.devMinor(), path + ": a device of its own");
                assertNotEquals(Posix.statfs(top.resolve("f").toString()).fsid(), fsid, path + ": an f_fsid of its own");
                assertEquals(base, TrackedFilesystem.unmixedFsid(fsid, st.subvolume()), path + ": the file system's, mixed out");
            }
            Path elsewhere = Files.writeString(other.mountPoint().resolve("f"), "d");
            Statx there = Statx.statx(Statx.AT_FDCWD, elsewhere.toString(), 0, mask);
            assertNotEquals(base, TrackedFilesystem.unmixedFsid(Posix.statfs(elsewhere.toString()).fsid(), there.subvolume()),
                    "another btrfs file system");
        }
    }

    // ---- probe 10: the clock file timestamps come from

    private static final int CLOCK_ROUNDS = 1_000;

    /**
     * A write after a reading of the coarse wall clock ({@code CLOCK_REALTIME_COARSE}) is stamped at
     * or after that reading, and so is a directory whose entries change: the checkpoint's time is
     * read from it, so a scan's or a walk's watermark needs no margin for the clock's lag
     * ({@link CheckpointTimes#now}). Each file is written once, and each directory gets one new
     * entry, without a query of their timestamps since they were made, so both are stamped from the
     * coarse clock; every tenth round sleeps up to 20 ms first, so that some follow an idle tick. How
     * far the coarse clock lags the fine one is reported, not asserted.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    @Order(11)
    void aWriteAfterAReadingOfTheCoarseClockIsStampedAtOrAfterIt(String fsType) throws Exception {
        assumeTrue(LoopMount.unavailableReason(fsType).isEmpty(), () -> "skipped: " + LoopMount.unavailableReason(fsType).get());
        try (LoopMount mount = LoopMount.create(fsType, 320 * MIB); Arena arena = Arena.ofConfined()) {
            int[] fds = new int[CLOCK_ROUNDS];
            for (int i = 0; i < CLOCK_ROUNDS; i++) {
                fds[i] = Posix.open(mount.mountPoint().resolve("f" + i).toString(),
                        Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC, 0644);
                Files.createDirectory(mount.mountPoint().resolve("d" + i));
            }
            Thread.sleep(50); // every creation's stamp behind the coarse clock of the writes
            MemorySegment oneByte = arena.allocate(1);
            long[] coarse = new long[CLOCK_ROUNDS];
            long[] fine = new long[CLOCK_ROUNDS];
            SplittableRandom random = new SplittableRandom(CLOCK_ROUNDS);
            for (int i = 0; i < CLOCK_ROUNDS; i++) {
                if (i % 10 == 0) {
                    Thread.sleep(random.nextInt(21));
                }
                coarse[i] = Posix.clockNanos(Posix.CLOCK_REALTIME_COARSE);
                fine[i] = Posix.clockNanos(CLOCK_REALTIME);
                Posix.pwriteFully(fds[i], oneByte, 0, "f" + i);
                Posix.close(Posix.open(mount.mountPoint().resolve("d" + i + "/new").toString(),
                        Posix.O_WRONLY | Posix.O_CREAT | Posix.O_CLOEXEC, 0644), "d" + i + "/new");
            }
            long before = 0;
            long directoriesBefore = 0;
            long longestLag = 0;
            for (int i = 0; i < CLOCK_ROUNDS; i++) {
                long ctime = Statx.statx(fds[i], "", Statx.AT_EMPTY_PATH, Statx.STATX_CTIME).ctimeNanos();
                Posix.close(fds[i], "f" + i);
                before += ctime < coarse[i] ? 1 : 0;
                longestLag = Math.max(longestLag, fine[i] - ctime);
                long directory = Statx.statx(Statx.AT_FDCWD, mount.mountPoint().resolve("d" + i).toString(), 0,
                        Statx.STATX_CTIME).ctimeNanos();
                directoriesBefore += directory < coarse[i] ? 1 : 0;
            }
            Report.section("11. The clock file timestamps come from: " + fsType);
            Report.line(CLOCK_ROUNDS + " files each written once, and as many directories each given an entry, after a"
                    + " reading of CLOCK_REALTIME_COARSE: " + before + " files and " + directoriesBefore
                    + " directories stamped before it; the fine clock read right after it was up to " + longestLag / 1_000
                    + " µs ahead of a file's stamp.");
            assertEquals(0, before, fsType + ": a write after a reading of the coarse clock is stamped before it");
            assertEquals(0, directoriesBefore, fsType + ": a new entry after a reading of the coarse clock is stamped before it");
        }
    }

    private static final int CLOCK_REALTIME = 0;

    private static ProbeListener.Seen only(List<ProbeListener.Seen> seen) {
        assertEquals(1, seen.size(), () -> "expected exactly one event, saw " + seen);
        return seen.getFirst();
    }
}
