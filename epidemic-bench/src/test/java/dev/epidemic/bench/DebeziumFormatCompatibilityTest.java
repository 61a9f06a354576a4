package dev.epidemic.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.StartFrom;
import dev.epidemic.engine.Databases;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.format.Message;
import dev.epidemic.testing.TestDatabase;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code debezium} format against the real thing: the same changes, to a table with the common column
 * types, captured by Epidemic and formatted, and captured by Debezium's embedded engine (pgoutput, the JSON
 * converter without schemas, every default kept). For a snapshot READ, an INSERT, an UPDATE, a DELETE and a
 * TRUNCATE, both must have the same field names in the same order and the same JSON type for every value,
 * and the row values must be equal.
 *
 * <p>It never reconfigures a server: when the test server's wal_level is not logical, it runs on an embedded
 * PostgreSQL started with wal_level=logical, as BenchmarkSmokeTest does.
 */
class DebeziumFormatCompatibilityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(90);
    private static final String ROW = "(%d, 7, 2147483647, 9007199254740993, 1234.50, 3.14159, 'ann', 'ann@example.org', true,"
            + " '2024-02-29 12:34:56.789012', '2024-02-29 12:34:56.789', '2024-02-29 12:34:56.789012+02', '2024-02-29',"
            + " '{\"a\": [1, 2.5], \"b\": {\"c\": null}}', '{\"a\": [1, 2.5], \"b\": {\"c\": null}, \"d\": \"x\"}',"
            + " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\xdeadbeef', '10:11:12.345678',"
            + " '10:11:12.345+02', '2024-02-29 12:34:56+02', '{a,\"b c\"}', '{1,NULL,3}', 2.5, 0.1)";

    private static EmbeddedPostgres embedded;
    private static PgUrl db;

    @TempDir
    Path dir;

    @BeforeAll
    static void logicalServer() throws Exception {
        String url = TestDatabase.get().createDatabase();
        if (!"logical".equals(PgUrl.parse(url).queryString("SHOW wal_level"))) {
            embedded = EmbeddedPostgres.builder().setServerConfig("wal_level", "logical").start();
            url = "jdbc:postgresql://127.0.0.1:" + embedded.getPort() + "/postgres?user=postgres";
        }
        db = PgUrl.parse(url);
    }

    @AfterAll
    static void stop() throws Exception {
        if (embedded != null) {
            embedded.close();
        }
    }

    @Test
    void everyOperationHasDebeziumsFieldNamesAndValueTypes() throws Exception {
        // Given a table with the common column types and one row before anyone captures it
        db.exec("DROP TABLE IF EXISTS typed",
                "CREATE TABLE typed (id int PRIMARY KEY, small smallint, whole int, big bigint, price numeric(10,2), ratio numeric,"
                        + " name text, email varchar(80), active boolean, seen timestamp, seen_ms timestamp(3), seen_tz timestamptz,"
                        + " born date, doc json, docb jsonb, uid uuid, raw bytea, opens time,"
                        + " closes timetz, seen_tz0 timestamptz(0), tags text[], counts int[],"
                        + " weight real, score double precision)",
                "ALTER TABLE typed REPLICA IDENTITY FULL", // so that Debezium's before holds the whole row, as Epidemic's does
                "INSERT INTO typed VALUES " + ROW.formatted(1));

        // and both systems capturing it from a snapshot: Debezium's initial snapshot, Epidemic's StartFrom.SNAPSHOT
        List<Event> debezium = Collections.synchronizedList(new ArrayList<>());
        List<Message> epidemic = Collections.synchronizedList(new ArrayList<>());
        DebeziumSlots slots = new DebeziumSlots(db);
        String slot = slots.create();
        db.exec("DROP PUBLICATION IF EXISTS format_check", "CREATE PUBLICATION format_check FOR TABLE typed");
        DataSource dataSource = Databases.fromUrl(db.jdbc(), null, null);
        ChangeFormat format = ChangeFormat.named("debezium", dataSource);
        try (AutoCloseable dz = startDebezium(slot, debezium);
             Epidemic ep = Epidemic.builder(dataSource).consumer("format-check").startFrom(StartFrom.SNAPSHOT)
                     .handle("public.typed", List.of(), ChangeHandler.forEveryChange(change -> epidemic.add(format.format(change))))
                     .build().start()) {
            await(() -> debezium.size() >= 1 && epidemic.size() >= 1, debezium, epidemic);

            // When a row is inserted, updated and deleted, and the table truncated
            db.exec("INSERT INTO typed VALUES " + ROW.formatted(2),
                    "UPDATE typed SET price = -0.01, ratio = 100, name = 'bob', active = false, seen = '1969-12-31 23:59:59.999999',"
                            + " born = '1960-01-01', docb = '[1, \"two\", {}]', raw = '\\x00ff', opens = '00:00:00.5', seen_tz = '2024-03-01 00:00:00+00',"
                            + " seen_ms = '2024-03-01 00:00:00.5', small = NULL WHERE id = 2",
                    "DELETE FROM typed WHERE id = 2",
                    "TRUNCATE typed");
            // (Debezium follows a DELETE with a tombstone, a null value: a Kafka compaction marker, not a change)
            await(() -> values(debezium).size() >= 5 && epidemic.size() >= 5, debezium, epidemic);
        } finally {
            slots.drop(slot);
            db.exec("DROP PUBLICATION IF EXISTS format_check");
        }

        // Then each of Epidemic's messages has the fields and value types of Debezium's, the same row values and the same key
        List<JsonNode> theirs = new ArrayList<>();
        List<JsonNode> theirKeys = new ArrayList<>();
        for (Event event : values(debezium)) {
            theirs.add(JSON.readTree(event.value()));
            theirKeys.add(event.key() == null ? null : JSON.readTree(event.key()));
        }
        List<JsonNode> ours = new ArrayList<>();
        List<JsonNode> ourKeys = new ArrayList<>();
        for (Message message : epidemic) {
            ours.add(JSON.readTree(message.value()));
            ourKeys.add(message.key() == null ? null : JSON.readTree(message.key()));
        }
        assertThat(ours).extracting(v -> v.get("op").asText()).containsExactly("r", "c", "u", "d", "t");
        assertThat(theirs).extracting(v -> v.get("op").asText()).containsExactly("r", "c", "u", "d", "t");
        for (int i = 0; i < 5; i++) {
            JsonNode mine = ours.get(i);
            JsonNode real = theirs.get(i);
            String op = real.get("op").asText();
            assertThat(names(mine)).as(op + " envelope").isEqualTo(names(real));
            assertThat(names(mine.get("source"))).as(op + " source").isEqualTo(names(real.get("source")));
            assertSameTypes(op + " source", mine.get("source"), real.get("source"));
            assertThat(mine.get("before")).as(op + " before").isEqualTo(real.get("before"));
            assertThat(mine.get("after")).as(op + " after").isEqualTo(real.get("after"));
            for (String row : List.of("before", "after")) {
                if (!real.get(row).isNull()) {
                    assertThat(names(mine.get(row))).as(op + " " + row + ": the columns in the table's order").isEqualTo(names(real.get(row)));
                }
            }
            assertSameTypes(op, mine, real);
            assertThat(ourKeys.get(i)).as(op + " key").isEqualTo(theirKeys.get(i));
        }
    }

    /** Every field of {@code real} has a value of the same JSON type in {@code mine}, to any depth (nulls aside: Debezium leaves them null too). */
    private static void assertSameTypes(String where, JsonNode mine, JsonNode real) {
        Iterator<String> fields = real.fieldNames();
        while (fields.hasNext()) {
            String field = fields.next();
            JsonNode theirs = real.get(field);
            JsonNode ours = mine.get(field);
            assertThat(ours).as(where + "." + field).isNotNull();
            if (theirs.isNull() || ours.isNull()) {
                continue;
            }
            assertThat(ours.getNodeType()).as(where + "." + field + ": " + ours + " vs Debezium's " + theirs).isEqualTo(theirs.getNodeType());
            if (theirs.isObject()) {
                assertSameTypes(where + "." + field, ours, theirs);
            }
        }
    }

    private static List<String> names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** One of Debezium's events as the JSON converter wrote it; a tombstone has a null value. */
    record Event(String key, String value) {
    }

    /** The change events among Debezium's, without tombstones. */
    private static List<Event> values(List<Event> events) {
        synchronized (events) {
            return events.stream().filter(event -> event.value() != null).toList();
        }
    }

    private AutoCloseable startDebezium(String slot, List<Event> events) {
        Properties p = new Properties();
        p.setProperty("name", slot);
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        p.setProperty("offset.storage.file.filename", dir.resolve("offsets").toString());
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("database.hostname", db.host());
        p.setProperty("database.port", String.valueOf(db.port()));
        p.setProperty("database.user", db.user());
        p.setProperty("database.password", db.password());
        p.setProperty("database.dbname", db.database());
        p.setProperty("topic.prefix", db.database());
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", slot);
        p.setProperty("publication.name", "format_check");
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("table.include.list", "public.typed");
        p.setProperty("snapshot.mode", "initial");
        p.setProperty("skipped.operations", "none"); // Debezium skips TRUNCATE by default
        p.setProperty("converter.schemas.enable", "false");
        DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
                .using(p)
                .notifying(event -> events.add(new Event(event.key(), event.value())))
                .using((success, message, error) -> {
                    if (!success) {
                        System.err.println("Debezium failed: " + message); // the wait for its events then times out, naming what came
                    }
                })
                .build();
        ExecutorService executor = Executors.newSingleThreadExecutor();
        executor.execute(engine);
        return () -> {
            engine.close();
            executor.shutdown();
            executor.awaitTermination(30, TimeUnit.SECONDS);
        };
    }

    private static void await(BooleanSupplier condition, List<Event> debezium, List<Message> epidemic) throws InterruptedException {
        long until = System.nanoTime() + WAIT_NANOS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("timed out; Debezium sent " + debezium + ", Epidemic " + epidemic);
            }
            Thread.sleep(50);
        }
    }
}
