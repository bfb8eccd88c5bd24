package org.modtrack.source.linux;

import java.io.IOException;
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

    /** The planner's entries before the files only scans name. */
    List<PathChange> before() {
        return before;
    }

    /** The files only scans name ({@link ScanNamedFiles.Ordered} when the planner made them). */
    List<PathChange> scanNamed() {
        return scanNamed;
    }

    /** The planner's entries after the files only scans name. */
    List<PathChange> after() {
        return after;
    }

    @Override
    public PathChange get(int index) {
        if (index < before.size()) {
            return before.get(index);
        }
        index -= before.size();
        return index < scanNamed.size() ? scanNamed.get(index) : after.get(index - scanNamed.size());
    }

    /**
     * Gives {@code sink} the entries of {@code changes} (these or any list) in order, the files only
     * a scan names ({@link ScanNamedFiles.Ordered}) as their directories and names.
     */
    static void forEach(List<PathChange> changes, EntrySink sink) throws IOException {
        List<List<PathChange>> parts = changes instanceof ResultEntries r ? List.of(r.before, r.scanNamed, r.after)
                : List.of(changes);
        for (List<PathChange> part : parts) {
            if (part instanceof ScanNamedFiles.Ordered files) {
                for (int i = 0; i < files.size(); i++) {
                    NameList names = files.names(i);
                    int k = files.nameIndex(i);
                    sink.scannedFile(files.prefix(i), names.bytes(), names.start(k), names.end(k) - names.start(k), files.kind(i),
                            files.recovered(i));
                }
            } else {
                for (PathChange c : part) {
                    sink.change(c);
                }
            }
        }
    }

    @Override
    public int size() {
        return before.size() + scanNamed.size() + after.size();
    }
}
