package dev.epidemic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code epidemic run} and {@code epidemic dead} in this JVM: stopping on failure, and managing dead letters. */
class RunTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static String url;

    @TempDir
    Path dir;

    @BeforeAll
    static void database() {
        url = TestDatabase.get().createDatabase();
    }

    @Test
    void aConsumerStoppedByItsFailurePolicyStopsTheDaemonWithOneLineNamingConsumerChangeAndError() throws Exception {
        // Given a table with one change, a strict consumer whose handler always fails, and another consumer
        Sql.exec(url, "CREATE TABLE strict_orders (id int PRIMARY KEY, total int)");
        assertThat(Cli.run("--url", url, "watch", "strict_orders").exitCode()).isZero();
        Sql.exec(url, "INSERT INTO strict_orders VALUES (1, 10)");
        long changeId = Sql.queryLong(url, "SELECT max(id) FROM epidemic.change_log");
        Path config = dir.resolve("stop.yaml");
        Files.writeString(config, """
                database: {url: '%s'}
                consumers:
                  - name: strict
                    tables:
                      - table: strict_orders
                        handler: {class: %s}
                        retry: {attempts: 2, backoff: 10ms}
                        on-failure: stop
                  - name: printer
                    tables:
                      - table: strict_orders
                        sink: {stdout: {}}
                """.formatted(url, TestHandlers.AlwaysFailing.class.getName()));

        // When the daemon runs
        Cli.Result result = CompletableFuture.supplyAsync(() -> Cli.run("run", "--config", config.toString())).get(60, TimeUnit.SECONDS);

        // Then it stops by itself, exit 1, with one line naming the consumer, the change and the error
        assertThat(result.exitCode()).as(result.err()).isEqualTo(1);
        assertThat(result.errLines()).containsExactly("epidemic: consumer strict stopped: " + TestHandlers.AlwaysFailing.class.getName()
                + " failed 2 times on change " + changeId + " of public.strict_orders: mailbox store unavailable");
        // and the strict consumer holds its position before the change; the other one, stopped with it, printed
        // the change at most once (it may not have reached it: the strict one fails within milliseconds)
        assertThat(Cli.run("--url", url, "status").outLines()).anySatisfy(line -> assertThat(line).matches("strict\\s+1\\s+.*"));
        assertThat(result.outLines()).hasSizeLessThanOrEqualTo(1)
                .allSatisfy(line -> assertThat(JSON.readTree(line).get("id").asLong()).isEqualTo(changeId));
    }

    @Test
    void aTableEntryWithWhereReceivesOnlyTheRowsItsFilterSelectsAndOthersAreNotLogged() throws Exception {
        // Given a daemon whose consumer prints the European accounts only
        String url = TestDatabase.get().createDatabase(); // its own: the log's rows are counted
        Sql.exec(url, "CREATE TABLE regional_accounts (id int PRIMARY KEY, region text)");
        try (InProcessDaemon daemon = InProcessDaemon.start("""
                database: {url: '%s'}
                consumers:
                  - name: europe
                    tables:
                      - table: regional_accounts
                        where: region = 'eu'
                        sink: {stdout: {}}
                """.formatted(url))) {
            long before = Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log");

            // When rows of two regions are written
            Sql.exec(url, "INSERT INTO regional_accounts VALUES (1, 'us'), (2, 'eu')", "UPDATE regional_accounts SET region = 'eu' WHERE id = 1");

            // Then it prints the European row and the row that moved to Europe, and the other row was never logged
            await().atMost(Duration.ofSeconds(20)).until(() -> daemon.stdout.toString().lines().count() >= 2);
            List<String> lines = daemon.stdout.toString().lines().toList();
            assertThat(lines).hasSize(2);
            assertThat(JSON.readTree(lines.get(0)).get("key").get("id").asInt()).isEqualTo(2);
            assertThat(JSON.readTree(lines.get(1)).get("op").asText()).isEqualTo("UPDATE");
            assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log")).isEqualTo(before + 2);
        }
        assertThat(Cli.run("--url", url, "list").outLines()).contains("  where region = 'eu'  (consumer europe)");
    }

    @Test
    void aStdoutSinkPrintsInItsFormat() throws Exception {
        // Given two consumers of one table printing to stdout, one as Debezium envelopes and one as CloudEvents
        Sql.exec(url, "CREATE TABLE shipments (id int PRIMARY KEY, sent date)");
        try (InProcessDaemon daemon = InProcessDaemon.start("""
                database: {url: '%s'}
                consumers:
                  - name: as-debezium
                    tables:
                      - table: shipments
                        sink: {stdout: {format: debezium}}
                  - name: as-cloudevents
                    tables:
                      - table: shipments
                        sink: {stdout: {format: cloudevents}}
                """.formatted(url))) {
            // When a row is inserted
            Sql.exec(url, "INSERT INTO shipments VALUES (1, '1970-01-03')");

            // Then one line is a Debezium envelope (a date as days since the epoch), the other a CloudEvent
            await().atMost(Duration.ofSeconds(20)).until(() -> daemon.stdout.toString().lines().count() >= 2);
            List<JsonNode> lines = daemon.stdout.toString().lines().map(line -> {
                try {
                    return JSON.readTree(line);
                } catch (Exception e) {
                    throw new AssertionError(line, e);
                }
            }).toList();
            assertThat(lines).hasSize(2);
            JsonNode envelope = lines.stream().filter(line -> line.has("op")).findFirst().orElseThrow();
            JsonNode event = lines.stream().filter(line -> line.has("specversion")).findFirst().orElseThrow();
            assertThat(envelope.get("op").asText()).isEqualTo("c");
            assertThat(envelope.get("after").get("sent").asInt()).isEqualTo(2);
            assertThat(event.get("type").asText()).isEqualTo("dev.epidemic.change.insert");
            assertThat(event.get("data").get("new").get("sent").asText()).isEqualTo("1970-01-03");
        }
    }

    @Test
    void deadLettersAreListedReplayedAndDropped() throws Exception {
        // Given a consumer whose handler fails on two changes until they become dead letters
        Sql.exec(url, "CREATE TABLE quotas (id int PRIMARY KEY, bytes bigint)");
        TestHandlers.Switchable.failing = true;
        try (InProcessDaemon daemon = InProcessDaemon.start("""
                database: {url: '%s'}
                consumers:
                  - name: quota-keeper
                    tables:
                      - table: quotas
                        handler: {class: %s}
                        retry: {attempts: 2, backoff: 5ms}
                """.formatted(url, TestHandlers.Switchable.class.getName()))) {
            Sql.exec(url, "INSERT INTO quotas VALUES (1, 100)", "INSERT INTO quotas VALUES (2, 200)");
            await().atMost(Duration.ofSeconds(20)).until(() -> Cli.run("--url", url, "dead", "list", "--json").out().contains("\"id\":2}"));

            // When they are listed
            Cli.Result list = Cli.run("--url", url, "dead", "list", "--consumer", "quota-keeper");
            Cli.Result json = Cli.run("dead", "list", "--json", "--url", url);

            // Then the table and the JSON show both, with the change as tail prints it
            assertThat(list.outLines()).hasSize(3);
            assertThat(list.outLines().get(0)).startsWith("ID  CONSUMER      CHANGE  TABLE          OP      KEY       ATTEMPTS  LAST FAILURE");
            assertThat(list.outLines().get(1)).contains("quota-keeper", "public.quotas", "INSERT", "{\"id\":1}", "quota service down for row 1");
            JsonNode letters = JSON.readTree(json.out());
            assertThat(letters).hasSize(2);
            JsonNode first = letters.get(0);
            assertThat(first.get("consumer").asText()).isEqualTo("quota-keeper");
            assertThat(first.get("handler").asText()).isEqualTo(TestHandlers.Switchable.class.getName());
            assertThat(first.get("attempts").asInt()).isEqualTo(2);
            assertThat(first.get("change").get("new").get("bytes").asLong()).isEqualTo(100);
            assertThat(first.get("replay_requested").asBoolean()).isFalse();

            // When "all" is asked for without saying so, nothing happens
            Cli.Result unnamed = Cli.run("--url", url, "dead", "replay");
            assertThat(unnamed.exitCode()).isEqualTo(2);
            assertThat(unnamed.err()).isEqualTo("epidemic: name the dead letters: --id N, --consumer NAME for all of a consumer's, or --all for every one\n");

            // When the handler recovers and the first is replayed and the second dropped
            TestHandlers.Switchable.failing = false;
            Cli.Result replay = Cli.run("--url", url, "dead", "replay", "--id", first.get("id").asText());
            Cli.Result drop = Cli.run("--url", url, "dead", "drop", "--consumer", "quota-keeper", "--id", letters.get(1).get("id").asText());

            // Then the replayed change is delivered and both are gone
            assertThat(replay.out()).isEqualTo("replay requested for 1 dead letter\n");
            assertThat(drop.out()).isEqualTo("dropped 1 dead letter\n");
            await().atMost(Duration.ofSeconds(20)).until(() -> TestHandlers.Switchable.handled.size() == 1);
            assertThat(TestHandlers.Switchable.handled.get(0).key()).isEqualTo(Map.of("id", 1));
            await().atMost(Duration.ofSeconds(20)).until(() -> Cli.run("--url", url, "dead", "list").out().equals("no dead letters\n"));
        }
    }

    @Test
    void aNewConsumerConfiguredFromSnapshotReceivesAReadOfEveryRowThenChanges() throws Exception {
        // Given a table with rows before the daemon's consumer exists (in a database of its own: status of the
        // other tests' consumers counts every table's changes)
        String url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE snap_items (id int PRIMARY KEY, name text)",
                "INSERT INTO snap_items SELECT g, 'n' || g FROM generate_series(1, 300) g");
        assertThat(Cli.run("--url", url, "watch", "snap_items").exitCode()).isZero();

        // When the daemon runs a consumer with from: snapshot, and a row changes
        try (InProcessDaemon daemon = InProcessDaemon.start("""
                database: {url: '%s'}
                consumers:
                  - name: snapper
                    from: snapshot
                    tables:
                      - table: snap_items
                        sink: {stdout: {}}
                """.formatted(url))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> daemon.stdout.toString().lines().count() >= 300);
            Sql.exec(url, "UPDATE snap_items SET name = 'changed' WHERE id = 7");
            await().atMost(Duration.ofSeconds(30)).until(() -> daemon.stdout.toString().contains("\"UPDATE\""));
            List<JsonNode> printed = TailTest.parse(daemon.stdout.toString().lines().toList());

            // Then it printed a READ of each row, then the UPDATE
            assertThat(printed.subList(0, 300)).extracting(change -> change.get("op").asText()).containsOnly("READ");
            assertThat(printed.subList(0, 300)).extracting(change -> change.get("key").get("id").asInt())
                    .containsExactlyElementsOf(IntStream.rangeClosed(1, 300).boxed().toList());
            assertThat(printed.get(300).get("op").asText()).isEqualTo("UPDATE");
            assertThat(printed).hasSize(301);
        }
    }
}
