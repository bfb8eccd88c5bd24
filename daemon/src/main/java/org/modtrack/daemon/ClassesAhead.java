package org.modtrack.daemon;

import java.util.List;
import org.modtrack.posix.DirectoryReader;
import org.modtrack.posix.Fanotify;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
import org.modtrack.posix.Statx;
import org.modtrack.posix.UnixSockets;

/**
 * Initializes, on a thread of its own, the classes a daemon's start and first answer need whose
 * initialization is slow and depends on nothing the start does: the system-call bindings (each
 * {@code downcall} spins classes; {@code Posix} alone takes about 150 ms cold) and the protocol's
 * JSON mapper (about 80 ms, otherwise paid by the first request). The start's own thread meanwhile
 * builds the command line and opens the journal; a class it reaches first it initializes itself, or
 * waits for, so this changes when a class is initialized, never whether or how. Every initializer
 * here needs {@code Posix} alone (or nothing of these), and {@code Posix}'s needs none of them, so
 * two threads never wait on each other.
 */
public final class ClassesAhead {
    private static final List<Class<?>> CLASSES = List.of(Posix.class, Statx.class, FileHandles.class, Fanotify.class,
            DirectoryReader.class, UnixSockets.class, Protocol.class);

    private ClassesAhead() {}

    /** Starts the thread; it ends once every class is initialized, or at the first that fails (its user reports that). */
    public static void start() {
        if (!"Linux".equals(System.getProperty("os.name"))) {
            return; // Posix refuses other systems: the start's own thread says so, in its own words
        }
        Thread.ofPlatform().name("modtrack-classes-ahead").daemon(true).start(() -> {
            for (Class<?> c : CLASSES) {
                try {
                    Class.forName(c.getName(), true, c.getClassLoader()); // a class literal alone does not initialize
                } catch (ClassNotFoundException | LinkageError e) {
                    return;
                }
            }
        });
    }
}
