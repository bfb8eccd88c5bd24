package org.modtrack.source.linux;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A child process with an io_uring instance (made with the raw io_uring_setup system call, so no
 * liburing is needed) and a file open for writing, until it is closed. Built with gcc.
 */
final class UringProbe implements AutoCloseable {
    private static final String SOURCE = """
            #include <stdio.h>
            #include <string.h>
            #include <fcntl.h>
            #include <unistd.h>
            #include <sys/syscall.h>
            int main(int argc, char **argv) {
                unsigned char params[120];
                memset(params, 0, sizeof params);
                int ring = syscall(425 /* io_uring_setup */, 4, params);
                int fd = open(argv[1], O_WRONLY | O_CREAT, 0644);
                printf("%d %d\\n", ring, fd);
                fflush(stdout);
                getchar();
                return ring < 0 || fd < 0;
            }
            """;

    final Process process;
    final String started;

    private UringProbe(Process process, String started) {
        this.process = process;
        this.started = started;
    }

    static boolean available() {
        return Files.isExecutable(Path.of("/usr/bin/gcc"));
    }

    /** Builds the probe in {@code workDir} and starts it with {@code file} open for writing. */
    static UringProbe start(Path workDir, Path file) throws IOException, InterruptedException {
        Path source = workDir.resolve("uring-probe.c");
        Path binary = workDir.resolve("uring-probe");
        Files.writeString(source, SOURCE);
        Process cc = new ProcessBuilder("gcc", "-o", binary.toString(), source.toString()).redirectErrorStream(true).start();
        if (!cc.waitFor(60, TimeUnit.SECONDS) || cc.exitValue() != 0) {
            cc.destroyForcibly();
            throw new IOException("gcc could not build the io_uring probe: " + new String(cc.getInputStream().readAllBytes()));
        }
        Process p = new ProcessBuilder(binary.toString(), file.toString()).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        UringProbe probe = new UringProbe(p, line);
        if (line == null || line.startsWith("-") || line.contains(" -")) {
            probe.close();
            throw new IOException("the io_uring probe could not set up its ring or open " + file + ": " + line);
        }
        return probe;
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() throws IOException {
        process.getOutputStream().close();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
