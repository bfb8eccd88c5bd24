package org.modtrack.source.linux;

import java.util.List;
import java.util.Objects;

/**
 * A consumer that applies a result exactly as docs/protocol.md (*Applying a result*) tells a client
 * writer to: entry after entry, in the order given, each on its own, reading what it must read
 * from the file system as it is when it gets there, and after a move checking (as a stat would)
 * whether what it moved is what stands there.
 */
final class SequentialConsumer {
    private SequentialConsumer() {}

    /** Applies {@code changes} to {@code view}, reading from {@code fs}; returns how many objects it read. */
    static int apply(ModelTree view, List<PathChange> changes, ModelTree fs) {
        int reads = 0;
        for (PathChange c : changes) {
            switch (c.kind()) {
                case DELETED -> view.removeTree(c.path());
                case RENAMED -> {
                    boolean have = view.get(c.from()) != null;
                    if (have) {
                        view.moveTree(c.from(), c.path());
                        // Then the quick check: what it moved may not be what stands there now (read later
                        // than the result was made, or changed since); a stat tells (here: identity and version).
                        if (c.changed() || !Objects.equals(view.get(c.path()), fs.get(c.path()))) {
                            view.readFrom(fs, c.path(), false);
                            reads++;
                        }
                    } else {
                        // Not where the result says it was: read it as if it were new.
                        view.readFrom(fs, c.path(), c.directory());
                        reads++;
                    }
                }
                case CREATED -> {
                    view.removeTree(c.path());
                    view.readFrom(fs, c.path(), false);
                    reads++;
                }
                case MODIFIED -> {
                    view.readFrom(fs, c.path(), false);
                    reads++;
                }
                case RESCAN -> {
                    view.readFrom(fs, c.path(), true);
                    reads++;
                }
                case LIST -> throw new IllegalArgumentException("not a result that names directories: " + c);
            }
        }
        return reads;
    }
}
