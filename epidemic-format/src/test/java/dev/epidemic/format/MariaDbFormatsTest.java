package dev.epidemic.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.engine.Databases;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Sql;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The formats on MariaDB: Debezium's MySQL connector name, the database as db and schema, and values typed by MariaDB's column types. */
class MariaDbFormatsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void debeziumNamesTheMysqlConnectorAndTypesDecimalsDatesAndTimes() throws Exception {
        // Given a MariaDB table with a decimal, a datetime, a date and a time, and one row inserted
        String url = MariaDbServer.get().createDatabase();
        String database = Sql.rows(url, "SELECT DATABASE()").get(0);
        DataSource dataSource = Databases.fromUrl(url, null, null);
        Sql.exec(url, "CREATE TABLE orders (id int PRIMARY KEY, total decimal(10,2), placed datetime(6), due date, opens time, note varchar(20))");
        List<Change> changes = Collections.synchronizedList(new ArrayList<>());
        try (Epidemic consumer = Epidemic.builder(dataSource).consumer("formats")
                .handle(database + ".orders", List.of(), ChangeHandler.forEveryChange(changes::add)).build().start()) {
            Sql.exec(url, "INSERT INTO orders VALUES (7, 12.50, '2024-02-29 12:34:56.789012', '2024-03-01', '10:11:12', 'rush')");
            await().atMost(Duration.ofSeconds(30)).until(() -> changes.size() == 1);
        }

        // When it is formatted as Debezium would
        Message message = ChangeFormat.named("debezium", dataSource).format(changes.get(0));

        // Then the source names the MySQL connector and the database, and the values have Debezium's types
        JsonNode value = JSON.readTree(message.value());
        JsonNode source = value.get("source");
        assertThat(value.get("op").asText()).isEqualTo("c");
        assertThat(source.get("connector").asText()).isEqualTo("mysql");
        assertThat(source.get("db").asText()).isEqualTo(database);
        assertThat(source.get("schema").asText()).isEqualTo(database);
        assertThat(source.get("table").asText()).isEqualTo("orders");
        JsonNode after = value.get("after");
        assertThat(after.get("total").asText()).isEqualTo(Base64.getEncoder().encodeToString(new java.math.BigInteger("1250").toByteArray()));
        assertThat(after.get("placed").asLong()).isEqualTo(Instant.parse("2024-02-29T12:34:56.789012Z").toEpochMilli() * 1000 + 12);
        assertThat(after.get("due").asInt()).isEqualTo((int) LocalDate.parse("2024-03-01").toEpochDay());
        assertThat(after.get("opens").asLong()).isEqualTo((10 * 3600 + 11 * 60 + 12) * 1_000_000L);
        assertThat(after.get("note").asText()).isEqualTo("rush");
        assertThat(JSON.readTree(message.key())).isEqualTo(JSON.readTree("{\"id\": 7}"));
        assertThat(JSON.readTree(ChangeFormat.named("cloudevents", dataSource).format(changes.get(0)).value()).get("source").asText())
                .isEqualTo("/epidemic/mysql/" + database);
    }
}
