package dev.epidemic.cli;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code epidemic run} with a {@code rabbitmq} sink against the local broker: messages exactly as
 * {@code epidemic tail --format} prints the same changes, a {@code kill -9} mid-stream that loses nothing,
 * and configuration mistakes named by their key.
 */
class RabbitMqSinkDaemonTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    Connection connection;
    Channel channel;
    String exchange;
    String queue;

    @BeforeEach
    void broker() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        connection = factory.newConnection("epidemic-test");
        channel = connection.createChannel();
        exchange = "epidemic-test-" + UUID.randomUUID();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, false, true, null);
        queue = channel.queueDeclare("epidemic-test-" + UUID.randomUUID(), false, false, false, null).getQueue();
        channel.queueBind(queue, exchange, "#");
    }

    @AfterEach
    void clean() throws Exception {
        channel.queueDelete(queue);
        channel.exchangeDelete(exchange);
        connection.close();
    }

    /** One message as it arrived: its body and message id. */
    record Received(String body, String messageId, String routingKey) {
    }

    private List<Received> take() throws IOException {
        List<Received> received = new ArrayList<>();
        for (GetResponse r = channel.basicGet(queue, true); r != null; r = channel.basicGet(queue, true)) {
            received.add(new Received(new String(r.getBody(), StandardCharsets.UTF_8), r.getProps().getMessageId(), r.getEnvelope().getRoutingKey()));
        }
        return received;
    }

    private List<Received> take(int count) {
        List<Received> all = new ArrayList<>();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            all.addAll(take());
            return all.size() >= count;
        });
        return all;
    }

    private Path config(String url, String consumer, String rabbitmq) throws IOException {
        return Files.writeString(dir.resolve(consumer + ".yaml"), """
                database: {url: '%s'}
                consumers:
                  - name: %s
                    batch-size: 50
                    tables:
                      - table: public.items
                        sink:
                          rabbitmq: {%s}
                """.formatted(url, consumer, rabbitmq));
    }

    @Test
    void publishesEveryChangeExactlyAsTailPrintsItInEachFormat() throws Exception {
        for (String format : List.of("epidemic", "debezium")) {
            // Given a daemon whose sink publishes in this format, the broker's password coming from the environment
            String url = TestDatabase.get().createDatabase();
            Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, v text, n numeric)");
            String yaml = Files.readString(config(url, "to-rabbit", "host: 127.0.0.1, username: guest, password: '${RABBIT_PASSWORD}', exchange: "
                    + exchange + ", format: " + format));
            try (InProcessDaemon daemon = InProcessDaemon.start(yaml.replace("${RABBIT_PASSWORD}", "guest"))) {
                // When a mixed workload runs
                Sql.exec(url, "BEGIN; INSERT INTO items VALUES (1, 'a', 1.5), (2, 'b', 2); COMMIT",
                        "UPDATE items SET v = 'c' WHERE id = 1", "DELETE FROM items WHERE id = 2", "TRUNCATE items", "INSERT INTO items VALUES (3, 'd', 3)");
                List<Received> received = take(6);

                // Then the messages are the lines tail prints for the same changes, in the same order
                Cli.Result tail = Cli.run("--url", url, "tail", "--consumer", "tail-" + format, "--format", format, "--max", "6");
                assertThat(tail.exitCode()).as(tail.err()).isZero();
                assertThat(received).extracting(r -> withoutProcessingTime(r.body())).as(format)
                        .containsExactlyElementsOf(tail.outLines().stream().map(RabbitMqSinkDaemonTest::withoutProcessingTime).toList());
                assertThat(received).extracting(Received::routingKey).containsExactly("public.items.insert", "public.items.insert",
                        "public.items.update", "public.items.delete", "public.items.truncate", "public.items.insert");
            }
        }
    }

    /** Debezium's top-level ts_ms, ts_us and ts_ns say when the event was made, which differs between the sink and tail. */
    private static String withoutProcessingTime(String line) {
        return line.replaceFirst(",\"ts_ms\":\\d+,\"ts_us\":\\d+,\"ts_ns\":\\d+}$", "}");
    }

    @Test
    void aKill9MidStreamLosesNothingAndARedeliveryKeepsItsMessageId() throws Exception {
        // Given a daemon process publishing a table that a writer keeps inserting into
        String url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, v text)");
        assertThat(Cli.run("--url", url, "watch", "items").exitCode()).isZero();
        String password = "guest";
        Path config = config(url, "items-to-rabbit", "uri: 'amqp://guest:${RABBIT_PASSWORD}@127.0.0.1:5672/%2F', exchange: " + exchange);
        Map<String, String> environment = Map.of("RABBIT_PASSWORD", password);
        CliProcess first = CliProcess.start(environment, "run", "--config", config.toString());
        first.awaitLog("Consumer items-to-rabbit started", WAIT);
        assertThat(first.psArgs()).doesNotContain("guest");

        List<Received> received = new ArrayList<>();
        List<Integer> inserted = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            try (java.sql.Connection c = DriverManager.getConnection(url); PreparedStatement insert = c.prepareStatement("INSERT INTO items VALUES (?, 'x')")) {
                for (int id = 1; !stop.get(); id++) {
                    insert.setInt(1, id);
                    insert.executeUpdate();
                    inserted.add(id);
                    Thread.sleep(3);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "writer");
        writer.start();
        try {
            // When the daemon is killed while changes flow, and started again
            received.addAll(take(200));
            first.kill();
            CliProcess second = CliProcess.start(environment, "run", "--config", config.toString());
            second.awaitLog("Consumer items-to-rabbit started", WAIT);
            Thread.sleep(500);
            stop.set(true);
            writer.join();

            // Then every inserted row arrives at least once; a change sent twice carries the same message id
            await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
                received.addAll(take());
                return rowsIn(received).containsAll(inserted);
            });
            second.terminate();
            assertThat(second.waitFor(Duration.ofSeconds(30))).as(second.err()).isZero();
            assertThat(first.err() + second.err()).doesNotContain("guest:guest").doesNotContain("password=guest");
        } finally {
            stop.set(true);
            writer.join();
        }
        Map<String, Set<String>> bodiesById = new java.util.HashMap<>();
        received.forEach(r -> bodiesById.computeIfAbsent(r.messageId(), id -> new HashSet<>()).add(r.body()));
        assertThat(bodiesById.values()).as("one body per message id").allSatisfy(bodies -> assertThat(bodies).hasSize(1));
        System.out.printf("rabbitmq kill -9: %d rows inserted, %d messages, %d sent twice%n",
                inserted.size(), received.size(), received.size() - bodiesById.size());
    }

    private static Set<Integer> rowsIn(List<Received> received) {
        Set<Integer> rows = new HashSet<>();
        for (Received r : received) {
            rows.add(Integer.parseInt(r.body().replaceAll(".*\"key\":\\{\"id\":(\\d+)}.*", "$1")));
        }
        return rows;
    }

    @Test
    void wrongAndMissingKeysAreNamedWithExit2() throws IOException {
        String url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, v text)");
        Path config = config(url, "bad", "host: 127.0.0.1, exchnage: x, password: sup3r-secret, routing-key: '{schema}.{tbl}'");
        Cli.Result result = Cli.run("run", "--config", config.toString());
        assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
        String prefix = "epidemic: " + config + ": consumers[0].tables[0].sink.rabbitmq.";
        assertThat(result.errLines()).containsExactly(
                prefix + "exchnage: unknown key; expected one of uri, host, port, virtual-host, username, password, password-file, exchange,"
                        + " declare-exchange, exchange-type, routing-key, persistent, mandatory, format, confirm-timeout, connect-timeout, tls",
                prefix + "exchange: missing required key (\"\" is the default exchange, which routes by queue name)",
                prefix + "routing-key: unknown placeholder {tbl} in '{schema}.{tbl}'; use {schema}, {table} and {op}");
        assertThat(result.err()).doesNotContain("sup3r-secret");

        Path both = Files.writeString(dir.resolve("both.yaml"), Files.readString(config(url, "both", "exchange: x"))
                .replace("rabbitmq: {exchange: x}", "{rabbitmq: {exchange: x}, stdout: {}}"));
        Cli.Result twoSinks = Cli.run("run", "--config", both.toString());
        assertThat(twoSinks.exitCode()).as(twoSinks.err()).isEqualTo(2);
        assertThat(twoSinks.errLines()).containsExactly("epidemic: " + both + ": consumers[0].tables[0].sink: give exactly one of stdout, webhook, nats, rabbitmq and redis");
    }

    @Test
    void everyKeyIsReadIntoTheSinksSettings() {
        // Given a file with every key of the sink, the password from the environment
        String yaml = """
                database: {url: 'jdbc:postgresql://127.0.0.1/x'}
                consumers:
                  - name: c
                    tables:
                      - table: items
                        sink:
                          rabbitmq:
                            host: rabbit.internal
                            port: 5673
                            virtual-host: prod
                            username: app
                            password: ${RABBIT_PASSWORD}
                            exchange: changes
                            declare-exchange: true
                            exchange-type: fanout
                            routing-key: '{table}.{op}'
                            persistent: false
                            mandatory: false
                            format: cloudevents
                            confirm-timeout: 5s
                            connect-timeout: 2s
                            tls: {enabled: true, trust-store: /ca.p12, trust-store-password: ts, key-store: /me.p12, key-store-password: ks, verify-hostname: false}
                """;
        dev.epidemic.cli.daemon.ConfigLoader.Loaded loaded = dev.epidemic.cli.daemon.ConfigLoader.parse(yaml, Map.of("RABBIT_PASSWORD", "pw"));
        // Then each reaches its component
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.config().consumers().get(0).tables().get(0).sink().rabbitmq()).isEqualTo(new dev.epidemic.sink.rabbitmq.RabbitMqSink.Settings(
                null, "rabbit.internal", 5673, "prod", "app", "pw", null, "changes", true, "fanout", "{table}.{op}", false, false,
                "cloudevents", "5s", "2s", new dev.epidemic.sink.rabbitmq.RabbitMqSink.Tls(true, "/ca.p12", "ts", "/me.p12", "ks", false)));
    }
}
