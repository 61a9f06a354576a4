package dev.epidemic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code epidemic backfill}, {@code tail --from snapshot} and the backfills in {@code status}, against a
 * real PostgreSQL. (MariaDB has no backfill yet; these run on PostgreSQL only.)
 */
class BackfillCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration RUN = Duration.ofSeconds(60);

    String url;

    @BeforeEach
    void database() {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, name text, qty int)");
        assertThat(Cli.run("--url", url, "watch", "items").exitCode()).isZero();
    }

    private void insertRows(int count) {
        Sql.exec(url, "INSERT INTO items SELECT g, 'item ' || g, g % 7 FROM generate_series(1, " + count + ") g", "ANALYZE items");
    }

    /** Creates consumer {@code name} at the present. */
    private void consumer(String name) {
        Cli.Result created = Cli.run("--url", url, "tail", "--consumer", name, "--from", "now", "--idle-exit", "0.1");
        assertThat(created.exitCode()).as(created.err()).isZero();
    }

    /** Everything the consumer has pending, as tail prints it. */
    private List<JsonNode> drain(String consumer) {
        Cli.Result tail = Cli.run("--url", url, "tail", "--consumer", consumer, "--idle-exit", "0.5");
        assertThat(tail.exitCode()).as(tail.err()).isZero();
        return TailTest.parse(tail.outLines());
    }

    private static List<Integer> keys(List<JsonNode> changes) {
        return changes.stream().map(change -> change.get("key").get("id").asInt()).toList();
    }

    private static List<Integer> oneTo(int count) {
        return IntStream.rangeClosed(1, count).boxed().toList();
    }

    @Test
    void backfillDeliversEveryRowAsAReadToTheNamedConsumerOnly() throws Exception {
        // Given rows, and two consumers created after them
        insertRows(50);
        consumer("search");
        consumer("audit");

        // When the table is backfilled for one of them
        Cli.Result backfill = Cli.run("--url", url, "backfill", "items", "--consumer", "search", "--chunk", "7");

        // Then it says so on one line, exit 0, and the consumer gets a READ of each row, the other nothing
        assertThat(backfill.exitCode()).as(backfill.err()).isZero();
        assertThat(backfill.outLines()).singleElement().asString().matches("backfilled 50 rows of public.items for search in \\d+\\.\\ds \\(backfill \\d+\\)");
        assertThat(backfill.err()).doesNotContain("resuming").doesNotContain("\r");
        List<JsonNode> reads = drain("search");
        assertThat(keys(reads)).containsExactlyElementsOf(oneTo(50));
        JsonNode first = reads.get(0);
        assertThat(first.get("op").asText()).isEqualTo("READ");
        assertThat(first.get("old").isNull()).as("old of a READ").isTrue();
        assertThat(first.get("new")).isEqualTo(JSON.readTree("{\"id\": 1, \"name\": \"item 1\", \"qty\": 1}"));
        assertThat(first.get("table").asText()).isEqualTo("public.items");
        assertThat(drain("audit")).isEmpty();
    }

    @Test
    void backfillWithoutConsumersGoesToEveryConsumerAndWhereSelectsRows() {
        insertRows(40);
        consumer("a");
        consumer("b");

        Cli.Result backfill = Cli.run("--url", url, "backfill", "items", "--where", "qty = 3 AND name LIKE 'item %'");

        assertThat(backfill.exitCode()).as(backfill.err()).isZero();
        assertThat(backfill.out()).startsWith("backfilled 6 rows of public.items for a, b in ");
        List<Integer> expected = List.of(3, 10, 17, 24, 31, 38);
        assertThat(keys(drain("a"))).containsExactlyElementsOf(expected);
        assertThat(keys(drain("b"))).containsExactlyElementsOf(expected);
    }

    @Test
    void killedBackfillRunAgainWithTheSameArgumentsResumesAndDeliversEachRowOnce() {
        // Given a backfill process killed (SIGKILL) after some chunks
        int rows = 15_000;
        insertRows(rows);
        consumer("replica");
        String[] args = {"--url", url, "backfill", "items", "--consumer", "replica", "--chunk", "50"};
        CliProcess first = CliProcess.start(args);
        await().atMost(RUN).until(() -> Sql.queryLong(url, "SELECT coalesce(max(rows_done), 0) FROM epidemic.backfill") >= 500);
        first.kill();
        long doneWhenKilled = Sql.queryLong(url, "SELECT rows_done FROM epidemic.backfill");
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.backfill WHERE finished_at IS NULL")).as("unfinished when killed").isOne();
        assertThat(doneWhenKilled).isLessThan(rows);

        // When it runs again with the same arguments
        Cli.Result again = Cli.run(args);

        // Then it resumes where the last chunk ended, and the consumer gets exactly one READ per row
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.errLines()).first().asString().startsWith("resuming backfill ").contains(" of public.items at " + doneWhenKilled + " rows");
        assertThat(again.out()).startsWith("backfilled " + rows + " rows of public.items for replica");
        List<JsonNode> reads = drain("replica");
        assertThat(reads).allSatisfy(change -> assertThat(change.get("op").asText()).isEqualTo("READ"));
        assertThat(keys(reads)).containsExactlyElementsOf(oneTo(rows));
    }

    @Test
    void sigtermStopsAfterTheChunkInHandExit1AndStatusShowsTheUnfinishedBackfill() throws Exception {
        // Given a backfill running in its own process
        insertRows(15_000);
        consumer("slow");
        consumer("other");
        String[] args = {"--url", url, "backfill", "items", "--consumer", "slow", "--chunk", "50", "--where", "id > 0"};
        CliProcess backfill = CliProcess.start(args);
        await().atMost(RUN).until(() -> Sql.queryLong(url, "SELECT coalesce(max(rows_done), 0) FROM epidemic.backfill") > 0);

        // When it gets SIGTERM
        backfill.terminate();

        // Then it stops unfinished, exit 1, saying how far it got and how to resume
        assertThat(backfill.waitFor(RUN)).as(backfill.err()).isEqualTo(1);
        long done = Sql.queryLong(url, "SELECT rows_done FROM epidemic.backfill");
        assertThat(backfill.err()).contains("epidemic: backfill 1 of public.items stopped unfinished at " + done
                + " rows; run the same command again to resume it");
        assertThat(backfill.out()).isEmpty();
        assertThat(done).isLessThan(15_000);
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log WHERE backfill_id IS NOT NULL")).as("every chunk logged is counted").isEqualTo(done);

        // and status shows it under the consumers, in text
        Cli.Result status = Cli.run("--url", url, "status");
        assertThat(status.exitCode()).as(status.err()).isZero();
        List<String> lines = status.outLines();
        assertThat(lines).hasSize(6);
        assertThat(lines.get(3)).isEmpty();
        assertThat(lines.get(4)).matches("BACKFILL +TABLE +FOR +DONE +OF ~ +STARTED +LAST CHUNK");
        assertThat(lines.get(5).strip().split(" +")).satisfies(row -> {
            assertThat(row[0]).isEqualTo("1");
            assertThat(row[1]).isEqualTo("public.items");
            assertThat(row[2]).isEqualTo("slow");
            assertThat(row[3]).isEqualTo(Long.toString(done));
            assertThat(Long.parseLong(row[4])).isBetween(10_000L, 20_000L);
            assertThat(row[5]).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        });

        // and in JSON, each consumer object keeping its fields, with the backfills it receives
        JsonNode json = JSON.readTree(Cli.run("--url", url, "status", "--json").out());
        Map<String, JsonNode> byConsumer = new HashMap<>();
        json.forEach(consumer -> byConsumer.put(consumer.get("consumer").asText(), consumer));
        assertThat(byConsumer.get("other").get("backfills")).isEmpty();
        JsonNode slow = byConsumer.get("slow");
        assertThat(slow.get("pending").asLong()).isEqualTo(done);
        assertThat(slow.has("oldest_pending_age_seconds")).isTrue();
        JsonNode unfinished = slow.get("backfills").get(0);
        assertThat(slow.get("backfills")).hasSize(1);
        List<String> fields = new ArrayList<>();
        unfinished.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactly("id", "table", "rows_done", "rows_estimate", "where", "started_at", "updated_at");
        assertThat(unfinished.get("rows_done").asLong()).isEqualTo(done);
        assertThat(unfinished.get("where").asText()).isEqualTo("id > 0");

        // and the same command resumes it to its end
        Cli.Result resumed = Cli.run(args);
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(resumed.err()).contains("resuming backfill 1 of public.items at " + done + " rows");
        assertThat(Cli.run("--url", url, "status").outLines()).hasSize(3);
        assertThat(keys(drain("slow"))).containsExactlyElementsOf(oneTo(15_000));
    }

    @Test
    void tailFromSnapshotPrintsEveryRowThenLiveChangesAndIdleExitWaitsForTheSnapshot() throws Exception {
        // Given rows in the table, one of them held by a writer's open transaction
        int rows = 30_000;
        insertRows(rows);
        try (Connection writer = DriverManager.getConnection(url)) {
            writer.setAutoCommit(false);
            writer.createStatement().execute("UPDATE items SET qty = -2 WHERE id = 12000");

            // When a new consumer tails from a snapshot with a short --idle-exit
            CliProcess tail = CliProcess.start("--url", url, "tail", "--consumer", "fresh", "--from", "snapshot", "--idle-exit", "0.3");
            tail.awaitLines(1, RUN);

            // Then it does not exit while the snapshot waits for the held row, though it has printed all that is logged
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(tail::alive);

            // and when the writer commits and rows change meanwhile, it prints the rest and exits 0
            writer.commit();
            Sql.exec(url, "UPDATE items SET qty = -1 WHERE id IN (1, " + rows + ")", "DELETE FROM items WHERE id = 2",
                    "INSERT INTO items VALUES (" + (rows + 1) + ", 'new', 0)");
            assertThat(tail.waitFor(RUN)).as(tail.err()).isZero();
            verifyMaterializes(tail, rows);
        }

        // and run again, the consumer resumes: no second snapshot
        Cli.Result again = Cli.run("--url", url, "tail", "--consumer", "fresh", "--from", "snapshot", "--idle-exit", "0.3");
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out()).isEmpty();
    }

    /** Applied in order, what tail printed is exactly the table: READs for the rows, and the live changes. */
    private void verifyMaterializes(CliProcess tail, int rows) {
        List<JsonNode> printed = TailTest.parse(tail.lines());
        Map<Integer, String> materialized = new TreeMap<>();
        for (JsonNode change : printed) {
            int id = change.get("key").get("id").asInt();
            if (change.get("op").asText().equals("DELETE")) {
                materialized.remove(id);
            } else {
                materialized.put(id, change.get("new").get("name").asText() + "/" + change.get("new").get("qty").asInt());
            }
        }
        Map<Integer, String> table = new TreeMap<>();
        for (String row : Sql.rows(url, "SELECT id || ',' || name || '/' || qty FROM items")) {
            table.put(Integer.parseInt(row.substring(0, row.indexOf(','))), row.substring(row.indexOf(',') + 1));
        }
        assertThat(materialized).isEqualTo(table);
        assertThat(printed).filteredOn(change -> change.get("op").asText().equals("READ")).hasSizeGreaterThanOrEqualTo(rows - 1);
        assertThat(printed).extracting(change -> change.get("op").asText()).contains("UPDATE", "DELETE", "INSERT");
    }
}
