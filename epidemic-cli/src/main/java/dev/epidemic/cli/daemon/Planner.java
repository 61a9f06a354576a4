package dev.epidemic.cli.daemon;

import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.StartFrom;
import dev.epidemic.cli.StartPoints;
import dev.epidemic.cli.sink.StdoutSink;
import dev.epidemic.config.DurationText;
import dev.epidemic.cli.sink.WebhookSink;
import dev.epidemic.engine.Databases;
import dev.epidemic.sink.rabbitmq.RabbitMqSink;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.sink.nats.NatsSink;
import dev.epidemic.sink.redis.RedisSink;

import java.io.IOException;
import javax.sql.DataSource;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Checks a configuration completely before anything runs, and turns it into a {@link DaemonPlan}:
 * required keys, values, durations, URLs, handler classes (loaded and instantiated), and every table and
 * column against the database's catalog, read without installing anything. All problems are reported
 * together ({@link InvalidConfigException}); the database is left exactly as it was.
 */
public final class Planner {
    private static final Duration DEFAULT_WEBHOOK_TIMEOUT = Duration.ofSeconds(10);

    private final Problems problems = new Problems();
    private final Set<String> secrets = new LinkedHashSet<>();
    private final PrintWriter stdout;
    private final Path pluginsOverride;
    private HandlerClasses classes;
    private DataSource dataSource; // null when the database settings are wrong: then nothing runs, and no format reads it

    private Planner(PrintWriter stdout, Path pluginsOverride) {
        this.stdout = stdout;
        this.pluginsOverride = pluginsOverride;
    }

    /**
     * The plan for a configuration as read, whose problems are reported with those found here.
     *
     * @param pluginsOverride the {@code --plugins} directory, which replaces the file's {@code plugins}; may be null
     * @param stdout          where stdout sinks print
     * @param reachable       throws an {@link EpidemicException} naming the reason when the database cannot be reached
     * @throws InvalidConfigException every problem found
     * @throws EpidemicException      the database cannot be reached, and the file is otherwise correct
     */
    public static DaemonPlan plan(ConfigLoader.Loaded loaded, Path pluginsOverride, PrintWriter stdout, Consumer<DaemonPlan.Connection> reachable) {
        Planner planner = new Planner(stdout, pluginsOverride);
        loaded.problems().forEach(problem -> planner.problems.add("", problem));
        return planner.check(loaded.config(), reachable);
    }

    private DaemonPlan check(DaemonConfig config, Consumer<DaemonPlan.Connection> reachable) {
        // A setting whose variable was not set would only add confusing errors of its own.
        boolean databaseReadWell = problems.lines().stream().noneMatch(p -> List.of("database.url:", "database.user:",
                "database.password:", "database.schema:").stream().anyMatch(p::startsWith));
        DaemonPlan.Connection connection = databaseReadWell ? database(config.database()) : null;
        if (connection != null) {
            dataSource = Databases.fromUrl(connection.url(), connection.user(), connection.password());
        }
        classes = handlerClasses(config.plugins());
        List<DaemonPlan.Consumer> consumers = consumers(config.consumers());
        if (connection != null) {
            checkCatalog(connection, config.consumers(), reachable);
        }
        problems.throwIfAny(secrets);
        return new DaemonPlan(connection, consumers, Set.copyOf(secrets));
    }

    // ---------------------------------------------------------------- database and plugins

    private DaemonPlan.Connection database(DaemonConfig.Database database) {
        if (database == null) {
            problems.add("database", "missing required key");
            return null;
        }
        if (database.password() != null && !database.password().isEmpty()) {
            secrets.add(database.password());
        }
        String schema = database.schema() == null ? "epidemic" : database.schema().strip();
        boolean valid = true;
        if (schema.isEmpty()) {
            problems.add("database.schema", "is empty; name the schema Epidemic keeps its log in, or leave the key out for 'epidemic'");
            valid = false;
        }
        String url = database.url();
        if (url == null || url.isBlank()) {
            problems.add("database.url", "missing required key");
            return null;
        }
        url = url.strip();
        try {
            Databases.dialectFor(url, schema);
            if (!driverAccepts(url)) {
                problems.add("database.url", "'" + Databases.redact(url) + "' is not a valid JDBC URL; expected jdbc:postgresql://HOST[:PORT]/DATABASE"
                        + " or jdbc:mariadb://HOST[:PORT]/DATABASE");
                valid = false;
            }
        } catch (InvalidInputException e) {
            problems.add("database.url", e.getMessage());
            valid = false;
        }
        return valid ? new DaemonPlan.Connection(url, database.user(), database.password(), schema) : null;
    }

    /** Whether a JDBC driver understands the URL: the PostgreSQL driver refuses a malformed one (a bad port, say). */
    private static boolean driverAccepts(String url) {
        try {
            return java.sql.DriverManager.getDriver(url) != null;
        } catch (java.sql.SQLException e) {
            return false;
        }
    }

    private HandlerClasses handlerClasses(String configured) {
        Path directory = pluginsOverride;
        String key = "--plugins";
        if (directory == null && configured != null && !configured.isBlank()) {
            directory = Path.of(configured.strip());
            key = "plugins";
        }
        if (directory == null) {
            return HandlerClasses.classPath();
        }
        if (!Files.isDirectory(directory)) {
            problems.add(key, "directory " + directory + " does not exist");
            return HandlerClasses.classPath();
        }
        try {
            return HandlerClasses.withPlugins(directory);
        } catch (IOException e) {
            problems.add(key, "cannot list " + directory + ": " + e.getMessage());
            return HandlerClasses.classPath();
        }
    }

    // ---------------------------------------------------------------- consumers and tables

    private List<DaemonPlan.Consumer> consumers(List<DaemonConfig.Consumer> consumers) {
        if (consumers == null || consumers.isEmpty()) {
            problems.add("consumers", "missing required key: name at least one consumer");
            return List.of();
        }
        List<DaemonPlan.Consumer> result = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < consumers.size(); i++) {
            String path = "consumers[" + i + "]";
            DaemonConfig.Consumer consumer = consumers.get(i);
            if (consumer == null) {
                problems.add(path, "is empty; a consumer needs a name and tables");
                continue;
            }
            String name = consumer.name() == null ? null : consumer.name().strip();
            if (name == null || name.isEmpty()) {
                problems.add(path + ".name", "missing required key");
            } else if (!names.add(name)) {
                problems.add(path + ".name", "consumer " + name + " is named twice; each consumer needs a name of its own");
            }
            if (consumer.batchSize() != null && consumer.batchSize() < 1) {
                problems.add(path + ".batch-size", "must be at least 1, not " + consumer.batchSize());
            }
            if (consumer.parallelism() != null && (consumer.parallelism() < 1 || consumer.parallelism() > 256)) {
                problems.add(path + ".parallelism", "must be between 1 and 256, not " + consumer.parallelism());
            }
            String from = consumer.from() == null ? "oldest" : consumer.from().strip();
            StartFrom startFrom = StartPoints.parse(from);
            if (startFrom == null) {
                problems.add(path + ".from", "must be " + StartPoints.CHOICES + ", not '" + from + "'");
            }
            List<DaemonPlan.Table> tables = tables(path + ".tables", consumer.tables());
            if (consumer.parallelism() != null && consumer.parallelism() > 1
                    && tables.stream().anyMatch(t -> t.kind() == DaemonPlan.Kind.TRANSACTIONAL)) {
                problems.add(path + ".parallelism", "cannot be above 1 for a consumer with a transactional handler:"
                        + " it commits each change with the consumer's position, one transaction at a time");
            }
            result.add(new DaemonPlan.Consumer(name, consumer.batchSize(), consumer.parallelism(), startFrom, tables));
        }
        return result;
    }

    private List<DaemonPlan.Table> tables(String path, List<DaemonConfig.Table> tables) {
        if (tables == null || tables.isEmpty()) {
            problems.add(path, "missing required key: name at least one table");
            return List.of();
        }
        List<DaemonPlan.Table> result = new ArrayList<>();
        for (int i = 0; i < tables.size(); i++) {
            DaemonPlan.Table table = table(path + "[" + i + "]", tables.get(i));
            if (table != null) {
                result.add(table);
            }
        }
        return result;
    }

    private DaemonPlan.Table table(String path, DaemonConfig.Table table) {
        if (table == null) {
            problems.add(path, "is empty; a table entry needs table and a handler or sink");
            return null;
        }
        if (table.table() == null || table.table().isBlank()) {
            problems.add(path + ".table", "missing required key");
        }
        List<String> columns = table.columns() == null ? List.of() : table.columns();
        for (int c = 0; c < columns.size(); c++) {
            if (columns.get(c) == null || columns.get(c).isBlank()) {
                problems.add(path + ".columns[" + c + "]", "is empty; name a column");
            }
        }
        if (table.where() != null && table.where().isBlank()) {
            problems.add(path + ".where", "is empty; give a condition over the table's columns, or leave where out for every row");
        }
        FailurePolicy policy = policy(path, table.retry(), table.onFailure());
        HandlerClasses.Made receiver = receiver(path, table);
        if (receiver == null || policy == null || table.table() == null) {
            return null;
        }
        return new DaemonPlan.Table(table.table().strip(), columns.stream().filter(Objects::nonNull).map(String::strip).toList(),
                table.where() == null || table.where().isBlank() ? null : table.where().strip(), receiver.kind(), receiver.handler(), policy);
    }

    private HandlerClasses.Made receiver(String path, DaemonConfig.Table table) {
        if (table.handler() != null && table.sink() != null) {
            problems.add(path, "has both handler and sink; give one of them");
            return null;
        }
        if (table.handler() != null) {
            return handler(path + ".handler", table.handler());
        }
        if (table.sink() != null) {
            return sink(path + ".sink", table.sink());
        }
        problems.add(path, "missing required key: handler or sink");
        return null;
    }

    private HandlerClasses.Made handler(String path, DaemonConfig.Handler handler) {
        if (handler.className() == null || handler.className().isBlank()) {
            problems.add(path + ".class", "missing required key");
            return null;
        }
        Map<String, String> properties = handler.properties() == null ? Map.of() : handler.properties();
        if (properties.values().stream().anyMatch(Objects::isNull)) {
            problems.add(path + ".properties", "a property has no value; write \"\" for an empty one");
            return null;
        }
        HandlerClasses.Made made = classes.make(handler.className(), properties);
        if (made.problem() != null) {
            problems.add(path + ".class", made.problem());
            return null;
        }
        return made;
    }

    private HandlerClasses.Made sink(String path, DaemonConfig.Sink sink) {
        if (Stream.of(sink.stdout(), sink.webhook(), sink.nats(), sink.rabbitmq(), sink.redis()).filter(Objects::nonNull).count() != 1) {
            problems.add(path, "give exactly one of stdout, webhook, nats, rabbitmq and redis");
            return null;
        }
        if (sink.nats() != null) {
            return nats(path + ".nats", sink.nats());
        }
        if (sink.redis() != null) {
            return redis(path + ".redis", sink.redis());
        }
        if (sink.stdout() != null) {
            ChangeFormat format = format(path + ".stdout.format", sink.stdout().format());
            return format == null ? null : new HandlerClasses.Made(DaemonPlan.Kind.CHANGE, new StdoutSink(stdout, format), null);
        }
        if (sink.rabbitmq() != null) {
            return rabbitmq(path + ".rabbitmq", sink.rabbitmq());
        }
        return webhook(path + ".webhook", sink.webhook());
    }

    private HandlerClasses.Made rabbitmq(String path, RabbitMqSink.Settings settings) {
        secrets.addAll(settings.secrets());
        List<String> found = settings.problems();
        found.forEach(line -> addKeyed(path, line));
        if (!found.isEmpty()) {
            return null;
        }
        try {
            RabbitMqSink sink = new RabbitMqSink(settings, ChangeFormat.named(settings.format() == null ? "epidemic" : settings.format().strip(), dataSource));
            return new HandlerClasses.Made(DaemonPlan.Kind.BATCH, sink, null);
        } catch (InvalidInputException e) {
            addKeyed(path, e.getMessage().substring("rabbitmq.".length()));
            return null;
        }
    }

    /** A sink's problem line, {@code key: message}, under the sink's path. */
    private void addKeyed(String path, String line) {
        int colon = line.indexOf(": ");
        problems.add(path + "." + line.substring(0, colon), line.substring(colon + 2));
    }

    private HandlerClasses.Made webhook(String path, DaemonConfig.Webhook webhook) {
        int before = problems.lines().size();
        URI url = null;
        if (webhook.url() == null || webhook.url().isBlank()) {
            problems.add(path + ".url", "missing required key");
        } else {
            url = httpUrl(path + ".url", webhook.url().strip());
        }
        if (webhook.secret() != null && !webhook.secret().isEmpty()) {
            secrets.add(webhook.secret());
        }
        Duration timeout = duration(path + ".timeout", webhook.timeout(), DEFAULT_WEBHOOK_TIMEOUT);
        if (timeout != null && timeout.isZero()) {
            problems.add(path + ".timeout", "must be more than 0");
        }
        int batch = webhook.batch() == null ? 1 : webhook.batch();
        if (batch < 1) {
            problems.add(path + ".batch", "must be at least 1, not " + batch);
        }
        Map<String, String> headers = webhook.headers() == null ? Map.of() : webhook.headers();
        headers.forEach((name, value) -> {
            try {
                WebhookSink.checkHeader(name, value == null ? "" : value);
            } catch (IllegalArgumentException e) {
                problems.add(path + ".headers." + name, "cannot be sent: " + e.getMessage());
            }
        });
        ChangeFormat format = format(path + ".format", webhook.format());
        if (problems.lines().size() > before) {
            return null;
        }
        WebhookSink sink = new WebhookSink(url, webhook.secret() == null || webhook.secret().isEmpty() ? null : webhook.secret(),
                timeout, batch, headers, format);
        return new HandlerClasses.Made(batch == 1 ? DaemonPlan.Kind.CHANGE : DaemonPlan.Kind.BATCH, sink, null);
    }

    private HandlerClasses.Made nats(String path, NatsSink.Settings settings) {
        Stream.of(settings.password(), settings.token(), settings.tls() == null ? null : settings.tls().truststorePassword(),
                settings.tls() == null ? null : settings.tls().keystorePassword()).filter(s -> s != null && !s.isEmpty()).forEach(secrets::add);
        List<NatsSink.Settings.Problem> found = settings.problems();
        found.forEach(problem -> problems.add(path + "." + problem.key(), problem.message()));
        if (!found.isEmpty()) {
            return null;
        }
        ChangeFormat format = format(path + ".format", settings.format());
        return format == null ? null : new HandlerClasses.Made(DaemonPlan.Kind.BATCH, new NatsSink(settings, format), null);
    }

    private HandlerClasses.Made redis(String path, RedisSink.Settings settings) {
        if (settings.password() != null && !settings.password().isEmpty()) {
            secrets.add(settings.password());
        }
        List<RedisSink.Problem> found = RedisSink.problems(settings);
        found.forEach(problem -> problems.add(path + "." + problem.key(), problem.message()));
        if (!found.isEmpty()) {
            return null;
        }
        return new HandlerClasses.Made(DaemonPlan.Kind.BATCH, new RedisSink(settings, dataSource), null);
    }

    /** The sink's format: {@code epidemic} when not given. */
    private ChangeFormat format(String path, String name) {
        String chosen = name == null ? "epidemic" : name.strip();
        if (!ChangeFormat.NAMES.contains(chosen)) {
            problems.add(path, "must be one of " + String.join(", ", ChangeFormat.NAMES) + ", not '" + name + "'");
            return null;
        }
        return ChangeFormat.named(chosen, dataSource);
    }

    private URI httpUrl(String path, String text) {
        try {
            URI url = new URI(text);
            if (url.getScheme() == null || !(url.getScheme().equalsIgnoreCase("http") || url.getScheme().equalsIgnoreCase("https"))) {
                problems.add(path, "'" + text + "' is not an http:// or https:// URL");
                return null;
            }
            if (url.getHost() == null || url.getHost().isEmpty()) {
                problems.add(path, "'" + text + "' has no host");
                return null;
            }
            return url;
        } catch (URISyntaxException e) {
            problems.add(path, "'" + text + "' is not a valid URL: " + e.getReason());
            return null;
        }
    }

    private FailurePolicy policy(String path, DaemonConfig.Retry retry, String onFailure) {
        FailurePolicy defaults = FailurePolicy.defaults();
        int before = problems.lines().size();
        int attempts = defaults.maxAttempts();
        Duration backoff = defaults.initialBackoff();
        Duration maxBackoff = defaults.maxBackoff();
        if (retry != null) {
            if (retry.attempts() != null) {
                attempts = retry.attempts();
                if (attempts < 1) {
                    problems.add(path + ".retry.attempts", "must be at least 1, not " + attempts);
                }
            }
            backoff = duration(path + ".retry.backoff", retry.backoff(), backoff);
            maxBackoff = duration(path + ".retry.max-backoff", retry.maxBackoff(),
                    retry.maxBackoff() == null && backoff != null && backoff.compareTo(maxBackoff) > 0 ? backoff : maxBackoff);
            if (backoff != null && maxBackoff != null && maxBackoff.compareTo(backoff) < 0) {
                problems.add(path + ".retry.max-backoff", "must not be shorter than backoff (" + retry.backoff() + ")");
            }
        }
        FailurePolicy.Exhausted whenExhausted = FailurePolicy.Exhausted.DEAD_LETTER;
        if (onFailure != null) {
            switch (onFailure.strip()) {
                case "dead-letter" -> whenExhausted = FailurePolicy.Exhausted.DEAD_LETTER;
                case "stop" -> whenExhausted = FailurePolicy.Exhausted.STOP;
                default -> problems.add(path + ".on-failure", "must be 'dead-letter' or 'stop', not '" + onFailure + "'");
            }
        }
        if (problems.lines().size() > before) {
            return null;
        }
        return new FailurePolicy(attempts, backoff, maxBackoff, whenExhausted);
    }

    private Duration duration(String path, String text, Duration otherwise) {
        if (text == null) {
            return otherwise;
        }
        Duration duration = DurationText.parse(text);
        if (duration == null) {
            problems.add(path, DurationText.problem(text));
        }
        return duration;
    }

    // ---------------------------------------------------------------- the catalog

    /** Every table and column, checked with the same rules {@code watch} applies, by reading the catalog only. */
    private void checkCatalog(DaemonPlan.Connection connection, List<DaemonConfig.Consumer> consumers, Consumer<DaemonPlan.Connection> reachable) {
        try {
            reachable.accept(connection);
        } catch (EpidemicException e) {
            if (problems.isEmpty()) {
                throw e; // the file is right; the database is not there: a failure, not bad input
            }
            problems.add("database", e.getMessage());
            return;
        }
        EpidemicAdmin admin = EpidemicAdmin.create(connection.url(), connection.user(), connection.password(), connection.schema());
        if (consumers == null) {
            return;
        }
        for (int i = 0; i < consumers.size(); i++) {
            DaemonConfig.Consumer consumer = consumers.get(i);
            List<DaemonConfig.Table> tables = consumer == null || consumer.tables() == null ? List.of() : consumer.tables();
            for (int j = 0; j < tables.size(); j++) {
                DaemonConfig.Table table = tables.get(j);
                if (table == null || table.table() == null || table.table().isBlank()) {
                    continue;
                }
                String path = "consumers[" + i + "].tables[" + j + "]";
                List<String> columns = table.columns() == null ? List.of()
                        : table.columns().stream().filter(c -> c != null && !c.isBlank()).toList();
                try {
                    admin.checkWatch(table.table().strip(), columns, List.of());
                } catch (InvalidInputException e) {
                    problems.add(path + (e.getMessage().startsWith("column ") ? ".columns" : ".table"), e.getMessage());
                    continue;
                }
                if (table.where() != null && !table.where().isBlank()) {
                    try {
                        admin.checkWhere(table.table().strip(), table.where());
                    } catch (InvalidInputException e) {
                        problems.add(path + ".where", e.getMessage());
                    }
                }
            }
        }
    }
}
