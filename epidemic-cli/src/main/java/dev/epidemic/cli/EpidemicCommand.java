package dev.epidemic.cli;

import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.engine.Databases;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The {@code epidemic} command: global connection options, the subcommands, and the mapping of every
 * failure to one line on stderr and an exit code (0 ok, 2 bad input, 1 anything else).
 */
@Command(name = "epidemic",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Captures PostgreSQL row changes by triggers into a durable log and delivers them to consumers.",
        subcommands = {WatchCommand.class, UnwatchCommand.class, ListCommand.class, TailCommand.class,
                BackfillCommand.class, StatusCommand.class, PruneCommand.class, RunCommand.class, DeadCommand.class, DemoCommand.class, HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 2 bad input (unknown table or column, malformed arguments), 1 other failure."})
public final class EpidemicCommand implements Callable<Integer> {
    static final int OK = 0;
    static final int FAILURE = 1;
    static final int BAD_INPUT = 2;

    private static final String LOG_LEVEL_PROPERTY = "org.slf4j.simpleLogger.defaultLogLevel";

    // Inherited options are written to these fields whether given before or after the subcommand's name.
    // They have no picocli defaults: a subcommand would re-apply the default over a value given before it.
    @Option(names = "--url", paramLabel = "JDBC_URL", scope = ScopeType.INHERIT,
            description = "The database, e.g. jdbc:postgresql://localhost:5432/mail (default: $EPIDEMIC_URL).")
    String url;

    @Option(names = "--user", paramLabel = "USER", scope = ScopeType.INHERIT,
            description = "Database user, unless the URL names one.")
    String user;

    @Option(names = "--password", paramLabel = "PASSWORD", scope = ScopeType.INHERIT,
            description = "Database password, unless the URL carries one (default: $EPIDEMIC_PASSWORD).")
    String password;

    @Option(names = "--password-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Read the password from the first line of FILE: unlike --password, it does not show in the process list.")
    String passwordFile;

    @Option(names = "--schema", paramLabel = "SCHEMA", scope = ScopeType.INHERIT,
            description = "The schema Epidemic keeps its change log in (default: epidemic); on MariaDB the prefix of its tables in the URL's database (epidemic_change_log, ...).")
    String schema;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Log what Epidemic does, and print stack traces of errors.")
    boolean verbose;

    @Spec
    CommandSpec spec;

    private final Map<String, String> environment;

    private EpidemicCommand(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    public static void main(String[] args) {
        CommandLine commandLine = commandLine(System.getenv());
        commandLine.setOut(new PrintWriter(System.out, true, UTF_8));
        commandLine.setErr(new PrintWriter(System.err, true, UTF_8));
        int exitCode = commandLine.execute(args);
        commandLine.getOut().flush();
        commandLine.getErr().flush();
        System.exit(exitCode);
    }

    /** The command line, reading EPIDEMIC_URL and EPIDEMIC_PASSWORD from {@code environment}. */
    public static CommandLine commandLine(Map<String, String> environment) {
        EpidemicCommand root = new EpidemicCommand(environment);
        CommandLine commandLine = new CommandLine(root);
        commandLine.setExecutionStrategy(root::execute);
        commandLine.setParameterExceptionHandler(root::parameterError);
        commandLine.setExecutionExceptionHandler(root::executionError);
        return commandLine;
    }

    /** Without a subcommand there is nothing to do. */
    @Override
    public Integer call() {
        spec.commandLine().getErr().println("epidemic: missing command (watch, unwatch, list, tail, backfill, status, prune, run, dead or demo); see 'epidemic --help'");
        return BAD_INPUT;
    }

    /** The environment the command was started with (variables of the daemon's configuration come from it). */
    Map<String, String> environment() {
        return environment;
    }

    /** The database the options and the environment name; a missing URL is an input error. */
    Database database() {
        String jdbcUrl = url != null ? url : environment.get("EPIDEMIC_URL");
        if (jdbcUrl == null || jdbcUrl.isBlank()) {
            throw new InvalidInputException("no database given: pass --url JDBC_URL or set EPIDEMIC_URL");
        }
        String secret = secret();
        String logSchema = schema != null ? schema : "epidemic";
        if (logSchema.isBlank()) {
            throw new InvalidInputException("--schema is empty; name the schema Epidemic keeps its log in, or leave it out for 'epidemic'");
        }
        if (logSchema.startsWith("pg_") || logSchema.equals("information_schema") || logSchema.indexOf('\0') >= 0) {
            throw new InvalidInputException("--schema " + logSchema + " is reserved for the system; choose another schema for Epidemic's log");
        }
        return new Database(jdbcUrl.strip(), user, secret, logSchema);
    }

    /** The password: --password, else the first line of --password-file, else $EPIDEMIC_PASSWORD; null if none. */
    private String secret() {
        if (password != null && passwordFile != null) {
            throw new InvalidInputException("give either --password or --password-file, not both");
        }
        if (password != null) {
            return password;
        }
        if (passwordFile != null) {
            return readPasswordFile();
        }
        return environment.get("EPIDEMIC_PASSWORD");
    }

    private String readPasswordFile() {
        try {
            String first = Files.readAllLines(Path.of(passwordFile), UTF_8).stream().findFirst().orElse("");
            if (first.isEmpty()) {
                throw new InvalidInputException("--password-file " + passwordFile + " is empty; put the password on its first line");
            }
            return first;
        } catch (IOException | InvalidPathException e) {
            throw new InvalidInputException("cannot read --password-file " + passwordFile + ": " + reason(e));
        }
    }

    private static String reason(Exception e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof MalformedInputException) {
            return "not UTF-8 text";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private int execute(ParseResult parseResult) {
        // Loggers are created when the engine's classes load, which is after parsing: the level set here applies.
        // The daemon logs its lifecycle (started, took over, stopped) whether or not --verbose is given.
        boolean daemon = parseResult.hasSubcommand() && parseResult.subcommand().commandSpec().userObject() instanceof RunCommand;
        if ((verbose || daemon) && System.getProperty(LOG_LEVEL_PROPERTY) == null) {
            System.setProperty(LOG_LEVEL_PROPERTY, "info");
        }
        if (daemon) {
            System.getProperties().putIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
            System.getProperties().putIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        }
        return new CommandLine.RunLast().execute(parseResult);
    }

    private int parameterError(ParameterException e, String[] args) {
        CommandLine failed = e.getCommandLine();
        PrintWriter err = failed.getErr();
        if (verbose) {
            e.printStackTrace(err);
        }
        err.println("epidemic: " + scrub(firstLine(e.getMessage())) + " (see '" + failed.getCommandSpec().qualifiedName() + " --help')");
        err.flush();
        return BAD_INPUT;
    }

    private int executionError(Exception e, CommandLine failed, ParseResult parseResult) {
        PrintWriter err = failed.getErr();
        if (verbose) {
            e.printStackTrace(err);
        }
        err.println("epidemic: " + scrub(describe(e)));
        err.flush();
        return e instanceof InvalidInputException ? BAD_INPUT : FAILURE;
    }

    private static String describe(Exception e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : firstLine(e.getMessage());
        if (e instanceof EpidemicException || e instanceof SQLException) {
            return message;
        }
        if (e instanceof UnsupportedOperationException) {
            return "not supported: " + message; // a feature this database has no implementation of
        }
        return "unexpected " + e.getClass().getSimpleName() + ": " + message + "; run with --verbose for the stack trace";
    }

    /** Masks the password wherever a message might repeat it: a driver may quote the URL or an argument. */
    private String scrub(String message) {
        String result = message;
        String jdbcUrl = url != null ? url : environment.get("EPIDEMIC_URL");
        if (jdbcUrl != null && !jdbcUrl.isBlank()) {
            result = result.replace(jdbcUrl.strip(), Databases.redact(jdbcUrl.strip()));
        }
        String secret;
        try {
            secret = secret();
        } catch (RuntimeException unreadable) {
            secret = password != null ? password : environment.get("EPIDEMIC_PASSWORD");
        }
        if (secret != null && !secret.isEmpty()) {
            result = result.replace(secret, "***");
        }
        return result;
    }

    static String firstLine(String message) {
        String text = Objects.requireNonNullElse(message, "");
        int newline = text.indexOf('\n');
        return (newline < 0 ? text : text.substring(0, newline)).strip();
    }
}
