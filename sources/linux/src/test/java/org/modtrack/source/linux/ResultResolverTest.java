package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The parts of result resolution that need no file system. */
class ResultResolverTest {
    private static PathChange rescan(String path, boolean recovered) {
        return new PathChange(path, PathChange.Kind.RESCAN, null, true, false, recovered, 0);
    }

    private static PathChange modified(String path) {
        return new PathChange(path, PathChange.Kind.MODIFIED, null, false, false, false, 1);
    }

    @Test
    void aRescanOfThePathIsSaidOnceAndKeepsEveryFlag() {
        List<PathChange> sorted = List.of(modified("/m/a"), rescan("/m", false), rescan("/m", true), rescan("/m", false),
                rescan("/m/d", false), modified("/m/d/x"), modified("/m/d/x"));
        assertEquals(List.of(modified("/m/a"), rescan("/m", true), rescan("/m/d", false), modified("/m/d/x"),
                        modified("/m/d/x")),
                ResultResolver.withoutRepeatedRescans(sorted), "only repeated rescans of one path are merged");
    }
}
