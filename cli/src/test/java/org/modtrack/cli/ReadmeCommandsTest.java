package org.modtrack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The README's command table and {@code modtrack --help} (and so the man page, made from the same
 * descriptions) describe the same commands: every visible command has a row, every row a command,
 * and every option a row shows is one the command takes.
 */
class ReadmeCommandsTest {
    private static final Path README = Path.of(System.getProperty("user.dir")).getParent().resolve("README.md");
    /** A table row whose first cell is {@code `bin/modtrack NAME ...`}. */
    private static final Pattern ROW = Pattern.compile("^\\| `bin/modtrack ([a-z-]+)([^`]*)` \\|", Pattern.MULTILINE);
    private static final Pattern OPTION = Pattern.compile("--[a-z0-9-]+");

    @Test
    void everyCommandHasARowAndEveryRowACommand() throws IOException {
        Set<String> rows = new TreeSet<>();
        rows().forEach(row -> rows.add(row.getKey()));
        Set<String> visible = new TreeSet<>();
        Main.commandLine().getSubcommands().forEach((name, sub) -> {
            if (!sub.getCommandSpec().usageMessage().hidden()) {
                visible.add(name);
            }
        });
        assertEquals(visible, rows, "README's command table against modtrack --help");
    }

    @Test
    void everyOptionARowShowsIsAnOptionOfItsCommand() throws IOException {
        CommandLine top = Main.commandLine();
        for (Map.Entry<String, String> row : rows()) {
            CommandLine sub = top.getSubcommands().get(row.getKey());
            String[] words = row.getValue().strip().split(" ");
            if (words.length > 0 && sub.getSubcommands().containsKey(words[0])) {
                sub = sub.getSubcommands().get(words[0]); // a row of a command's subcommand: `consumers add ...`
            }
            Set<String> names = new TreeSet<>();
            for (OptionSpec o : sub.getCommandSpec().options()) {
                names.addAll(Set.of(o.names()));
            }
            Matcher m = OPTION.matcher(row.getValue());
            while (m.find()) {
                String option = m.group();
                assertTrue(names.contains(option), "README shows `modtrack " + row.getKey() + " " + option
                        + "`, which it does not take (it takes " + names + ")");
            }
        }
    }

    /** Each row's command and the rest of its first cell (a command with subcommands has a row for each). */
    private static List<Map.Entry<String, String>> rows() throws IOException {
        List<Map.Entry<String, String>> rows = new ArrayList<>();
        Matcher m = ROW.matcher(Files.readString(README));
        while (m.find()) {
            rows.add(Map.entry(m.group(1), m.group(2)));
        }
        return rows;
    }
}
