package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.source.linux.LinuxSourceOptions;

/** Configuration files, state names, barriers, and what the daemon refuses before it marks anything. */
class DaemonConfigTest {
    @TempDir
    Path dir;

    @Test
    void aConfigFileBecomesTheSameOptionsAsTheCommandLine() throws Exception {
        Path f = dir.resolve("modtrack.conf");
        Files.writeString(f, "# comment\nwatch = /srv/a\n  watch=/srv/b  # two roots\n\nsocket = /run/x.sock\nmetrics-port = 9464\n");
        assertEquals(List.of("--watch", "/srv/a", "--watch", "/srv/b", "--socket", "/run/x.sock", "--metrics-port", "9464"),
                DaemonConfig.readFile(f));
        Files.writeString(f, "watch /srv/a\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DaemonConfig.readFile(f));
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }

    @Test
    void theExampleConfigurationInTheRepositoryParses() throws Exception {
        Path example = Path.of(System.getProperty("user.dir")).getParent().resolve("packaging/modtrack.conf.example");
        List<String> args = DaemonConfig.readFile(example);
        assertTrue(args.contains("--watch") && args.contains("--durability"), args.toString());
    }

    @Test
    void theJournalLimitIsASizeWithAFloor() throws Exception {
        assertEquals(4L << 30, DaemonConfig.parseSize("4G"));
        assertEquals(512L << 20, DaemonConfig.parseSize("512m"));
        assertEquals(1048576, DaemonConfig.parseSize("1048576"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> DaemonConfig.parseSize("lots"));
        assertTrue(bad.getMessage().contains("4G"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DaemonConfig.parseSize("-1K"));
        DaemonConfig c = DaemonConfig.defaults(List.of(dir));
        assertEquals(TrackerConfig.DEFAULT_MAX_JOURNAL_BYTES, c.journalLimit());
        assertEquals(64L << 20, c.withJournalLimit(64L << 20).journalLimit());
        assertThrows(IllegalArgumentException.class, () -> c.withJournalLimit(1 << 20));
        Path f = dir.resolve("limit.conf");
        Files.writeString(f, "watch = /srv/a\njournal-limit = 2G\nheap = 1G\n");
        assertEquals(List.of("--watch", "/srv/a", "--journal-limit", "2G", "--heap", "1G"), DaemonConfig.readFile(f));
    }

    @Test
    void stateNamesAreDistinctForPathsThatLookAlike() {
        assertEquals("data-a", DaemonConfig.stateName(Path.of("/data/a")));
        assertEquals("-", DaemonConfig.stateName(Path.of("/")));
        assertFalse(DaemonConfig.stateName(Path.of("/a-b")).equals(DaemonConfig.stateName(Path.of("/a/b"))));
    }

    @Test
    void sourcesArePreContentAndOpenPermAndDefaultToTheBest() throws Exception {
        assertEquals(LinuxSourceOptions.Hook.PRE_CONTENT, DaemonConfig.parseHook("pre-content"));
        assertEquals(LinuxSourceOptions.Hook.OPEN_PERM, DaemonConfig.parseHook("open-perm"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> DaemonConfig.parseHook("inotify"));
        assertEquals("unknown source 'inotify'; it is pre-content (Linux 6.14+) or open-perm (Linux 6.1+).", bad.getMessage());
        assertEquals(null, DaemonConfig.defaults(List.of(dir)).hook(), "the best the kernel offers");
        Path f = dir.resolve("source.conf");
        Files.writeString(f, "watch = /srv/a\nsource = open-perm\n");
        assertEquals(List.of("--watch", "/srv/a", "--source", "open-perm"), DaemonConfig.readFile(f));
    }

    @Test
    void barriersAreSrcuAndFreeze() {
        assertEquals(BarrierKind.SRCU, BarrierKind.parse("srcu"));
        assertEquals(BarrierKind.FREEZE, BarrierKind.parse("freeze"));
        assertThrows(IllegalArgumentException.class, () -> BarrierKind.parse("fence"));
    }

    @Test
    void resultsNameFilesUnlessToldToNameDirectories() throws Exception {
        assertEquals(LinuxSourceOptions.Detail.FILES, DaemonConfig.defaults(List.of(dir)).detail());
        assertEquals(LinuxSourceOptions.Detail.DIRECTORIES, DaemonConfig.parseDetail("directories"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> DaemonConfig.parseDetail("dirs"));
        assertEquals("unknown detail 'dirs'; results name files or directories.", bad.getMessage());
        Path f = dir.resolve("detail.conf");
        Files.writeString(f, "watch = /srv/a\ndetail = directories\n");
        assertEquals(List.of("--watch", "/srv/a", "--detail", "directories"), DaemonConfig.readFile(f));
    }

    @Test
    void filesAreNamedByAScanUnlessToldToNameThemByTheirEvents() throws Exception {
        assertEquals(LinuxSourceOptions.Naming.SCAN, DaemonConfig.defaults(List.of(dir)).naming());
        assertEquals(LinuxSourceOptions.Naming.EVENTS, DaemonConfig.parseNaming("events"));
        assertEquals(LinuxSourceOptions.Naming.SCAN, DaemonConfig.parseNaming(" Scan "));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> DaemonConfig.parseNaming("ctime"));
        assertEquals("unknown naming 'ctime'; files are named by a scan (scan) or by an event each (events).", bad.getMessage());
        Path f = dir.resolve("naming.conf");
        Files.writeString(f, "watch = /srv/a\nnaming = events\n");
        assertEquals(List.of("--watch", "/srv/a", "--naming", "events"), DaemonConfig.readFile(f));
    }

    @Test
    void siblingScopesDefaultTo256AndAreBounded() throws Exception {
        assertEquals(256, DaemonConfig.defaults(List.of(dir)).siblingScopes());
        assertEquals(0, DaemonConfig.defaults(List.of(dir)).withSiblingScopes(0).siblingScopes());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> DaemonConfig.defaults(List.of(dir)).withSiblingScopes(5000));
        assertEquals("the sibling scopes must be between 0 and 4096, not 5000.", bad.getMessage());
        Path f = dir.resolve("siblings.conf");
        Files.writeString(f, "watch = /srv/a\nsibling-scopes = 0\n");
        assertEquals(List.of("--watch", "/srv/a", "--sibling-scopes", "0"), DaemonConfig.readFile(f));
    }

    @Test
    void twoRootsOnOneFileSystemAreRefusedBeforeAnythingIsTracked() throws Exception {
        Path a = Files.createDirectory(dir.resolve("a"));
        Path b = Files.createDirectory(dir.resolve("b"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Daemon.start(
                DaemonConfig.defaults(List.of(a, b)).withStateDirectory(dir.resolve("state")).withSocket(dir.resolve("s"))));
        assertTrue(e.getMessage().contains("same file system"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("s")));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> DaemonConfig.defaults(List.of()));
        assertTrue(none.getMessage().contains("--watch"), none.getMessage());
    }
}
