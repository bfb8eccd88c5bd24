package org.modtrack.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** LoopMount and TmpfsMount: they mount what they say, and leave nothing behind when closed. */
class LoopMountTest {
    private static final long MIB = 1024 * 1024;

    @ParameterizedTest
    @ValueSource(strings = {"ext4", "xfs", "btrfs"})
    void mountsTheFilesystemAndCleansUpCompletely(String fsType) throws IOException {
        skipUnless(LoopMount.unavailableReason(fsType));
        LoopMount mount = LoopMount.create(fsType, 320 * MIB);
        Path dir = mount.mountPoint().getParent();
        String device = mount.device();
        try (mount) {
            assertTrue(dir.getFileName().toString().startsWith("modtrack-loop-"), dir.toString());
            assertEquals(fsType, mountedType(mount.mountPoint()).orElseThrow());
            assertTrue(device.startsWith("/dev/loop"), device);
            Files.writeString(mount.mountPoint().resolve("hello"), "hello");
            assertEquals(fsType, mount.fsType());
        }
        assertLeftNothing(dir, device);
        mount.close(); // a second close does nothing
    }

    @Test
    void aBusyMountIsDetachedLazilyAndTheLoopDeviceGoesOnceReleased() throws IOException {
        skipUnless(LoopMount.unavailableReason("ext4"));
        LoopMount mount = LoopMount.create("ext4", 32 * MIB);
        Path dir = mount.mountPoint().getParent();
        String device = mount.device();
        Path file = mount.mountPoint().resolve("held-open");
        try (FileChannel held = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            mount.close(); // busy: ten attempts, then umount -l
            assertTrue(mountedType(mount.mountPoint()).isEmpty(), "a lazily unmounted filesystem leaves the mount table");
            assertFalse(Files.exists(dir), dir + " should be gone");
            assertTrue(held.isOpen());
        }
        awaitDetached(device, dir);
    }

    @Test
    void tmpfsMountsAndCleansUp() throws IOException {
        assumeTrue(LoopMount.isRoot(), "mounting a tmpfs needs root");
        TmpfsMount mount = TmpfsMount.create(4 * MIB);
        Path dir = mount.mountPoint().getParent();
        try (mount) {
            assertEquals("tmpfs", mountedType(mount.mountPoint()).orElseThrow());
            assertTrue(dir.getFileName().toString().startsWith("modtrack-loop-"), dir.toString());
        }
        assertTrue(mountedType(mount.mountPoint()).isEmpty());
        assertFalse(Files.exists(dir));
    }

    @Test
    void unknownFilesystemsAndMissingToolsAreSaidClearly() {
        assertFalse(LoopMount.available("no-such-fs"));
        assumeTrue(LoopMount.isRoot(), "create checks for root first");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoopMount.create("vfat", MIB));
        assertEquals("LoopMount knows ext4, xfs and btrfs, not vfat.", e.getMessage());
    }

    private static void skipUnless(Optional<String> reason) {
        assumeTrue(reason.isEmpty(), () -> "skipped: " + reason.orElse(""));
    }

    private static void assertLeftNothing(Path dir, String device) throws IOException {
        assertFalse(Files.exists(dir), dir + " should be deleted");
        assertTrue(mountedType(dir.resolve("mnt")).isEmpty(), dir + "/mnt should not be mounted");
        assertFalse(Command.run("losetup", "-a").contains(dir.toString()), device + " should be detached");
    }

    private static void awaitDetached(String device, Path dir) throws IOException {
        for (int i = 0; i < 50 && Command.run("losetup", "-a").contains(dir.toString()); i++) {
            TempMounts.sleep(100);
        }
        assertFalse(Command.run("losetup", "-a").contains(dir.toString()), device + " should be detached once released");
    }

    /** The filesystem type mounted at {@code mountPoint}, from /proc/mounts. */
    private static Optional<String> mountedType(Path mountPoint) throws IOException {
        return Files.readAllLines(Path.of("/proc/mounts")).stream()
                .map(line -> line.split(" "))
                .filter(f -> f[1].equals(mountPoint.toString()))
                .map(f -> f[2])
                .reduce((a, b) -> b);
    }
}
