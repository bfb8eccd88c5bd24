package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
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
        for (ChangedFile c : r.changes()) {
            HandleResolver.Resolved now = c.file().hasHandle()
                    ? handles.resolve(c.file().handleType(), c.file().handle())
                    : new HandleResolver.Resolved(c.file().path(), null);
            boolean readOnly = c.changes().equals(Set.of(Change.READ));
            if (readOnly) {
                if (!c.recovered() && !c.carried() && !now.gone() && unchanged(c.file().stamp(), now.status())) {
                    dropped++;
                    continue;
                }
                readOnlyReported++;
            }
            PathChange change = describe(c, now);
            if (isWatched(change.path()) || change.from() != null && isWatched(change.from())) {
                out.add(change);
            }
        }
        out.sort(Comparator.comparing(PathChange::path).thenComparing(PathChange::kind));
        return new LinuxResult(r.snapshot(), r.lastBlessed(), r.recovered(), r.continuity(), out, r.barrier(),
                r.barrierWait(), dropped, readOnlyReported);
    }

    private PathChange describe(ChangedFile c, HandleResolver.Resolved now) {
        int links = now.status() == null ? 0 : now.status().nlink();
        if (now.gone()) {
            String last = c.file().path();
            if (last == null) {
                // Never dropped: without any path, the consumer must look at the whole file system.
                return new PathChange(fs.mountPoint().toString(), PathChange.Kind.RESCAN, null, true, c.carried(),
                        c.recovered(), 0);
            }
            return new PathChange(last, PathChange.Kind.DELETED, null, c.directory(), c.carried(), c.recovered(), 0);
        }
        PathChange.Kind kind;
        String from = null;
        if (c.changes().contains(Change.CREATED)) {
            kind = PathChange.Kind.CREATED;
        } else if (c.changes().contains(Change.RENAMED) && c.renamedFrom() != null && !c.renamedFrom().equals(now.path())) {
            kind = PathChange.Kind.RENAMED;
            from = c.renamedFrom();
        } else {
            kind = PathChange.Kind.MODIFIED;
        }
        boolean directory = c.directory() || now.status() != null && now.status().isDirectory();
        return new PathChange(now.path(), kind, from, directory, c.carried(), c.recovered(), links);
    }

    private static boolean unchanged(StatStamp then, Statx now) {
        return then != null && now != null && then.inode() == now.ino() && then.size() == now.size()
                && then.mtimeNanos() == now.mtimeNanos() && then.ctimeNanos() == now.ctimeNanos();
    }

    private boolean isWatched(String path) {
        return path != null && Path.of(path).startsWith(watched);
    }

}
