package org.modtrack.source.linux;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.modtrack.posix.DirectoryReader;
import org.modtrack.posix.Errno;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.SharedFileMapping;
import org.modtrack.posix.Statx;
import org.modtrack.source.linux.SyscallBarrier.WritableFd;

/**
 * Reads what the tracker needs about other threads from /proc. Never touches the tracked file
 * system's contents (hazard 7): {@code stat} through {@code /proc/<pid>/fd/<n>} reads metadata only.
 */
final class ProcFs implements AccessClassifier.ThreadView, SyscallBarrier.SystemView {
    private static final Path PROC = Path.of("/proc");
    private static final long SELF = ProcessHandle.current().pid();
    private static final Pattern MAPPING_HEADER = Pattern.compile("[0-9a-f]+-[0-9a-f]+ ");

    // ---- AccessClassifier.ThreadView (the event's pid is a thread id, with FAN_REPORT_TID) ------

    /**
     * Room for the small /proc files read on hot paths: a line of /proc/<tid>/syscall (the number,
     * six arguments, sp and pc: about 160 bytes) or /proc/<tid>/io (seven counters: about 200).
     */
    private static final int SMALL_FILE_BYTES = 1024;
    private static final ThreadLocal<MemorySegment> SMALL_FILE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(SMALL_FILE_BYTES));

    @Override
    public String syscall(int tid) throws IOException {
        // On every permission event's path: Posix.readSmall, not Files.readString (measured, see there).
        return Posix.readSmall("/proc/" + tid + "/task/" + tid + "/syscall", SMALL_FILE.get());
    }

    @Override
    public FileKey fdTarget(int tid, int fd) throws IOException {
        return keyOf(PROC.resolve(tid + "/fd/" + fd));
    }

    @Override
    public int fdAccessMode(int tid, int fd) throws IOException {
        // On the permission-event path (a mapping's classification): the flags alone are parsed.
        return accessMode(readFdInfo(tid, fd), tid, fd);
    }

    /** What {@code /proc/<tid>/fdinfo/<fd>} says of a descriptor, read at once (one read of one small file). */
    record FdInfo(int accessMode, long mountId, long ino) {}

    static FdInfo fdInfo(int tid, int fd) throws IOException {
        return parseFdInfo(readFdInfo(tid, fd), tid, fd);
    }

    private static String readFdInfo(int tid, int fd) throws IOException {
        // Posix.readSmall rather than Files.readAllLines, which costs tens of microseconds a call (see there).
        return Posix.readSmall("/proc/" + tid + "/fdinfo/" + fd, SMALL_FILE.get());
    }

    /** {@code ino} is -1 where the kernel does not give it. */
    static FdInfo parseFdInfo(String info, int tid, int fd) throws IOException {
        return new FdInfo(accessMode(info, tid, fd), field(info, "mnt_id:", 10), field(info, "ino:", 10));
    }

    private static int accessMode(String info, int tid, int fd) throws IOException {
        long flags = field(info, "flags:", 8);
        if (flags < 0) {
            throw new IOException("no flags in /proc/" + tid + "/fdinfo/" + fd);
        }
        return (int) (flags & 3);
    }

    /** The number on the line of {@code info} that starts with {@code name}, or -1 if there is none. */
    private static long field(String info, String name, int radix) {
        int line = info.startsWith(name) ? 0 : info.indexOf("\n" + name) + 1;
        if (line == 0 && !info.startsWith(name)) {
            return -1;
        }
        int end = info.indexOf('\n', line);
        return Long.parseLong(info.substring(line + name.length(), end < 0 ? info.length() : end).strip(), radix);
    }

    @Override
    public WritableFd writableFd(int tid, int fd) {
        try {
            FdInfo info = fdInfo(tid, fd);
            return info.accessMode() == Posix.O_RDONLY ? null : new WritableFd(fd, info.mountId(), info.ino());
        } catch (IOException | RuntimeException e) {
            return null; // closed: no write goes through it any more
        }
    }

    /** The identity of the file {@code path} leads to (following links, as /proc/.../fd/N needs). */
    static FileKey keyOf(Path path) throws IOException {
        // One statx (following links) rather than two attribute lookups: on a read event's path.
        Statx st = Statx.statx(Statx.AT_FDCWD, path.toString(), 0, Statx.STATX_INO);
        return new FileKey(deviceOf(st), st.ino());
    }

    // ---- SyscallBarrier.SystemView -----------------------------------------------------------------

    @Override
    public List<long[]> threads() throws IOException {
        // Every checkpoint lists every thread of the machine: getdents64 and names read as numbers,
        // not a Path per process and thread (measured: docs/benchmarks.md, "One daemon's answer, alone").
        List<long[]> out = new ArrayList<>();
        try (DirectoryReader procs = DirectoryReader.open("/proc")) {
            while (procs.next()) {
                long pid = procs.number();
                if (pid < 0 || pid == SELF) {
                    continue; // not a process; or the tracker, which never writes the tracked file system itself
                }
                try (DirectoryReader tasks = DirectoryReader.openSmall("/proc/" + pid + "/task")) {
                    while (tasks.next()) {
                        long tid = tasks.number();
                        if (tid >= 0) {
                            out.add(new long[] {pid, tid});
                        }
                    }
                } catch (PosixException e) {
                    // the process exited while we listed it
                }
            }
        }
        return out;
    }

    @Override
    public String syscall(int pid, int tid) throws IOException {
        // Polled by every checkpoint's grace period: Posix.readSmall, as for the handlers' reads.
        return Posix.readSmall("/proc/" + pid + "/task/" + tid + "/syscall", SMALL_FILE.get());
    }

    @Override
    public long writeCalls(int pid, int tid) throws IOException {
        String io = Posix.readSmall("/proc/" + pid + "/task/" + tid + "/io", SMALL_FILE.get());
        for (String line : io.split("\n")) {
            if (line.startsWith("syscw:")) {
                return Long.parseLong(line.substring(6).strip());
            }
        }
        return -1;
    }

    @Override
    public boolean fdMayBeOf(int tid, int fd, TrackedFiles tracked) {
        String link = "/proc/" + tid + "/fd/" + fd;
        try {
            return tracked.holds(link, Statx.statx(Statx.AT_FDCWD, link, 0, Statx.STATX_INO | Statx.STATX_SUBVOL));
        } catch (PosixException | RuntimeException e) {
            return true; // closed meanwhile, or not to be looked at: it may be
        }
    }

    @Override
    public List<WritableFd> writableFds(int pid, TrackedFiles tracked) {
        List<WritableFd> out = new ArrayList<>();
        try (DirectoryReader fds = DirectoryReader.openSmall("/proc/" + pid + "/fd")) {
            while (fds.next()) {
                long fd = fds.number();
                try {
                    // statx of the link follows it (no AT_SYMLINK_NOFOLLOW): the open file's own device.
                    Statx st = fd < 0 ? null : fds.statx(0, Statx.STATX_INO | Statx.STATX_SUBVOL);
                    WritableFd w = st == null || !tracked.holds(fds.childPath(), st) ? null : writableFd(pid, (int) fd);
                    // Another inode: the number was closed and opened again since the statx, after this
                    // checkpoint began, and what it leads to now raises events of its own.
                    if (w != null && (w.ino() < 0 || w.ino() == st.ino())) {
                        out.add(w);
                    }
                } catch (IOException | RuntimeException e) {
                    if (e instanceof PosixException p && (p.errno() == Errno.EACCES || p.errno() == Errno.EPERM)) {
                        // The kernel's ptrace access check refuses this process's descriptors, every
                        // one alike: no need to be refused 296 times (pid 1 of a sandbox, two
                        // exceptions each, at every checkpoint). Such a process is left to its
                        // threads' states (docs/linux-source.md, *Processes the daemon may not look into*).
                        break;
                    }
                    // else closed meanwhile, or not a file we can stat (a socket): not ours to carry
                }
            }
        } catch (PosixException e) {
            // the process is gone
        }
        return out;
    }

    private static long deviceOf(Statx st) {
        return TrackedFilesystem.deviceNumber(st.devMajor(), st.devMinor());
    }

    /**
     * {@inheritDoc} Asked of the kernel with {@code PROCMAP_QUERY} ({@link SharedFileMapping}), which
     * skips the private mappings unformatted: on a machine with 469 processes, 6 ms for all of them
     * against 16 ms to read their {@code maps} (1.6 MB of text), from C ({@code
     * benchmarks/probes/proc-floor.c}). Where the kernel has no such query (before 6.11), the text.
     */
    @Override
    public List<Path> writableSharedMappings(int pid, TrackedFiles tracked) {
        if (mappingQuery) {
            try {
                return queriedSharedMappings(pid, tracked.superblockDev());
            } catch (MappingQueryUnsupportedException e) {
                mappingQuery = false;
            }
        }
        return sharedMappingsFromMaps(pid, tracked.superblockDev());
    }

    /** Whether the kernel answers {@code PROCMAP_QUERY}: until it first refuses it. */
    private static volatile boolean mappingQuery = true;

    /** The kernel has no {@code PROCMAP_QUERY}. */
    private static final class MappingQueryUnsupportedException extends Exception {
        MappingQueryUnsupportedException(PosixException cause) {
            super(cause);
        }
    }

    /**
     * A bound on one process's shared mappings of files, far above the kernel's default
     * {@code vm.max_map_count} (65,530 mappings of any kind); each step of the query moves past one.
     */
    static final int MAX_MAPPINGS = 1 << 24;

    /** {@link #writableSharedMappings} through {@code PROCMAP_QUERY}. */
    List<Path> queriedSharedMappings(int pid, long superblockDev) throws MappingQueryUnsupportedException {
        KeptMappings kept = new KeptMappings(pid);
        String maps = "/proc/" + pid + "/maps";
        int fd;
        try {
            fd = Posix.open(maps, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        } catch (PosixException e) {
            return kept.links; // the process is gone
        }
        try {
            long from = 0;
            for (int i = 0; i < MAX_MAPPINGS; i++) {
                SharedFileMapping m = SharedFileMapping.next(fd, from);
                if (m == null) {
                    return kept.links;
                }
                assert m.end() > from : m + " from " + from;
                from = m.end();
                if (TrackedFilesystem.deviceNumber(m.deviceMajor(), m.deviceMinor()) == superblockDev) {
                    kept.offer(m.start(), m.end(), m.writable());
                }
            }
            throw new IllegalStateException(maps + " has more than " + MAX_MAPPINGS + " shared mappings of files");
        } catch (PosixException e) {
            if (e.errno() == Errno.ENOTTY || e.errno() == Errno.EINVAL) {
                throw new MappingQueryUnsupportedException(e);
            }
            return kept.links; // the process exited while it was read
        } finally {
            closeProcFile(fd, maps);
        }
    }

    /** Closes a /proc file read: only a descriptor that is not open (a bug) fails. */
    private static void closeProcFile(int fd, String path) {
        try {
            Posix.close(fd, path);
        } catch (PosixException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@link #writableSharedMappings} from the text of {@code /proc/PID/maps}. */
    List<Path> sharedMappingsFromMaps(int pid, long superblockDev) {
        KeptMappings kept = new KeptMappings(pid);
        String maps;
        try {
            maps = readWhole("/proc/" + pid + "/maps");
        } catch (IOException e) {
            return kept.links;
        }
        for (int start = 0, end; start < maps.length(); start = end + 1) {
            end = maps.indexOf('\n', start);
            if (end < 0) {
                end = maps.length();
            }
            // "range perms offset dev inode path": most mappings are private ('p' as the fourth
            // permission), so only shared ones are split into fields.
            int perms = maps.indexOf(' ', start) + 1;
            if (perms == 0 || perms + 4 > end || maps.charAt(perms + 3) != 's') {
                continue;
            }
            String[] f = maps.substring(start, end).split("\\s+", 6);
            if (f.length < 6 || f[4].equals("0") || deviceOf(f[3]) != superblockDev) {
                continue;
            }
            long[] range = range(f[0]);
            kept.offer(range[0], range[1], f[1].charAt(1) == 'w');
        }
        return kept.links;
    }

    /**
     * One process's shared mappings of files on the tracked superblock, kept as
     * {@link #writableSharedMappings} keeps them: writable now, or able to be made so by mprotect
     * ("mw" in smaps, read once a process if needed); each as its link under map_files. A file on
     * the superblock is the tracked file system's, of whichever btrfs subvolume.
     */
    private static final class KeptMappings {
        final int pid;
        final List<Path> links = new ArrayList<>();
        private Set<Long> mayWrite;

        KeptMappings(int pid) {
            this.pid = pid;
        }

        /** A shared mapping of a file on the tracked superblock, from {@code start} to {@code end}. */
        void offer(long start, long end, boolean writable) {
            if (!writable) {
                if (mayWrite == null) {
                    mayWrite = mayWriteStarts(pid);
                }
                if (!mayWrite.contains(start)) {
                    return;
                }
            }
            links.add(PROC.resolve(pid + "/map_files/" + SharedFileMapping.mapFilesName(start, end)));
        }
    }

    /** A range "start-end" of maps or smaps (hexadecimal). */
    private static long[] range(String startEnd) {
        int dash = startEnd.indexOf('-');
        return new long[] {Long.parseUnsignedLong(startEnd.substring(0, dash), 16),
                Long.parseUnsignedLong(startEnd.substring(dash + 1), 16)};
    }

    /** The target of an io_uring instance's fd. */
    private static final byte[] IO_URING_TARGET = "anon_inode:[io_uring]".getBytes(StandardCharsets.US_ASCII);
    /** Room for the start of an fd's link target: only whether it is an io_uring or a path is read. */
    private static final ThreadLocal<MemorySegment> LINK_TARGET =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(IO_URING_TARGET.length + 1));

    @Override
    public boolean asyncIoUserOf(int pid, TrackedFiles tracked) {
        // Every checkpoint reads the link of every fd of every process: readlinkat into one buffer
        // rather than a Path and a String per fd. The ring first: almost no process has one, and
        // then no file of it needs a statx.
        MemorySegment target = LINK_TARGET.get();
        List<Long> files = new ArrayList<>();
        List<Long> rings = new ArrayList<>();
        try (DirectoryReader fds = DirectoryReader.openSmall("/proc/" + pid + "/fd")) {
            while (fds.next()) {
                long fd = fds.number();
                int length;
                try {
                    length = fd < 0 ? 0 : fds.readlink(target);
                } catch (PosixException e) {
                    if (e.errno() == Errno.EACCES || e.errno() == Errno.EPERM) {
                        break; // the kernel denies us this process's links (its ptrace access check): every one of them
                    }
                    continue; // closed meanwhile
                }
                if (length == IO_URING_TARGET.length && startsWith(target, IO_URING_TARGET)) {
                    rings.add(fd);
                } else if (length > 0 && target.get(ValueLayout.JAVA_BYTE, 0) == '/') {
                    files.add(fd);
                }
            }
        } catch (PosixException e) {
            return false; // the process is gone
        }
        if (rings.isEmpty() && !hasAioRing(pid)) {
            return false;
        }
        for (long ring : rings) {
            if (registersFiles(pid, Long.toString(ring))) {
                return true;
            }
        }
        for (long fd : files) {
            String link = "/proc/" + pid + "/fd/" + fd;
            try {
                if (tracked.holds(link, Statx.statx(Statx.AT_FDCWD, link, 0, Statx.STATX_INO | Statx.STATX_SUBVOL))) {
                    return true;
                }
            } catch (PosixException e) {
                // closed meanwhile
            }
        }
        return false;
    }

    private static boolean startsWith(MemorySegment bytes, byte[] prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if (bytes.get(ValueLayout.JAVA_BYTE, i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Files registered with an io_uring ({@code UserFiles} in its fdinfo) may be on any file system. */
    private static boolean registersFiles(int pid, String fd) {
        try {
            for (String line : Files.readAllLines(PROC.resolve(pid + "/fdinfo/" + fd))) {
                if (line.startsWith("UserFiles:")) {
                    return Long.parseLong(line.substring(10).strip()) > 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return true; // cannot tell: assume it does
        }
        return false;
    }

    /**
     * Whether {@code pid} has an AIO context (its ring is mapped as {@code [aio]}). While the system
     * has none ({@code /proc/sys/fs/aio-nr} is 0), no process's mappings need reading.
     */
    private static boolean hasAioRing(int pid) {
        if (!aioContextsMayExist()) {
            return false;
        }
        try {
            String maps = readWhole("/proc/" + pid + "/maps");
            return maps.contains("/[aio] (deleted)\n") || maps.contains(" /[aio]\n");
        } catch (IOException e) {
            return false; // the process is gone
        }
    }

    /** False only if the system has no AIO context at all: {@code aio-nr} counts them all, in every namespace. */
    private static boolean aioContextsMayExist() {
        try {
            return Long.parseLong(Posix.readSmall("/proc/sys/fs/aio-nr", SMALL_FILE.get()).strip()) != 0;
        } catch (IOException | RuntimeException e) {
            return true; // cannot tell: read the mappings
        }
    }

    /** Room for one read of a larger /proc file (maps, smaps); the file is read in as many as it takes. */
    private static final int PROC_CHUNK_BYTES = 64 * 1024;
    private static final ThreadLocal<MemorySegment> PROC_CHUNK =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(PROC_CHUNK_BYTES));
    /** A bound on one /proc file: a process's maps are a line per mapping (the kernel allows 65,530 by default). */
    private static final int PROC_FILE_MAX_BYTES = 64 * 1024 * 1024;

    /**
     * A whole /proc file, as Latin-1 (its numbers and keywords are ASCII; a path's other bytes are
     * kept one char each). With Posix reads rather than Files.readAllLines, which decodes and splits
     * line by line: a checkpoint reads every process's maps, and cold code pays for every call.
     */
    static String readWhole(String path) throws IOException {
        MemorySegment chunk = PROC_CHUNK.get();
        int fd = Posix.open(path, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (long n; (n = Posix.read(fd, chunk)) > 0; ) {
                if (out.size() + n > PROC_FILE_MAX_BYTES) {
                    throw new IOException(path + " is longer than " + PROC_FILE_MAX_BYTES + " bytes");
                }
                out.write(chunk.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
            }
            return out.toString(StandardCharsets.ISO_8859_1);
        } finally {
            Posix.close(fd, path);
        }
    }

    @Override
    public char threadState(int pid, int tid) {
        try {
            return stateIn(Posix.readSmall("/proc/" + pid + "/task/" + tid + "/stat", SMALL_FILE.get()));
        } catch (IOException e) {
            return '?';
        }
    }

    /** The state letter of a {@code stat} line of /proc; '?' if it has none. */
    private static char stateIn(String stat) {
        int close = stat.lastIndexOf(')'); // the command name before it may hold anything
        return close >= 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
    }

    /** Process {@code pid}'s command name ({@code /proc/PID/comm}, which anyone may read), or "?" if it is gone. */
    static String command(int pid) {
        try {
            return Posix.readSmall("/proc/" + pid + "/comm", SMALL_FILE.get()).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    /**
     * Whether process {@code pid} has ended but was not waited for yet (state Z or X in
     * {@code /proc/PID/stat}): every descriptor it had is closed, though {@link ProcessHandle#isAlive}
     * still says it is alive. False where it does not exist or its status cannot be read.
     */
    static boolean ended(long pid) {
        String stat;
        try {
            stat = readWhole("/proc/" + pid + "/stat");
        } catch (IOException e) {
            return false;
        }
        char state = stateIn(stat);
        return state == 'Z' || state == 'X';
    }

    /** The first addresses of the mappings whose VmFlags include "mw" (may be made writable by mprotect). */
    private static Set<Long> mayWriteStarts(int pid) {
        Set<Long> out = new HashSet<>();
        long start = -1;
        try {
            for (String line : Files.readAllLines(PROC.resolve(pid + "/smaps"))) {
                if (MAPPING_HEADER.matcher(line).lookingAt()) {
                    start = range(line.substring(0, line.indexOf(' ')))[0];
                } else if (line.startsWith("VmFlags:") && start >= 0 && (" " + line.substring(8) + " ").contains(" mw ")) {
                    out.add(start);
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
        return out;
    }

    /** glibc's makedev, for the "major:minor" (hex) of /proc/<pid>/maps. */
    static long deviceOf(String majorMinor) {
        int colon = majorMinor.indexOf(':');
        if (colon < 0) {
            return -1;
        }
        long major = Long.parseLong(majorMinor.substring(0, colon), 16);
        long minor = Long.parseLong(majorMinor.substring(colon + 1), 16);
        return TrackedFilesystem.deviceNumber(major, minor);
    }
}
