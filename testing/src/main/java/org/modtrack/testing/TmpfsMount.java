package org.modtrack.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A small tmpfs mounted under a fresh {@code /tmp/modtrack-loop-NNNN/mnt}, for tests of what a
 * source must refuse (tmpfs has no pre-content events). The directory shares the loop mounts'
 * prefix so that {@code bin/lib/clean-stale-loops.sh} cleans it after a killed JVM.
 */
public final class TmpfsMount implements AutoCloseable {
    private final Path directory;
    private final Path mountPoint;
    private boolean mounted;
    private boolean closed;

    private TmpfsMount(Path directory) {
        this.directory = directory;
        this.mountPoint = directory.resolve("mnt");
    }

    /** Mounts a tmpfs of at most {@code bytes} bytes. */
    public static TmpfsMount create(long bytes) throws IOException {
        TempMounts.requireRoot("mount a tmpfs");
        TmpfsMount m = new TmpfsMount(TempMounts.newDirectory());
        TempMounts.register(m);
        try {
            Files.createDirectory(m.mountPoint);
            Command.run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "modtrack-test", m.mountPoint.toString());
            m.mounted = true;
            return m;
        } catch (IOException | RuntimeException e) {
            try {
                m.close();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Where the tmpfs is mounted. */
    public Path mountPoint() {
        return mountPoint;
    }

    /** Unmounts and deletes the directory; safe to call twice. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        TempMounts.unregister(this);
        if (mounted) {
            TempMounts.unmount(mountPoint);
            mounted = false;
        }
        TempMounts.deleteTree(directory);
    }

    @Override
    public String toString() {
        return "tmpfs at " + mountPoint;
    }
}
