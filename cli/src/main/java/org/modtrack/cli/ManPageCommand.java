package org.modtrack.cli;

import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code modtrack manpage}: prints modtrack(1) in troff, made from the same command descriptions
 * as {@code --help}, so the man page a release installs says exactly what {@code --help} says.
 * Hidden: bin/release runs it, people read the result with {@code man modtrack}.
 */
@Command(name = "manpage", hidden = true, description = "Prints the modtrack(1) man page (troff) on standard output.")
final class ManPageCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        CommandLine top = spec.parent().commandLine();
        PrintWriter out = spec.commandLine().getOut();
        out.print(render(top));
        out.flush();
    }

    /** The man page of {@code top}: its own usage, then every visible subcommand's, verbatim. */
    static String render(CommandLine top) {
        CommandSpec topSpec = top.getCommandSpec();
        String version = String.join(" ", topSpec.version());
        StringBuilder page = new StringBuilder();
        page.append(".TH MODTRACK 1 \"\" \"").append(escape(version)).append("\" \"User Commands\"\n");
        page.append(".SH NAME\n");
        page.append("modtrack \\- ").append(escape(String.join(" ", topSpec.usageMessage().description()))).append('\n');
        page.append(".SH SYNOPSIS\n");
        page.append(".B modtrack\n.I COMMAND\n[\\fIOPTIONS\\fR]\n");
        page.append(".SH DESCRIPTION\n");
        verbatim(page, top.getUsageMessage(Ansi.OFF));
        page.append(".SH COMMANDS\n");
        for (Map.Entry<String, CommandLine> sub : top.getSubcommands().entrySet()) {
            CommandSpec s = sub.getValue().getCommandSpec();
            if (s.usageMessage().hidden() || !s.name().equals(sub.getKey())) {
                continue; // aliases would repeat a command
            }
            page.append(".SS modtrack ").append(escape(s.name())).append('\n');
            verbatim(page, sub.getValue().getUsageMessage(Ansi.OFF));
        }
        page.append(".SH FILES\n");
        page.append(".TP\n/etc/modtrack.conf\nthe daemon's configuration (\\fBmodtrack daemon \\-\\-config\\fR)\n");
        page.append(".TP\n/var/lib/modtrack\nthe daemon's state: one journal per watched root\n");
        page.append(".TP\n/run/modtrack.sock\nthe socket clients talk to (root); others use $XDG_RUNTIME_DIR/modtrack.sock\n");
        page.append(".SH SEE ALSO\n");
        page.append("The protocol, guarantees and limits: /usr/share/doc/modtrack/ (README.md, protocol.md).\n");
        return page.toString();
    }

    /** Text shown as it is: no filling, no adjusting, troff's control characters neutralised. */
    private static void verbatim(StringBuilder page, String text) {
        page.append(".nf\n");
        for (String line : text.split("\n", -1)) {
            String e = escape(line);
            // A line starting with '.' or '\'' would be read as a request.
            page.append(e.startsWith(".") || e.startsWith("'") ? "\\&" + e : e).append('\n');
        }
        page.append(".fi\n");
    }

    private static String escape(String s) {
        return s.replace("\\", "\\e").replace("-", "\\-");
    }
}
