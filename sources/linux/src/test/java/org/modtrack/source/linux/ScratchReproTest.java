package org.modtrack.source.linux;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.engine.TrackerConfig;
import org.modtrack.testing.LoopMount;

class ScratchReproTest {
    @TempDir
    Path state;

    @Test
    void repro() throws Exception {
        try (LoopMount m = LoopMount.create("ext4", 64 << 20)) {
            Path root = m.mountPoint();
            try (LinuxSource source = LinuxSource.open(root, state, TrackerConfig.defaults())) {
                LinuxSourceTest.sh(root, """
                        python3 - <<'PY'
                        import os
                        for i in range(300):
                            with open(f"f{i}", "wb") as f: f.write(b"x")
                            os.link(f"f{i}", f"h{i}")
                            with open(f"h{i}", "ab") as f: f.write(b"y")
                            os.unlink(f"h{i}")
                            with open(f"f{i}", "wb") as f: f.write(b"z")
                        PY
                        """);
                LinuxResult r = source.query();
                int bad = 0;
                for (PathChange c : r.changes()) {
                    if (c.kind() != PathChange.Kind.CREATED) {
                        bad++;
                        if (bad < 5) System.err.println("BAD " + c);
                    }
                }
                System.err.println("BADCOUNT " + bad + " of " + r.changes().size());
            }
        }
    }
}
