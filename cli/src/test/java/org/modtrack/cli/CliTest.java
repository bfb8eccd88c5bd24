package org.modtrack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modtrack.testing.LoopMount;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The command line: exit codes, the simulator's last line, and the demo (which kills a real process). */
class CliTest {
    record Run(int exitCode, String out, String err) {}

    static Run run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void simulateEndsWithTheSummaryLineAndExitsZeroWhenNothingIsViolated() {
        Run r = run("simulate", "--schedules", "200", "--seed", "7");
        assertEquals(0, r.exitCode(), r.out());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("schedules=200 violations=0 falsePositives=\\d+ refusedResults=0"), lines[lines.length - 1]);
    }

    @Test
    void simulateExitsOneAndPrintsTheShortestScheduleWhenAMutantIsCaught() {
        Run r = run("simulate", "--schedules", "500", "--seed", "1", "--mutant", "keep-ignore-marks");
        assertEquals(1, r.exitCode(), r.out());
        assertTrue(r.out().contains("shortest failing schedule found"), r.out());
        assertTrue(r.out().contains("--seed"), "the failure names the seed that replays it: " + r.out());
        assertTrue(r.out().strip().lines().reduce((a, b) -> b).orElseThrow().matches("schedules=500 violations=[1-9]\\d* falsePositives=\\d+ refusedResults=0"));
    }

    @Test
    void badOptionsAreUsageErrorsWithOneClearSentence() {
        Run r = run("simulate", "--mutant", "bogus");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("unknown mutant 'bogus'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one sentence, not the whole usage: " + r.err());
        assertEquals(2, run("simulate", "--schedules", "0").exitCode());
        Run missing = run("mirror");
        assertEquals(2, missing.exitCode());
        assertEquals("modtrack: Missing required parameters: 'SRC', 'DEST' (modtrack mirror --help lists the options).",
                missing.err().strip());
    }

    /**
     * Every command, given an option it does not know, and every numeric option of every command,
     * given a value that is not a number: exit 2 and one line that names the command's --help.
     */
    @Test
    void everyUsageErrorOfEveryCommandIsOneLine() {
        CommandLine top = Main.commandLine();
        List<List<String>> bad = new ArrayList<>();
        bad.add(List.of("--no-such-option"));
        for (Map.Entry<String, CommandLine> sub : top.getSubcommands().entrySet()) {
            bad.add(List.of(sub.getKey(), "--no-such-option"));
            for (OptionSpec o : sub.getValue().getCommandSpec().options()) {
                Class<?> type = o.type();
                if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
                    bad.add(List.of(sub.getKey(), o.longestName(), "not-a-number"));
                }
            }
        }
        bad.add(List.of("daemon", "--watch", "/srv", "--source", "inotify"));
        bad.add(List.of("daemon", "--watch", "/srv", "--durability", "eventually"));
        bad.add(List.of("daemon", "--watch", "/srv", "--naming", "ctime"));
        bad.add(List.of("query", "/srv", "--json", "--print0"));
        for (List<String> args : bad) {
            Run r = run(args.toArray(String[]::new));
            assertEquals(2, r.exitCode(), args + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), args + " answers in one line: " + r.err());
            assertTrue(r.err().contains("--help lists the options"), args + ": " + r.err());
        }
        assertTrue(bad.size() > 20, "numeric options found: " + bad);
    }

    @Test
    void theDemoMirrorsAScratchFileSystemThroughASigkillOfTheDaemon() {
        assumeTrue(LoopMount.isRoot(), "skipped: the demo mounts a scratch ext4 (root only)");
        Run r = run("demo");
        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().contains("\"recovered\":true"), "the first result after the SIGKILL is recovered: " + r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("5. ") && l.endsWith(": equal")), r.out());
        assertTrue(r.out().contains("cleaned up"), r.out());
    }

    @Test
    void theEngineDemoRecoversEveryChangeOfAWriterKilledWithSigkill() {
        Run r = run("demo", "--engine");
        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().contains("recovered: true"), r.out());
        assertTrue(r.out().contains("missed: 0"), r.out());
    }

    @Test
    void daemonOptionsThatCannotWorkAreUsageErrorsBeforeAnythingIsTracked(@TempDir Path dir) throws Exception {
        String socket = dir.resolve("s").toString();
        Run fence = run("daemon", "--watch", dir.toString(), "--barrier", "fence", "--socket", socket);
        assertEquals(2, fence.exitCode());
        assertTrue(fence.err().contains("unknown barrier 'fence'; the barriers are srcu and freeze"), fence.err());
        Path conf = Files.writeString(dir.resolve("modtrack.conf"), "watch = " + dir + "\ndurability = sometimes\n");
        Run bad = run("daemon", "--config", conf.toString(), "--socket", socket);
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("unknown durability 'sometimes'"), bad.err());
        Run none = run("daemon", "--socket", socket);
        assertEquals(2, none.exitCode());
        assertTrue(none.err().contains("nothing to watch"), none.err());
    }
}
