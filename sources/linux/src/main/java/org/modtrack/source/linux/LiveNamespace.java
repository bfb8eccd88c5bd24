package org.modtrack.source.linux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.StatStamp;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;

/**
 * The tracked file system as the kernel shows it now: a recorded object is found at the name it was
 * last seen at if a {@code statx} there finds its inode number, else by its file handle
 * ({@code open_by_handle_at} with {@code O_PATH}, then {@code readlink}); neither opens content, so
 * neither raises an event (docs/kernel-facts.md, 4). A path is looked at with {@code statx}.
 */
final class LiveNamespace implements Namespace {
    /** How many entries of a directory are looked at for a live hard link (a bound on the query's work). */
    private static final int MAX_SIBLINGS_SCANNED = 10_000;
    /** How many objects (or paths) a thread looks at before it takes more: a helper starts only past this many. */
    private static final int LOCATED_AT_ONCE = 1_024;
    private final TrackedFilesystem fs;
    private final HandleResolver handles;

    LiveNamespace(TrackedFilesystem fs) {
        this.fs = fs;
        this.handles = new HandleResolver(fs);
    }

    @Override
    public Where locate(ChangedFile c) throws IOException {
        if (!c.file().hasHandle()) {
            String path = c.file().path();
            Occupant there = at(path);
            return there == Occupant.NOTHING ? Where.GONE
                    : new Where(path, false, there == Occupant.DIRECTORY, 1, null);
        }
        Where atHint = atHint(c);
        if (atHint != null) {
            return atHint;
        }
        HandleResolver.Resolved now = handles.resolve(c.file().handleType(), c.file().handle());
        if (now.gone()) {
            return Where.GONE;
        }
        Statx st = now.status();
        boolean directory = st != null && st.isDirectory();
        int links = st == null ? 0 : st.nlink();
        StatStamp stamp = st == null ? null : new StatStamp(st.ino(), st.size(), st.mtimeNanos(), st.ctimeNanos());
        String path = liveName(c, now);
        return new Where(path, path == null, directory, links, stamp);
    }

    /**
     * {@inheritDoc} Shared with another thread where there are CPUs for it ({@link SharedWork}): an
     * object that is gone, or not where it was seen, costs an {@code open_by_handle_at} (for a gone
     * file, ext4 reads its inode to find it freed), about 4 µs of the kernel's time, and a large
     * deletion is made of them.
     */
    @Override
    public List<Where> locateAll(List<ChangedFile> files) throws IOException, InterruptedException {
        return SharedWork.map(files, LOCATED_AT_ONCE, this::locate);
    }

    /** {@inheritDoc} Shared with another thread where there are CPUs for it ({@link SharedWork}): a {@code statx} each. */
    @Override
    public List<Occupant> atAll(List<String> paths) throws IOException, InterruptedException {
        return SharedWork.map(paths, LOCATED_AT_ONCE, this::at);
    }

    /**
     * Where the file is if it is still at the name it was last seen at: one {@code statx} of that
     * path, whose inode number must be the one the file's handle encodes. Opening the handle and
     * reading the descriptor's path back costs about 8 us a file more on this kind of machine
     * (benchmarks/peers/answer at 300,000 files: 4.9 s an answer without this, 2.4 s with it), and
     * most recorded files are where they were seen. Null when the name leads elsewhere, or nowhere, or
     * the handle's layout is unknown, or the file's records say it may be gone: then the handle is
     * opened.
     */
    private Where atHint(ChangedFile c) {
        String hint = c.file().path();
        long ino = FileHandles.inodeNumber(c.file().handleType(), c.file().handle());
        if (hint == null || ino < 0 || hint.endsWith(" (deleted)") || mayBeGone(c)) {
            return null;
        }
        Statx st;
        try {
            st = Statx.statx(Statx.AT_FDCWD, hint, Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_BASIC_STATS);
        } catch (PosixException e) {
            return null; // gone from there: the handle tells where it is now, if anywhere
        }
        if (st.ino() != ino || !fs.holds(st)) {
            return null;
        }
        return new Where(hint, false, st.isDirectory(), st.nlink(),
                new StatStamp(st.ino(), st.size(), st.mtimeNanos(), st.ctimeNanos()));
    }

    /**
     * Whether the records say the file was removed, renamed or lost a link: its inode number may
     * then belong to a file made since at the same name (ext4 gives a freed number out again at
     * once), which only the handle's generation tells apart.
     */
    private static boolean mayBeGone(ChangedFile c) {
        Set<Change> changes = c.changes();
        return changes.contains(Change.DELETED) || changes.contains(Change.RENAMED) || changes.contains(Change.ATTRIBUTES);
    }

    @Override
    public Occupant at(String path) {
        try {
            Statx st = Statx.statxIfExists(Statx.AT_FDCWD, path, Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_TYPE);
            return st == null ? Occupant.NOTHING : st.isDirectory() ? Occupant.DIRECTORY : Occupant.FILE;
        } catch (IOException e) {
            return Occupant.NOTHING;
        }
    }

    @Override
    public String mountPoint() {
        return fs.mountPoint().toString();
    }

    /**
     * A path that leads to the file now. {@code open_by_handle_at} may return the dentry of a
     * removed hard link that some process still holds open ({@code readlink} then ends in
     * " (deleted)") although the file has other, live names; then the recorded path hint, and the
     * other entries of its directory, are tried, each accepted only if it leads to the same inode.
     * Null if no live name is found.
     */
    private static String liveName(ChangedFile c, HandleResolver.Resolved now) {
        if (!now.path().endsWith(" (deleted)")) {
            return now.path();
        }
        String hint = c.file().path();
        if (hint == null || hint.endsWith(" (deleted)")) {
            return null;
        }
        if (sameFile(hint, now.status())) {
            return hint;
        }
        // The hint may be the removed link itself; hard links mostly share a directory, so look there.
        Path dir = Path.of(hint).getParent();
        if (dir == null) {
            return null;
        }
        try (var entries = Files.list(dir)) {
            return entries.limit(MAX_SIBLINGS_SCANNED).map(Path::toString).filter(p -> sameFile(p, now.status()))
                    .findFirst().orElse(null);
        } catch (IOException | UncheckedIOException e) {
            return null;
        }
    }

    private static boolean sameFile(String path, Statx file) {
        try {
            Statx st = Statx.statx(Statx.AT_FDCWD, path, Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_INO);
            return st.ino() == file.ino() && st.devMajor() == file.devMajor() && st.devMinor() == file.devMinor();
        } catch (IOException e) {
            return false;
        }
    }
}
