package dev.epidemic.sink.rabbitmq;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.Operation;
import dev.epidemic.engine.Databases;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.testing.CapturedErr;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The RabbitMQ sink against the local broker and a real database: what arrives (body as {@code epidemic tail}
 * prints it, properties, headers, routing key, order), redelivery by message id, a broker cut off and back,
 * and refusals that become dead letters.
 */
class RabbitMqSinkTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    static String url;

    Broker broker;

    @BeforeAll
    static void database() {
        url = TestDatabase.get().createDatabase();
    }

    @BeforeEach
    void connect() throws Exception {
        broker = new Broker();
    }

    @AfterEach
    void clean() throws Exception {
        broker.close();
    }

    /** What {@code epidemic tail} prints for each change, in delivery order: the expected bodies. */
    private static final class TailLines implements ChangeHandler {
        final List<String> lines = new CopyOnWriteArrayList<>();
        final List<Change> changes = new CopyOnWriteArrayList<>();

        Epidemic.Builder registeredOn(Epidemic.Builder builder, String table) {
            return builder.handle(table, List.of(), ChangeHandler.forEveryChange(change -> {
                changes.add(change);
                lines.add(Epidemic.toJson(change));
            }));
        }
    }

    @Test
    void publishesAMixedWorkloadAsTailPrintsItWithPropertiesHeadersAndRoutingKeysInOrder() throws Exception {
        // Given a table whose changes go to a topic exchange, and a queue bound to all of them
        Sql.exec(url, "CREATE TABLE orders (id int PRIMARY KEY, item text, qty int)");
        String exchange = broker.topicExchange("orders");
        String queue = broker.queue(exchange, "public.orders.#");
        RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of(Broker.URI, exchange), ChangeFormat.named("epidemic", null));
        TailLines tail = new TailLines();
        try (Epidemic engine = tail.registeredOn(Epidemic.builder(url, null, null).consumer("orders-to-rabbit")
                .handleBatches("public.orders", List.of(), sink, FailurePolicy.deadLetterAfter(3)), "public.orders").build().start()) {
            // When a mixed workload runs: a multi-row transaction, updates, a delete, a truncate, an insert after it
            Sql.exec(url, "BEGIN; INSERT INTO orders VALUES (1, 'pen', 1), (2, 'ink', 2), (3, 'pad', 3); COMMIT",
                    "UPDATE orders SET qty = 10 WHERE id = 2",
                    "UPDATE orders SET qty = 11 WHERE id = 2",
                    "DELETE FROM orders WHERE id = 3",
                    "UPDATE orders SET item = 'quill' WHERE id = 1",
                    "TRUNCATE orders",
                    "INSERT INTO orders VALUES (4, 'nib', 4)");
            List<Broker.Received> received = broker.take(queue, 9, WAIT);

            // Then every change arrived once, in order, its body exactly the tail line
            await().atMost(WAIT).until(() -> tail.lines.size() == 9);
            assertThat(received).extracting(Broker.Received::body).containsExactlyElementsOf(tail.lines);
            assertThat(received).extracting(Broker.Received::routingKey).containsExactly(
                    "public.orders.insert", "public.orders.insert", "public.orders.insert", "public.orders.update", "public.orders.update",
                    "public.orders.delete", "public.orders.update", "public.orders.truncate", "public.orders.insert");
            for (int i = 0; i < received.size(); i++) {
                Change change = tail.changes.get(i);
                Broker.Received message = received.get(i);
                assertThat(message.messageId()).isEqualTo(Long.toString(change.id()));
                assertThat(message.contentType()).isEqualTo("application/json");
                assertThat(message.deliveryMode()).as("persistent").isEqualTo(2);
                assertThat(message.headers()).isEqualTo(Map.of(
                        "epidemic-change-id", Long.toString(change.id()), "epidemic-txid", Long.toString(change.txid()),
                        "epidemic-table", "public.orders", "epidemic-op", change.operation().name().toLowerCase()));
            }
            assertThat(received.subList(0, 3)).extracting(m -> m.headers().get("epidemic-txid")).as("one transaction").containsOnly(
                    received.get(0).headers().get("epidemic-txid"));
        }
        sink.close();
    }

    @Test
    void publishesCloudEventsInBinaryModeWithTheirCeHeaders() throws Exception {
        // Given a sink in the cloudevents format with its own routing key template
        Sql.exec(url, "CREATE TABLE parcels (id int PRIMARY KEY, weight int)");
        String exchange = broker.topicExchange("parcels");
        String queue = broker.queue(exchange, "changes.parcels");
        RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of(Broker.URI, exchange).withRoutingKey("changes.{table}"),
                ChangeFormat.named("cloudevents", Databases.fromUrl(url, null, null)));
        TailLines tail = new TailLines();
        try (Epidemic engine = tail.registeredOn(Epidemic.builder(url, null, null).consumer("parcels-to-rabbit")
                .handleBatches("parcels", List.of(), sink, FailurePolicy.deadLetterAfter(3)), "parcels").build().start()) {
            // When a row is inserted
            Sql.exec(url, "INSERT INTO parcels VALUES (1, 5)");
            Broker.Received message = broker.take(queue, 1, WAIT).get(0);

            // Then the body is the event's data (the tail line) and its attributes are ce- headers
            await().atMost(WAIT).until(() -> tail.lines.size() == 1);
            assertThat(message.body()).isEqualTo(tail.lines.get(0));
            assertThat(message.contentType()).isEqualTo("application/json");
            assertThat(message.headers()).containsEntry("ce-specversion", "1.0").containsEntry("ce-id", message.messageId())
                    .containsKeys("ce-type", "ce-source", "epidemic-change-id");
        }
        sink.close();
    }

    private static Change change(long id, String table, Operation op, int row) {
        return new Change(id, 900 + id, table, op, Map.of("id", row), null, Map.of("id", row), Instant.parse("2026-12-08T00:00:00Z"));
    }

    @Test
    void aBatchPublishedAgainCarriesTheSameMessageIdsSoARedeliveryIsRecognisable() throws Exception {
        // Given a sink, and a batch it has published
        String exchange = broker.topicExchange("again");
        String queue = broker.queue(exchange, "#");
        List<Change> batch = List.of(change(41, "public.items", Operation.INSERT, 1), change(42, "public.items", Operation.UPDATE, 1));
        try (RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of(Broker.URI, exchange), ChangeFormat.named("epidemic", null))) {
            sink.handle(batch);
            // When the same batch is handed over again (as after a crash before the position was stored)
            sink.handle(batch);
        }
        // Then both copies arrive in order, each with its change's id as message-id
        assertThat(broker.take(queue, 4, WAIT)).extracting(Broker.Received::messageId).containsExactly("41", "42", "41", "42");
    }

    @Test
    void waitsForABrokerThatIsCutOffAndDeliversEverythingWhenItIsBack() throws Exception {
        // Given a sink that reaches the broker through a relay, and changes flowing
        Sql.exec(url, "CREATE TABLE payments (id int PRIMARY KEY, amount int)");
        String exchange = broker.topicExchange("payments");
        String queue = broker.queue(exchange, "#");
        List<Broker.Received> received = new ArrayList<>();
        try (TcpProxy proxy = new TcpProxy(5672); CapturedErr log = new CapturedErr()) {
            RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of("amqp://guest:guest@127.0.0.1:" + proxy.port(), exchange)
                    .withConfirmTimeout("2s"), ChangeFormat.named("epidemic", null));
            try (Epidemic engine = Epidemic.builder(url, null, null).consumer("payments-to-rabbit")
                    .handleBatches("payments", List.of(), sink, FailurePolicy.deadLetterAfter(2)).build().start()) {
                Sql.exec(url, "INSERT INTO payments SELECT g, g FROM generate_series(1, 10) g");
                received.addAll(broker.take(queue, 10, WAIT));

                // When the broker is cut off while more changes are written
                proxy.stop();
                Sql.exec(url, "INSERT INTO payments SELECT g, g FROM generate_series(11, 20) g", "UPDATE payments SET amount = 0 WHERE id = 5");
                await().atMost(WAIT).until(() -> log.text().contains("RabbitMQ 127.0.0.1:" + proxy.port() + ": "));
                await().atMost(WAIT).until(() -> log.text().lines().filter(l -> l.contains("waiting for the broker to accept connections")).count() >= 3);
                assertThat(broker.take(queue)).as("nothing gets through while it is cut off").isEmpty();

                // Then, when it is back, every change arrives, and none became a dead letter
                proxy.start();
                received.addAll(broker.take(queue, 11, WAIT));
            } finally {
                sink.close();
            }
            assertThat(log.text()).containsPattern("WARN .*RabbitMQ 127\\.0\\.0\\.1:" + proxy.port()
                    + ": cannot connect \\(.*\\); waiting for the broker to accept connections: publishing \\d+ change\\(s\\) from change \\d+ again in \\d+ ms \\(attempt \\d+\\)");
            assertThat(log.text()).doesNotContain("guest:guest");
        }
        assertThat(received.stream().map(Broker.Received::body).filter(b -> b.contains("\"op\":\"INSERT\"")).map(b -> b.replaceAll(".*\"id\":(\\d+)}.*", "$1"))
                .distinct()).hasSize(20);
        assertThat(received).extracting(Broker.Received::body).anyMatch(b -> b.contains("\"op\":\"UPDATE\""));
        assertThat(EpidemicAdmin.create(url, null, null, "epidemic").deadLetters("payments-to-rabbit")).isEmpty();
    }

    @Test
    void anUnroutableMessageIsRefusedAndBecomesADeadLetterWhileTheOthersGoOn() throws Exception {
        // Given an exchange whose only queue takes inserts and updates, not deletes
        Sql.exec(url, "CREATE TABLE tickets (id int PRIMARY KEY, seat text)");
        String exchange = broker.topicExchange("tickets");
        String queue = broker.queue(exchange, "public.tickets.insert");
        broker.queue(exchange, "public.tickets.update");
        try (RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of(Broker.URI, exchange), ChangeFormat.named("epidemic", null));
             Epidemic engine = Epidemic.builder(url, null, null).consumer("tickets-to-rabbit")
                     .handleBatches("tickets", List.of(), sink, FailurePolicy.deadLetterAfter(2).withBackoff(Duration.ofMillis(10), Duration.ofMillis(50)))
                     .build().start()) {
            // When a row is inserted, then deleted (which no queue takes), then another inserted
            Sql.exec(url, "INSERT INTO tickets VALUES (1, 'A1')");
            broker.take(queue, 1, WAIT);
            Sql.exec(url, "DELETE FROM tickets WHERE id = 1");
            EpidemicAdmin admin = EpidemicAdmin.create(url, null, null, "epidemic");
            await().atMost(WAIT).until(() -> !admin.deadLetters("tickets-to-rabbit").isEmpty());
            Sql.exec(url, "INSERT INTO tickets VALUES (2, 'B2')");

            // Then the delete is a dead letter naming the reason, and the next insert is delivered
            assertThat(broker.take(queue, 1, WAIT)).extracting(Broker.Received::body).singleElement().asString().contains("B2");
            List<DeadLetter> dead = admin.deadLetters("tickets-to-rabbit");
            assertThat(dead).singleElement().satisfies(letter -> {
                assertThat(letter.change().operation()).isEqualTo(Operation.DELETE);
                assertThat(letter.attempts()).isEqualTo(2);
                assertThat(letter.handler()).isEqualTo(RabbitMqSink.class.getName());
                assertThat(letter.error()).contains("returned change " + letter.change().id() + " of public.tickets (routing key 'public.tickets.delete')")
                        .contains("312 NO_ROUTE");
            });
        }
    }

    @Test
    void aMissingExchangeIsARefusalNamingTheChangeAndTheExchange() {
        String exchange = "epidemic-test-none-" + broker.suffix;
        try (RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of(Broker.URI, exchange), ChangeFormat.named("epidemic", null))) {
            assertThatThrownBy(() -> sink.handle(List.of(change(7, "public.items", Operation.INSERT, 1), change(8, "public.items", Operation.INSERT, 2))))
                    .isInstanceOf(RefusedByBrokerException.class)
                    .hasMessage("RabbitMQ 127.0.0.1:5672 refused change 7 of public.items and the 1 after it, up to change 8: "
                            + "NOT_FOUND - no exchange '" + exchange + "' in vhost '/'");
        }
    }

    @Test
    void declaresATopicExchangeWhenAskedTo() throws Exception {
        // Given a sink that declares its exchange, which does not exist yet
        String exchange = broker.willDeclare("declared");
        try (RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of(Broker.URI, exchange).withDeclaredExchange(null),
                ChangeFormat.named("epidemic", null))) {
            // When it publishes before any queue is bound, the exchange is there, but the message is refused as unroutable
            assertThatThrownBy(() -> sink.handle(List.of(change(1, "public.items", Operation.INSERT, 1))))
                    .isInstanceOf(RefusedByBrokerException.class).hasMessageContaining("312 NO_ROUTE");
            // Then a topic binding on the declared exchange takes the next one
            String queue = broker.queue(exchange, "public.*.insert");
            sink.handle(List.of(change(2, "public.items", Operation.INSERT, 2)));
            assertThat(broker.take(queue, 1, WAIT)).extracting(Broker.Received::messageId).containsExactly("2");
        }
    }

    @Test
    void aRoutingKeyTooLongForAmqpIsARefusal() throws Exception {
        String exchange = broker.topicExchange("long");
        try (RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of(Broker.URI, exchange).withRoutingKey("x".repeat(250) + ".{table}"),
                ChangeFormat.named("epidemic", null))) {
            assertThatThrownBy(() -> sink.handle(List.of(change(9, "public.items", Operation.INSERT, 1))))
                    .isInstanceOf(RefusedByBrokerException.class).hasMessageStartingWith("RabbitMQ 127.0.0.1:5672 refused change 9 of public.items: ");
        }
    }

    @Test
    void runsWithoutNettyOnTheClassPath() {
        // The client's blocking-socket transport is used; Netty, which its POM declares, is excluded (root pom).
        assertThatThrownBy(() -> Class.forName("io.netty.channel.Channel")).isInstanceOf(ClassNotFoundException.class);
    }

    private static void rabbitmqctl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("rabbitmqctl", "--quiet"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }

    @Test
    void publishesOnANewConnectionAfterTheBrokerClosedItsConnection() throws Exception {
        // Given a sink on a virtual host of this test, whose connections the broker can close without touching anyone else's
        String vhost = "epidemic-test-" + broker.suffix;
        rabbitmqctl("add_vhost", vhost);
        try {
            rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
            com.rabbitmq.client.ConnectionFactory factory = new com.rabbitmq.client.ConnectionFactory();
            factory.setHost("127.0.0.1");
            factory.setVirtualHost(vhost);
            com.rabbitmq.client.Connection setup = factory.newConnection("epidemic-test-setup");
            com.rabbitmq.client.Channel channel = setup.createChannel();
            channel.exchangeDeclare("forced", "topic");
            channel.queueDeclare("received", false, false, false, null);
            channel.queueBind("received", "forced", "#");
            RabbitMqSink.Settings settings = new RabbitMqSink.Settings(null, "127.0.0.1", 5672, vhost, "guest", "guest", null, "forced", null,
                    null, null, null, null, null, null, null, null);
            try (RabbitMqSink sink = new RabbitMqSink(settings, ChangeFormat.named("epidemic", null)); CapturedErr log = new CapturedErr()) {
                sink.handle(List.of(change(1, "public.items", Operation.INSERT, 1)));

                // When the broker closes every connection of the virtual host (as an operator, or a node shutting down, does)
                rabbitmqctl("close_all_connections", "--vhost", vhost, "maintenance");
                await().atMost(WAIT).until(() -> !setup.isOpen());

                // Then the next batch is published on a new connection
                sink.handle(List.of(change(2, "public.items", Operation.INSERT, 2)));
                assertThat(log.text().lines().filter(l -> l.contains("RabbitMQ 127.0.0.1:5672 vhost " + vhost + ": connected"))).hasSize(2);
            }
            try (com.rabbitmq.client.Connection reader = factory.newConnection("epidemic-test-reader")) {
                com.rabbitmq.client.Channel readerChannel = reader.createChannel();
                List<String> ids = new ArrayList<>();
                for (var r = readerChannel.basicGet("received", true); r != null; r = readerChannel.basicGet("received", true)) {
                    ids.add(r.getProps().getMessageId());
                }
                assertThat(ids).containsExactly("1", "2");
            }
        } finally {
            rabbitmqctl("delete_vhost", vhost);
        }
    }

    @Test
    void wrongCredentialsAreARefusal() {
        RabbitMqSink.Settings settings = RabbitMqSink.Settings.of("amqp://guest@127.0.0.1:5672/%2F", "amq.topic").withPassword("not-the-password");
        try (RabbitMqSink sink = new RabbitMqSink(settings, ChangeFormat.named("epidemic", null))) {
            assertThatThrownBy(() -> sink.handle(List.of(change(5, "public.items", Operation.INSERT, 1))))
                    .isInstanceOf(RefusedByBrokerException.class)
                    .hasMessageStartingWith("RabbitMQ 127.0.0.1:5672 refused change 5 of public.items: not authorised")
                    .hasMessageNotContaining("not-the-password");
        }
    }

    @Test
    void publishesOverTlsTrustingOnlyTheGivenTrustStore(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // Given a broker behind TLS with a self-signed certificate, and an exchange with a queue
        String exchange = broker.topicExchange("tls");
        String queue = broker.queue(exchange, "#");
        try (TlsRelay relay = new TlsRelay(dir)) {
            String uri = "amqps://guest:guest@127.0.0.1:" + relay.port();
            // When the sink trusts only the JVM's certificate authorities, the handshake fails: a refusal, never "trust all"
            try (RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of(uri, exchange), ChangeFormat.named("epidemic", null))) {
                assertThatThrownBy(() -> sink.handle(List.of(change(1, "public.items", Operation.INSERT, 1))))
                        .isInstanceOf(RefusedByBrokerException.class).hasMessageContaining("TLS failed");
            }
            // When it trusts the relay's certificate (checking that it names 127.0.0.1), it publishes
            RabbitMqSink.Tls tls = new RabbitMqSink.Tls(null, relay.keyStore.toString(), TlsRelay.PASSWORD, null, null, null);
            RabbitMqSink.Settings settings = new RabbitMqSink.Settings(uri, null, null, null, null, null, null, exchange, null, null,
                    null, null, null, null, null, null, tls);
            try (RabbitMqSink sink = new RabbitMqSink(settings, ChangeFormat.named("epidemic", null))) {
                sink.handle(List.of(change(2, "public.items", Operation.INSERT, 2)));
            }
        }
        assertThat(broker.take(queue, 1, WAIT)).extracting(Broker.Received::messageId).containsExactly("2");
    }

    @Test
    void lanesPublishingAtOnceEachOnAChannelOfTheirOwnKeepEachRowsOrder() throws Exception {
        // Given one sink called from four threads at once, as the engine's lanes call it, each thread with rows of its own
        String exchange = broker.topicExchange("lanes");
        String queue = broker.queue(exchange, "#");
        int lanes = 4;
        int batches = 20;
        try (CapturedErr log = new CapturedErr();
             RabbitMqSink sink = new RabbitMqSink(RabbitMqSink.Settings.of(Broker.URI, exchange), ChangeFormat.named("epidemic", null))) {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            for (int lane = 0; lane < lanes; lane++) {
                int row = lane;
                threads.add(new Thread(() -> {
                    try {
                        for (int b = 0; b < batches; b++) {
                            long id = 1 + (long) b * lanes * 2 + row * 2L;
                            sink.handle(List.of(change(id, "public.items", Operation.UPDATE, row), change(id + 1, "public.items", Operation.UPDATE, row)));
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "lane-" + lane));
            }
            threads.forEach(Thread::start);
            for (Thread thread : threads) {
                thread.join();
            }
            assertThat(failures).isEmpty();
            assertThat(log.text().lines().filter(l -> l.contains("connected; publishing to exchange '" + exchange + "'")))
                    .as("a connection and channel per thread, whose confirms no other thread waits for").hasSize(lanes);
        }
        // Then every message arrived, and each row's message ids increase
        List<Broker.Received> received = broker.take(queue, lanes * batches * 2, WAIT);
        assertThat(received).hasSize(lanes * batches * 2);
        for (int row = 0; row < lanes; row++) {
            String rowKey = "\"key\":{\"id\":" + row + "}";
            List<Long> ids = received.stream().filter(r -> r.body().contains(rowKey)).map(r -> Long.parseLong(r.messageId())).toList();
            assertThat(ids).hasSize(batches * 2).isSorted();
        }
    }
}
