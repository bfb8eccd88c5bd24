package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.testing.LoopMount;
import org.modtrack.testing.TmpfsMount;

/** The Linux source on real loop-mounted file systems, driven by real processes. */
class LinuxSourceTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path state;

    @BeforeAll
    static void requireLoopMounts() {
        assumeTrue(LoopMount.unavailableReason("ext4").isEmpty(),
                () -> "LinuxSourceTest skipped: " + LoopMount.unavailableReason("ext4").get());
    }

    /** Runs {@code script} with sh in {@code dir}; fails the test if it fails. */
    static void sh(Path dir, String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-ec", script).directory(dir.toFile()).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("script timed out: " + script);
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), () -> "script failed: " + script + "\n" + out);
    }

    private static Map<String, PathChange> byPath(LinuxResult r, Path mount) {
        Map<String, PathChange> out = new TreeMap<>();
        for (PathChange c : r.changes()) {
            out.put(mount.relativize(Path.of(c.path())).toString(), c);
        }
        return out;
    }

    @Test
    void reportsWritesCreationsRenamesAndDeletionsByCurrentPath() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "mkdir old; for f in kept read renamed gone old/inner; do echo seed > $f; done; sync");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults())) {
                sh(root, "echo more >> kept; cat read > /dev/null; echo new > created;"
                        + " mv renamed moved; rm gone; mv old newdir; : > untouched-after-create");
                LinuxResult r = source.query();
                Map<String, PathChange> c = byPath(r, root);
                assertTrue(r.continuity().intact(), r.continuity().toString());
                assertFalse(r.recovered());
                assertEquals(PathChange.Kind.MODIFIED, c.get("kept").kind(), c.toString());
                assertFalse(c.containsKey("read"), "a file that was only read is not a change: " + c);
                assertEquals(PathChange.Kind.CREATED, c.get("created").kind(), c.toString());
                assertEquals(PathChange.Kind.RENAMED, c.get("moved").kind(), c.toString());
                assertEquals(root.resolve("renamed").toString(), c.get("moved").from());
                assertEquals(PathChange.Kind.DELETED, c.get("gone").kind(), c.toString());
                PathChange dir = c.get("newdir");
                assertEquals(PathChange.Kind.RENAMED, dir.kind(), c.toString());
                assertTrue(dir.directory(), "a directory rename is a prefix entry for its subtree");
                assertEquals(1, r.readOnlyDropped(), "the read of 'read': " + r);
                source.bless(r.snapshot());

                sh(root, "echo again >> moved; cat kept > /dev/null");
                LinuxResult r2 = source.query();
                Map<String, PathChange> c2 = byPath(r2, root);
                assertEquals(r.snapshot(), r2.lastBlessed());
                assertEquals(java.util.Set.of("moved"), c2.keySet(), "only what changed after the bless: " + c2);
                assertEquals(PathChange.Kind.MODIFIED, c2.get("moved").kind());
            }
        }
    }

    @Test
    void aWriteAfterAReadUnderTheIgnoreMarkIsReported() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "echo seed > f; sync");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults())) {
                // The read earns an ignore mark; the write that follows raises no event at all.
                sh(root, "cat f > /dev/null; echo x >> f; cat f > /dev/null");
                LinuxResult r = source.query();
                assertEquals(PathChange.Kind.MODIFIED, byPath(r, root).get("f").kind(), r.toString());
            }
        }
    }

    @Test
    void truncatingOpensAndPathTruncationAreWrites() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "echo seed > a; echo seed > b; echo seed > c; sync");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults())) {
                sh(root, ": > a; truncate -s 1 b; fallocate -l 65536 c");
                Map<String, PathChange> c = byPath(source.query(), root);
                for (String f : new String[] {"a", "b", "c"}) {
                    assertEquals(PathChange.Kind.MODIFIED, c.get(f).kind(), f + ": " + c);
                }
            }
        }
    }

    /**
     * Found by WorkloadTest. A file written through one hard link, whose other link was removed while
     * a process still holds it open: open_by_handle_at may hand back the removed name's dentry, so the
     * result names the live file "h (deleted)" (or, in WorkloadTest under load, reports it DELETED at
     * a removed name) and never names its real path.
     */
    @Test
    @org.junit.jupiter.api.Disabled("open bug: a live file is named by a removed hard link (\"h (deleted)\");"
            + " see the commit that added this test")
    void aFileIsNamedByALiveLinkWhileARemovedLinkIsStillOpen(@TempDir Path scratch) throws Exception {
        assumeTrue(ChildScript.available(), "needs python3");
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            sh(root, "echo seed > f; ln f h; sync");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults())) {
                LinuxResult[] r = new LinuxResult[1];
                ChildScript.run(scratch, root, """
                        keep = open(P("h"), "ab")
                        os.unlink(P("h"))
                        with open(P("f"), "ab") as f:
                            f.write(b"more")
                        step("query")
                        keep.close()
                        """, step -> r[0] = source.query());
                Map<String, PathChange> c = byPath(r[0], root);
                assertTrue(c.containsKey("f"), "the write to f is named by f: " + c);
                assertTrue(c.keySet().stream().noneMatch(p -> p.contains("(deleted)")), c.toString());
            }
        }
    }

    @Test
    void tmpfsIsRefusedWithOneSentence() throws Exception {
        try (TmpfsMount t = TmpfsMount.create(16 * MIB)) {
            UnsupportedSourceException e = assertThrows(UnsupportedSourceException.class,
                    () -> LinuxSource.open(t.mountPoint(), state, TrackerConfig.defaults()));
            assertTrue(e.getMessage().contains("tmpfs") && e.getMessage().contains("ext4"), e.getMessage());
            assertEquals(1, e.getMessage().split("\\. ").length, "one sentence: " + e.getMessage());
        }
    }

    @Test
    void aStateDirectoryOnTheTrackedFilesystemIsRefused() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path inside = m.mountPoint().resolve("state");
            UnsupportedSourceException e = assertThrows(UnsupportedSourceException.class,
                    () -> LinuxSource.open(m.mountPoint(), inside, TrackerConfig.defaults()));
            assertTrue(e.getMessage().contains("another file system"), e.getMessage());
        }
    }

    @Test
    void aRestartReportsTheGapAsLostContinuity() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 * MIB)) {
            Path root = m.mountPoint();
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults())) {
                sh(root, "echo one > one");
                LinuxResult r = source.query();
                assertTrue(r.continuity().intact());
                source.bless(r.snapshot());
            }
            sh(root, "echo unseen > unseen");
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults())) {
                LinuxResult r = source.query();
                assertFalse(r.continuity().intact(), "the downtime was not watched");
                assertTrue(r.continuity().reason().contains("rescan"), r.continuity().reason());
            }
        }
    }
}
