package org.modtrack.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An existing file system image attached to a loop device and mounted at a given directory (which
 * must lie under a {@code /tmp/modtrack-loop-NNNN} fixture directory, so that
 * {@code bin/lib/clean-stale-loops.sh} finds what a killed JVM left). {@link #close()} unmounts
 * and detaches; it deletes neither the image nor the directory.
 */
public final class ImageMount implements AutoCloseable {
    private final Path image;
    private final Path mountPoint;
    private final String fsType;
    private String device;
    private boolean mounted;
    private boolean closed;

    private ImageMount(Path image, Path mountPoint, String fsType) {
        this.image = image;
        this.mountPoint = mountPoint;
        this.fsType = fsType;
    }

    /**
     * Attaches {@code image} ({@code preferredDevice}, such as {@code /dev/loop5}, if it is given and
     * free: xfs takes its file system id from the device number, so a state directory follows the
     * number; otherwise the first free one) and mounts it as {@code fsType} at {@code mountPoint},
     * which is made if missing. On failure, undoes what it did.
     */
    public static ImageMount attach(Path image, String fsType, Path mountPoint, String preferredDevice) throws IOException {
        TempMounts.requireRoot("attach a loop device");
        ImageMount m = new ImageMount(image, mountPoint, fsType);
        TempMounts.register(m);
        try {
            m.device = attachLoop(image, preferredDevice);
            Files.createDirectories(mountPoint);
            Command.run("mount", "-t", fsType, m.device, mountPoint.toString());
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

    private static String attachLoop(Path image, String preferredDevice) throws IOException {
        if (preferredDevice != null) {
            for (int attempt = 0; attempt < 5; attempt++) {
                try {
                    Command.run("losetup", preferredDevice, image.toString());
                    return preferredDevice;
                } catch (IOException busy) {
                    TempMounts.sleep(100); // detached a moment ago: the kernel may still be letting it go
                }
            }
        }
        String device = Command.run("losetup", "--find", "--show", image.toString()).lines().reduce((a, b) -> b).orElse("");
        if (!device.startsWith("/dev/loop")) {
            throw new IOException("losetup --find --show " + image + " printed no loop device (it said: " + device + ").");
        }
        return device;
    }

    public Path mountPoint() {
        return mountPoint;
    }

    /** The loop device, such as {@code /dev/loop3}. */
    public String device() {
        return device;
    }

    public Path image() {
        return image;
    }

    /** Unmounts (retrying while busy) and detaches; safe to call twice. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        TempMounts.unregister(this);
        IOException failure = null;
        if (mounted) {
            try {
                TempMounts.unmount(mountPoint);
                mounted = false;
            } catch (IOException e) {
                failure = e;
            }
        }
        if (device != null) {
            IOException last = null;
            for (int attempt = 1; attempt <= 5 && device != null; attempt++) {
                try {
                    Command.run("losetup", "-d", device);
                    device = null;
                } catch (IOException e) {
                    last = e;
                    TempMounts.sleep(200);
                }
            }
            if (device != null) {
                failure = TempMounts.combine(failure, last);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return fsType + " image " + image + " on " + (device == null ? "no loop device" : device) + " at " + mountPoint;
    }
}
