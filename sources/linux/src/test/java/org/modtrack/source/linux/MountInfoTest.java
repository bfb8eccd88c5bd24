package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountInfoTest {
    @Test
    void aLineGivesItsIdDeviceRootPointAndType() throws IOException {
        assertEquals(new MountInfo(40, TrackedFilesystem.deviceNumber(7, 0), "/a/b", "/srv/r/with space", "ext4"),
                MountInfo.parse("40 36 7:0 /a/b /srv/r/with\\040space rw,relatime shared:1 master:2 - ext4 /dev/loop0 rw"));
        assertEquals(TrackedFilesystem.deviceNumber(259, 1048577), MountInfo.device("259:1048577"), "a large minor");
        for (String majorMinor : List.of("0:40", "7:0", "259:1048577", "4095:255", "4096:256")) {
            assertEquals(majorMinor, MountInfo.majorMinor(MountInfo.device(majorMinor)));
        }
    }

    @Test
    void aLineThatIsNoMountsIsLeftOutAndAMalformedOneIsRefused() throws IOException {
        assertNull(MountInfo.parse(""));
        assertNull(MountInfo.parse("36 25 7:0 / /srv rw"), "no separator, no type");
        assertEquals(List.of(), MountInfo.parseAll(List.of("", "36 25 7:0 / /srv rw")));
        IOException e = assertThrows(IOException.class, () -> MountInfo.parse("x 25 7:0 / /srv rw - ext4 /dev/loop0 rw"));
        assertTrue(e.getMessage().startsWith("not a mount id and major:minor in this line of /proc/self/mountinfo"), e.getMessage());
        assertThrows(IOException.class, () -> MountInfo.parse("36 25 70 / /srv rw - ext4 /dev/loop0 rw"));
    }

    @Test
    void thisProcessesTableHasItsRoot() throws IOException {
        List<MountInfo> mounts = MountInfo.parseAll(Files.readAllLines(MountInfo.FILE));
        assertEquals("/", TrackedFilesystem.mountOf(Path.of("/"), mounts).point());
    }
}
