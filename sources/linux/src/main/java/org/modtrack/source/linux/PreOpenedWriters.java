package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.modtrack.source.linux.SyscallBarrier.WritableFd;

/**
 * Files that other processes had open for writing (or mapped shared and writable) before the
 * filesystem mark was placed. The kernel decides at open time whether a file raises pre-content
 * events, so writes through these descriptors never do (docs/kernel-facts.md, 1c): the source
 * records them at start and carries them into every new period for as long as they stay open.
 */
final class PreOpenedWriters {
    /** One descriptor or mapping, and the file it led to when the tracker started. */
    private record Opened(Path link, FileKey file) {}

    private final List<Opened> opened;

    private PreOpenedWriters(List<Opened> opened) {
        this.opened = opened;
    }

    /** Scans every other process for descriptors and mappings that may write to files of {@code tracked}. */
    static PreOpenedWriters scan(SyscallBarrier.SystemView system, TrackedFiles tracked) throws IOException {
        List<Opened> found = new ArrayList<>();
        Set<Integer> pids = new LinkedHashSet<>();
        for (long[] t : system.threads()) {
            pids.add((int) t[0]);
        }
        TrackedFiles look = tracked.forOneLook();
        for (int pid : pids) {
            for (WritableFd fd : system.writableFds(pid, look)) {
                add(found, Path.of("/proc/" + pid + "/fd/" + fd.fd()), fd.ino());
            }
            for (Path mapping : system.writableSharedMappings(pid, look)) {
                add(found, mapping, -1);
            }
        }
        return new PreOpenedWriters(found);
    }

    /** @param ino the inode {@code link} led to when listed, -1 if not known: one reused since for another file is not kept */
    private static void add(List<Opened> found, Path link, long ino) {
        try {
            FileKey file = ProcFs.keyOf(link);
            if (ino < 0 || file.ino() == ino) {
                found.add(new Opened(link, file));
            }
        } catch (IOException e) {
            // closed while we looked: nothing more can be written through it
        }
    }

    /**
     * The links that still lead to the file they led to at start; the rest are forgotten (a
     * descriptor number reused for another file was opened after the mark, so it raises events).
     */
    synchronized List<Path> stillOpen() {
        List<Path> out = new ArrayList<>();
        opened.removeIf(o -> {
            try {
                if (ProcFs.keyOf(o.link()).equals(o.file())) {
                    out.add(o.link());
                    return false;
                }
            } catch (IOException e) {
                // closed or exited
            }
            return true;
        });
        return out;
    }

    synchronized int size() {
        return opened.size();
    }
}
