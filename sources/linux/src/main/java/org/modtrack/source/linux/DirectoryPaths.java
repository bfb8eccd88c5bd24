package org.modtrack.source.linux;

import java.util.LinkedHashMap;
import java.util.Map;
import org.modtrack.engine.FileId;
import org.modtrack.posix.PosixException;

/**
 * The current paths of the directories that notification events name by handle, remembered so that
 * the notification reader resolves a busy directory once rather than once per event (each
 * resolution is an {@code open_by_handle_at}, a {@code readlink} and a {@code statx}, and the reader
 * must keep up with a bounded kernel queue).
 *
 * <p>Paths are hints (a result resolves every handle again), but they should be the directory's
 * path when its event was queued or later: the reader forgets everything when it handles the
 * rename of any directory, since every path below it changed, and a removed directory alone. At most
 * {@link #CAPACITY} directories are kept, least recently used first out. Used by one thread only.
 */
final class DirectoryPaths {
    /** A bound on memory: a few hundred KiB of paths at most. */
    static final int CAPACITY = 4096;

    private final HandleResolver resolver;
    private final Map<FileId, String> paths = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FileId, String> eldest) {
            return size() > CAPACITY;
        }
    };

    DirectoryPaths(HandleResolver resolver) {
        this.resolver = resolver;
    }

    /** The directory's path, or null if it is gone (a gone directory is not remembered); keyed by its handle identity. */
    String pathOf(FileId directory) throws PosixException {
        String path = paths.get(directory);
        if (path == null) {
            HandleResolver.Resolved now = resolver.resolve(directory.handleType(), directory.handle());
            if (now.gone()) {
                return null;
            }
            path = now.path();
            paths.put(directory, path);
        }
        return path;
    }

    /** Forgets every path: a directory was renamed, so every path below it changed. */
    void forget() {
        paths.clear();
    }

    /** Forgets one directory: it was removed (empty, so no other directory's path changed). */
    void forget(FileId removed) {
        paths.remove(removed);
    }
}
