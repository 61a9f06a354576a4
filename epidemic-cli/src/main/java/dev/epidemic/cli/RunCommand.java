package dev.epidemic.cli;

import dev.epidemic.api.EpidemicException;
import dev.epidemic.cli.daemon.ConfigLoader;
import dev.epidemic.cli.daemon.Daemon;
import dev.epidemic.cli.daemon.DaemonConfig;
import dev.epidemic.cli.daemon.DaemonPlan;
import dev.epidemic.cli.daemon.InvalidConfigException;
import dev.epidemic.cli.daemon.Planner;
import dev.epidemic.engine.Databases;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code epidemic run}: the long-running service. Reads and checks the whole configuration (refusing
 * a wrong one before anything is installed), starts one consumer per entry, and runs until SIGTERM or
 * SIGINT (exit 0, positions stored) or until a consumer whose policy is to stop fails (exit 1).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the consumers a YAML configuration file describes, with their handlers and sinks, until SIGTERM or SIGINT.",
                "A wrong configuration is refused before anything is installed: one line per problem on stderr, exit 2.",
                "--url, --user, --password and --schema, when given, replace the file's database settings.",
                "See docs/daemon.md for every key."})
final class RunCommand implements Callable<Integer> {
    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", required = true, description = "The configuration file (YAML).")
    Path config;

    @Option(names = "--plugins", paramLabel = "DIR",
            description = "A directory of jars holding handler classes; replaces the file's 'plugins'.")
    Path plugins;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        Map<String, String> environment = epidemic.environment();
        DaemonPlan plan;
        try {
            ConfigLoader.Loaded loaded = ConfigLoader.load(config, environment);
            plan = Planner.plan(withOptions(loaded), plugins, spec.commandLine().getOut(),
                    c -> new Database(c.url(), c.user(), c.password(), c.schema()).checkReachable());
        } catch (InvalidConfigException e) {
            for (String problem : e.problems()) {
                err.println("epidemic: " + config + ": " + redact(problem, secretsOf(environment)));
            }
            err.flush();
            return EpidemicCommand.BAD_INPUT;
        }
        // Not a static field: picocli creates this class before the log level for the daemon is chosen.
        Logger log = LoggerFactory.getLogger(RunCommand.class);
        log.info("Configuration {} checked: {} consumer(s), database {}", config, plan.consumers().size(),
                Databases.redact(plan.database().url()));

        Daemon daemon = new Daemon(plan);
        Daemon.Outcome outcome;
        try (StopOnSignal signals = StopOnSignal.install(daemon::requestStop)) {
            try {
                daemon.start();
            } catch (RuntimeException e) {
                throw new EpidemicException(redact(EpidemicCommand.firstLine(e.getMessage()), plan.secrets()), e);
            }
            outcome = daemon.awaitEnd();
        }
        if (outcome.failed()) {
            String message = EpidemicCommand.firstLine(outcome.failure().getMessage());
            err.println("epidemic: " + redact(message, plan.secrets()));
            err.flush();
            return EpidemicCommand.FAILURE;
        }
        return EpidemicCommand.OK;
    }

    /** The file's database settings, with the ones given on the command line (or EPIDEMIC_URL, EPIDEMIC_PASSWORD for missing ones) in their place. */
    private ConfigLoader.Loaded withOptions(ConfigLoader.Loaded read) {
        DaemonConfig loaded = read.config();
        DaemonConfig.Database file = loaded.database();
        String url = epidemic.url != null ? epidemic.url : file != null && file.url() != null ? file.url() : epidemic.environment().get("EPIDEMIC_URL");
        String user = epidemic.user != null ? epidemic.user : file == null ? null : file.user();
        String password = epidemic.password != null ? epidemic.password
                : file != null && file.password() != null ? file.password() : epidemic.environment().get("EPIDEMIC_PASSWORD");
        String schema = epidemic.schema != null ? epidemic.schema : file == null ? null : file.schema();
        if (file == null && url == null) {
            return read; // reported as the missing database key
        }
        return new ConfigLoader.Loaded(new DaemonConfig(new DaemonConfig.Database(url, user, password, schema), loaded.plugins(),
                loaded.consumers()), read.problems());
    }

    /**
     * A problem may quote a value of the file, which may have come from the environment: the values of
     * variables named like secrets are masked (the planner already masks the file's own secrets).
     */
    private Set<String> secretsOf(Map<String, String> environment) {
        return environment.entrySet().stream()
                .filter(e -> e.getKey().matches("(?i).*(PASSWORD|SECRET|TOKEN|KEY).*") && e.getValue() != null && !e.getValue().isEmpty())
                .map(Map.Entry::getValue)
                .collect(java.util.stream.Collectors.toSet());
    }

    private static String redact(String message, Set<String> secrets) {
        String result = message;
        for (String secret : secrets) {
            if (secret.length() < 4) {
                continue; // masking one or two letters everywhere would garble every message, and hide nothing
            }
            result = result.replace(secret, "***");
        }
        return result.replaceAll("(?i)(password=)[^&;\\s]*", "$1***").replaceAll("//([^/@:\\s]+):[^/@\\s]*@", "//$1:***@");
    }
}
