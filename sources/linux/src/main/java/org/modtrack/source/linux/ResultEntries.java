package org.modtrack.source.linux;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * A result's entries in their order: the planner's own before the files only scans name
 * ({@link ScanNamedFiles.Ordered}, made as they are read), and its others after them. Unmodifiable.
 */
final class ResultEntries extends AbstractList<PathChange> implements RandomAccess {
    private final List<PathChange> before;
    private final List<PathChange> scanNamed;
    private final List<PathChange> after;

    ResultEntries(List<PathChange> before, List<PathChange> scanNamed, List<PathChange> after) {
        this.before = List.copyOf(before);
        this.scanNamed = scanNamed;
        this.after = List.copyOf(after);
    }

    @Override
    public PathChange get(int index) {
        if (index < before.size()) {
            return before.get(index);
        }
        index -= before.size();
        return index < scanNamed.size() ? scanNamed.get(index) : after.get(index - scanNamed.size());
    }

    /** The three parts, in order: the planner's entries before the scanned files', those, and the rest. */
    List<List<PathChange>> parts() {
        return List.of(before, scanNamed, after);
    }

    @Override
    public int size() {
        return before.size() + scanNamed.size() + after.size();
    }
}
