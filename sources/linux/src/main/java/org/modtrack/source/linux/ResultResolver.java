package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.StatStamp;
import org.modtrack.posix.Statx;

/**
 * Names every file of an engine result by its current path, when the result is made.
 *
 * <p>A file recorded only because it was read is left out if its status (inode, size, mtime,
 * ctime) is what it was at its first record: with multigrain timestamps any write after that
 * {@code statx} changes ctime and mtime (docs/kernel-facts.md, 5). After an unclean stop a stamp
 * proves nothing (data can reach the disk before the metadata that would show it), so recovered
 * read records are reported. A file whose handle no longer opens was deleted: it is reported as
 * deleted at the last path it was seen at, never dropped.
 */
final class ResultResolver {
    /** How many entries of a directory are looked at for a live hard link (a bound on the query's work). */
    private static final int MAX_SIBLINGS_SCANNED = 10_000;
    /** How many nested directory renames a recorded path is followed through. */
    private static final int MAX_MOVE_STEPS = 16;
    private final TrackedFilesystem fs;
    private final HandleResolver handles;
    private final Path watched;

    ResultResolver(TrackedFilesystem fs, Path watched) {
        this.fs = fs;
        this.handles = new HandleResolver(fs);
        this.watched = watched;
    }

    LinuxResult resolve(QueryResult r) throws IOException {
        List<PathChange> out = new ArrayList<>(r.changes().size());
        int dropped = 0;
        int readOnlyReported = 0;
        List<ChangedFile> files = r.changes();
        List<HandleResolver.Resolved> now = new ArrayList<>(files.size());
        for (ChangedFile c : files) {
            now.add(c.file().hasHandle() ? handles.resolve(c.file().handleType(), c.file().handle())
                    : new HandleResolver.Resolved(c.file().path(), null));
        }
        Map<String, String> directoryMoves = directoryMoves(files, now);
        for (int i = 0; i < files.size(); i++) {
            ChangedFile c = files.get(i);
            if (c.changes().contains(Change.SCOPE)) {
                PathChange rescan = scope(c, now.get(i), r.continuity().intact());
                if (rescan != null && isWatched(rescan.path())) {
                    out.add(rescan);
                }
                c = withoutScope(c);
                if (c == null) {
                    continue;
                }
            }
            boolean readOnly = c.changes().equals(Set.of(Change.READ));
            if (readOnly) {
                if (!c.recovered() && !c.carried() && !now.get(i).gone() && unchanged(c.file().stamp(), now.get(i).status())) {
                    dropped++;
                    continue;
                }
                readOnlyReported++;
            }
            for (PathChange change : describe(c, now.get(i), directoryMoves, r.continuity().intact())) {
                if (isWatched(change.path()) || change.from() != null && isWatched(change.from())) {
                    out.add(change);
                }
            }
        }
        out.sort(Comparator.comparing(PathChange::path).thenComparing(PathChange::kind));
        out = withoutRepeatedRescans(out);
        return new LinuxResult(r.snapshot(), r.lastBlessed(), r.recovered(), r.continuity(), out, r.barrier(),
                r.barrierWait(), dropped, readOnlyReported);
    }

    /**
     * The sorted changes with one rescan per path: many gone files without a name (after an unclean
     * stop, say) each stand for a rescan of the mount, and the consumer needs to hear it once.
     */
    static List<PathChange> withoutRepeatedRescans(List<PathChange> sorted) {
        List<PathChange> out = new ArrayList<>(sorted.size());
        PathChange previous = null;
        for (PathChange c : sorted) {
            boolean repeat = previous != null && c.kind() == PathChange.Kind.RESCAN
                    && previous.kind() == PathChange.Kind.RESCAN && previous.path().equals(c.path());
            if (repeat) {
                previous = new PathChange(c.path(), c.kind(), null, true, previous.carried() || c.carried(),
                        previous.recovered() || c.recovered(), Math.max(previous.links(), c.links()));
                out.set(out.size() - 1, previous);
            } else {
                out.add(c);
                previous = c;
            }
        }
        return out;
    }

    /**
     * What a recorded directory scope says: nothing while the after-the-fact records of its
     * children can be trusted (they name every change), a rescan of the directory when they cannot
     * (continuity lost: an overflowed or unread notification queue, an unclean stop).
     */
    private PathChange scope(ChangedFile c, HandleResolver.Resolved now, boolean intact) {
        if (intact && !c.recovered()) {
            return null;
        }
        String path = !now.gone() ? now.path() : c.file().path() != null ? c.file().path() : fs.mountPoint().toString();
        return new PathChange(path, PathChange.Kind.RESCAN, null, true, c.carried(), c.recovered(), 0);
    }

    /** The entry without its scope, or null if the scope was all it had. */
    private static ChangedFile withoutScope(ChangedFile c) {
        Set<Change> rest = java.util.EnumSet.noneOf(Change.class);
        rest.addAll(c.changes());
        rest.remove(Change.SCOPE);
        return rest.isEmpty() ? null : new ChangedFile(c.file(), rest, c.renamedFrom(), c.directory(), c.carried(),
                c.recovered(), c.formerNames(), c.moreNames());
    }

    /**
     * Every path a file's entry stands for. A file that is gone is reported as deleted under every
     * name it was seen with since the last blessed result, each also moved along with the
     * directories renamed meanwhile (a name recorded before its directory moved); a name where
     * another file stands now is reported as modified instead, for the consumer to look at again.
     * A live file whose link was removed also reports its former names that no longer exist.
     */
    private List<PathChange> describe(ChangedFile c, HandleResolver.Resolved now, Map<String, String> directoryMoves,
                                      boolean intact) {
        List<PathChange> out = new ArrayList<>(1);
        if (c.moreNames()) {
            out.add(new PathChange(watched.toString(), PathChange.Kind.RESCAN, null, true, c.carried(), c.recovered(), 0));
        }
        if (now.gone()) {
            Set<String> names = namesOf(c, directoryMoves);
            if (names.isEmpty() && isListing(c) && intact && !c.recovered()) {
                // Removed after it was recorded, so its removal was an event of its parent's, which
                // the parent's own listing entry (or an ancestor's) covers.
                return out;
            }
            if (names.isEmpty()) {
                // Never dropped: without any path, the consumer must look at the whole file system.
                out.add(new PathChange(fs.mountPoint().toString(), PathChange.Kind.RESCAN, null, true, c.carried(),
                        c.recovered(), 0));
            }
            PathChange.Kind stillThere = isListing(c) ? PathChange.Kind.LIST : PathChange.Kind.MODIFIED;
            for (String name : names) {
                out.add(new PathChange(name, exists(name) ? stillThere : PathChange.Kind.DELETED, null,
                        c.directory(), c.carried(), c.recovered(), 0));
            }
            return out;
        }
        PathChange live = describeLive(c, now);
        out.add(live);
        if (c.changes().contains(Change.DELETED)) {
            for (String name : namesOf(c, directoryMoves)) {
                if (!name.equals(live.path()) && !name.equals(c.renamedFrom()) && !exists(name)) {
                    out.add(new PathChange(name, PathChange.Kind.DELETED, null, false, c.carried(), c.recovered(), 0));
                }
            }
        }
        return out;
    }

    /** The latest hint and the former names, each as recorded and as moved by the renamed directories. */
    private static Set<String> namesOf(ChangedFile c, Map<String, String> directoryMoves) {
        Set<String> names = new java.util.LinkedHashSet<>();
        List<String> recorded = new ArrayList<>(c.formerNames());
        if (c.renamedFrom() != null) {
            recorded.add(c.renamedFrom()); // where the consumer last saw it
        }
        if (c.file().path() != null) {
            recorded.add(c.file().path());
        }
        for (String name : recorded) {
            if (name.endsWith(" (deleted)")) {
                name = name.substring(0, name.length() - " (deleted)".length());
            }
            names.add(name);
            names.add(moved(name, directoryMoves));
        }
        return names;
    }

    /** Where {@code path} is after the directory renames of the result (nested ones too, a bounded number of steps). */
    static String moved(String path, Map<String, String> directoryMoves) {
        for (int step = 0; step < MAX_MOVE_STEPS; step++) {
            String next = null;
            for (Map.Entry<String, String> m : directoryMoves.entrySet()) {
                if (path.startsWith(m.getKey() + "/")) {
                    next = m.getValue() + path.substring(m.getKey().length());
                    break;
                }
            }
            if (next == null || next.equals(path)) {
                return path;
            }
            path = next;
        }
        return path;
    }

    /** Renamed directories that still exist: every name they had since the last bless, to where they are now. */
    private static Map<String, String> directoryMoves(List<ChangedFile> files, List<HandleResolver.Resolved> now) {
        Map<String, String> moves = new java.util.HashMap<>();
        for (int i = 0; i < files.size(); i++) {
            ChangedFile c = files.get(i);
            HandleResolver.Resolved d = now.get(i);
            if (!c.directory() || d.gone() || d.path().endsWith(" (deleted)")) {
                continue;
            }
            List<String> before = new ArrayList<>(c.formerNames());
            if (c.renamedFrom() != null) {
                before.add(c.renamedFrom());
            }
            if (c.file().path() != null) {
                before.add(c.file().path());
            }
            for (String old : before) {
                if (!old.equals(d.path())) {
                    moves.put(old, d.path());
                }
            }
        }
        return moves;
    }

    private static boolean exists(String path) {
        try {
            Statx.statx(Statx.AT_FDCWD, path, Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_TYPE);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private PathChange describeLive(ChangedFile c, HandleResolver.Resolved now) {
        int links = now.status() == null ? 0 : now.status().nlink();
        String path = liveName(c, now);
        if (path == null) {
            // Alive, but the kernel names it only by a removed link: whoever must see it, rescan.
            return new PathChange(watched.toString(), PathChange.Kind.RESCAN, null, true, c.carried(), c.recovered(), links);
        }
        PathChange.Kind kind;
        String from = null;
        if (isListing(c)) {
            kind = PathChange.Kind.LIST;
        } else if (c.changes().contains(Change.CREATED)) {
            kind = PathChange.Kind.CREATED;
        } else if (c.changes().contains(Change.RENAMED) && c.renamedFrom() != null && !c.renamedFrom().equals(path)) {
            kind = PathChange.Kind.RENAMED;
            from = c.renamedFrom();
        } else {
            kind = PathChange.Kind.MODIFIED;
        }
        boolean directory = c.directory() || now.status() != null && now.status().isDirectory();
        return new PathChange(path, kind, from, directory, c.carried(), c.recovered(), links);
    }

    /**
     * A directory recorded as written: only results that name directories record one (its entries
     * or its children changed), and the consumer lists it again.
     */
    private static boolean isListing(ChangedFile c) {
        return c.directory() && c.changes().contains(Change.WRITTEN);
    }

    /**
     * A path that leads to the file now. {@code open_by_handle_at} may return the dentry of a
     * removed hard link that some process still holds open ({@code readlink} then ends in
     * " (deleted)") although the file has other, live names; then the recorded path hint, and the
     * other entries of its directory, are tried, each accepted only if it leads to the same inode.
     * Null if no live name is found (the caller reports a rescan then).
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
        try (var entries = java.nio.file.Files.list(dir)) {
            return entries.limit(MAX_SIBLINGS_SCANNED).map(Path::toString).filter(p -> sameFile(p, now.status()))
                    .findFirst().orElse(null);
        } catch (IOException | java.io.UncheckedIOException e) {
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

    private static boolean unchanged(StatStamp then, Statx now) {
        return then != null && now != null && then.inode() == now.ino() && then.size() == now.size()
                && then.mtimeNanos() == now.mtimeNanos() && then.ctimeNanos() == now.ctimeNanos();
    }

    private boolean isWatched(String path) {
        return path != null && Path.of(path).startsWith(watched);
    }

}
