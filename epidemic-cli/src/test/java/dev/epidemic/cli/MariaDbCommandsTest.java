package dev.epidemic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** watch, tail and status against MariaDB: the same commands and the same JSON lines as on PostgreSQL. */
class MariaDbCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void watchWhereLogsOnlyMatchingRowsAndRefusesWhatIsNotOnTheAllowList() {
        Target db = MariaDbServer.get().create();
        db.exec("CREATE TABLE quotas (id int PRIMARY KEY, active boolean, quota_bytes bigint)");

        Cli.Result watch = Cli.run(db.cli("watch", "quotas", "--where", "active AND quota_bytes > 0").toArray(String[]::new));
        assertThat(watch.exitCode()).as(watch.err()).isZero();
        assertThat(watch.out()).endsWith("; rows where active AND quota_bytes > 0)\n");
        assertThat(Cli.run(db.cli("list").toArray(String[]::new)).outLines()).contains("  where active AND quota_bytes > 0  (watch --where)");
        db.exec("INSERT INTO quotas VALUES (1, true, 10), (2, false, 10), (3, true, 0)");
        assertThat(db.queryLong("SELECT COUNT(*) FROM " + db.logTable("change_log"))).isEqualTo(1);

        List<String> before = db.catalogFingerprint();
        for (String bad : List.of("SLEEP(10) = 0", "quota_bytes > @x", "quota_bytes IN (SELECT 1)", "nope > 1", "quota_bytes + 1")) {
            Cli.Result refused = Cli.run(db.cli("watch", "quotas", "--where", bad).toArray(String[]::new));
            assertThat(refused.exitCode()).as(bad).isEqualTo(2);
            assertThat(refused.errLines()).as(bad).singleElement().asString().contains("row filter for " + db.qualified("quotas"));
        }
        assertThat(db.catalogFingerprint()).isEqualTo(before);
    }

    @Test
    void watchWarnsTailPrintsContractJsonLinesAndStatusCountsPending() throws Exception {
        Target db = MariaDbServer.get().create();
        db.exec("CREATE TABLE mail_users (id int PRIMARY KEY, username text, quota_bytes bigint, price decimal(12,4))");

        Cli.Result watch = Cli.run(db.cli("watch", "mail_users").toArray(String[]::new));
        assertThat(watch.exitCode()).as(watch.err()).isZero();
        assertThat(watch.out()).isEqualTo("watching " + db.qualified("mail_users") + " (columns: id, username, quota_bytes, price; key: id)\n");
        assertThat(watch.errLines()).singleElement().asString().startsWith("epidemic: warning: ").contains("TRUNCATE");

        Cli.Result unknown = Cli.run(db.cli("watch", "mail_users", "--columns", "nope").toArray(String[]::new));
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.errLines()).singleElement().asString().contains("nope");

        db.exec("INSERT INTO mail_users VALUES (1, 'ann', 100, 9.9900)",
                "UPDATE mail_users SET quota_bytes = 200 WHERE id = 1",
                "DELETE FROM mail_users WHERE id = 1",
                "INSERT INTO mail_users VALUES (2, 'bob 😀', 5, 0.0001)");
        CliProcess tail = CliProcess.runToEnd(Duration.ofSeconds(30), db.cli("tail", "--consumer", "c1", "--max", "3").toArray(String[]::new));
        assertThat(tail.exitCode()).as(tail.err()).isZero();
        List<JsonNode> changes = TailTest.parse(tail.lines());
        assertThat(changes).extracting(c -> c.get("op").asText()).containsExactly("INSERT", "UPDATE", "DELETE");
        JsonNode insert = changes.get(0);
        assertThat(insert.get("table").asText()).isEqualTo(db.qualified("mail_users"));
        assertThat(insert.get("key")).isEqualTo(JSON.readTree("{\"id\": 1}"));
        assertThat(insert.get("old").isNull()).isTrue();
        assertThat(insert.get("new").get("price").decimalValue()).isEqualByComparingTo("9.9900");
        assertThat(tail.lines().get(0)).contains("\"price\":9.9900"); // the digits as stored, never a float
        assertThat(insert.get("txid").isIntegralNumber()).isTrue();
        assertThat(Instant.parse(insert.get("at").asText())).isBefore(Instant.now());
        assertThat(changes.get(1).get("old").get("quota_bytes").asInt()).isEqualTo(100);
        assertThat(changes.get(2).get("new").isNull()).isTrue();

        JsonNode status = JSON.readTree(Cli.run(db.cli("status", "--json").toArray(String[]::new)).out());
        assertThat(status).hasSize(1);
        assertThat(status.get(0).get("consumer").asText()).isEqualTo("c1");
        assertThat(status.get(0).get("pending").asLong()).isEqualTo(1);

        CliProcess rest = CliProcess.runToEnd(Duration.ofSeconds(30), db.cli("tail", "--consumer", "c1", "--idle-exit", "3").toArray(String[]::new));
        assertThat(TailTest.parse(rest.lines())).singleElement().satisfies(c -> assertThat(c.get("new").get("username").asText()).isEqualTo("bob 😀"));
        assertThat(Cli.run(db.cli("prune").toArray(String[]::new)).out()).isEqualTo("deleted 4 changes; retained 0 for 1 consumers\n");
    }

    @Test
    void aConsumerOfOneDatabaseSeesNeitherTheTablesNorTheChangesOfAnother() throws Exception {
        // The report: databases xa and xb on one server, both with the default --schema.
        String xa = MariaDbServer.get().createDatabase();
        String xb = MariaDbServer.get().createDatabase();
        Sql.exec(xa, "CREATE TABLE t (id int PRIMARY KEY, v text)");
        Sql.exec(xb, "CREATE TABLE secret (id int PRIMARY KEY, card text)");
        assertThat(Cli.run("--url", xa, "watch", "t").exitCode()).isZero();
        assertThat(Cli.run("--url", xb, "watch", "secret").exitCode()).isZero();
        Sql.exec(xb, "INSERT INTO secret VALUES (1, '4111-1111')");
        Sql.exec(xa, "INSERT INTO t VALUES (1, 'mine')");

        CliProcess tail = CliProcess.runToEnd(Duration.ofSeconds(30), "--url", xa, "tail", "--consumer", "c", "--idle-exit", "3");

        assertThat(TailTest.parse(tail.lines())).singleElement()
                .satisfies(c -> assertThat(c.get("table").asText()).isEqualTo(MariaDbServer.database(xa) + ".t"));
        assertThat(Cli.run("--url", xa, "list").out()).contains(MariaDbServer.database(xa) + ".t").doesNotContain("secret");
        JsonNode statusOfB = JSON.readTree(Cli.run("--url", xb, "status", "--json").out());
        assertThat(statusOfB).isEmpty(); // consumer c is xa's alone
    }

    @Test
    void aTableOfAnotherDatabaseIsBadInputThatSaysWhereToConnect() {
        Target db = MariaDbServer.get().create();
        String other = MariaDbServer.get().createDatabase();
        Sql.exec(other, "CREATE TABLE t (id int PRIMARY KEY)");
        String table = MariaDbServer.database(other) + ".t";
        List<String> before = db.catalogFingerprint();

        Cli.Result watch = Cli.run(db.cli("watch", table).toArray(String[]::new));

        assertThat(watch.exitCode()).isEqualTo(2);
        assertThat(watch.errLines()).singleElement().asString().contains(table).contains("connect to " + MariaDbServer.database(other));
        assertThat(db.catalogFingerprint()).isEqualTo(before);
        assertThat(Sql.queryLong(other, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()")).isZero();
    }
}
