package org.modtrack.source.linux;

import static org.modtrack.posix.Fanotify.FAN_CLASS_PRE_CONTENT;
import static org.modtrack.posix.Fanotify.FAN_CLOEXEC;
import static org.modtrack.posix.Fanotify.FAN_MARK_ADD;
import static org.modtrack.posix.Fanotify.FAN_MARK_FILESYSTEM;
import static org.modtrack.posix.Fanotify.FAN_NONBLOCK;
import static org.modtrack.posix.Fanotify.FAN_PRE_ACCESS;
import static org.modtrack.posix.Fanotify.FAN_REPORT_TID;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FanotifyEvents;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * A pre-content group with a {@code FAN_PRE_ACCESS} filesystem mark on a loop mount, and a thread
 * that records every event (while the accessing thread still waits: its system call, the range,
 * the path) and then answers {@code FAN_ALLOW}. Every event is answered, whatever goes wrong while
 * recording it; {@link #close()} stops the thread and then closes the group, which releases
 * anything still waiting. Only ever on a filesystem the test created.
 */
final class ProbeListener implements AutoCloseable {
    /** Event fds: read-only, large files, and never inherited by the children the test spawns. */
    static final int EVENT_F_FLAGS = Posix.O_RDONLY | Posix.O_LARGEFILE | Posix.O_CLOEXEC;
    private static final int POLL_MILLIS = 50;

    /** One recorded event. {@code range*} are -1 when the event had no range record. */
    record Seen(String label, long mask, int tid, int tgid, String path, long rangeOffset, long rangeCount,
            long sizeWhileWaiting, ThreadSyscall viaTid, ThreadSyscall viaTidTask, ThreadSyscall viaTgidTask, String problem) {
        String fileName() {
            return path == null ? "?" : Path.of(path).getFileName().toString();
        }
    }

    /** Runs on the listener thread before the answer, with the event still pending. */
    interface Hook {
        void onEvent(int group, int eventFd, String path) throws Exception;
    }

    private final int group;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile String label = "setup";
    private volatile Hook hook;
    private volatile boolean stop;
    private Thread thread;

    private ProbeListener(int group) {
        this.group = group;
    }

    /** Creates the group, marks the filesystem at {@code mountPoint} for FAN_PRE_ACCESS, and starts answering. */
    static ProbeListener start(Path mountPoint) throws PosixException {
        return start(mountPoint, FAN_PRE_ACCESS);
    }

    /** {@link #start(Path)} with another mask (say FAN_PRE_ACCESS | FAN_OPEN_PERM). */
    static ProbeListener start(Path mountPoint, long mask) throws PosixException {
        int group = Fanotify.init(FAN_CLASS_PRE_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_TID, EVENT_F_FLAGS);
        try {
            Fanotify.mark(group, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, Statx.AT_FDCWD, mountPoint.toString());
        } catch (PosixException e) {
            Posix.close(group, "fanotify group");
            throw e;
        }
        ProbeListener listener = new ProbeListener(group);
        listener.thread = Thread.ofPlatform().daemon().name("pre-content-listener").start(listener::run);
        return listener;
    }

    int group() {
        return group;
    }

    /** Events recorded from now on carry {@code label}. */
    void label(String label) {
        this.label = label;
    }

    void hook(Hook hook) {
        this.hook = hook;
    }

    List<Seen> seen() {
        return List.copyOf(seen);
    }

    List<Seen> seen(String label) {
        return seen.stream().filter(s -> s.label().equals(label)).toList();
    }

    /** The first thing that went wrong on the listener thread, if anything did. */
    Throwable failure() {
        return failure.get();
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(64 * 1024, 8);
            FanotifyEvents events = new FanotifyEvents();
            while (!stop) {
                if (Posix.poll(new int[] {group}, Posix.POLLIN, POLL_MILLIS)[0] == 0) {
                    continue;
                }
                long n = Posix.read(group, buffer);
                if (n > 0) {
                    events.reset(buffer, n);
                    while (events.next()) {
                        handle(events);
                    }
                }
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    private void handle(FanotifyEvents events) {
        int fd = events.fd();
        try {
            Seen s = record(events);
            seen.add(s);
            Hook h = hook;
            if (h != null && fd >= 0) {
                h.onEvent(group, fd, s.path());
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            answerAndClose(events.mask(), fd);
        }
    }

    private void answerAndClose(long mask, int fd) {
        if (fd < 0) {
            return;
        }
        try {
            if (Fanotify.isPermissionEvent(mask)) {
                Fanotify.respond(group, fd, Fanotify.FAN_ALLOW);
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            try {
                Posix.close(fd, "event fd");
            } catch (PosixException e) {
                failure.compareAndSet(null, e);
            }
        }
    }

    /** Reads /proc first: the thread is blocked now, and stays blocked only until the answer. */
    private Seen record(FanotifyEvents events) {
        int tid = events.pid();
        StringBuilder problems = new StringBuilder();
        ThreadSyscall viaTid = syscall(() -> ThreadSyscall.read(tid), problems);
        ThreadSyscall viaTidTask = syscall(() -> ThreadSyscall.read(tid, tid), problems);
        int tgid = tgid(tid);
        ThreadSyscall viaTgidTask = tgid > 0 ? syscall(() -> ThreadSyscall.read(tgid, tid), problems) : null;
        long offset = -1;
        long count = -1;
        while (events.nextInfo()) {
            if (events.infoType() == Fanotify.FAN_EVENT_INFO_TYPE_RANGE) {
                offset = events.rangeOffset();
                count = events.rangeCount();
            }
        }
        String path = null;
        long size = -1;
        try {
            if (events.fd() >= 0) {
                path = Posix.readlink("/proc/self/fd/" + events.fd());
                size = Statx.statx(events.fd(), "", Statx.AT_EMPTY_PATH, Statx.STATX_SIZE).size();
            }
        } catch (PosixException e) {
            problems.append(e.getMessage()).append(' ');
        }
        return new Seen(label, events.mask(), tid, tgid, path, offset, count, size, viaTid, viaTidTask, viaTgidTask,
                problems.toString().strip());
    }

    private interface SyscallRead {
        ThreadSyscall read() throws PosixException;
    }

    private static ThreadSyscall syscall(SyscallRead read, StringBuilder problems) {
        try {
            return read.read();
        } catch (PosixException e) {
            problems.append(e.getMessage()).append(' ');
            return null;
        }
    }

    private static int tgid(int tid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + tid + "/status"))) {
                if (line.startsWith("Tgid:")) {
                    return Integer.parseInt(line.substring(5).strip());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /**
     * Stops the thread, then closes the group (in that order, so the thread never uses a closed and
     * possibly reused descriptor number); closing releases every writer still waiting.
     */
    @Override
    public void close() throws PosixException {
        stop = true;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Posix.close(group, "fanotify group");
        }
    }
}
