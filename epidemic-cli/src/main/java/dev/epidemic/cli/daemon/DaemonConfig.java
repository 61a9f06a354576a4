package dev.epidemic.cli.daemon;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.epidemic.engine.Databases;
import dev.epidemic.sink.nats.NatsSink;
import dev.epidemic.sink.rabbitmq.RabbitMqSink;
import dev.epidemic.sink.redis.RedisSink;

import java.util.List;
import java.util.Map;

/**
 * The daemon's configuration file as written (after {@code ${ENV}} substitution), before validation:
 * any field may be null. Keys are kebab-case in the file ({@code batch-size}); docs/daemon.md describes
 * every one. Secrets are masked in every {@code toString}, so that no log line or message can carry them.
 */
public record DaemonConfig(Database database, String plugins, List<Consumer> consumers) {

    /** Where the change log is, and how to connect. */
    public record Database(String url, String user, String password, String schema) {
        @Override
        public String toString() {
            return "Database[url=" + (url == null ? null : Databases.redact(url)) + ", user=" + user
                    + ", password=" + (password == null ? null : "***") + ", schema=" + schema + "]";
        }
    }

    /** One durable consumer: its name, where a new one starts, and what receives each table's changes. */
    public record Consumer(String name, Integer batchSize, Integer parallelism, String from, List<Table> tables) {
    }

    /**
     * A watched table and its receiver: either a handler class or a built-in sink; {@code where}, a row filter
     * (docs/row-filters.md), restricts it to the rows that condition selects.
     */
    public record Table(String table, List<String> columns, String where, Handler handler, Sink sink, Retry retry, String onFailure) {
    }

    /** A handler class from the class path or a plugin jar, with the properties its constructor takes. */
    public record Handler(@JsonProperty("class") String className, Map<String, String> properties) {
    }

    /** A built-in sink: exactly one of them is given. */
    public record Sink(Stdout stdout, Webhook webhook, NatsSink.Settings nats, RabbitMqSink.Settings rabbitmq, RedisSink.Settings redis) {
    }

    /** Prints each change as one JSON line on standard output, in {@code format} (docs/formats.md). */
    public record Stdout(String format) {
    }

    /** POSTs changes as JSON in {@code format} (docs/formats.md) to {@code url}, signed with {@code secret}. */
    public record Webhook(String url, String secret, String timeout, Integer batch, Map<String, String> headers, String format) {
        @Override
        public String toString() {
            return "Webhook[url=" + url + ", secret=" + (secret == null ? null : "***") + ", timeout=" + timeout
                    + ", batch=" + batch + ", headers=" + (headers == null ? null : headers.keySet()) + ", format=" + format + "]";
        }
    }

    /** How often, and how far apart, a failing change is tried before the on-failure step. */
    public record Retry(Integer attempts, String backoff, String maxBackoff) {
    }
}
