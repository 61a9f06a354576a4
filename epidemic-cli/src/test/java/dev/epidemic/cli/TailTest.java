package dev.epidemic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code epidemic tail} as a separate process, as a user or a script runs it. */
class TailTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration RUN = Duration.ofSeconds(30);

    String url;

    @BeforeEach
    void database() {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE mail_users (id int PRIMARY KEY, username text, quota_bytes bigint)");
        assertThat(Cli.run("--url", url, "watch", "mail_users").exitCode()).isZero();
    }

    @Test
    void printsMaxChangesAsJsonLinesWithTheContractsFields() throws Exception {
        Sql.exec(url,
                "INSERT INTO mail_users VALUES (1, 'ann', 100)",
                "UPDATE mail_users SET quota_bytes = 200 WHERE id = 1",
                "DELETE FROM mail_users WHERE id = 1",
                "INSERT INTO mail_users VALUES (2, 'bob', 5)");

        CliProcess tail = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "c1", "--max", "3");

        assertThat(tail.exitCode()).as(tail.err()).isZero();
        assertThat(tail.err()).isEmpty();
        List<JsonNode> changes = parse(tail.lines());
        assertThat(changes).hasSize(3);
        for (JsonNode change : changes) {
            assertThat(names(change)).containsExactly("id", "txid", "table", "op", "key", "old", "new", "at");
            assertThat(change.get("table").asText()).isEqualTo("public.mail_users");
            assertThat(change.get("key")).isEqualTo(JSON.readTree("{\"id\": 1}"));
            assertThat(Instant.parse(change.get("at").asText())).isBefore(Instant.now());
            assertThat(change.get("txid").isIntegralNumber()).isTrue();
        }
        JsonNode insert = changes.get(0);
        JsonNode update = changes.get(1);
        JsonNode delete = changes.get(2);
        assertThat(insert.get("op").asText()).isEqualTo("INSERT");
        assertThat(insert.get("old").isNull()).isTrue();
        assertThat(insert.get("new")).isEqualTo(JSON.readTree("{\"id\": 1, \"username\": \"ann\", \"quota_bytes\": 100}"));
        assertThat(update.get("op").asText()).isEqualTo("UPDATE");
        assertThat(update.get("old").get("quota_bytes").asLong()).isEqualTo(100);
        assertThat(update.get("new").get("quota_bytes").asLong()).isEqualTo(200);
        assertThat(delete.get("op").asText()).isEqualTo("DELETE");
        assertThat(delete.get("new").isNull()).isTrue();
        assertThat(insert.get("id").asLong()).isLessThan(update.get("id").asLong());
    }

    @Test
    void printsTheSameChangesInEachFormat() throws Exception {
        Sql.exec(url,
                "INSERT INTO mail_users VALUES (1, 'ann', 100)",
                "UPDATE mail_users SET quota_bytes = 200 WHERE id = 1",
                "DELETE FROM mail_users WHERE id = 1",
                "TRUNCATE mail_users");

        CliProcess plain = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "plain", "--max", "4");
        CliProcess debezium = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "dbz", "--max", "4", "--format", "debezium");
        CliProcess cloudEvents = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "ce", "--max", "4", "--format", "cloudevents");

        assertThat(List.of(plain, debezium, cloudEvents)).allSatisfy(tail -> {
            assertThat(tail.exitCode()).as(tail.err()).isZero();
            assertThat(tail.err()).isEmpty();
        });
        List<JsonNode> changes = parse(plain.lines());
        List<JsonNode> envelopes = parse(debezium.lines());
        List<JsonNode> events = parse(cloudEvents.lines());
        assertThat(envelopes).extracting(e -> e.get("op").asText()).containsExactly("c", "u", "d", "t");
        assertThat(envelopes).extracting(e -> e.get("source").get("table").asText()).containsOnly("mail_users");
        assertThat(envelopes.get(1).get("before").get("quota_bytes").asLong()).isEqualTo(100);
        assertThat(envelopes.get(1).get("after").get("quota_bytes").asLong()).isEqualTo(200);
        assertThat(events).extracting(e -> e.get("type").asText()).containsExactly("dev.epidemic.change.insert",
                "dev.epidemic.change.update", "dev.epidemic.change.delete", "dev.epidemic.change.truncate");
        assertThat(events).extracting(e -> e.get("data")).as("the data is the epidemic line").containsExactlyElementsOf(changes);
        assertThat(events).extracting(e -> e.get("id").asText()).containsExactlyElementsOf(changes.stream().map(c -> c.get("id").asText()).toList());
    }

    @Test
    void resumesAfterARestartWithoutRepeats() {
        for (int id = 1; id <= 5; id++) {
            Sql.exec(url, "INSERT INTO mail_users VALUES (" + id + ", 'u" + id + "', 0)");
        }

        CliProcess first = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "resumer", "--max", "3");
        CliProcess second = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "resumer", "--max", "2");

        assertThat(first.exitCode()).isZero();
        assertThat(second.exitCode()).isZero();
        assertThat(parse(first.lines())).extracting(change -> change.get("key").get("id").asInt()).containsExactly(1, 2, 3);
        assertThat(parse(second.lines())).extracting(change -> change.get("key").get("id").asInt()).containsExactly(4, 5);
    }

    @Test
    void idleExitEndsWithZeroWhenNothingNewComes() {
        Sql.exec(url, "INSERT INTO mail_users VALUES (1, 'ann', 0)", "INSERT INTO mail_users VALUES (2, 'bob', 0)");
        long started = System.nanoTime();

        CliProcess tail = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "idler", "--idle-exit", "2");

        assertThat(tail.exitCode()).as(tail.err()).isZero();
        assertThat(tail.lines()).hasSize(2);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        CliProcess again = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "idler", "--idle-exit", "2");
        assertThat(again.exitCode()).isZero();
        assertThat(again.lines()).isEmpty();
    }

    @Test
    void idleExitWaitsUntilABacklogIsPrintedHoweverLongItsFirstReadTakes() {
        // Given one transaction that inserts, updates and deletes 3,000 rows of 30 columns: 9,000 wide
        // changes, whose first read alone takes longer than the idle time (several seconds here)
        int rows = 3000;
        StringBuilder columns = new StringBuilder("id int PRIMARY KEY");
        StringBuilder values = new StringBuilder("g");
        for (int i = 1; i < 30; i++) {
            columns.append(", c").append(i).append(" text");
            values.append(", 'value ").append(i).append(" of row ' || g");
        }
        Sql.exec(url, "CREATE TABLE wide (" + columns + ")");
        assertThat(Cli.run("--url", url, "watch", "wide").exitCode()).isZero();
        Sql.exec(url, "DO $$ BEGIN"
                + " INSERT INTO wide SELECT " + values + " FROM generate_series(1, " + rows + ") g;"
                + " UPDATE wide SET c1 = c1 || ' updated';"
                + " DELETE FROM wide;"
                + " END $$");

        // When a new consumer tails it with an idle time much shorter than that read
        CliProcess tail = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "backlog", "--table", "wide", "--idle-exit", "0.5");

        // Then it exits 0 only once it has printed every change: reading a backlog is not being idle
        assertThat(tail.exitCode()).as(tail.err()).isZero();
        List<JsonNode> changes = parse(tail.lines());
        assertThat(changes).hasSize(3 * rows);
        assertThat(changes).extracting(change -> change.get("txid").asLong()).containsOnly(changes.get(0).get("txid").asLong());
        assertThat(changes.subList(0, rows)).extracting(change -> change.get("op").asText()).containsOnly("INSERT");
        assertThat(changes.subList(rows, 2 * rows)).extracting(change -> change.get("op").asText()).containsOnly("UPDATE");
        assertThat(changes.subList(2 * rows, 3 * rows)).extracting(change -> change.get("op").asText()).containsOnly("DELETE");
    }

    @Test
    void fromNowSkipsWhatCameBeforeANewConsumer() {
        Sql.exec(url, "INSERT INTO mail_users VALUES (1, 'old', 0)");
        CliProcess tail = CliProcess.start("--url", url, "tail", "--consumer", "newcomer", "--from", "now", "--max", "1");
        await().atMost(RUN).until(() -> Sql.queryLong(url,
                "SELECT count(*) FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid WHERE n.nspname = 'epidemic' AND c.relname = 'consumer'") == 1
                && Sql.queryLong(url, "SELECT count(*) FROM epidemic.consumer WHERE name = 'newcomer'") == 1);

        Sql.exec(url, "INSERT INTO mail_users VALUES (2, 'new', 0)");

        assertThat(tail.waitFor(RUN)).as(tail.err()).isZero();
        assertThat(parse(tail.lines())).extracting(change -> change.get("new").get("username").asText()).containsExactly("new");
    }

    @Test
    void printsOnlyTheTablesAsked() {
        Sql.exec(url, "CREATE TABLE aliases (id int PRIMARY KEY, alias text)");
        assertThat(Cli.run("--url", url, "watch", "aliases").exitCode()).isZero();
        Sql.exec(url, "INSERT INTO mail_users VALUES (1, 'ann', 0)", "INSERT INTO aliases VALUES (1, 'postmaster')");

        CliProcess tail = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "picky", "--table", "aliases", "--idle-exit", "3");

        assertThat(tail.exitCode()).isZero();
        assertThat(parse(tail.lines())).extracting(change -> change.get("table").asText()).containsExactly("public.aliases");
    }

    @Test
    void unknownTableIsBadInput() {
        CliProcess tail = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "typo", "--table", "mail_userz");
        assertThat(tail.exitCode()).isEqualTo(2);
        assertThat(tail.err().lines().toList()).singleElement().asString().startsWith("epidemic: ").contains("mail_userz");
        assertThat(tail.lines()).isEmpty();
    }

    @Test
    void sigtermStopsCleanlyAndKeepsThePosition() {
        Sql.exec(url, "INSERT INTO mail_users VALUES (1, 'ann', 0)");
        CliProcess tail = CliProcess.start("--url", url, "tail", "--consumer", "termed");
        tail.awaitLines(1, RUN);

        tail.terminate();

        assertThat(tail.waitFor(RUN)).as(tail.err()).isZero();
        assertThat(tail.err()).isEmpty();
        Sql.exec(url, "INSERT INTO mail_users VALUES (2, 'bob', 0)");
        CliProcess next = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "termed", "--max", "1");
        assertThat(parse(next.lines())).extracting(change -> change.get("key").get("id").asInt()).containsExactly(2);
    }

    @Test
    void aLineThatCannotBeWrittenIsAFailureAndIsPrintedAgainByTheNextRun() throws Exception {
        Sql.exec(url, "INSERT INTO mail_users VALUES (1, 'ann', 0)", "INSERT INTO mail_users VALUES (2, 'bob', 0)");
        Process closedOut = new ProcessBuilder(javaCommand("--url", url, "tail", "--consumer", "broken")).start();
        closedOut.getInputStream().close(); // every write to stdout now fails (EPIPE)

        assertThat(closedOut.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        String err = new String(closedOut.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(closedOut.exitValue()).as(err).isEqualTo(1);
        assertThat(err.lines().toList()).singleElement().asString().startsWith("epidemic: cannot write to standard output");

        CliProcess next = CliProcess.runToEnd(RUN, "--url", url, "tail", "--consumer", "broken", "--max", "2");
        assertThat(parse(next.lines())).extracting(change -> change.get("key").get("id").asInt()).containsExactly(1, 2);
    }

    private static List<String> javaCommand(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), EpidemicCommand.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    static List<JsonNode> parse(List<String> lines) {
        return lines.stream().map(TailTest::parse).toList();
    }

    static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new java.util.ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
