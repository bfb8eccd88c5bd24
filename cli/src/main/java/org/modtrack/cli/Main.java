package org.modtrack.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

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
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the command found a problem (violations, missed changes)", "2:bad usage",
                "3:an error stopped the command"})
public final class Main implements Runnable {
    /** The command ran, and what it checked failed. */
    public static final int FOUND_PROBLEM = 1;
    /** An error stopped the command. */
    public static final int ERROR = 3;

    @Spec
    CommandSpec spec;

    /** The subcommands, in the order the usage lists them. */
    private static final List<Class<?>> SUBCOMMANDS = List.of(DemoCommand.class, SimulateCommand.class,
            DemoCommand.Child.class, DaemonCommand.class, ClientCommands.Query.class, ClientCommands.Bless.class,
            ClientCommands.Status.class, ClientCommands.Watch.class, ClientCommands.Consumers.class,
            ClientCommands.Stop.class, MirrorCommand.class, ManPageCommand.class);

    public static void main(String[] args) {
        // The daemon's command line alone: picocli reads every subcommand's annotations when it builds
        // the whole tree, 50-60 ms of a new JVM's start that a daemon restarted after a crash waits
        // for before it listens (docs/benchmarks.md, *A restart*).
        boolean daemon = args.length > 0 && args[0].equals("daemon");
        System.exit(commandLine(daemon ? List.of(DaemonCommand.class) : SUBCOMMANDS).execute(args));
    }

    /** The configured command line, for tests. */
    public static CommandLine commandLine() {
        return commandLine(SUBCOMMANDS);
    }

    private static CommandLine commandLine(List<Class<?>> subcommands) {
        CommandLine cl = new CommandLine(new Main());
        for (Class<?> subcommand : subcommands) {
            cl.addSubcommand(subcommand);
        }
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("modtrack: " + oneSentence(e));
            return ERROR;
        });
        // Bad usage: one sentence and where the options are, not the whole usage.
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            String sentence = oneSentence(e);
            if (sentence.endsWith(".")) {
                sentence = sentence.substring(0, sentence.length() - 1);
            }
            cmd.getErr().println("modtrack: " + sentence + " (" + cmd.getCommandSpec().qualifiedName() + " --help lists"
                    + " the options).");
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
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
