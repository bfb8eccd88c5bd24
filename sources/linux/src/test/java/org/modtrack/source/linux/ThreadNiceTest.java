package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The nice values the source gives threads, read back from /proc. */
class ThreadNiceTest {
    @Test
    void theJitCompilerThreadsGetTheNiceValueAskedAndOnlyThey() throws IOException {
        List<Path> compilers = new ArrayList<>();
        List<Path> others = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                String name = Files.readString(t.resolve("comm")).strip();
                (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre") ? compilers : others).add(t);
            }
        }
        assertTrue(!compilers.isEmpty(), "HotSpot runs JIT compiler threads here");
        List<Integer> othersBefore = others.stream().map(ThreadNiceTest::nice).toList();
        try {
            assertEquals(compilers.size(), ThreadNice.jitCompilers(7));
            for (Path t : compilers) {
                assertEquals(7, nice(t), t + " is a compiler thread");
            }
            assertEquals(othersBefore, others.stream().map(ThreadNiceTest::nice).toList(), "no other thread changed");
        } finally {
            ThreadNice.jitCompilers(0); // as root, lowering it back is allowed
        }
    }

    /** Field 19 of /proc/self/task/TID/stat; -100 if the thread ended. */
    private static int nice(Path task) {
        try {
            String stat = Files.readString(task.resolve("stat"));
            return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
        } catch (IOException e) {
            return -100;
        }
    }
}
