package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.modtrack.testing.TmpfsMount;

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
        assertEquals(List.of(new MountAliases.Mount("/srv/r/www", 37, "/other", false), new MountAliases.Mount("/srv/r/disk", 38, "/", true),
                new MountAliases.Mount("/srv/r/with space", 40, "/a/b", false),
                new MountAliases.Mount("/srv/r/gone", 41, "/gone//deleted", false)),
                t.inside(), "every mount inside the tree, another file system's too");
        assertTrue(t.complete());
        assertEquals(List.of(), MountAliases.parse(mountinfo, "/srv/r/www", DEV, 36, Path.of("/srv")).aliases());
        assertEquals(t, MountAliases.parse(mountinfo, "/srv/r", DEV, -1, Path.of("/srv")), "no mount id: the mount point says");
    }

    private static MountAliases.Table table(String trackedPoint, String trackedRoot, List<MountAliases.Alias> aliases) {
        return new MountAliases.Table(trackedPoint, trackedRoot, aliases, List.of(), true);
    }

    /** A path through the tracked mount outside the tree is named below the alias that shows it; anything else stays. */
    @Test
    void aPathOutsideTheTreeIsNamedBelowTheMountThatShowsIt() {
        MountAliases.Table t = table("/srv", "/",
                List.of(new MountAliases.Alias("/srv/r/deep", "/other/sub"), new MountAliases.Alias("/srv/r/x", "/other")));
        assertEquals("/srv/r/x/f", MountAliases.translate(t, "/srv/other/f", "/srv/r"));
        assertEquals("/srv/r/x", MountAliases.translate(t, "/srv/other", "/srv/r"));
        assertEquals("/srv/r/deep/g", MountAliases.translate(t, "/srv/other/sub/g", "/srv/r"), "the deepest root first");
        assertEquals("/srv/otherwise/f", MountAliases.translate(t, "/srv/otherwise/f", "/srv/r"), "a name that only begins alike");
        assertEquals("/elsewhere/other/f", MountAliases.translate(t, "/elsewhere/other/f", "/srv/r"), "not through the tracked mount");
        MountAliases.Table whole = table("/srv", "/", List.of(new MountAliases.Alias("/srv/r/all", "/")));
        assertEquals("/srv/r/all/other/f", MountAliases.translate(whole, "/srv/other/f", "/srv/r"), "a mount of the root shows everything");
        MountAliases.Table bound = table("/data", "/vol", List.of(new MountAliases.Alias("/data/r/x", "/vol/other")));
        assertEquals("/data/r/x/f", MountAliases.translate(bound, "/data/other/f", "/data/r"), "the tracked mount shows a directory itself");
        MountAliases.Table atRoot = table("/", "/", List.of(new MountAliases.Alias("/r/x", "/other")));
        assertEquals("/r/x/f", MountAliases.translate(atRoot, "/other/f", "/r"), "tracked at the machine's root");
        assertEquals("/srv/other/f", MountAliases.translate(MountAliases.Table.NONE, "/srv/other/f", "/srv/r"));
    }

    /** Past the bound on mounts inside the tree, the table says it is not complete (a result then rescans the tree). */
    @Test
    void pastTheBoundTheTableIsNotComplete() throws Exception {
        List<String> mountinfo = new ArrayList<>(List.of("36 25 7:0 / /srv rw - ext4 /dev/loop0 rw"));
        for (int i = 0; i <= MountAliases.MAX_MOUNTS; i++) {
            mountinfo.add((100 + i) + " 36 0:" + (50 + i % 200) + " / /srv/m" + i + " rw - tmpfs tmpfs rw");
        }
        MountAliases.Table t = MountAliases.parse(mountinfo, "/srv", DEV, 36, Path.of("/srv"));
        assertEquals(MountAliases.MAX_MOUNTS, t.inside().size());
        assertFalse(t.complete());
    }

    /**
     * A change of the mount table is noticed (a tmpfs mounted and unmounted here); where the table
     * then cannot be read, it is not complete (results rescan the whole tree) until a read works.
     */
    @Test
    void aMountTableThatCannotBeReadAfterAChangeIsNotComplete() throws Exception {
        List<String> table = List.of("36 25 7:0 / /srv rw - ext4 /dev/loop0 rw", "37 36 7:0 /o /srv/r/x rw - ext4 /dev/loop0 rw");
        boolean[] failing = {false};
        int[] reads = {0};
        try (MountAliases a = MountAliases.open("/srv/r", DEV, 36, Path.of("/srv"), () -> {
            reads[0]++;
            if (failing[0]) {
                throw new IOException("unreadable");
            }
            return table;
        })) {
            assertTrue(a.table().complete());
            assertEquals("/srv/r/x/f", a.inTree("/srv/o/f"));
            int before = reads[0];
            a.table();
            assertEquals(before, reads[0], "no change: not read again");
            failing[0] = true;
            try (TmpfsMount changed = TmpfsMount.create(1 << 20)) {
                assertFalse(a.table().complete(), "changed, and unreadable");
                assertEquals("/srv/r/x/f", a.inTree("/srv/o/f"), "the aliases as they were");
                assertFalse(a.table().complete(), "read again, and unreadable still");
                failing[0] = false;
                assertTrue(a.table().complete(), "read again once it works");
            }
        }
    }
}
