package org.modtrack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modtrack.daemon.DaemonConfig;
import org.modtrack.testing.Command;

/**
 * The launcher's reading of the daemon's heap bound ({@code daemon_heap} in bin/lib/launch.sh, POSIX
 * sh, which the release's launcher sources too) against the daemon's own ({@link HeapBound}): where
 * the daemon takes a size, the launcher starts the JVM with that many bytes; where the launcher
 * takes none, the daemon refuses the size or warns that the JVM's bound is not the one asked for.
 */
class LaunchHeapTest {
    private static final Path LAUNCH_SH = Path.of(System.getProperty("user.dir")).getParent().resolve("bin/lib/launch.sh");

    @TempDir
    Path dir;

    /** The JVM option {@code daemon_heap} makes of {@code modtrack daemon ARGS}: -XmxSIZE, or "". */
    private static String daemonHeap(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("sh", "-c",
                ". \"$0\"; daemon_heap \"$@\"; printf '%s' \"$daemon_heap\"", LAUNCH_SH.toString(), "daemon"));
        command.addAll(List.of(args));
        return Command.run(command);
    }

    /** The bytes an -XmxSIZE option asks the JVM for. */
    private static long bytes(String xmx) {
        return DaemonConfig.parseSize(xmx.substring("-Xmx".length()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"64M", "65536K", "300M", "512m", "1G", "2g", "1T", "268435456", "67108864"})
    void aSizeTheDaemonTakesIsTheBoundTheJvmIsStartedWith(String size) throws IOException {
        String xmx = daemonHeap("--heap", size);
        assertEquals(HeapBound.check(size), bytes(xmx), "--heap " + size + ": " + xmx);
        assertEquals(xmx, daemonHeap("--heap=" + size), "--heap=" + size);
    }

    @ParameterizedTest
    @ValueSource(strings = {"63M", "65535K", "10M", "1048576", "0", "0G"})
    void aSizeBelowTheLeastIsLeftToTheDaemonToRefuse(String size) throws IOException {
        assertEquals("", daemonHeap("--heap", size));
        assertThrows(IllegalArgumentException.class, () -> HeapBound.check(size));
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "12Q", "M", "1.5G", "-1G", "4GB", "1234567890123456G"})
    void aSizeThatIsNotOneIsLeftToTheDaemonToRefuse(String size) throws IOException {
        assertEquals("", daemonHeap("--heap", size));
        assertThrows(IllegalArgumentException.class, () -> HeapBound.check(size));
    }

    /**
     * Forms the daemon reads but the launcher does not (a leading zero, which sh would read as
     * octal; a sign; spaces around it on the command line): the JVM keeps its default bound, and
     * the daemon says so (HeapBound.warnIfNotApplied).
     */
    @ParameterizedTest
    @ValueSource(strings = {"0512M", "+512M", " 512M"})
    void aSizeOnlyTheDaemonReadsIsNotApplied(String size) throws IOException {
        assertEquals("", daemonHeap("--heap", size));
        assertEquals(512L << 20, HeapBound.check(size));
    }

    @Test
    void theConfigFileSaysWhenTheCommandLineDoesNot() throws IOException {
        Path config = dir.resolve("modtrack.conf");
        Files.writeString(config, """
                # a comment, and a heap line commented out
                # heap = 8G
                watch = /data
                heap = 256M
                  HEAP=384m   # the last one counts; the key in any case, spaces around
                """);
        assertEquals("-Xmx384m", daemonHeap("--watch", "/data", "--config", config.toString()));
        assertEquals("-Xmx384m", daemonHeap("--config=" + config));
        assertEquals("-Xmx1G", daemonHeap("--config", config.toString(), "--heap", "1G"), "the command line wins");
        assertEquals("-Xmx1G", daemonHeap("--heap", "1G", "--config", config.toString()), "in either order");
        assertEquals("", daemonHeap("--config", dir.resolve("absent.conf").toString()), "no file: the daemon says so");
        Files.writeString(config, "watch = /data\n");
        assertEquals("", daemonHeap("--config", config.toString()), "no heap line");
    }

    @Test
    void otherCommandsAndOptionsGetNoBound() throws IOException {
        assertEquals("", daemonHeap());
        assertEquals("", daemonHeap("--watch", "/data", "--heap"), "an option without its value");
        assertEquals("", daemonHeap("--watch", "--heap", "/data"), "not a size");
    }
}
