package dev.epidemic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What happens to capture when a watched table changes under it: it keeps working, or it fails loudly
 * with a message that names the repair; it never drops changes without a word. And values far beyond
 * NOTIFY's 8 kB arrive intact, since the wake-up carries no data.
 */
class SchemaChangeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void droppingAWatchedColumnIsAllowedAndReportedInOneLineWithTheCommandToRun() {
        String db = TestDatabase.get().createDatabase();
        Sql.exec(db, "CREATE TABLE t (id int PRIMARY KEY, a text, b text)");
        assertThat(Cli.run("--url", db, "watch", "t", "--columns", "id,a,b").exitCode()).isZero();
        Sql.exec(db, "INSERT INTO t VALUES (1, 'a', 'b')");

        // Capture names no column in a trigger definition: the application's migration is never refused.
        Sql.exec(db, "ALTER TABLE t DROP COLUMN b");
        for (String command : List.of("list", "status")) {
            Cli.Result result = Cli.run("--url", db, command);
            assertThat(result.exitCode()).as(command).isEqualTo(1);
            assertThat(result.errLines()).singleElement().asString()
                    .isEqualTo("epidemic: capture of public.t: watched column b was dropped and is no longer captured (the other columns are);"
                            + " run: epidemic watch public.t --columns id,a");
        }
        // Writers go on, and so does capture of the other columns.
        Sql.exec(db, "UPDATE t SET a = 'updated' WHERE id = 1", "INSERT INTO t VALUES (2, 'x')");
        Cli.Result repair = Cli.run("--url", db, "watch", "public.t", "--columns", "id,a");
        assertThat(repair.exitCode()).as(repair.err()).isZero();
        Cli.Result list = Cli.run("--url", db, "list");
        assertThat(list.exitCode()).isZero();
        assertThat(list.err()).isEmpty();

        List<JsonNode> changes = tail(db, 3);
        assertThat(changes).extracting(c -> c.get("op").asText()).containsExactly("INSERT", "UPDATE", "INSERT");
        assertThat(changes.get(1).get("new").get("a").asText()).isEqualTo("updated");
        assertThat(changes.get(1).get("new").has("b")).isFalse();
    }

    @Test
    void aRenamedColumnIsFollowedWithoutFailingAWriteOrRunningWatchAgain() {
        String db = TestDatabase.get().createDatabase();
        Sql.exec(db, "CREATE TABLE r (id int PRIMARY KEY, a text, b text)");
        assertThat(Cli.run("--url", db, "watch", "r").exitCode()).isZero();

        Sql.exec(db, "ALTER TABLE r RENAME COLUMN b TO c", "INSERT INTO r VALUES (1, 'a', 'c')");

        Cli.Result list = Cli.run("--url", db, "list");
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains("id, a, c");
        assertThat(tail(db, 1).get(0).get("new").get("c").asText()).isEqualTo("c");
    }

    @Test
    void aPartitionedTableIsCapturedAndATruncateOfOnePartitionIsRefused() {
        String db = TestDatabase.get().createDatabase();
        Sql.exec(db, "CREATE TABLE p (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY LIST (k)",
                "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)");
        List<String> before = Sql.catalogFingerprint(db);
        assertThat(Cli.run("--url", db, "watch", "p").exitCode()).isZero();
        Sql.exec(db, "INSERT INTO p VALUES (1, 1, 'one')", "INSERT INTO p1 VALUES (3, 1, 'straight into the partition')",
                "DELETE FROM p1 WHERE id = 3");

        // Its statement trigger would not fire, and "all rows of p are gone" would be untrue.
        assertThatThrownBy(() -> Sql.exec(db, "TRUNCATE p1")).hasMessageContaining("TRUNCATE of a partition of public.p cannot be captured");
        // A partition added later gets its capture triggers in the same transaction (the event trigger follows).
        Sql.exec(db, "CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2)", "INSERT INTO p VALUES (2, 2, 'two')");
        Cli.Result list = Cli.run("--url", db, "list");
        assertThat(list.exitCode()).as(list.err()).isZero();

        Sql.exec(db, "INSERT INTO p2 VALUES (4, 2, 'straight into the new partition')");
        Sql.exec(db, "TRUNCATE p");

        List<JsonNode> changes = tail(db, 6);
        assertThat(changes).extracting(c -> c.get("table").asText()).containsOnly("public.p");
        assertThat(changes).extracting(c -> c.get("op").asText() + " " + c.get("key"))
                .containsExactly("INSERT {\"k\":1,\"id\":1}", "INSERT {\"k\":1,\"id\":3}", "DELETE {\"k\":1,\"id\":3}",
                        "INSERT {\"k\":2,\"id\":2}", "INSERT {\"k\":2,\"id\":4}", "TRUNCATE null");

        // Once the whole table is truncated, a partition alone is refused again, even in the same transaction.
        assertThatThrownBy(() -> Sql.exec(db, "BEGIN", "TRUNCATE p", "TRUNCATE p2")).hasMessageContaining("cannot be captured");

        assertThat(Cli.run("--url", db, "unwatch", "p", "--purge").exitCode()).isZero();
        List<String> after = Sql.catalogFingerprint(db);
        after.removeIf(line -> line.contains(" epidemic") || line.contains("p2"));
        assertThat(after).isEqualTo(before);
        assertThat(Sql.rows(db, "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relnamespace <> 'epidemic'::regnamespace")).isEmpty();
        assertThat(Sql.rows(db, "SELECT proname FROM pg_proc WHERE proname LIKE 'guard_truncate%' OR proname LIKE 'capture%'")).isEmpty();
    }

    @Test
    void valuesFarBeyondTheNotifyLimitArriveIntactAtAnIdleConsumer() throws Exception {
        String db = TestDatabase.get().createDatabase();
        Sql.exec(db, "CREATE TABLE docs (id int PRIMARY KEY, body text, data jsonb, raw bytea)");
        assertThat(Cli.run("--url", db, "watch", "docs").exitCode()).isZero();
        CliProcess tail = CliProcess.start("--url", db, "tail", "--consumer", "big", "--from", "now", "--max", "1");
        try {
            // Idle: it has asked writers for a NOTIFY, so the insert below wakes it.
            await().atMost(Duration.ofSeconds(30)).until(() -> Sql.queryLong(db, "SELECT count(*) FROM epidemic.waiting") > 0);
            String body = "'quoted' \"double\" ünïcode \\ backslash ".repeat(5_000); // ~200 kB
            Sql.exec(db, "INSERT INTO docs VALUES (1, '" + body.replace("'", "''") + "',"
                    + " (SELECT jsonb_agg(g) FROM generate_series(1, 20000) g), decode(repeat('00ff', 30000), 'hex'))");
            tail.awaitLines(1, Duration.ofSeconds(30));
            assertThat(tail.waitFor(Duration.ofSeconds(30))).isZero();
        } finally {
            tail.terminate();
        }
        JsonNode change = JSON.readTree(tail.lines().get(0));
        assertThat(tail.lines().get(0).length()).isGreaterThan(300_000);
        String body = "'quoted' \"double\" ünïcode \\ backslash ".repeat(5_000);
        assertThat(change.get("new").get("body").asText()).isEqualTo(body);
        assertThat(change.get("new").get("data")).hasSize(20_000);
        assertThat(change.get("new").get("data").get(19_999).asInt()).isEqualTo(20_000);
        assertThat(change.get("new").get("raw").asText()).isEqualTo("\\x" + "00ff".repeat(30_000));
    }

    /** The first {@code count} changes, read by an in-process tail of a new consumer from the oldest. */
    private static List<JsonNode> tail(String db, int count) {
        Cli.Result result = Cli.run("--url", db, "tail", "--consumer", "check-" + System.nanoTime(), "--max", Integer.toString(count),
                "--idle-exit", "5");
        assertThat(result.exitCode()).as(result.err()).isZero();
        return result.outLines().stream().map(line -> {
            try {
                return JSON.readTree(line);
            } catch (Exception e) {
                throw new AssertionError(line, e);
            }
        }).toList();
    }
}
