package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.modtrack.posix.Fanotify;

/**
 * What the kernel probes observed, as markdown: printed to the test's output and written to
 * {@code target/kernel-behaviour.md}, from which docs/kernel-facts.md is made.
 */
final class Report {
    private static final StringBuilder TEXT = new StringBuilder();

    private Report() {}

    static synchronized void line(String text) {
        TEXT.append(text).append('\n');
        System.out.println(text);
    }

    static void section(String title) {
        line("");
        line("## " + title);
        line("");
    }

    /** One table row per probe: its events' syscalls, ranges and files. */
    static void eventRow(String label, List<ProbeListener.Seen> seen, String note) {
        String syscalls = seen.stream().map(s -> describe(s.viaTid())).distinct().collect(Collectors.joining("; "));
        String ranges = seen.stream().map(s -> s.rangeOffset() < 0 ? "none" : s.rangeOffset() + "+" + s.rangeCount())
                .collect(Collectors.joining(", "));
        String files = seen.stream().map(ProbeListener.Seen::fileName).distinct().collect(Collectors.joining(", "));
        String masks = seen.stream().map(s -> Fanotify.maskNames(s.mask())).distinct().collect(Collectors.joining(", "));
        line("| " + label + " | " + (seen.isEmpty() ? "no" : seen.size() + " (" + masks + ")") + " | "
                + (seen.isEmpty() ? "" : syscalls) + " | " + (seen.isEmpty() ? "" : ranges) + " | "
                + (seen.isEmpty() ? "" : files) + " | " + note + " |");
    }

    static String describe(ThreadSyscall s) {
        return s == null ? "unreadable" : s.toString();
    }

    static synchronized void write() throws IOException {
        Path target = Path.of("target");
        if (Files.isDirectory(target)) {
            Files.writeString(target.resolve("kernel-behaviour.md"), "# Kernel behaviour observed by KernelBehaviourTest\n"
                    + TEXT);
        }
    }
}
