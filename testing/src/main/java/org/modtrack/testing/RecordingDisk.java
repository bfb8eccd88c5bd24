package org.modtrack.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A disk that records every write, for power-cut tests (the way xfstests' dm-log-writes and
 * CrashMonkey record below a block device; this kernel has no device-mapper, but it has FUSE and
 * loop devices): file system images live on a small FUSE file system (recording_disk.py, Debian's
 * python3-pyfuse3), each attached to a loop device, which sends the FUSE file system every block
 * it writes and turns every flush of its queue into an fsync of its image. The FUSE file system
 * logs all of it, for all its images, in one order ({@link WriteLog}); {@link CrashImages} then
 * builds what the images may hold after a power cut at any point of the log.
 *
 * <p>Use: {@link #create()}, {@link #addImage} for each file system (made before the log begins:
 * {@link #bases()} are their copies then), {@link #start()}, {@link #mount} each, write, and
 * {@link #mark} where the test stands; {@link #stop()} unmounts everything and returns the log;
 * {@link #close()} deletes it all. Everything lives under a {@code /tmp/modtrack-loop-NNNN}
 * directory, so that {@code bin/lib/clean-stale-loops.sh} cleans what a killed JVM left (its
 * mounts first, the FUSE file system last).
 */
public final class RecordingDisk implements AutoCloseable {
    /** The system Python, which Debian's python3-pyfuse3 is installed for. */
    public static final String PYTHON = "/usr/bin/python3";
    private static final String SCRIPT = "recording_disk.py";
    private static final long START_TIMEOUT_SECONDS = 30;

    private final Path directory;
    private final Path backing;
    private final Path bases;
    private final Path disk;
    private final Path log;
    private final Map<String, String> fsTypes = new LinkedHashMap<>();
    private final List<ImageMount> mounts = new ArrayList<>();
    private Process recorder;
    private final StringBuilder recorderErrors = new StringBuilder();
    private boolean stopped;
    private boolean closed;

    private RecordingDisk(Path directory) {
        this.directory = directory;
        this.backing = directory.resolve("backing");
        this.bases = directory.resolve("base");
        this.disk = directory.resolve("disk");
        this.log = directory.resolve("write.log");
    }

    /**
     * Why a recording disk cannot work here, in one sentence for a test's skip message (not root, no
     * /dev/fuse, or fuse3 and python3-pyfuse3 missing); empty if it can.
     */
    public static Optional<String> unavailableReason() {
        if (!TempMounts.isRoot()) {
            return Optional.of("a recording disk (FUSE and loop devices) needs root, and this test does not run as root");
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return Optional.of("this kernel has no /dev/fuse, which the recording disk needs");
        }
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import pyfuse3, trio").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return Optional.of(PYTHON + " cannot import pyfuse3 (Debian: apt-get install fuse3 python3-pyfuse3; .ci/run installs them)");
            }
        } catch (IOException e) {
            return Optional.of(PYTHON + " is not installed (Debian: apt-get install fuse3 python3-pyfuse3; .ci/run installs them)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while looking for pyfuse3");
        }
        return Optional.empty();
    }

    /** A new, empty recording disk (not started). */
    public static RecordingDisk create() throws IOException {
        TempMounts.requireRoot("make a recording disk");
        RecordingDisk d = new RecordingDisk(TempMounts.newDirectory());
        TempMounts.register(d);
        Files.createDirectories(d.backing);
        Files.createDirectories(d.bases);
        Files.createDirectories(d.disk);
        return d;
    }

    /**
     * Makes a {@code bytes}-byte image {@code name} with a {@code fsType} file system (ext4 with 4 KiB
     * blocks, or xfs), before the log begins, and keeps a copy of it as it is then.
     */
    public void addImage(String name, String fsType, long bytes) throws IOException {
        if (recorder != null) {
            throw new IllegalStateException("images are added before the recording disk starts");
        }
        Path image = backing.resolve(name);
        Command.run("truncate", "-s", Long.toString(bytes), image.toString());
        List<String> mkfs = new ArrayList<>(LoopMount.mkfsCommand(fsType));
        if (fsType.equals("ext4")) {
            mkfs.addAll(List.of("-b", "4096"));
        }
        mkfs.add(image.toString());
        Command.run(mkfs);
        Command.run("cp", "--sparse=always", image.toString(), bases.resolve(name).toString());
        fsTypes.put(name, fsType);
    }

    /** Mounts the FUSE file system; from now on every write to an image is logged. */
    public void start() throws IOException {
        Path script = directory.resolve(SCRIPT);
        try (InputStream in = RecordingDisk.class.getResourceAsStream(SCRIPT)) {
            if (in == null) {
                throw new IOException(SCRIPT + " is missing from modtrack-testing's resources");
            }
            Files.copy(in, script);
        }
        recorder = new ProcessBuilder(PYTHON, script.toString(), backing.toString(), disk.toString(), log.toString()).start();
        CompletableFuture<String> first = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("recording-disk-stdout").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(recorder.getInputStream(), StandardCharsets.UTF_8))) {
                first.complete(String.valueOf(r.readLine()));
                while (r.readLine() != null) {
                    // nothing more is said
                }
            } catch (IOException e) {
                first.complete("(unreadable: " + e + ")");
            }
        });
        Thread.ofPlatform().daemon().name("recording-disk-stderr").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(recorder.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (recorderErrors) {
                        recorderErrors.append(line).append('\n');
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        String said;
        try {
            said = first.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            said = "nothing within " + START_TIMEOUT_SECONDS + " s";
        }
        if (!said.equals("mounted")) {
            throw new IOException("the recording disk did not start (it said " + said + "): " + errors());
        }
    }

    /**
     * Attaches image {@code name} (through the FUSE file system, so its writes are logged) to a loop
     * device and mounts it at {@code <dir>/<name>.mnt}.
     */
    public ImageMount mount(String name) throws IOException {
        requireRunning();
        String fsType = fsTypes.get(name);
        if (fsType == null) {
            throw new IllegalArgumentException("no image " + name);
        }
        ImageMount m = ImageMount.attach(disk.resolve(name), fsType, directory.resolve(name + ".mnt"), null);
        mounts.add(m);
        return m;
    }

    /** Logs a mark: where the test stands (one write to the disk's {@code .marks}, which is not stored). */
    public void mark(String label) throws IOException {
        requireRunning();
        try (FileChannel c = FileChannel.open(disk.resolve(".marks"), StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(label.getBytes(StandardCharsets.UTF_8));
            if (c.write(b) != b.capacity()) {
                throw new IOException("a mark was written in part");
            }
        }
    }

    private void requireRunning() throws IOException {
        if (recorder == null || !recorder.isAlive()) {
            throw new IOException("the recording disk is not running" + (recorder == null ? "" : " (it ended: " + errors() + ")"));
        }
    }

    /** Whether the FUSE process still runs (it exits on any error it did not expect, which the loop devices see as EIO). */
    public boolean running() {
        return recorder != null && recorder.isAlive();
    }

    /** What the FUSE process wrote to stderr. */
    public String errors() {
        synchronized (recorderErrors) {
            return recorderErrors.length() == 0 ? "(nothing on stderr)" : recorderErrors.toString().strip();
        }
    }

    /** The images' copies as they were when the log began: name to path. */
    public Map<String, Path> bases() {
        Map<String, Path> out = new LinkedHashMap<>();
        fsTypes.keySet().forEach(n -> out.put(n, bases.resolve(n)));
        return out;
    }

    /** The file system type of image {@code name}. */
    public String fsType(String name) {
        return fsTypes.get(name);
    }

    /** The fixture directory, for a test's scratch files (cut images, say): it is deleted by {@link #close()}. */
    public Path directory() {
        return directory;
    }

    /** Unmounts every image, detaches their loop devices and ends the FUSE file system; returns the complete log. */
    public Path stop() throws IOException {
        IOException failure = null;
        for (ImageMount m : mounts.reversed()) {
            try {
                m.close();
            } catch (IOException e) {
                failure = TempMounts.combine(failure, e);
            }
        }
        mounts.clear();
        if (recorder != null && !stopped) {
            stopped = true;
            try {
                TempMounts.unmount(disk);
            } catch (IOException e) {
                failure = TempMounts.combine(failure, e);
            }
            try {
                if (!recorder.waitFor(30, TimeUnit.SECONDS)) {
                    recorder.destroyForcibly();
                    failure = TempMounts.combine(failure, new IOException("the recording disk did not end after its unmount"));
                } else if (recorder.exitValue() != 0) {
                    failure = TempMounts.combine(failure, new IOException("the recording disk failed (exit "
                            + recorder.exitValue() + "): " + errors()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                recorder.destroyForcibly();
            }
        }
        if (failure != null) {
            throw failure;
        }
        return log;
    }

    /** Stops it if it runs and deletes its directory (the log and images too); safe to call twice. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        TempMounts.unregister(this);
        IOException failure = null;
        try {
            stop();
        } catch (IOException e) {
            failure = e;
        }
        boolean stillMounted = Files.readString(Path.of("/proc/mounts")).contains(" " + directory + "/");
        if (!stillMounted) {
            try {
                TempMounts.deleteTree(directory);
            } catch (IOException e) {
                failure = TempMounts.combine(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "recording disk at " + disk;
    }
}
