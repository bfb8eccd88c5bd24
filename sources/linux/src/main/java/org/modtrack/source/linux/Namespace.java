package org.modtrack.source.linux;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.StatStamp;

/**
 * The file system as it is now, as far as naming a result needs it: where a recorded object is, and
 * what is at a path. {@link LiveNamespace} asks the kernel; tests give a model.
 */
interface Namespace {
    /**
     * Where an object is now.
     *
     * @param path its path now; null if it is gone (or has no name the kernel gives)
     * @param nameless it is alive but no live name for it was found (the caller reports a rescan)
     * @param directory whether it is a directory
     * @param links its hard-link count
     * @param stamp its status now, for a file recorded only as read (null if unknown)
     */
    record Where(String path, boolean nameless, boolean directory, int links, StatStamp stamp) {
        static final Where GONE = new Where(null, false, false, 0, null);

        boolean gone() {
            return path == null && !nameless;
        }
    }

    /** What is at a path now. */
    enum Occupant {
        NOTHING, FILE, DIRECTORY
    }

    /** Where the object of {@code c} is now. */
    Where locate(ChangedFile c) throws IOException;

    /** Where each object of {@code files} is now, in their order. */
    default List<Where> locateAll(List<ChangedFile> files) throws IOException, InterruptedException {
        List<Where> out = new ArrayList<>(files.size());
        for (ChangedFile c : files) {
            out.add(locate(c));
        }
        return out;
    }

    /** What is at {@code path} now (without following a last symbolic link). */
    Occupant at(String path);

    /** What is at each of {@code paths} now, in their order. */
    default List<Occupant> atAll(List<String> paths) throws IOException, InterruptedException {
        List<Occupant> out = new ArrayList<>(paths.size());
        for (String path : paths) {
            out.add(at(path));
        }
        return out;
    }

    /** The mount point: what to rescan when nothing better can be named. */
    String mountPoint();

    /** The mounts inside the watched tree now ({@link MountAliases}); none where nothing is mounted. */
    default MountAliases.Table mountsInside() {
        return MountAliases.Table.NONE;
    }
}
