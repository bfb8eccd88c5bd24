package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.UnaryOperator;
import org.modtrack.engine.Durability;
import org.modtrack.testing.Command;
import org.modtrack.testing.LoopMount;

/**
 * A daemon started in-process for a test class, watching a fresh loop-mounted ext4, with its state
 * and socket in a temporary directory that other users can reach (the socket's own mode decides
 * who may connect). Skips the test class where loop mounts are not possible.
 *
 * @param mount the tracked file system
 * @param dir the temporary directory of the state and the socket
 * @param socket the daemon's socket
 * @param daemon the daemon
 */
record LoopDaemon(LoopMount mount, Path dir, Path socket, Daemon daemon) implements AutoCloseable {
    private static final long MIB = 1 << 20;

    /**
     * Starts it with {@code process} durability and {@code configure}'s changes to the defaults.
     *
     * @param who the test class, named when loop mounts are not possible
     */
    static LoopDaemon start(String who, UnaryOperator<DaemonConfig> configure) throws IOException {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> who + " skipped: " + LoopMount.unavailableReason("ext4").get());
        LoopMount mount = LoopMount.create("ext4", 64 * MIB);
        Path dir = null;
        try {
            dir = Files.createTempDirectory("modtrack-daemon-test-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // other users reach the socket
            Path socket = dir.resolve("modtrack.sock");
            Daemon daemon = Daemon.start(configure.apply(DaemonConfig.defaults(List.of(mount.mountPoint()))
                    .withStateDirectory(dir.resolve("state")).withSocket(socket).withDurability(Durability.PROCESS)));
            return new LoopDaemon(mount, dir, socket, daemon);
        } catch (IOException | RuntimeException e) {
            if (dir != null) {
                Command.run("rm", "-rf", dir.toString());
            }
            mount.close();
            throw e;
        }
    }

    /** The watched root. */
    Path root() {
        return mount.mountPoint();
    }

    /** Stops the daemon (its socket must be gone), then removes the directory and the file system. */
    @Override
    public void close() throws IOException {
        try (LoopMount m = mount) {
            daemon.close();
            assertFalse(Files.exists(socket), "the socket is removed at stop");
        } finally {
            Command.run("rm", "-rf", dir.toString());
        }
    }
}
