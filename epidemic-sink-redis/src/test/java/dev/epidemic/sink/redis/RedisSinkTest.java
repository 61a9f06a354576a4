package dev.epidemic.sink.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.Change;
import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.Operation;
import dev.epidemic.engine.Databases;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

import javax.sql.DataSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sink against the Redis at 127.0.0.1:6379 and a real PostgreSQL, through the engine: what a stream holds
 * after a mixed workload, in each format; trimming; streams per operation; redelivery; a refused entry. Each
 * test writes to keys with a random prefix and deletes them.
 */
@Timeout(120) // a sink that waited for good instead of refusing would otherwise hang the build
class RedisSinkTest {
    static final String REDIS = System.getenv().getOrDefault("EPIDEMIC_TEST_REDIS", "redis://127.0.0.1:6379");
    private static final ObjectMapper JSON = new ObjectMapper();

    private String url;
    private DataSource dataSource;
    private String prefix;
    private Jedis redis;

    @BeforeEach
    void createDatabaseAndPrefix() {
        url = TestDatabase.get().createDatabase();
        dataSource = Databases.fromUrl(url, null, null);
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, name text, qty int)");
        prefix = "epidemic-test-" + UUID.randomUUID() + ":";
        RedisAddress address = RedisAddress.parse(REDIS);
        redis = new Jedis(address.host(), address.port());
    }

    @AfterEach
    void deleteStreams() {
        for (String key : redis.keys(prefix + "*")) {
            redis.del(key);
        }
        redis.close();
    }

    @Test
    void mixedWorkloadArrivesAsTailPrintsItWithHeadersInRowOrder() throws Exception {
        // Given a consumer that sends items to Redis, and a collector of the same changes as tail sees them
        Collector seen = new Collector();
        try (RedisSink sink = new RedisSink(RedisSink.Settings.of(REDIS).withStream(prefix + "{schema}.{table}"), dataSource);
             Epidemic consumer = Epidemic.builder(dataSource).consumer("redis").batchSize(4)
                     .handle("public.items", List.of(), seen)
                     .handleBatches("public.items", List.of(), sink, FailurePolicy.defaults()).build().start()) {
            // When a mixed workload runs, with multi-row transactions
            writeMixedWorkload();
            await().atMost(Duration.ofSeconds(30)).until(() -> redis.xlen(prefix + "public.items") == 14);
        }

        // Then the stream holds every change, in order, as the line tail prints, with its headers
        List<StreamEntry> entries = redis.xrange(prefix + "public.items", (StreamEntryID) null, (StreamEntryID) null);
        List<Change> changes = seen.changes();
        assertThat(entries).hasSize(changes.size());
        for (int i = 0; i < changes.size(); i++) {
            Change change = changes.get(i);
            Map<String, String> fields = entries.get(i).getFields();
            assertThat(fields.get("value")).isEqualTo(Epidemic.toJson(change));
            assertThat(fields.get("epidemic-change-id")).isEqualTo(Long.toString(change.id()));
            assertThat(fields.get("epidemic-txid")).isEqualTo(Long.toString(change.txid()));
            assertThat(fields.get("epidemic-table")).isEqualTo("public.items");
            assertThat(fields.get("epidemic-op")).isEqualTo(change.operation().name().toLowerCase());
            assertThat(fields.get("content-type")).isEqualTo("application/json");
            if (change.operation() == Operation.TRUNCATE) {
                assertThat(fields).doesNotContainKey("key");
            } else {
                assertThat(JSON.readTree(fields.get("key"))).isEqualTo(JSON.valueToTree(change.key()));
            }
        }
        assertThat(changes).extracting(Change::operation).contains(Operation.INSERT, Operation.UPDATE, Operation.DELETE, Operation.TRUNCATE);
        // per-row order: each row's change ids increase along the stream
        Map<String, Long> lastIdByRow = new LinkedHashMap<>();
        for (StreamEntry entry : entries) {
            String row = entry.getFields().getOrDefault("key", "truncate");
            long id = Long.parseLong(entry.getFields().get("epidemic-change-id"));
            Long before = lastIdByRow.put(row, id);
            assertThat(before == null || before < id).as("row %s: change %s after %s", row, id, before).isTrue();
        }
    }

    @Test
    void cloudEventsTravelInBinaryModeWithCeFieldsAndDebeziumAsItsEnvelope() throws Exception {
        Collector seen = new Collector();
        try (RedisSink cloudEvents = new RedisSink(RedisSink.Settings.of(REDIS).withStream(prefix + "ce").withFormat("cloudevents"), dataSource);
             RedisSink debezium = new RedisSink(RedisSink.Settings.of(REDIS).withStream(prefix + "dbz").withFormat("debezium"), dataSource);
             Epidemic consumer = Epidemic.builder(dataSource).consumer("formats")
                     .handle("public.items", List.of(), seen)
                     .handleBatches("public.items", List.of(), cloudEvents, FailurePolicy.defaults())
                     .handleBatches("public.items", List.of(), debezium, FailurePolicy.defaults()).build().start()) {
            Sql.exec(url, "INSERT INTO items VALUES (1, 'one', 1)", "UPDATE items SET qty = 2 WHERE id = 1", "DELETE FROM items WHERE id = 1");
            await().atMost(Duration.ofSeconds(30)).until(() -> redis.xlen(prefix + "ce") == 3 && redis.xlen(prefix + "dbz") == 3);
        }
        List<StreamEntry> events = redis.xrange(prefix + "ce", (StreamEntryID) null, (StreamEntryID) null);
        List<StreamEntry> envelopes = redis.xrange(prefix + "dbz", (StreamEntryID) null, (StreamEntryID) null);
        for (int i = 0; i < 3; i++) {
            Change change = seen.changes().get(i);
            Map<String, String> event = events.get(i).getFields();
            assertThat(event.get("value")).isEqualTo(Epidemic.toJson(change));
            assertThat(event.get("ce-id")).isEqualTo(Long.toString(change.id()));
            assertThat(event.get("ce-specversion")).isEqualTo("1.0");
            assertThat(event.get("ce-type")).isEqualTo("dev.epidemic.change." + change.operation().name().toLowerCase());
            assertThat(event.get("epidemic-change-id")).isEqualTo(Long.toString(change.id()));
        }
        assertThat(envelopes).extracting(e -> op(e.getFields().get("value"))).containsExactly("c", "u", "d");
    }

    @Test
    void streamKeyTemplateSeparatesOperationsAndMaxlenTrimsApproximately() throws Exception {
        // Given streams per operation, trimmed to about 10 entries
        try (RedisSink sink = new RedisSink(RedisSink.Settings.of(REDIS).withStream(prefix + "{table}:{op}").withMaxlen(10L), dataSource)) {
            List<Change> inserts = new ArrayList<>();
            for (int i = 1; i <= 1_000; i++) {
                inserts.add(new Change(i, 7, "public.items", Operation.INSERT, Map.of("id", i), null, Map.of("id", i), java.time.Instant.now()));
            }
            // When a thousand inserts and one delete are written
            sink.handle(inserts);
            sink.handle(List.of(new Change(1_001, 8, "public.items", Operation.DELETE, Map.of("id", 1), Map.of("id", 1), null, java.time.Instant.now())));
        }
        // Then each operation has its stream, and the inserts' stream was trimmed (MAXLEN ~ trims whole nodes, about 100 entries)
        assertThat(redis.xlen(prefix + "items:delete")).isEqualTo(1);
        assertThat(redis.xlen(prefix + "items:insert")).isBetween(10L, 200L);
        StreamEntry last = redis.xrevrange(prefix + "items:insert", (StreamEntryID) null, (StreamEntryID) null, 1).get(0);
        assertThat(last.getFields().get("epidemic-change-id")).isEqualTo("1000");
    }

    @Test
    void sameChangeDeliveredTwiceIsRecognisableByItsChangeId() throws Exception {
        // Given a batch that was written, and written again, as after a crash before the position was stored
        Change insert = new Change(41, 5, "public.items", Operation.INSERT, Map.of("id", 1), null, Map.of("id", 1, "name", "one"), java.time.Instant.now());
        Change update = new Change(42, 6, "public.items", Operation.UPDATE, Map.of("id", 1), Map.of("id", 1, "name", "one"),
                Map.of("id", 1, "name", "uno"), java.time.Instant.now());
        try (RedisSink sink = new RedisSink(RedisSink.Settings.of(REDIS).withStream(prefix + "{table}"), dataSource)) {
            sink.handle(List.of(insert, update));
            sink.handle(List.of(insert, update));
        }

        // Then Redis holds both copies (it has no de-duplication for XADD) ...
        List<StreamEntry> entries = redis.xrange(prefix + "items", (StreamEntryID) null, (StreamEntryID) null);
        assertThat(entries).extracting(e -> e.getFields().get("epidemic-change-id")).containsExactly("41", "42", "41", "42");
        // ... and a reader that keeps the change ids it has applied recognises the redelivery, byte for byte the same
        Map<String, String> applied = new LinkedHashMap<>();
        List<String> recognised = new ArrayList<>();
        for (StreamEntry entry : entries) {
            String id = entry.getFields().get("epidemic-change-id");
            String before = applied.putIfAbsent(id, entry.getFields().get("value"));
            if (before != null) {
                assertThat(entry.getFields().get("value")).isEqualTo(before);
                recognised.add(id);
            }
        }
        assertThat(applied.keySet()).containsExactly("41", "42");
        assertThat(recognised).containsExactly("41", "42");
    }

    @Test
    void aKeyThatIsNotAStreamRefusesTheChangeWhichBecomesADeadLetter() {
        // Given a stream key that holds a string, which XADD refuses for good (WRONGTYPE)
        redis.set(prefix + "items", "not a stream");
        try (RedisSink sink = new RedisSink(RedisSink.Settings.of(REDIS).withStream(prefix + "{table}"), dataSource);
             Epidemic consumer = Epidemic.builder(dataSource).consumer("refused")
                     .handleBatches("public.items", List.of(), sink,
                             FailurePolicy.deadLetterAfter(2).withBackoff(Duration.ofMillis(10), Duration.ofMillis(10))).build().start()) {
            // When a change comes
            Sql.exec(url, "INSERT INTO items VALUES (1, 'one', 1)");

            // Then it becomes a dead letter naming Redis' reason, and the consumer goes on
            EpidemicAdmin admin = EpidemicAdmin.create(dataSource, "epidemic");
            await().atMost(Duration.ofSeconds(30)).until(() -> !admin.deadLetters("refused").isEmpty());
            DeadLetter dead = admin.deadLetters("refused").get(0);
            assertThat(dead.change().key()).isEqualTo(Map.of("id", 1));
            assertThat(dead.attempts()).isEqualTo(2);
            assertThat(dead.error()).contains("WRONGTYPE").contains("refused change " + dead.change().id())
                    .contains("stream " + prefix + "items");
        }
        assertThat(redis.get(prefix + "items")).isEqualTo("not a stream");
    }

    private void writeMixedWorkload() {
        Sql.exec(url,
                "INSERT INTO items VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3)",
                "UPDATE items SET qty = 20 WHERE id = 2",
                "INSERT INTO items VALUES (4, 'four', 4)",
                "DELETE FROM items WHERE id = 1",
                "BEGIN; UPDATE items SET name = 'TWO' WHERE id = 2; UPDATE items SET qty = 30 WHERE id = 3; DELETE FROM items WHERE id = 4; "
                        + "INSERT INTO items VALUES (5, 'five', 5); COMMIT",
                "UPDATE items SET qty = qty + 1",
                "TRUNCATE items");
    }

    private static String op(String value) {
        try {
            JsonNode envelope = JSON.readTree(value);
            return envelope.get("op").asText();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
