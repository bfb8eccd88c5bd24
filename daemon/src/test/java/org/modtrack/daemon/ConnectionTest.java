package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.modtrack.source.linux.PathChange;

/** What a connection keeps between a watch's polls: a key per entry that tells entries apart. */
class ConnectionTest {
    @Test
    void aWatchTellsEntriesApartByKindPathAndFromAndNothingElse() {
        List<PathChange> entries = List.of(
                change("/d/a", PathChange.Kind.MODIFIED, null),
                change("/d/a", PathChange.Kind.CREATED, null),
                change("/d/b", PathChange.Kind.MODIFIED, null),
                change("/d/b", PathChange.Kind.RENAMED, "/d/a"),
                change("/d/a", PathChange.Kind.RENAMED, "/d/b"),
                change("/d/ab", PathChange.Kind.RENAMED, "/c"), // the same chars as the next, split elsewhere
                change("/d/a", PathChange.Kind.RENAMED, "b/c"),
                change("/d/a", PathChange.Kind.RENAMED, ""));
        Set<Long> keys = new HashSet<>();
        for (PathChange c : entries) {
            keys.add(Connection.watchKey(c));
        }
        assertEquals(entries.size(), keys.size(), "a key each");
        assertEquals(Connection.watchKey(entries.get(0)),
                Connection.watchKey(new PathChange("/d/a", PathChange.Kind.MODIFIED, null, false, true, true, 3)),
                "flags and links are not what a watcher is told again for");
    }

    private static PathChange change(String path, PathChange.Kind kind, String from) {
        return new PathChange(path, kind, from, false, false, false, 1);
    }
}
