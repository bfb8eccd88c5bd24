package org.modtrack.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/modtrack}: the command line. Each subcommand is its own class.
 *
 * <p>Exit codes: 0 success; 1 the command ran and found a problem (for example violations in a
 * simulation); 2 bad usage; 3 an error that stopped the command (one sentence on stderr).
 */
@Command(name = "modtrack",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Tracks which files of a filesystem changed since the result you last blessed, without ever missing one.",
        subcommands = {DemoCommand.class, SimulateCommand.class, DemoCommand.Child.class, DaemonCommand.class,
                ClientCommands.Query.class, ClientCommands.Bless.class, ClientCommands.Status.class,
                ClientCommands.Watch.class, ClientCommands.Stop.class, MirrorCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the command found a problem (violations, missed changes)", "2:bad usage",
                "3:an error stopped the command"})
public final class Main implements Runnable {
    /** The command ran, and what it checked failed. */
    public static final int FOUND_PROBLEM = 1;
    /** An error stopped the command. */
    public static final int ERROR = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, for tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("modtrack: " + oneSentence(e));
            return ERROR;
        });
        return cl;
    }

    private static String oneSentence(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version from the jar's manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"modtrack " + (v == null ? "development" : v)};
        }
    }
}
