package org.modtrack.source.linux;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.modtrack.posix.PosixException;

/**
 * The current paths of the directories that notification events name by handle, remembered so that
 * the notification reader resolves a busy directory once rather than once per event (each
 * resolution is an {@code open_by_handle_at}, a {@code readlink} and a {@code statx}, and the reader
 * must keep up with a bounded kernel queue).
 *
 * <p>Paths are hints (a result resolves every handle again), but they should be the directory's
 * path when its event was queued or later: the reader forgets everything when it handles the
 * rename or removal of any directory, since every path below it changed. At most
 * {@link #CAPACITY} directories are kept, least recently used first out. Used by one thread only.
 */
final class DirectoryPaths {
    /** A bound on memory: a few hundred KiB of paths at most. */
    static final int CAPACITY = 4096;

    /** A handle as a map key (its type and bytes). */
    private record Key(int type, byte[] handle) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.type == type && Arrays.equals(k.handle, handle);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(handle);
        }
    }

    private final HandleResolver resolver;
    private final Map<Key, String> paths = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, String> eldest) {
            return size() > CAPACITY;
        }
    };
    private long resolutions;

    DirectoryPaths(HandleResolver resolver) {
        this.resolver = resolver;
    }

    /** The directory's path, or null if it is gone (a gone directory is not remembered). */
    String pathOf(int handleType, byte[] handle) throws PosixException {
        Key key = new Key(handleType, handle);
        String path = paths.get(key);
        if (path == null) {
            resolutions++;
            HandleResolver.Resolved now = resolver.resolve(handleType, handle);
            if (now.gone()) {
                return null;
            }
            path = now.path();
            paths.put(key, path);
        }
        return path;
    }

    /** Forgets every path: a directory was renamed or removed. */
    void forget() {
        paths.clear();
    }

    /** How many handles were resolved (cache misses), for tests. */
    long resolutions() {
        return resolutions;
    }
}
