package dev.epidemic.sink.rabbitmq;

import dev.epidemic.api.BatchHandler;
import dev.epidemic.api.Change;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.format.ChangeFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Publishes a table's changes to a RabbitMQ exchange, one message per change, with publisher confirms: a
 * batch is published in order on one channel and {@link #handle} returns only after the broker confirmed
 * every message of it, so the consumer's position never passes a change the broker has not taken.
 *
 * <p>Each message carries the change in the configured format (docs/formats.md; CloudEvents in binary
 * mode), the AMQP properties {@code message-id} (the change id, identical on redelivery), {@code content-type}
 * (the format's), {@code delivery-mode} 2 when persistent, {@code timestamp} and {@code app-id}
 * {@code epidemic}, and the headers {@code epidemic-change-id}, {@code epidemic-txid}, {@code epidemic-table}
 * and {@code epidemic-op} plus the format's own. The routing key comes from a template over schema, table
 * and operation.
 *
 * <p>A broker that is down, restarting, blocked or slow to confirm is waited for: the batch is published
 * again after a backoff of 100 ms doubling to 10 s, with one WARN line per attempt, until it is confirmed or
 * the sink is closed or its thread interrupted. A refusal that waiting cannot cure (no such exchange, an
 * unroutable message with {@code mandatory}, a message too large, access refused, bad credentials) throws
 * {@link RefusedByBrokerException} naming the changes and the broker's reason, so that the table's
 * {@code on-failure} policy applies. docs/sinks/rabbitmq.md has the details.
 *
 * <pre>{@code
 * RabbitMqSink sink = RabbitMqSink.create(
 *         RabbitMqSink.Settings.of("amqp://app@rabbit.internal:5672/%2F", "orders").withPassword(System.getenv("RABBIT_PASSWORD")),
 *         dataSource);
 * Epidemic.builder(dataSource).consumer("orders-to-rabbit")
 *         .handleBatches("public.orders", List.of(), sink, FailurePolicy.deadLetterAfter(5)).build().start();
 * }</pre>
 *
 * <p>Thread-safe: with the engine's {@code parallelism(n)} each lane's thread publishes on a connection and
 * channel of its own.
 */
public final class RabbitMqSink implements BatchHandler, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RabbitMqSink.class);
    static final Duration FIRST_WAIT = Duration.ofMillis(100);
    static final Duration LONGEST_WAIT = Duration.ofSeconds(10);

    /** Settings and connection factory, never connected itself: each thread that publishes gets a sibling. */
    private final Publisher template;
    /**
     * A connection and channel per publishing thread: with the engine's parallelism, lanes publish at once, and
     * confirms are waited for per channel. A row's changes stay in one lane, and a lane's batch is confirmed
     * before its next one is published, on whichever channel, so a row's order holds.
     */
    private final Map<Thread, Publisher> publishers = new ConcurrentHashMap<>();
    private final Object waits = new Object();
    private volatile boolean closed;

    /**
     * A sink publishing in {@code format} ({@link ChangeFormat#binaryMode()} is applied here).
     *
     * @throws InvalidInputException naming the first wrong setting
     */
    public RabbitMqSink(Settings settings, ChangeFormat format) {
        settings.validate();
        this.template = new Publisher(settings, format.binaryMode());
    }

    /** A sink in the format {@code settings} names, whose changes come from {@code dataSource} (see {@link ChangeFormat#named}). */
    public static RabbitMqSink create(Settings settings, DataSource dataSource) {
        settings.validate();
        return new RabbitMqSink(settings, ChangeFormat.named(settings.format() == null ? "epidemic" : settings.format(), dataSource));
    }

    /**
     * Publishes the changes in order and waits for the broker's confirms, waiting out broker outages.
     *
     * @throws RefusedByBrokerException the broker refused a message for good
     * @throws InterruptedException     the thread was interrupted, or the sink closed, while waiting for the broker
     */
    @Override
    public void handle(List<Change> changes) throws RefusedByBrokerException, InterruptedException {
        if (changes.isEmpty()) {
            return;
        }
        Publisher publisher = publishers.computeIfAbsent(Thread.currentThread(), thread -> template.sibling());
        long wait = FIRST_WAIT.toMillis();
        for (int attempt = 1; ; attempt++) {
            throwIfClosed(changes);
            Publisher.Outcome outcome = publisher.publish(changes);
            if (outcome == null) {
                return;
            }
            if (outcome.refusal() != null) {
                throw outcome.refusal();
            }
            throwIfClosed(changes);
            // Transient: the position stays before these changes until the broker has them, however long that takes.
            log.warn("RabbitMQ {}: {}: publishing {} change(s) from change {} again in {} ms (attempt {})",
                    publisher.address(), outcome.transientReason(), changes.size(), changes.get(0).id(), wait, attempt + 1);
            pause(wait);
            wait = Math.min(LONGEST_WAIT.toMillis(), wait * 2);
        }
    }

    private void throwIfClosed(List<Change> changes) throws InterruptedException {
        if (closed) {
            throw new InterruptedException("RabbitMQ sink closed while " + changes.size() + " change(s) were not confirmed");
        }
    }

    private void pause(long millis) throws InterruptedException {
        long until = System.nanoTime() + millis * 1_000_000;
        synchronized (waits) {
            for (long left = millis; left > 0 && !closed; left = (until - System.nanoTime()) / 1_000_000) {
                waits.wait(left);
            }
        }
    }

    /**
     * Ends a wait for the broker (the waiting {@link #handle} throws) and closes the connections. Close the
     * consumer first: a sink closed under a running consumer fails its batch like any handler failure.
     */
    @Override
    public void close() {
        closed = true;
        synchronized (waits) {
            waits.notifyAll();
        }
        publishers.values().forEach(Publisher::close);
    }

    /**
     * The sink's settings, as a library user builds them ({@link #of}) and as the daemon reads them from the
     * {@code rabbitmq:} key of a table's {@code sink:} (kebab-case keys; docs/daemon.md). Any component may be
     * null for its default; {@link #problems()} checks them all at once. {@code toString} masks every secret.
     *
     * @param uri                 {@code amqp://USER:PASSWORD@HOST:PORT/VHOST} or {@code amqps://...} (TLS); instead of
     *                            host, port and virtual-host
     * @param host                default {@code localhost}
     * @param port                default 5672, or 5671 with TLS
     * @param virtualHost         default {@code /}
     * @param username            default {@code guest} (or the URI's)
     * @param password            default {@code guest} (or the URI's); in the daemon write {@code ${VARIABLE}}
     * @param passwordFile        a file whose content (without a final newline) is the password; instead of password
     * @param exchange            required; it must exist, unless {@code declareExchange}
     * @param declareExchange     declare the exchange (durable) when connecting; default false
     * @param exchangeType        the type a declared exchange gets: default {@code topic}
     * @param routingKey          template over {@code {schema}}, {@code {table}} and {@code {op}}; default {@code {schema}.{table}.{op}}
     * @param persistent          delivery mode 2 (the broker writes messages to disk in durable queues); default true
     * @param mandatory           a message no queue takes is returned, and refused; default true. False: it is dropped
     * @param format              {@code epidemic} (default), {@code debezium} or {@code cloudevents}
     * @param confirmTimeout      how long to wait for a batch's confirms before publishing it again; default {@code 30s}
     * @param connectTimeout      TCP connect and AMQP handshake timeout; default {@code 10s}
     * @param tls                 TLS options; {@code amqps://} also turns TLS on
     */
    public record Settings(String uri, String host, Integer port, String virtualHost, String username, String password,
                           String passwordFile, String exchange, Boolean declareExchange, String exchangeType, String routingKey,
                           Boolean persistent, Boolean mandatory, String format, String confirmTimeout, String connectTimeout, Tls tls) {

        /** Settings for {@code exchange} on the broker at {@code uri} ({@code amqp://...}), everything else by default. */
        public static Settings of(String uri, String exchange) {
            return new Settings(uri, null, null, null, null, null, null, exchange, null, null, null, null, null, null, null, null, null);
        }

        public Settings withPassword(String password) {
            return new Settings(uri, host, port, virtualHost, username, password, passwordFile, exchange, declareExchange, exchangeType,
                    routingKey, persistent, mandatory, format, confirmTimeout, connectTimeout, tls);
        }

        /** Declares the exchange, of {@code type} ({@code topic}, {@code direct}, {@code fanout}, {@code headers}), when connecting. */
        public Settings withDeclaredExchange(String type) {
            return new Settings(uri, host, port, virtualHost, username, password, passwordFile, exchange, true, type,
                    routingKey, persistent, mandatory, format, confirmTimeout, connectTimeout, tls);
        }

        public Settings withRoutingKey(String template) {
            return new Settings(uri, host, port, virtualHost, username, password, passwordFile, exchange, declareExchange, exchangeType,
                    template, persistent, mandatory, format, confirmTimeout, connectTimeout, tls);
        }

        public Settings withFormat(String format) {
            return new Settings(uri, host, port, virtualHost, username, password, passwordFile, exchange, declareExchange, exchangeType,
                    routingKey, persistent, mandatory, format, confirmTimeout, connectTimeout, tls);
        }

        public Settings withConfirmTimeout(String timeout) {
            return new Settings(uri, host, port, virtualHost, username, password, passwordFile, exchange, declareExchange, exchangeType,
                    routingKey, persistent, mandatory, format, timeout, connectTimeout, tls);
        }

        /**
         * Every problem of these settings, one line each, starting with the key as the daemon's file spells it
         * ({@code exchange: missing required key}); empty when they are right. Reads the password file.
         */
        public List<String> problems() {
            return SettingsCheck.problems(this);
        }

        /** @throws InvalidInputException naming the first problem's key (see {@link #problems()}) */
        public void validate() {
            List<String> problems = problems();
            if (!problems.isEmpty()) {
                throw new InvalidInputException("rabbitmq." + problems.get(0));
            }
        }

        /** The secrets these settings hold (passwords, the URI's password), which no output may show. */
        public List<String> secrets() {
            return SettingsCheck.secrets(this);
        }

        @Override
        public String toString() {
            return "Settings[uri=" + (uri == null ? null : SettingsCheck.redact(uri)) + ", host=" + host + ", port=" + port
                    + ", virtualHost=" + virtualHost + ", username=" + username + ", password=" + (password == null ? null : "***")
                    + ", passwordFile=" + passwordFile + ", exchange=" + exchange + ", declareExchange=" + declareExchange
                    + ", exchangeType=" + exchangeType + ", routingKey=" + routingKey + ", persistent=" + persistent
                    + ", mandatory=" + mandatory + ", format=" + format + ", confirmTimeout=" + confirmTimeout
                    + ", connectTimeout=" + connectTimeout + ", tls=" + tls + "]";
        }
    }

    /**
     * TLS to the broker (the client's blocking socket transport with the JDK's TLS). Without a trust store the
     * JVM's default trust store decides which broker certificates are trusted; never "trust everything".
     *
     * @param enabled            TLS on; {@code amqps://} turns it on too
     * @param trustStore         a PKCS12 or JKS file with the CA certificates to trust
     * @param trustStorePassword its password, if it has one
     * @param keyStore           a PKCS12 or JKS file with the client's certificate and key, for brokers that ask for one
     * @param keyStorePassword   its password (also the key's)
     * @param verifyHostname     check that the broker's certificate names the host; default true
     */
    public record Tls(Boolean enabled, String trustStore, String trustStorePassword, String keyStore, String keyStorePassword,
                      Boolean verifyHostname) {
        @Override
        public String toString() {
            return "Tls[enabled=" + enabled + ", trustStore=" + trustStore + ", trustStorePassword=" + (trustStorePassword == null ? null : "***")
                    + ", keyStore=" + keyStore + ", keyStorePassword=" + (keyStorePassword == null ? null : "***")
                    + ", verifyHostname=" + verifyHostname + "]";
        }
    }

    /** For messages: where the sink publishes (no credentials). */
    @Override
    public String toString() {
        return "RabbitMqSink[" + template.address() + "]";
    }
}
