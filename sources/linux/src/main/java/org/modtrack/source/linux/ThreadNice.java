package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;

/**
 * The calling thread's nice value, which the source uses to keep its own work out of writers' way
 * on a busy machine: the threads writers wait on (the pre-content reader and handlers) run at
 * {@link #WRITERS_WAIT}, a checkpoint's scans of /proc at {@link #CHECKPOINT}. Best effort: without
 * CAP_SYS_NICE a raise is refused and the thread keeps its priority (logged at FINE).
 *
 * <p>Only platform threads: a virtual thread (the daemon serves each client on one) shares its
 * carrier with others and may move to another carrier whenever it blocks, so changing "its" nice
 * value would change some other work's, and putting it back would hit the wrong carrier. On a
 * virtual thread both methods do nothing, and a query checkpoints at its carrier's priority; the
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

    private ThreadNice() {}

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
