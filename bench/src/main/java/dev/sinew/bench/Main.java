package dev.sinew.bench;

import dev.sinew.bench.cli.BenchCommand;
import dev.sinew.bench.cli.InfoCommand;
import dev.sinew.bench.cli.InspectCommand;
import dev.sinew.bench.cli.SoakCommand;
import dev.sinew.bench.cli.TrainCommand;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code sinew} command line: {@code sinew train ...}, {@code sinew info}, {@code sinew bench ...}, {@code sinew soak},
 * {@code sinew inspect FILE|DIR}.
 *
 * <p>Exit codes: 0 success; 1 a failure while running (the run diverged, no backend usable, an
 * internal error); 2 bad input: an unknown command, option, model, optimiser or backend, a bad
 * value, or a missing or malformed data file. Every error is one line {@code sinew: <what is wrong>}
 * on standard error; the stack trace is printed only with {@code --debug} or
 * {@code SINEW_DEBUG=1}.
 *
 * <p>{@link #run} is the testable entry: it never calls {@link System#exit} and writes only to the
 * streams it is given. One instance per invocation; not thread-safe.
 */
@Command(name = "sinew",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Sinew: tensors, autograd and training on the JVM.",
        subcommands = {TrainCommand.class, InfoCommand.class, BenchCommand.class, SoakCommand.class, InspectCommand.class,
                CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success", "  1  failure while running", "  2  bad input (command line or data files)"})
public final class Main implements Callable<Integer> {
    /** Exit code for bad input: the command line or a data file. */
    public static final int EXIT_USAGE = 2;
    /** Exit code for a failure while running. */
    public static final int EXIT_FAILURE = 1;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "Print the stack trace of an error (same as SINEW_DEBUG=1).")
    boolean debug;

    @Spec
    CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;

    private Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** Standard output of this invocation (results; with {@code --json} its last line is the JSON). */
    public PrintStream out() {
        return out;
    }

    /** Standard error of this invocation (progress, messages). */
    public PrintStream err() {
        return err;
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "no command given (commands: train, info, bench, soak, inspect)");
    }

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        int code = run(System.out, System.err, args);
        System.out.flush();
        System.err.flush();
        System.exit(code);
    }

    /**
     * Runs the command line with the given streams and returns the exit code; never exits the JVM.
     */
    public static int run(PrintStream out, PrintStream err, String... args) {
        Main main = new Main(out, err);
        boolean debugWanted = isDebug(args);
        CommandLine cl = new CommandLine(main);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("sinew: " + describe(ex));
            if (debugWanted || main.debug) {
                ex.printStackTrace(err);
            }
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> report(err, ex, debugWanted || main.debug));
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("sinew: out of memory (" + e.getMessage() + "); give the JVM more with JAVA_OPTS=-Xmx<size>");
            return EXIT_FAILURE;
        } catch (Throwable t) { // anything picocli did not route to the handlers
            return report(err, t, debugWanted || main.debug);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** Prints one line for {@code t} (the stack trace too when debugging) and returns the exit code. */
    static int report(PrintStream err, Throwable t, boolean debug) {
        int code;
        String msg;
        if (t instanceof IllegalArgumentException || t instanceof IOException || t instanceof UncheckedIOException) {
            code = EXIT_USAGE;
            msg = message(t instanceof UncheckedIOException u ? u.getCause() : t);
        } else if (t instanceof IllegalStateException || t instanceof dev.sinew.SinewException) {
            // a run that cannot go on (diverged, no backend) or a native library's error, already worded
            code = EXIT_FAILURE;
            msg = message(t);
        } else {
            code = EXIT_FAILURE;
            msg = "internal error: " + t.getClass().getName() + ": " + message(t)
                    + (debug ? "" : " (run with --debug for the stack trace)");
        }
        err.println("sinew: " + msg);
        if (debug) {
            t.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /** The throwable's message as one line (its class name if it has none). */
    static String message(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        if (t instanceof java.nio.file.FileSystemException f && f.getReason() == null) {
            // NoSuchFileException, AccessDeniedException, ... carry only the path: say what happened
            m = m + switch (f) {
                case java.nio.file.NoSuchFileException x -> ": no such file";
                case java.nio.file.AccessDeniedException x -> ": permission denied";
                case java.nio.file.NotDirectoryException x -> ": not a directory";
                default -> ": " + f.getClass().getSimpleName();
            };
        }
        return m.strip().replace(System.lineSeparator(), " ").replace('\n', ' ');
    }

    /** A one-line description of a command-line error, naming the command and a way to get help. */
    static String describe(ParameterException ex) {
        CommandLine cmd = ex.getCommandLine();
        String path = commandPath(cmd);
        String m = message(ex);
        if (ex instanceof UnmatchedArgumentException u) {
            List<String> unmatched = u.getUnmatched();
            boolean topLevel = cmd.getParent() == null;
            if (topLevel && !unmatched.isEmpty() && !unmatched.get(0).startsWith("-")) {
                return "unknown command '" + unmatched.get(0) + "' (commands: "
                        + String.join(", ", cmd.getSubcommands().keySet()) + "; try 'sinew --help')";
            }
            List<String> suggestions = u.getSuggestions();
            if (!suggestions.isEmpty()) {
                m += " (did you mean " + String.join(" or ", suggestions.subList(0, Math.min(3, suggestions.size())))
                        + "?)";
            }
        }
        if (!m.isEmpty() && Character.isUpperCase(m.charAt(0)) && (m.length() < 2 || !Character.isUpperCase(m.charAt(1)))) {
            m = Character.toLowerCase(m.charAt(0)) + m.substring(1);
        }
        return (path.isEmpty() ? "" : path + ": ") + m + "; see 'sinew" + (path.isEmpty() ? "" : " " + path) + " --help'";
    }

    private static String commandPath(CommandLine cmd) {
        StringBuilder sb = new StringBuilder();
        for (CommandLine c = cmd; c != null && c.getParent() != null; c = c.getParent()) {
            sb.insert(0, sb.isEmpty() ? c.getCommandName() : c.getCommandName() + " ");
        }
        return sb.toString();
    }

    private static boolean isDebug(String[] args) {
        String env = System.getenv("SINEW_DEBUG");
        boolean fromEnv = env != null && !env.isBlank() && !env.equals("0") && !env.equalsIgnoreCase("false");
        return fromEnv || Arrays.asList(args).contains("--debug");
    }

    /** The version from the jar manifest, else "development build". */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sinew " + (v == null ? "(development build)" : v),
                    "JDK " + Runtime.version() + " (" + System.getProperty("java.vendor", "?") + ") on "
                            + System.getProperty("os.name", "?").toLowerCase(Locale.ROOT) + "/"
                            + System.getProperty("os.arch", "?")};
        }
    }
}
