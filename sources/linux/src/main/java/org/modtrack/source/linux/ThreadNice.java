package org.modtrack.source.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.posix.DirectoryReader;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;

/**
 * The calling thread's nice value, which the source uses to keep its own work out of writers' way
 * on a busy machine: the threads writers wait on (the pre-content reader and handlers) run at
 * {@link #WRITERS_WAIT}, a checkpoint's scans of /proc at {@link #CHECKPOINT}. Best effort: without
 * CAP_SYS_NICE a raise is refused and the thread keeps its priority (logged at FINE).
 *
 * <p>Only platform threads: a virtual thread shares its carrier with others and may move to another
 * carrier whenever it blocks, so changing "its" nice value would change some other work's, and
 * putting it back would hit the wrong carrier. On a virtual thread both methods do nothing, and a query checkpoints at its carrier's priority; the
 * daemon therefore runs each root's queries on a platform thread of its own (its {@code Root}).
 */
final class ThreadNice {
    private static final Logger LOG = Logger.getLogger(ThreadNice.class.getName());

    /**
     * The pre-content reader and handlers (which also lead the group commits their records wait
     * for), and the notification reader (which must keep up with the bounded kernel queue).
     */
    static final int WRITERS_WAIT = -10;

    /**
     * A query's thread while it checkpoints: with one CPU taken by a large write, a checkpoint's
     * /proc scans at nice 0 delayed the small writes of other processes by a scheduling slice
     * (docs/benchmarks.md, "Checkpoint impact on other writers").
     */
    static final int CHECKPOINT = 10;

    /**
     * The JVM's JIT compiler threads ({@link #jitCompilers}): as a checkpoint, they yield to
     * writers and share the CPU with the checkpoint's scans. Why: a new daemon compiles the code of
     * each kind of event the first time a workload raises many of them, and at nice 0 its two
     * compiler threads took a CPU from the writers of a 2-CPU machine just then (the peers' dir
     * churn, 100 directories renamed or deleted file by file under a daemon started for it,
     * {@code benchmarks/peers/walk --workload churn}: 0.159 s median at nice 0 against 0.131 s at
     * nice 10, and 0.101 s untracked; docs/benchmarks.md, <i>Dir churn under a new daemon</i>).
     */
    static final int JIT_COMPILERS = CHECKPOINT;

    /** HotSpot's compiler threads ("C1 CompilerThread0", ...), as /proc cuts a thread's name (15 bytes). */
    private static final List<String> COMPILER_THREAD_NAMES = List.of("C1 CompilerThre", "C2 CompilerThre");

    private ThreadNice() {}

    /**
     * Sets the nice value of this JVM's JIT compiler threads to {@code nice} (best effort, as
     * {@link #set}); returns how many it set. The compiler threads HotSpot adds later are started
     * by a compiler thread and inherit its nice value.
     */
    static int jitCompilers(int nice) {
        int set = 0;
        try (DirectoryReader tasks = DirectoryReader.openSmall("/proc/self/task")) {
            while (tasks.next()) {
                long tid = tasks.number();
                if (tid < 0) {
                    continue;
                }
                String name;
                try {
                    name = Posix.readSmall("/proc/self/task/" + tid + "/comm", COMM.get()).strip();
                } catch (PosixException e) {
                    continue; // the thread ended
                }
                if (COMPILER_THREAD_NAMES.stream().anyMatch(name::startsWith)) {
                    Posix.setThreadNice((int) tid, nice);
                    set++;
                }
            }
        } catch (PosixException e) {
            LOG.log(Level.FINE, "could not set nice " + nice + " on the JIT compiler threads", e);
        }
        return set;
    }

    /** Room for a thread's name ({@code comm}: 16 bytes with its newline). */
    private static final ThreadLocal<MemorySegment> COMM = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(64));

    /** The calling thread's nice value (field 19 of /proc/thread-self/stat); 0 if it cannot be read. */
    static int current() {
        if (Thread.currentThread().isVirtual()) {
            return 0;
        }
        try {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(after[16]); // fields 3.. follow the command; nice is field 19
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "could not read this thread's nice value", e);
            return 0;
        }
    }

    /** A nice value in force until closed; closing puts the one before back. */
    interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Sets the calling thread's nice value (if allowed) until the returned scope is closed. */
    static Scope at(int nice) {
        int before = current();
        set(nice);
        return () -> set(before);
    }

    /** Daemon platform threads named {@code name-N} that run at nice {@code nice} (if allowed). */
    static ThreadFactory daemonThreads(String name, int nice) {
        ThreadFactory plain = Thread.ofPlatform().daemon().name(name + "-", 0).factory();
        return task -> plain.newThread(() -> {
            set(nice);
            task.run();
        });
    }

    /** Sets the calling thread's nice value, if allowed. */
    static void set(int nice) {
        if (Thread.currentThread().isVirtual()) {
            return;
        }
        try {
            Posix.setThisThreadNice(nice);
        } catch (PosixException e) {
            LOG.log(Level.FINE, "could not set nice " + nice + " on " + Thread.currentThread().getName(), e);
        }
    }
}
