package org.modtrack.engine.storage;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.modtrack.posix.Posix;

/**
 * {@link Storage} in a real directory. Holds an exclusive lock on {@code DIR/lock} while open, so
 * that two trackers can never write the same journal.
 */
public final class DirectoryStorage implements Storage {
    static final String LOCK_FILE = "lock";
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    private final Path directory;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private DirectoryStorage(Path directory, FileChannel lockChannel, FileLock lock) {
        this.directory = directory;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Opens (creating if needed) the state directory and locks it.
     *
     * @throws IOException if the directory cannot be created, or another tracker holds its lock
     */
    public static DirectoryStorage open(Path directory) throws IOException {
        Path dir = directory.toAbsolutePath().normalize();
        Files.createDirectories(dir);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("the state path " + dir + " is not a directory.");
        }
        FileChannel channel = FileChannel.open(dir.resolve(LOCK_FILE),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new IOException("the state directory " + dir + " is in use by another tracker (its lock file is held).");
        }
        return new DirectoryStorage(dir, channel, lock);
    }

    /** The directory this storage lives in. */
    public Path directory() {
        return directory;
    }

    @Override
    public List<String> list() throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                String name = p.getFileName().toString();
                if (!name.equals(LOCK_FILE) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    @Override
    public AppendFile create(String name, long capacity, boolean preallocate) throws IOException {
        String path = pathOf(name);
        int fd = Posix.open(path, Posix.O_RDWR | Posix.O_CREAT | Posix.O_EXCL | Posix.O_CLOEXEC | Posix.O_NOFOLLOW, 0600);
        PosixAppendFile file = new PosixAppendFile(fd, path, 0);
        try {
            file.grow(capacity, preallocate);
            Posix.fsync(fd, path);
            return file;
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    @Override
    public ByteBuffer read(String name) throws IOException {
        String path = pathOf(name);
        int fd = Posix.open(path, Posix.O_RDONLY | Posix.O_CLOEXEC | Posix.O_NOFOLLOW, 0);
        try {
            long size = Posix.size(fd, path);
            if (size > Integer.MAX_VALUE) {
                throw new IOException("the journal file " + path + " is " + size + " bytes, more than the 2 GiB a journal file may hold.");
            }
            MemorySegment buffer = Arena.ofAuto().allocate(Math.max(1, size));
            long done = 0;
            while (done < size) {
                long n = Posix.pread(fd, buffer.asSlice(done, size - done), done, path);
                if (n == 0) {
                    break; // shrank under us: read what is there
                }
                done += n;
            }
            return buffer.asSlice(0, done).asByteBuffer();
        } finally {
            Posix.close(fd, path);
        }
    }

    @Override
    public void sync(String name) throws IOException {
        String path = pathOf(name);
        onDescriptor(path, Posix.O_RDONLY | Posix.O_NOFOLLOW, fd -> Posix.fsync(fd, path));
    }

    @Override
    public void truncate(String name, long size) throws IOException {
        String path = pathOf(name);
        onDescriptor(path, Posix.O_WRONLY | Posix.O_NOFOLLOW, fd -> {
            Posix.ftruncate(fd, size, path);
            Posix.fsync(fd, path);
        });
    }

    @Override
    public void writeDurably(String name, ByteBuffer contents) throws IOException {
        String path = pathOf(name);
        int fd = Posix.open(path, Posix.O_WRONLY | Posix.O_CREAT | Posix.O_TRUNC | Posix.O_CLOEXEC | Posix.O_NOFOLLOW, 0600);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(Math.max(1, contents.remaining()));
            MemorySegment.copy(MemorySegment.ofBuffer(contents), 0, copy, 0, contents.remaining());
            Posix.pwriteFully(fd, copy.asSlice(0, contents.remaining()), 0, path);
            Posix.fsync(fd, path);
        } finally {
            Posix.close(fd, path);
        }
    }

    @Override
    public void rename(String from, String to) throws IOException {
        try {
            Files.move(directory.resolve(from), directory.resolve(to),
                    StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + from + " to " + to + " atomically in " + directory + ".", e);
        }
    }

    @Override
    public void delete(String name) throws IOException {
        try {
            Files.deleteIfExists(directory.resolve(name));
        } catch (NoSuchFileException ignored) {
            // already gone: that is what was asked
        }
    }

    @Override
    public void syncDirectory() throws IOException {
        String path = directory.toString();
        onDescriptor(path, Posix.O_RDONLY | Posix.O_DIRECTORY, fd -> Posix.fsync(fd, path));
    }

    @Override
    public String bootId() {
        try {
            return Files.readString(BOOT_ID).trim();
        } catch (IOException e) {
            return "unknown"; // recovery treats an unknown boot as a possible power loss
        }
    }

    @Override
    public String describe() {
        return directory.toString();
    }

    @Override
    public void close() throws IOException {
        if (!lockChannel.isOpen()) {
            return;
        }
        try {
            lock.release();
        } finally {
            lockChannel.close();
        }
    }

    @FunctionalInterface
    private interface FdAction {
        void run(int fd) throws IOException;
    }

    /** Opens {@code path} (close-on-exec), runs {@code action} on it, and closes it. */
    private static void onDescriptor(String path, int flags, FdAction action) throws IOException {
        int fd = Posix.open(path, flags | Posix.O_CLOEXEC, 0);
        try {
            action.run(fd);
        } finally {
            Posix.close(fd, path);
        }
    }

    private String pathOf(String name) {
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("a journal file name must be a plain name, not '" + name + "'.");
        }
        return directory.resolve(name).toString();
    }
}
