package org.modtrack.source.linux;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.modtrack.engine.FileId;

/**
 * The names that left their directories lately (a removal, or the old side of a rename), newest
 * last, each with the handle of the directory it left: what a {@link DirectoryScan} needs to name
 * a file changed in a result's periods and removed or renamed away after the result's records were
 * frozen, before the scan listed its directory (the scan does not see it, and its removal belongs
 * to the next result). Bounded: the oldest are forgotten, and {@link #since} says when it cannot
 * answer. Written by the notification reader, read by a query.
 */
final class Departures {
    /** How many departures are kept: a query needs those of its own duration, which a burst of removals fills. */
    static final int KEPT = 65_536;

    private final FileId[] directories = new FileId[KEPT];
    private final String[] names = new String[KEPT];
    private long next; // guarded by this: the sequence number of the next departure

    /** {@code name} left {@code directory} (a handle); null directories or names are not kept. */
    synchronized void left(FileId directory, String name) {
        if (directory == null || name == null) {
            return;
        }
        int slot = (int) (next % KEPT);
        directories[slot] = directory;
        names[slot] = name;
        next++;
    }

    /** A point to ask {@link #since} from. */
    synchronized long now() {
        return next;
    }

    /**
     * The names that left each directory since {@code point} (from {@link #now}), or null if some
     * of them are forgotten already.
     */
    synchronized Map<FileId, List<String>> since(long point) {
        if (next - point > KEPT) {
            return null;
        }
        Map<FileId, List<String>> out = new HashMap<>();
        for (long s = point; s < next; s++) {
            int slot = (int) (s % KEPT);
            out.computeIfAbsent(directories[slot], d -> new ArrayList<>()).add(names[slot]);
        }
        return out;
    }
}
