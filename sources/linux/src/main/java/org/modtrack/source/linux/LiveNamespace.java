package org.modtrack.source.linux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.StatStamp;
import org.modtrack.posix.DirectoryReader;
import org.modtrack.posix.Errno;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.Posix;
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
    /**
     * Fewer paths of one directory than this are each looked at with a {@code statx}: opening and
     * listing the directory would cost about as much.
     */
    private static final int LISTED_FROM = 64;
    /**
     * A directory is listed for the paths looked at in it only if its size is at most this many
     * bytes for each of them, so that its listing costs about what the {@code statx} calls it saves
     * (an ext4 entry with a short name takes 16-24 bytes of a directory, which keeps its size when
     * emptied; btrfs's size counts the names' bytes, xfs's its entries' blocks).
     */
    private static final long LISTED_BYTES_PER_NAME = 512;
    private final TrackedFilesystem fs;
    private final String watched;
    private final HandleResolver handles;

    /** @param watched the watched tree's path: a name outside it is not where a file is looked for */
    LiveNamespace(TrackedFilesystem fs, String watched) {
        this.fs = fs;
        this.watched = watched;
        this.handles = new HandleResolver(fs);
    }

    @Override
    public Where locate(ChangedFile c) throws IOException {
        return locate(c, null, null);
    }

    /**
     * {@link #locate(ChangedFile)}, looking at the file's name in {@code hintDirectory} where it holds the
     * name's directory ({@link HintDirectory}, null for none); {@code next} is the hint of the file
     * looked at after this one, if any.
     */
    private Where locate(ChangedFile c, HintDirectory hintDirectory, String next) throws IOException {
        if (!c.file().hasHandle()) {
            String path = c.file().path();
            Occupant there = at(path);
            return there == Occupant.NOTHING ? Where.GONE
                    : new Where(path, false, there == Occupant.DIRECTORY, 1, null);
        }
        Where atHint = atHint(c, hintDirectory, next);
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
        String path = fs.inTree(liveName(c, now)); // it may give the hint, or a name beside it, as they are
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
        Where[] out = new Where[files.size()];
        int batches = (files.size() + LOCATED_AT_ONCE - 1) / LOCATED_AT_ONCE;
        SharedWork.run(batches, 1, b -> {
            try (HintDirectory directory = new HintDirectory()) {
                for (int i = b * LOCATED_AT_ONCE, to = Math.min(files.size(), i + LOCATED_AT_ONCE); i < to; i++) {
                    out[i] = locate(files.get(i), directory, i + 1 < to ? files.get(i + 1).file().path() : null);
                }
            }
        });
        return Arrays.asList(out);
    }

    /**
     * The directory of the names one thread looks at one after another ({@link #atHint}), open
     * ({@code O_PATH}: no content, no event) while they are in it, so that each name costs a lookup
     * of itself rather than of every directory above it too: the walk of the whole path was about a
     * fifth of the daemon's CPU (`perf`) in the answer to a million files renamed in directories of
     * 1,000. Opened for a name only if the next name is in the same directory: for one name alone, a
     * {@code statx} of its path is one call where opening would be three.
     *
     * <p>What a name is looked up in is the directory that was at that path when it was opened,
     * which a rename since may have moved: the file is then named where it was in that directory
     * before the move, as a look at the whole path just before the move would have named it; the
     * move is an event after the checkpoint, whose result moves the directory with the name.
     */
    private static final class HintDirectory implements AutoCloseable {
        private String path; // the directory open, or that did not open; null for none
        private int fd = -1;

        /**
         * A descriptor of the directory of {@code hint} to look its last name up in, or -1 to look
         * the whole path up; {@code next}, the hint looked at next (or null), says whether to open one.
         */
        int of(String hint, String next) {
            int slash = hint.lastIndexOf('/');
            if (slash <= 0 || slash == hint.length() - 1) {
                return -1;
            }
            if (path != null && path.length() == slash && hint.startsWith(path)) {
                return fd;
            }
            close();
            if (next == null || next.lastIndexOf('/') != slash || !next.regionMatches(0, hint, 0, slash)) {
                return -1;
            }
            path = hint.substring(0, slash);
            try {
                fd = Posix.open(path, Posix.O_PATH | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
            } catch (PosixException e) {
                fd = -1; // gone or not a directory: each name is looked up whole, and found there or not
            }
            return fd;
        }

        @Override
        public void close() {
            if (fd >= 0) {
                try {
                    Posix.close(fd, path);
                } catch (PosixException e) {
                    // An O_PATH descriptor has nothing to write back: its close cannot lose anything.
                }
            }
            fd = -1;
            path = null;
        }
    }

    /**
     * {@inheritDoc} Paths that follow one another in one directory are looked at together where they
     * are many: the directory is opened once, and if it is gone so is every path below it (a tree
     * removed whole); else it is listed once, if its size says that costs about what a
     * {@code statx} of each path would. Other paths get a {@code statx} each. Shared with another
     * thread where there are CPUs for it ({@link SharedWork}). The answer for each path is what
     * {@link #at} would say.
     */
    @Override
    public List<Occupant> atAll(List<String> paths) throws IOException, InterruptedException {
        int[] runs = runsByDirectory(paths);
        int count = runs.length - 1;
        Occupant[] out = new Occupant[paths.size()];
        // About LOCATED_AT_ONCE paths a batch, as locateAll takes them.
        int batch = (int) Math.max(1, (long) LOCATED_AT_ONCE * count / Math.max(1, paths.size()));
        SharedWork.run(count, batch, i -> lookInto(paths, runs[i], runs[i + 1], out));
        return Arrays.asList(out);
    }

    /**
     * Where each run of paths in one directory starts, and the end of the last: {@code runs[i]} to
     * {@code runs[i + 1]} share a directory (a directory's paths that do not follow one another make
     * runs of their own).
     */
    static int[] runsByDirectory(List<String> paths) {
        int[] runs = new int[Math.min(paths.size(), 1024) + 1];
        int count = 0;
        String first = null;
        int firstSlash = -1;
        for (int i = 0; i < paths.size(); i++) {
            String p = paths.get(i);
            int slash = p.lastIndexOf('/');
            if (first == null || slash != firstSlash || !p.regionMatches(0, first, 0, slash)) {
                if (count + 1 == runs.length) {
                    runs = Arrays.copyOf(runs, Math.min(paths.size(), runs.length * 2) + 1);
                }
                runs[count++] = i;
                first = p;
                firstSlash = slash;
            }
        }
        runs[count] = paths.size();
        return Arrays.copyOf(runs, count + 1);
    }

    /** What is at each path of {@code paths} from {@code from} to {@code to}, which share a directory. */
    private void lookInto(List<String> paths, int from, int to, Occupant[] out) {
        if (to - from < LISTED_FROM || !lookIntoListing(paths, from, to, out)) {
            for (int i = from; i < to; i++) {
                out[i] = at(paths.get(i));
            }
        }
    }

    /**
     * Fills {@code out} from {@code from} to {@code to} from one look at the paths' directory; false,
     * with nothing filled, where the directory is not to be listed: a symbolic link or a file there
     * (which a {@code statx} of each path looks through or fails at), or a directory too large for
     * the paths looked at in it. A path holding U+FFFD is looked at alone ({@link #at}): a
     * name that is not UTF-8 is listed as U+FFFD, which a {@code statx} of the path would not find.
     */
    boolean lookIntoListing(List<String> paths, int from, int to, Occupant[] out) {
        String first = paths.get(from);
        int slash = first.lastIndexOf('/');
        DirectoryReader reader;
        try {
            reader = DirectoryReader.open(slash == 0 ? "/" : first.substring(0, slash));
        } catch (PosixException e) {
            if (e.errno() == Errno.ENOENT) {
                Arrays.fill(out, from, to, Occupant.NOTHING); // it, or a directory above it, is gone: so is every path below
                return true;
            }
            return false;
        }
        try (reader) {
            if (reader.statxDirectory(Statx.STATX_SIZE).size() > (to - from) * LISTED_BYTES_PER_NAME) {
                return false;
            }
            Map<String, Occupant> present = new HashMap<>();
            while (reader.next()) {
                present.put(reader.name(), occupant(reader));
            }
            for (int i = from; i < to; i++) {
                String p = paths.get(i);
                if (p.indexOf(ResultResolver.UNNAMABLE) >= 0) {
                    out[i] = at(p);
                    continue;
                }
                // An emptied directory (a large removal) needs no name of its own.
                Occupant there = present.isEmpty() ? null : present.get(p.substring(slash + 1));
                out[i] = there == null ? Occupant.NOTHING : there;
            }
            return true;
        } catch (PosixException e) {
            return false; // the listing failed (or its close): each path is looked at on its own
        }
    }

    /** What the reader's current entry is, as {@link #at} would say. */
    private static Occupant occupant(DirectoryReader reader) {
        int type = reader.type();
        if (type == DirectoryReader.DT_DIR) {
            return Occupant.DIRECTORY;
        }
        if (type != DirectoryReader.DT_UNKNOWN) {
            return Occupant.FILE;
        }
        try {
            return reader.statx(Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_TYPE).isDirectory() ? Occupant.DIRECTORY : Occupant.FILE;
        } catch (PosixException e) {
            return Occupant.NOTHING; // removed since it was listed
        }
    }

    /**
     * Where the file is if it is still at the name it was last seen at: one {@code statx} of that
     * path, whose inode number must be the one the file's handle encodes. Opening the handle and
     * reading the descriptor's path back costs about 8 us a file more on this kind of machine
     * (benchmarks/peers/answer at 300,000 files: 4.9 s an answer without this, 2.4 s with it), and
     * most recorded files are where they were seen. Where the records say the file was renamed or
     * lost a link, its inode number may belong to a file made since at that name (ext4 gives a freed
     * number out again at once): the name's handle, whose generation tells them apart, must then be
     * the file's too ({@code name_to_handle_at}, a lookup of the name, where opening the handle
     * costs an open, a {@code statx}, a {@code readlink} and a close). Null when the name leads
     * elsewhere, or nowhere, or the handle's layout is unknown, or the file was removed (its name is
     * most likely gone or another's): then the handle is opened.
     */
    private Where atHint(ChangedFile c, HintDirectory directory, String next) {
        String hint = c.file().path();
        byte[] handle = c.file().handle(); // a copy: taken once for both looks at it
        long ino = FileHandles.inodeNumber(c.file().handleType(), handle);
        if (hint == null || ino < 0 || hint.endsWith(" (deleted)") || c.changes().contains(Change.DELETED)) {
            return null;
        }
        // A name outside the watched tree counts only if it is reached through the tracked mount: a
        // file written through another mount of the file system (a bind mount, a container's
        // volume, a service's own mount namespace) is seen by its path there even when the file is
        // inside the tree, and its handle, opened through the tracked mount, says where it is. (One
        // inside the tree stands through any mount: a bind mount in the tree shows what it names.)
        boolean outside = !ResultPlanner.isAtOrBelow(hint, watched);
        int dirfd = directory == null ? -1 : directory.of(hint, next);
        String name = dirfd < 0 ? hint : hint.substring(hint.lastIndexOf('/') + 1);
        dirfd = dirfd < 0 ? Statx.AT_FDCWD : dirfd;
        Statx st;
        try {
            st = Statx.statx(dirfd, name, Statx.AT_SYMLINK_NOFOLLOW,
                    Statx.STATX_BASIC_STATS | Statx.STATX_SUBVOL | (outside ? Statx.STATX_MNT_ID : 0));
            long subvolume = FileHandles.subvolume(c.file().handleType(), handle);
            if (st.ino() != ino || !fs.holds(dirfd, name, st) || outside && !fs.throughTheMount(st)
                    || subvolume >= 0 && (st.mask() & Statx.STATX_SUBVOL) != 0 && st.subvolume() != subvolume) {
                return null; // another file, one with its number in another btrfs subvolume, or one seen through another mount
            }
        } catch (PosixException e) {
            return null; // gone from there: the handle tells where it is now, if anywhere
        }
        // Where the number may be a file's made since, the name's handle must be this file's (false
        // too if the name cannot say: the file's own handle then says).
        if (mayBeAnother(c) && !FileHandles.namesHandle(dirfd, name, 0, c.file().handleType(), handle)) {
            return null;
        }
        // A name outside the tree reached through the tracked mount may be one a bind mount inside
        // the tree shows (a hint recorded before the mount, or before the table was read again).
        return new Where(outside ? fs.inTree(hint) : hint, false, st.isDirectory(), st.nlink(),
                new StatStamp(st.ino(), st.size(), st.mtimeNanos(), st.ctimeNanos()));
    }

    /**
     * Whether the records say the file was renamed or lost a link: the inode number at its name may
     * then be a file's made since (see {@link #atHint}).
     */
    private static boolean mayBeAnother(ChangedFile c) {
        Set<Change> changes = c.changes();
        return changes.contains(Change.RENAMED) || changes.contains(Change.ATTRIBUTES);
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

    @Override
    public MountAliases.Table mountsInside() {
        return fs.mountsInside();
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
