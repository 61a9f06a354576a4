package dev.epidemic.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.Operation;
import dev.epidemic.api.StartFrom;
import dev.epidemic.engine.Databases;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Every format, for every kind of change, against the real PostgreSQL: a backfill READ, an INSERT, an UPDATE,
 * a DELETE and a TRUNCATE of one table, captured by a consumer that started from a snapshot.
 */
class ChangeFormatsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-12-08T10:00:00.123456789Z");

    static String url;
    static String database;
    static DataSource dataSource;
    /** READ, INSERT, UPDATE, DELETE, TRUNCATE, in that order. */
    static List<Change> changes;

    @BeforeAll
    static void captureOneOfEachOperation() {
        url = TestDatabase.get().createDatabase();
        database = Sql.rows(url, "SELECT current_database()").get(0);
        dataSource = Databases.fromUrl(url, null, null);
        Sql.exec(url, "CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric(12,2), opened timestamp, active boolean)",
                "INSERT INTO accounts VALUES (1, 'ann', 10.50, '2024-01-02 03:04:05.678901', true)");
        List<Change> seen = Collections.synchronizedList(new ArrayList<>());
        try (Epidemic consumer = Epidemic.builder(dataSource).consumer("formats").startFrom(StartFrom.SNAPSHOT)
                .handle("public.accounts", List.of(), ChangeHandler.forEveryChange(seen::add)).build().start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 1);
            Sql.exec(url, "INSERT INTO accounts VALUES (2, 'bob', 0, '1999-12-31 23:59:59', false)",
                    "UPDATE accounts SET balance = 99.99, active = true WHERE id = 2",
                    "DELETE FROM accounts WHERE id = 2",
                    "TRUNCATE accounts");
            await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 5);
        }
        changes = List.copyOf(seen);
        assertThat(changes).extracting(Change::operation)
                .containsExactly(Operation.READ, Operation.INSERT, Operation.UPDATE, Operation.DELETE, Operation.TRUNCATE);
    }

    // ---------------------------------------------------------------- epidemic

    @Test
    void epidemicIsTheTailLineByteForByteKeyedByThePrimaryKey() throws Exception {
        ChangeFormat format = ChangeFormat.named("epidemic", dataSource);
        for (Change change : changes) {
            Message message = format.format(change);
            assertThat(message.value()).isEqualTo(Epidemic.toJson(change));
            assertThat(message.contentType()).isEqualTo("application/json");
            assertThat(message.headers()).isEmpty();
        }
        assertThat(JSON.readTree(format.format(changes.get(2)).key())).isEqualTo(JSON.readTree("{\"id\": 2}"));
        assertThat(format.format(changes.get(4)).key()).as("a TRUNCATE has no row, so no key").isNull();
        assertThat(format.binaryMode()).isSameAs(format);
    }

    // ---------------------------------------------------------------- debezium

    @Test
    void debeziumMapsEachOperationToItsOpWithBeforeAndAfter() throws Exception {
        List<JsonNode> values = debezium();
        assertThat(values).extracting(v -> v.get("op").asText()).containsExactly("r", "c", "u", "d", "t");
        assertThat(values).extracting(v -> v.get("before").isNull()).containsExactly(true, true, false, false, true);
        assertThat(values).extracting(v -> v.get("after").isNull()).containsExactly(false, false, false, true, true);
        JsonNode update = values.get(2);
        assertThat(update.get("before").get("active").asBoolean()).isFalse();
        assertThat(update.get("after").get("active").asBoolean()).isTrue();
        assertThat(update.get("after").get("owner").asText()).isEqualTo("bob");
        assertThat(values).allSatisfy(v -> {
            assertThat(fieldNames(v)).containsExactly("before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns");
            assertThat(v.get("ts_ms").asLong()).as("when the message was made").isEqualTo(NOW.toEpochMilli());
            assertThat(v.get("ts_us").asLong()).isEqualTo(1796724000123456L);
            assertThat(v.get("ts_ns").asLong()).isEqualTo(1796724000123456789L);
        });
    }

    @Test
    void debeziumSourceNamesTheDatabaseTableTransactionAndTime() throws Exception {
        List<JsonNode> values = debezium();
        for (int i = 0; i < values.size(); i++) {
            JsonNode source = values.get(i).get("source");
            Change change = changes.get(i);
            assertThat(fieldNames(source)).containsExactly("version", "connector", "name", "ts_ms", "snapshot", "db", "sequence",
                    "ts_us", "ts_ns", "schema", "table", "txId", "lsn", "xmin", "origin", "origin_lsn");
            assertThat(source.get("connector").asText()).isEqualTo("postgresql");
            assertThat(source.get("db").asText()).isEqualTo(database);
            assertThat(source.get("name").asText()).isEqualTo(database);
            assertThat(source.get("schema").asText()).isEqualTo("public");
            assertThat(source.get("table").asText()).isEqualTo("accounts");
            assertThat(source.get("txId").isIntegralNumber()).isTrue();
            assertThat(source.get("txId").asLong()).isEqualTo(change.txid() & 0xffffffffL);
            assertThat(source.get("ts_ms").asLong()).isEqualTo(change.at().toEpochMilli());
            assertThat(source.get("snapshot").asText()).isEqualTo(change.operation() == Operation.READ ? "true" : "false");
            assertThat(source.get("lsn").isNull()).isTrue();
        }
    }

    @Test
    void debeziumTypesValuesAsDebeziumsDefaultsDoAndKeysByThePrimaryKey() throws Exception {
        ChangeFormat format = ChangeFormat.named("debezium", dataSource);
        JsonNode read = JSON.readTree(format.format(changes.get(0)).value()).get("after");

        assertThat(fieldNames(read)).as("the table's column order").containsExactly("id", "owner", "balance", "opened", "active");
        assertThat(read.get("id").asInt()).isEqualTo(1);
        // numeric(12,2), decimal.handling.mode=precise: the unscaled value 1050 as big-endian two's complement, base64
        assertThat(read.get("balance").asText()).isEqualTo(Base64.getEncoder().encodeToString(new byte[] {0x04, 0x1a}));
        // timestamp (6 digits), time.precision.mode=adaptive: microseconds since the epoch
        assertThat(read.get("opened").isIntegralNumber()).isTrue();
        assertThat(read.get("opened").asLong()).isEqualTo(Instant.parse("2024-01-02T03:04:05.678901Z").toEpochMilli() * 1000 + 901);
        assertThat(JSON.readTree(format.format(changes.get(3)).key())).isEqualTo(JSON.readTree("{\"id\": 2}"));
        assertThat(format.format(changes.get(4)).key()).isNull();
    }

    @Test
    void debeziumReadsTheColumnTypesAgainWhenAColumnIsAdded() throws Exception {
        // Given a format that has already typed a change of a table
        Sql.exec(url, "CREATE TABLE growing (id int PRIMARY KEY)");
        ChangeFormat format = ChangeFormat.named("debezium", dataSource);
        format.format(new Change(1, 1, "public.growing", Operation.INSERT, Map.of("id", 1), null, Map.of("id", 1), NOW));

        // When a column is added, and a change carries it
        Sql.exec(url, "ALTER TABLE growing ADD COLUMN born date");
        Message message = format.format(new Change(2, 2, "public.growing", Operation.INSERT, Map.of("id", 2), null,
                Map.of("id", 2, "born", "1970-01-11"), NOW));

        // Then the new column is typed too: a date is days since the epoch
        assertThat(JSON.readTree(message.value()).get("after").get("born").asInt()).isEqualTo(10);
    }

    // ---------------------------------------------------------------- cloudevents

    @Test
    void cloudEventsStructuredModeCarriesTheAttributesAndTheEpidemicLineAsData() throws Exception {
        ChangeFormat format = ChangeFormat.named("cloudevents", dataSource);
        List<String> types = new ArrayList<>();
        for (Change change : changes) {
            Message message = format.format(change);
            JsonNode event = JSON.readTree(message.value());
            assertThat(message.contentType()).isEqualTo("application/cloudevents+json");
            assertThat(fieldNames(event)).containsExactly("specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data");
            assertThat(event.get("specversion").asText()).isEqualTo("1.0");
            assertThat(event.get("id").isTextual()).isTrue();
            assertThat(event.get("id").asText()).isEqualTo(Long.toString(change.id()));
            assertThat(event.get("source").asText()).isEqualTo("/epidemic/postgresql/" + database);
            assertThat(event.get("subject").asText()).isEqualTo("public.accounts");
            assertThat(Instant.parse(event.get("time").asText())).isEqualTo(change.at());
            assertThat(event.get("datacontenttype").asText()).isEqualTo("application/json");
            assertThat(message.value()).endsWith(",\"data\":" + Epidemic.toJson(change) + "}");
            types.add(event.get("type").asText());
        }
        assertThat(types).containsExactly("dev.epidemic.change.read", "dev.epidemic.change.insert", "dev.epidemic.change.update",
                "dev.epidemic.change.delete", "dev.epidemic.change.truncate");
        assertThat(format.batchContentType()).isEqualTo("application/cloudevents-batch+json");
    }

    @Test
    void cloudEventsBinaryModePutsTheAttributesInCeHeadersAndTheDataInTheValue() {
        ChangeFormat format = ChangeFormat.named("cloudevents", dataSource).binaryMode();
        Change update = changes.get(2);

        Message message = format.format(update);

        assertThat(message.value()).isEqualTo(Epidemic.toJson(update));
        assertThat(message.contentType()).isEqualTo("application/json");
        assertThat(message.headers()).containsExactly(
                Map.entry("ce-specversion", "1.0"),
                Map.entry("ce-id", Long.toString(update.id())),
                Map.entry("ce-source", "/epidemic/postgresql/" + database),
                Map.entry("ce-type", "dev.epidemic.change.update"),
                Map.entry("ce-subject", "public.accounts"),
                Map.entry("ce-time", update.at().toString()));
    }

    @Test
    void theValueAloneIsTheMessagesValueInEveryFormat() {
        Clock fixed = Clock.fixed(NOW, ZoneOffset.UTC);
        ChangeFormat cloudEvents = ChangeFormat.named("cloudevents", dataSource);
        List<ChangeFormat> formats = List.of(ChangeFormat.named("epidemic", dataSource), cloudEvents, cloudEvents.binaryMode(),
                new DebeziumFormat(Origin.lazy(dataSource), ColumnTypes.fromCatalog(dataSource), fixed));
        for (ChangeFormat format : formats) {
            for (Change change : changes) {
                assertThat(format.value(change)).as(format.name() + " " + change.operation()).isEqualTo(format.format(change).value());
            }
        }
    }

    // ---------------------------------------------------------------- names

    @Test
    void anUnknownNameIsRefusedNamingTheFormatsThatExist() {
        assertThatThrownBy(() -> ChangeFormat.named("avro", dataSource))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("unknown format 'avro'; expected one of epidemic, debezium, cloudevents");
        assertThat(ChangeFormat.NAMES).allSatisfy(name -> assertThat(ChangeFormat.named(name, dataSource).name()).isEqualTo(name));
    }

    private static List<JsonNode> debezium() throws Exception {
        ChangeFormat format = new DebeziumFormat(Origin.lazy(dataSource), ColumnTypes.fromCatalog(dataSource), Clock.fixed(NOW, ZoneOffset.UTC));
        List<JsonNode> values = new ArrayList<>();
        for (Change change : changes) {
            values.add(JSON.readTree(format.format(change).value()));
        }
        return values;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
