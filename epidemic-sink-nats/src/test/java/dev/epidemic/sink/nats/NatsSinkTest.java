package dev.epidemic.sink.nats;

import dev.epidemic.api.Change;
import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.Operation;
import dev.epidemic.api.RejectedChangeException;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import io.nats.client.api.MessageInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The NATS sink against the machine's NATS server with JetStream (127.0.0.1:4222) and a real database. */
@Timeout(120) // a refusal taken for an outage would retry without end
class NatsSinkTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    static String url;
    static EpidemicAdmin admin;

    JetStreams streams;
    String stream;
    String prefix;

    @BeforeAll
    static void database() {
        url = TestDatabase.get().createDatabase();
        admin = EpidemicAdmin.create(url, null, null, "epidemic");
    }

    @BeforeEach
    void stream() throws Exception {
        streams = new JetStreams(JetStreams.LOCAL);
        stream = JetStreams.uniqueName();
        prefix = stream.toLowerCase();
        streams.create(stream, prefix, -1);
    }

    @AfterEach
    void deleteStreams() throws Exception {
        streams.close();
    }

    private NatsSink.Settings settings() {
        return NatsSink.Settings.forUrl(JetStreams.LOCAL).withSubject(prefix + ".{schema}.{table}.{op}").withStream(stream);
    }

    private static Change change(long id, String table, Operation op, int row, String name) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("id", row);
        values.put("name", name);
        return new Change(id, 1000 + id, table, op, op == Operation.TRUNCATE ? null : Map.of("id", row),
                op == Operation.INSERT || op == Operation.TRUNCATE ? null : values,
                op == Operation.DELETE || op == Operation.TRUNCATE ? null : values, Instant.parse("2026-12-08T01:00:00Z"));
    }

    private static String body(MessageInfo message) {
        return new String(message.getData(), StandardCharsets.UTF_8);
    }

    @Test
    void publishesEveryChangeAsTailPrintsItWithHeadersInDeliveryOrder() throws Exception {
        // Given a table whose changes go to NATS, and the same changes collected as tail would print them
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, name text)");
        Collector collected = new Collector();
        try (NatsSink sink = new NatsSink(settings(), ChangeFormat.named("epidemic", null));
             Epidemic engine = Epidemic.builder(url, null, null).consumer("to-nats").batchSize(4)
                     .handleBatches("items", List.of(), sink, FailurePolicy.deadLetterAfter(3))
                     .handle("items", List.of(), collected, FailurePolicy.deadLetterAfter(3))
                     .build().start()) {
            // When a mixed workload commits: single rows, a multi-row transaction, updates, deletes, a truncate
            Sql.exec(url, "INSERT INTO items VALUES (1, 'one')", "INSERT INTO items VALUES (2, 'two')",
                    "UPDATE items SET name = 'uno' WHERE id = 1",
                    "BEGIN; INSERT INTO items VALUES (3, 'three'), (4, 'four'); UPDATE items SET name = 'dos' WHERE id = 2;"
                            + " DELETE FROM items WHERE id = 1; UPDATE items SET name = 'tres' WHERE id = 3; COMMIT",
                    "DELETE FROM items WHERE id = 4", "TRUNCATE items", "INSERT INTO items VALUES (5, 'five')");
            await().atMost(WAIT).until(() -> streams.count(stream) >= 11 && collected.size() >= 11);
        }

        // Then the stream holds each change once, in delivery order, as tail prints it, with its headers
        List<Change> expected = collected.changes();
        List<MessageInfo> messages = streams.messages(stream);
        assertThat(expected).hasSize(11);
        assertThat(messages).extracting(NatsSinkTest::body).containsExactlyElementsOf(expected.stream().map(Epidemic::toJson).toList());
        for (int i = 0; i < expected.size(); i++) {
            Change change = expected.get(i);
            MessageInfo message = messages.get(i);
            String op = change.operation().name().toLowerCase();
            assertThat(message.getSubject()).isEqualTo(prefix + ".public.items." + op);
            assertThat(message.getHeaders().getFirst("Nats-Msg-Id")).isEqualTo(Long.toString(change.id()));
            assertThat(message.getHeaders().getFirst("epidemic-change-id")).isEqualTo(Long.toString(change.id()));
            assertThat(message.getHeaders().getFirst("epidemic-txid")).isEqualTo(Long.toString(change.txid()));
            assertThat(message.getHeaders().getFirst("epidemic-table")).isEqualTo("public.items");
            assertThat(message.getHeaders().getFirst("epidemic-op")).isEqualTo(op);
            assertThat(message.getHeaders().getFirst("content-type")).isEqualTo("application/json");
        }
        assertThat(expected).extracting(Change::operation).contains(Operation.INSERT, Operation.UPDATE, Operation.DELETE, Operation.TRUNCATE);
        assertThat(admin.deadLetters("to-nats")).isEmpty();
    }

    @Test
    void aBatchPublishedAgainIsAcknowledgedAsDuplicateAndStoredOnce() throws Exception {
        // Given a batch the sink published, as before a crash that came before the position was stored
        List<Change> batch = new ArrayList<>();
        for (int i = 1; i <= 50; i++) {
            batch.add(change(i, "public.orders", i % 2 == 0 ? Operation.UPDATE : Operation.INSERT, i / 2, "n" + i));
        }
        try (NatsSink sink = new NatsSink(settings().withMaxInFlight(7), ChangeFormat.named("epidemic", null))) {
            sink.handle(batch);
            // When it is handed the same batch again (a redelivery), and a batch overlapping it
            sink.handle(batch);
            sink.handle(List.of(batch.get(49), change(51, "public.orders", Operation.DELETE, 3, null)));
        }
        // Then the stream holds each change once, in order
        assertThat(streams.messages(stream)).extracting(m -> m.getHeaders().getFirst("epidemic-change-id"))
                .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, 51).mapToObj(Integer::toString).toList());
    }

    @Test
    void cloudEventsAreSentInBinaryModeWithCeHeaders() throws Exception {
        Change change = change(7, "public.orders", Operation.INSERT, 1, "a");
        try (NatsSink sink = NatsSink.create(settings().withFormat("cloudevents"), dev.epidemic.engine.Databases.fromUrl(url, null, null))) {
            sink.handle(List.of(change));
        }
        MessageInfo message = streams.messages(stream).get(0);
        assertThat(body(message)).isEqualTo(Epidemic.toJson(change));
        assertThat(message.getHeaders().getFirst("ce-id")).isEqualTo("7");
        assertThat(message.getHeaders().getFirst("ce-specversion")).isEqualTo("1.0");
        assertThat(message.getHeaders().getFirst("ce-type")).endsWith("insert");
        assertThat(message.getHeaders().getFirst("epidemic-op")).isEqualTo("insert");
    }

    @Test
    void aSubjectNoStreamTakesIsRefusedNamingTheChange() {
        NatsSink.Settings nowhere = NatsSink.Settings.forUrl(JetStreams.LOCAL).withSubject("nowhere-" + prefix + ".{table}");
        try (NatsSink sink = new NatsSink(nowhere, ChangeFormat.named("epidemic", null))) {
            assertThatThrownBy(() -> sink.handle(List.of(change(42, "public.orders", Operation.INSERT, 1, "a"))))
                    .isInstanceOf(RejectedChangeException.class)
                    .hasMessageContaining("change 42 of public.orders")
                    .hasMessageContaining("no stream takes the subject");
        }
    }

    @Test
    void aConfiguredStreamThatIsMissingOrDoesNotTakeTheSubjectIsRefused() {
        try (NatsSink missing = new NatsSink(settings().withStream(stream + "X"), ChangeFormat.named("epidemic", null));
             NatsSink elsewhere = new NatsSink(settings().withSubject("other-" + prefix + ".{table}"), ChangeFormat.named("epidemic", null))) {
            assertThatThrownBy(() -> missing.handle(List.of(change(1, "public.orders", Operation.INSERT, 1, "a"))))
                    .isInstanceOf(RejectedChangeException.class)
                    .hasMessageContaining("stream " + stream + "X does not exist");
            assertThatThrownBy(() -> elsewhere.handle(List.of(change(1, "public.orders", Operation.INSERT, 1, "a"))))
                    .isInstanceOf(RejectedChangeException.class)
                    .hasMessageContaining("stream " + stream + " does not take subject other-" + prefix + ".orders");
        }
    }

    @Test
    void createsTheStreamOverTheTemplatesSubjectsWhenAllowed() throws Exception {
        String created = JetStreams.uniqueName();
        streams.deleteAtEnd(created);
        NatsSink.Settings settings = NatsSink.Settings.forUrl(JetStreams.LOCAL).withSubject(created.toLowerCase() + ".{schema}.{table}.{op}")
                .withStream(created).withCreateStream(true);
        try (NatsSink sink = new NatsSink(settings, ChangeFormat.named("epidemic", null))) {
            sink.handle(List.of(change(1, "public.orders", Operation.INSERT, 1, "a"), change(2, "public.lines", Operation.DELETE, 1, "b")));
        }
        assertThat(streams.management().getStreamInfo(created).getConfiguration().getSubjects())
                .containsExactly(created.toLowerCase() + ".*.*.*");
        assertThat(streams.count(created)).isEqualTo(2);
    }

    @Test
    void aMessageTheStreamRefusesBecomesADeadLetterAndTheOthersGoOn() throws Exception {
        // Given a stream that takes messages of at most 400 bytes
        String small = JetStreams.uniqueName();
        streams.create(small, small.toLowerCase(), 400);
        Sql.exec(url, "CREATE TABLE notes (id int PRIMARY KEY, body text)");
        NatsSink.Settings settings = NatsSink.Settings.forUrl(JetStreams.LOCAL).withSubject(small.toLowerCase() + ".{table}").withStream(small);
        try (NatsSink sink = new NatsSink(settings, ChangeFormat.named("epidemic", null));
             Epidemic engine = Epidemic.builder(url, null, null).consumer("notes-to-nats")
                     .handleBatches("notes", List.of(), sink, FailurePolicy.deadLetterAfter(5)).build().start()) {
            // When a row too large for it commits between two small ones
            Sql.exec(url, "INSERT INTO notes VALUES (1, 'short')");
            await().atMost(WAIT).until(() -> streams.count(small) == 1);
            Sql.exec(url, "INSERT INTO notes VALUES (2, repeat('x', 1000))");
            await().atMost(WAIT).until(() -> !admin.deadLetters("notes-to-nats").isEmpty());
            Sql.exec(url, "INSERT INTO notes VALUES (3, 'short too')");
            await().atMost(WAIT).until(() -> streams.count(small) == 2);
        }
        // Then the large one is a dead letter, refused at the first attempt, and the others are in the stream
        List<DeadLetter> dead = admin.deadLetters("notes-to-nats");
        assertThat(dead).singleElement().satisfies(letter -> {
            assertThat(letter.change().key()).isEqualTo(Map.of("id", 2));
            assertThat(letter.attempts()).isEqualTo(1);
            assertThat(letter.error()).contains("refused change " + letter.change().id()).contains("message size exceeds maximum allowed");
        });
        assertThat(streams.messages(small)).extracting(m -> m.getHeaders().getFirst("epidemic-table")).containsOnly("public.notes");
    }
}
