package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountAliasesTest {
    private static final long DEV = TrackedFilesystem.deviceNumber(7, 0);

    /**
     * The mounts of the tracked superblock strictly inside the watched tree are its aliases, read
     * from mountinfo (which escapes a space as backslash-040); the tracked mount is known by its id,
     * other file systems and mounts elsewhere are not aliases.
     */
    @Test
    void theMountsOfTheTrackedFileSystemInsideTheTreeAreItsAliases() throws Exception {
        List<String> mountinfo = List.of(
                "36 25 7:0 / /srv rw,relatime shared:1 - ext4 /dev/loop0 rw",
                "37 36 7:0 /other /srv/r/www rw,relatime shared:1 - ext4 /dev/loop0 rw",
                "38 36 7:1 / /srv/r/disk rw,relatime shared:2 - ext4 /dev/loop1 rw",
                "39 25 7:0 /srv /elsewhere rw,relatime shared:1 - ext4 /dev/loop0 rw",
                "40 36 7:0 /a/b /srv/r/with\\040space rw,relatime shared:1 - ext4 /dev/loop0 rw",
                "41 36 7:0 /gone//deleted /srv/r/gone rw,relatime shared:1 - ext4 /dev/loop0 rw");
        MountAliases.Table t = MountAliases.parse(mountinfo, "/srv/r", DEV, 36, Path.of("/srv"));
        assertEquals("/srv", t.trackedPoint());
        assertEquals("/", t.trackedRoot());
        assertEquals(List.of(new MountAliases.Alias("/srv/r/with space", "/a/b"), new MountAliases.Alias("/srv/r/www", "/other")),
                t.aliases(), "the deepest root first");
        assertEquals(List.of(), MountAliases.parse(mountinfo, "/srv/r/www", DEV, 36, Path.of("/srv")).aliases());
        assertEquals(t, MountAliases.parse(mountinfo, "/srv/r", DEV, -1, Path.of("/srv")), "no mount id: the mount point says");
    }

    /** A path through the tracked mount outside the tree is named below the alias that shows it; anything else stays. */
    @Test
    void aPathOutsideTheTreeIsNamedBelowTheMountThatShowsIt() {
        MountAliases.Table t = new MountAliases.Table("/srv", "/", List.of(
                new MountAliases.Alias("/srv/r/deep", "/other/sub"), new MountAliases.Alias("/srv/r/x", "/other")));
        assertEquals("/srv/r/x/f", MountAliases.translate(t, "/srv/other/f", "/srv/r"));
        assertEquals("/srv/r/x", MountAliases.translate(t, "/srv/other", "/srv/r"));
        assertEquals("/srv/r/deep/g", MountAliases.translate(t, "/srv/other/sub/g", "/srv/r"), "the deepest root first");
        assertEquals("/srv/otherwise/f", MountAliases.translate(t, "/srv/otherwise/f", "/srv/r"), "a name that only begins alike");
        assertEquals("/elsewhere/other/f", MountAliases.translate(t, "/elsewhere/other/f", "/srv/r"), "not through the tracked mount");
        MountAliases.Table whole = new MountAliases.Table("/srv", "/", List.of(new MountAliases.Alias("/srv/r/all", "/")));
        assertEquals("/srv/r/all/other/f", MountAliases.translate(whole, "/srv/other/f", "/srv/r"), "a mount of the root shows everything");
        MountAliases.Table bound = new MountAliases.Table("/data", "/vol", List.of(new MountAliases.Alias("/data/r/x", "/vol/other")));
        assertEquals("/data/r/x/f", MountAliases.translate(bound, "/data/other/f", "/data/r"), "the tracked mount shows a directory itself");
        MountAliases.Table atRoot = new MountAliases.Table("/", "/", List.of(new MountAliases.Alias("/r/x", "/other")));
        assertEquals("/r/x/f", MountAliases.translate(atRoot, "/other/f", "/r"), "tracked at the machine's root");
        assertEquals("/srv/other/f", MountAliases.translate(MountAliases.Table.NONE, "/srv/other/f", "/srv/r"));
    }
}
