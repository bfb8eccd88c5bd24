package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;

/**
 * The names in the watched tree of what lies outside it: a bind mount inside the tree of a
 * directory of the tracked file system outside it ({@code r/x} showing {@code other}, the tree
 * {@code r}) makes that directory part of the tree, but the kernel names its files through the
 * tracked mount ({@code open_by_handle_at} through it, and a writer that used {@code other})
 * by their path outside the tree, which a result would drop. {@link #inTree} gives such a path its
 * name below the mount instead.
 *
 * <p>It also lists every mount inside the tree, of any file system, for the results to rescan
 * where a mount came, went or shows another file system ({@link ResultResolver}).
 *
 * <p>The mounts are read from /proc/self/mountinfo, again whenever the kernel says the mount table
 * changed ({@code poll} on the open file reports {@code POLLPRI} once after each change, proc(5)): a
 * bind mount made or removed while the source runs is known from the next path asked about; and
 * again after a directory was renamed ({@link #readAgain}), which moves what a mount shows or where
 * it is without a change of the table. Safe for any number of threads.
 */
final class MountAliases implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(MountAliases.class.getName());
    /**
     * A bound on the mounts inside the tree that are kept: past it, the rest are no aliases (their
     * files are dropped as outside the tree), and a result rescans the whole tree.
     */
    static final int MAX_MOUNTS = 1_024;

    /**
     * A mount of the tracked file system inside the watched tree.
     *
     * @param point where it is mounted, strictly below the watched directory
     * @param root the directory of the file system it shows (mountinfo's root field)
     */
    record Alias(String point, String root) {}

    /**
     * A mount strictly inside the watched tree, of any file system. Two are the same mount showing
     * the same thing where every field is equal: a new mount at a point gets the id the one before
     * it freed, the lowest free one (seen: a bind mount of one directory replaced by one of
     * another, both id 45), so the id alone does not tell them apart.
     *
     * @param point where it is mounted
     * @param id its mount id (mountinfo's first field)
     * @param root the directory of its file system it shows (mountinfo's fourth field)
     * @param foreign whether it shows another file system than the tracked one, whose changes the
     *     source does not see
     */
    record Mount(String point, long id, String root, boolean foreign) {}

    /**
     * The mount table as far as it matters here.
     *
     * @param trackedPoint the tracked mount's mount point, or null if mountinfo no longer has it
     * @param trackedRoot the directory of the file system the tracked mount shows
     * @param aliases the mounts of the tracked file system inside the watched tree, most specific root first
     * @param inside every mount strictly inside the watched tree, in mountinfo's order, if
     *     {@code complete}
     * @param complete false where there were more than {@link #MAX_MOUNTS} (the rest are missing),
     *     or the table could not be read again after a change
     */
    record Table(String trackedPoint, String trackedRoot, List<Alias> aliases, List<Mount> inside, boolean complete) {
        static final Table NONE = new Table(null, null, List.of(), List.of(), true);

        /** The points of the mounts inside the tree that show another file system. */
        List<String> foreignPoints() {
            return inside.stream().filter(Mount::foreign).map(Mount::point).toList();
        }
    }

    private final String watched;
    private final long superblockDev;
    private final long trackedMountId;
    private final Path trackedMountPoint;
    private final int mountinfoFd;
    private final MountTable lines;
    private Table table;
    /** Whether the last read of the mount table failed (the change that asked for it is not asked again). */
    private boolean unread;

    /** How the mount table's lines are read: /proc/self/mountinfo, or a test's. */
    interface MountTable {
        List<String> lines() throws IOException;
    }

    private MountAliases(String watched, long superblockDev, long trackedMountId, Path trackedMountPoint, int mountinfoFd,
                         MountTable lines) {
        this.lines = lines;
        this.watched = watched;
        this.superblockDev = superblockDev;
        this.trackedMountId = trackedMountId;
        this.trackedMountPoint = trackedMountPoint;
        this.mountinfoFd = mountinfoFd;
    }

    /**
     * The aliases of the file system of superblock {@code superblockDev}, tracked through the mount
     * {@code trackedMountId} (-1 where statx does not say: then the mount at {@code trackedMountPoint}),
     * inside the tree {@code watched} (a real path).
     */
    static MountAliases open(String watched, long superblockDev, long trackedMountId, Path trackedMountPoint) throws IOException {
        return open(watched, superblockDev, trackedMountId, trackedMountPoint, () -> Files.readAllLines(MountInfo.FILE));
    }

    /** {@link #open(String, long, long, Path)}, reading the table's lines from {@code lines} (told of changes by the kernel's). */
    static MountAliases open(String watched, long superblockDev, long trackedMountId, Path trackedMountPoint, MountTable lines)
            throws IOException {
        int fd = Posix.open(MountInfo.FILE.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        MountAliases aliases = new MountAliases(watched, superblockDev, trackedMountId, trackedMountPoint, fd, lines);
        try {
            aliases.pollChanged(); // the table is read now: the next change is the one to notice
            aliases.table = aliases.read();
        } catch (IOException | RuntimeException e) {
            aliases.close();
            throw e;
        }
        return aliases;
    }

    /**
     * {@code path}'s name in the watched tree: the path itself if it is in the tree, or not on the
     * tracked mount, or no bind mount inside the tree shows it; else its name below the mount that
     * does (of several, the one showing the deepest directory, then the first in mountinfo).
     */
    String inTree(String path) {
        if (path == null || ResultPlanner.isAtOrBelow(path, watched)) {
            return path;
        }
        return translate(current(), path, watched);
    }

    /** The aliases as they are now. */
    Table table() {
        return current();
    }

    /**
     * Reads the table again before the next use: a directory was renamed, and mountinfo's root field
     * of a mount that shows it (or a directory below it) names it where it is now, without a change
     * the kernel would report ({@code poll} says nothing of renames).
     */
    synchronized void readAgain() {
        unread = true;
    }

    /** {@link #inTree} by {@code table}: pure, for tests. */
    static String translate(Table table, String path, String watched) {
        if (table.aliases().isEmpty() || table.trackedPoint() == null || !ResultPlanner.isAtOrBelow(path, table.trackedPoint())) {
            return path;
        }
        String inFs = join(table.trackedRoot(), table.trackedPoint().equals("/") ? path : path.substring(table.trackedPoint().length()));
        for (Alias a : table.aliases()) {
            if (ResultPlanner.isAtOrBelow(inFs, a.root())) {
                String named = join(a.point(), inFs.substring(a.root().equals("/") ? 0 : a.root().length()));
                if (ResultPlanner.isAtOrBelow(named, watched)) {
                    return named;
                }
            }
        }
        return path;
    }

    /** {@code base} followed by {@code rest} ("" or beginning with a slash; "/" alone is no name of its own). */
    private static String join(String base, String rest) {
        if (rest.isEmpty() || rest.equals("/")) {
            return base;
        }
        return base.equals("/") ? rest : base + rest;
    }

    private synchronized Table current() {
        try {
            if (pollChanged() || unread) {
                table = read();
                unread = false;
            }
        } catch (IOException e) {
            // The aliases stay as they were (a name they miss is dropped as outside the tree), but a
            // mount inside the tree may have come or gone unseen: results rescan the tree until a read works.
            if (!unread) {
                LOG.log(Level.WARNING, "could not read the mount table again; results rescan " + watched
                        + " until it can be read", e);
            }
            unread = true;
            table = new Table(table.trackedPoint(), table.trackedRoot(), table.aliases(), table.inside(), false);
        }
        return table;
    }

    /** Whether the mount table changed since the last look (and that look is now this one). */
    private boolean pollChanged() throws PosixException {
        short revents = Posix.poll(new int[] {mountinfoFd}, Posix.POLLPRI, 0)[0];
        return (revents & (Posix.POLLPRI | Posix.POLLERR)) != 0;
    }

    private Table read() throws IOException {
        return parse(lines.lines(), watched, superblockDev, trackedMountId, trackedMountPoint);
    }

    /** The table {@code mountinfo}'s lines give: pure, for tests. */
    static Table parse(List<String> mountinfo, String watched, long superblockDev, long trackedMountId, Path trackedMountPoint)
            throws IOException {
        String trackedPoint = null;
        String trackedRoot = null;
        List<Alias> aliases = new ArrayList<>();
        List<Mount> inside = new ArrayList<>();
        boolean complete = true;
        for (MountInfo m : MountInfo.parseAll(mountinfo)) {
            long id = m.id();
            String root = m.root();
            String point = m.point();
            boolean ours = m.superblockDev() == superblockDev;
            boolean tracked = trackedMountId >= 0 ? id == trackedMountId : Path.of(point).equals(trackedMountPoint);
            if (tracked) {
                trackedPoint = point; // the last wins, as the last mount at a point is the one seen there
                trackedRoot = root;
            } else if (ResultPlanner.isAtOrBelow(point, watched) && !point.equals(watched)) {
                if (inside.size() == MAX_MOUNTS) {
                    complete = false;
                    continue;
                }
                inside.add(new Mount(point, id, root, !ours));
                if (ours && !root.endsWith("//deleted")) {
                    aliases.add(new Alias(point, root));
                }
            }
        }
        if (trackedPoint == null) {
            return Table.NONE;
        }
        // The deepest root first: a path is named through the mount that shows the least above it.
        aliases.sort((a, b) -> Integer.compare(depth(b.root()), depth(a.root())));
        return new Table(trackedPoint, trackedRoot, List.copyOf(aliases), List.copyOf(inside), complete);
    }

    /** How many names {@code root} has below the file system's root ("/" none). */
    private static int depth(String root) {
        return root.equals("/") ? 0 : ResultPlanner.depth(root);
    }

    @Override
    public void close() {
        try {
            Posix.close(mountinfoFd, MountInfo.FILE.toString());
        } catch (PosixException e) {
            // a read-only proc file: nothing to write back
        }
    }
}
