package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.Operation;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Replica;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import dev.epidemic.testing.Writers;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Capture lives through the application's migrations: no DDL on a watched table makes a writer's statement
 * fail or is refused because of capture, and the stream, applied to a replica, ends equal to the table.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#postgresVersions")
class SchemaChangeCaptureTest {
    /**
     * 42P01: a statement still naming the table the test renamed; 40001 and 40P01: rows moved or locked
     * by a concurrent writer. The application meets these with or without capture, and retries.
     */
    private static final BiPredicate<SQLException, String> APPLICATIONS_OWN =
            (e, table) -> List.of("42P01", "40001", "40P01").contains(e.getSQLState());

    @Parameter
    TestServer server;
    Target db;
    String url;
    EpidemicAdmin admin;

    @BeforeEach
    void database() {
        db = server.create();
        url = db.url();
        admin = db.admin();
    }

    @Test
    void writersRunningAcrossEveryKindOfDdlNeverFailAndTheReplicaEndsEqualToTheTable() throws Exception {
        Sql.exec(url, "CREATE TABLE sc (id bigint PRIMARY KEY, v text, a int, c text)");
        admin.watch("sc", List.of(), List.of());
        Replica replica = new Replica();
        try (Writers writers = new Writers(url, "sc", 3, APPLICATIONS_OWN);
             Epidemic epidemic = db.engine().consumer("replica").handle("sc", List.of(), replica).build().start()) {
            writers.awaitSomeWork();
            ddl(writers, "ALTER TABLE sc ADD COLUMN b text DEFAULT 'bee'");
            updateRetryingOnConflict("UPDATE sc SET b = 'x' WHERE id % 5 = 0");
            ddl(writers, "ALTER TABLE sc ALTER COLUMN a TYPE bigint"); // refused before: the UPDATE trigger's WHEN named it
            ddl(writers, "ALTER TABLE sc RENAME COLUMN a TO aa");
            updateRetryingOnConflict("UPDATE sc SET aa = coalesce(aa, 0) + 1 WHERE id % 3 = 0");
            ddl(writers, "ALTER TABLE sc ALTER COLUMN c SET DEFAULT 'default'");
            ddl(writers, "ALTER TABLE sc ALTER COLUMN c DROP DEFAULT");
            ddl(writers, "ALTER TABLE sc ALTER COLUMN v SET NOT NULL");
            ddl(writers, "ALTER TABLE sc ALTER COLUMN v DROP NOT NULL");
            ddl(writers, "ALTER TABLE sc ADD CONSTRAINT v_is_short CHECK (length(v) < 10000)");
            ddl(writers, "ALTER TABLE sc DROP CONSTRAINT v_is_short");
            ddl(writers, "ALTER TABLE sc DROP COLUMN c"); // refused before (dependency), or CASCADE dropped capture
            Sql.exec(url, "ALTER TABLE sc RENAME TO sc_renamed");
            writers.table = "sc_renamed";
            writers.awaitSomeWork();
            Sql.exec(url, "CREATE SCHEMA moved", "ALTER TABLE sc_renamed SET SCHEMA moved");
            writers.table = "moved.sc_renamed";
            writers.awaitSomeWork();
            // The primary key replaced by one on the same column: followed silently.
            ddl(writers, "ALTER TABLE moved.sc_renamed DROP CONSTRAINT sc_pkey, ADD CONSTRAINT sc_pkey2 PRIMARY KEY (id)");
            writers.awaitSomeWork();
            writers.stop();
            assertThat(writers.errors()).as("errors the writers saw").isEmpty();

            // Every row that exists, and only those: nothing lost, nothing delivered that did not happen.
            Map<String, Map<String, Object>> table = Replica.tableRows(url, "moved.sc_renamed", List.of("id"));
            assertThat(table).hasSizeGreaterThan(10);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(replica.rows().keySet()).isEqualTo(table.keySet()));
            // DDL is not a row change (ADD COLUMN ... DEFAULT fills rows without firing a trigger), so rows not
            // written since still show their last change; once written, every row is what the table holds.
            Sql.exec(url, "UPDATE moved.sc_renamed SET v = v || '.'");
            Map<String, Map<String, Object>> rewritten = Replica.tableRows(url, "moved.sc_renamed", List.of("id"));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(replica.rows()).isEqualTo(rewritten));
        }
        assertThat(admin.list()).singleElement().satisfies(w -> {
            assertThat(w.qualifiedName()).isEqualTo("moved.sc_renamed");
            assertThat(w.columns()).containsExactly("id", "v", "aa", "b");
        });
        assertThat(admin.captureProblems()).isEmpty();
    }

    @Test
    void anUpdateThatMovesRowsToAnotherPartitionIsCaptured() throws Exception {
        Sql.exec(url, "CREATE TABLE parted (id bigint, k int, v text, PRIMARY KEY (id, k)) PARTITION BY LIST (k)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1)",
                "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2)");
        admin.watch("parted", List.of(), List.of());
        Collector collector = new Collector();
        Replica replica = new Replica();
        try (Epidemic epidemic = db.engine().consumer("replica").handle("parted", List.of(), replica)
                .handle("parted", List.of("v"), collector).build().start()) {
            Sql.exec(url, "INSERT INTO parted SELECT g, 1 + g % 2, 'v' || g FROM generate_series(1, 100) g",
                    "UPDATE parted SET k = 3 - k WHERE id <= 10",                 // 10 rows change partition
                    "UPDATE parted SET k = 3 - k, v = 'moved back' WHERE id <= 4", // and some back again, changed
                    "UPDATE parted_1 SET v = 'named the partition' WHERE id % 10 = 0");
            Map<String, Map<String, Object>> table = Replica.tableRows(url, "parted", List.of("id", "k"));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(replica.rows()).isEqualTo(table));
        }
        // A move changes the key (the partition key is part of it): the old row is deleted, the new one inserted.
        List<Change> moves = collector.changes().stream().filter(c -> Integer.valueOf(1).equals(c.key().get("id"))).toList();
        assertThat(moves).extracting(Change::operation)
                .containsExactly(Operation.INSERT, Operation.DELETE, Operation.INSERT, Operation.DELETE, Operation.INSERT);
        assertThat(moves.get(4).newValues()).containsEntry("v", "moved back").containsEntry("k", 2);
        assertThat(moves).allSatisfy(c -> assertThat(c.table()).isEqualTo("public.parted"));
    }

    @Test
    void writersMovingRowsBetweenPartitionsConcurrentlyLoseNothing() throws Exception {
        Sql.exec(url, "CREATE TABLE sc (id bigint, k int NOT NULL DEFAULT 0, v text, a int, PRIMARY KEY (id, k)) PARTITION BY LIST (k)",
                "CREATE TABLE sc_0 PARTITION OF sc FOR VALUES IN (0)",
                "CREATE TABLE sc_1 PARTITION OF sc FOR VALUES IN (1)");
        admin.watch("sc", List.of(), List.of());
        Replica replica = new Replica();
        try (Writers writers = new Writers(url, "sc", 3, APPLICATIONS_OWN);
             Epidemic epidemic = db.engine().consumer("replica").handle("sc", List.of(), replica).build().start()) {
            writers.awaitSomeWork();
            for (int i = 0; i < 8; i++) {
                updateRetryingOnConflict("UPDATE sc SET k = 1 - k WHERE id % 4 = " + (i % 4));
                writers.awaitSomeWork();
            }
            ddl(writers, "CREATE TABLE sc_2 PARTITION OF sc FOR VALUES IN (2)");
            updateRetryingOnConflict("UPDATE sc SET k = 2 WHERE id % 7 = 0");
            ddl(writers, "INSERT INTO sc_2 (id, k, v) VALUES (-1, 2, 'straight into a new partition')");
            // A table attached as a partition is captured at once, and a detached one is let go.
            ddl(writers, "CREATE TABLE sc_3 (LIKE sc INCLUDING DEFAULTS)", "ALTER TABLE sc ATTACH PARTITION sc_3 FOR VALUES IN (3)",
                    "INSERT INTO sc_3 (id, k, v) VALUES (-3, 3, 'straight into an attached partition')",
                    "CREATE TABLE sc_4 PARTITION OF sc FOR VALUES IN (4)", "ALTER TABLE sc DETACH PARTITION sc_4");
            writers.stop();
            assertThat(writers.errors()).isEmpty();
            Map<String, Map<String, Object>> table = Replica.tableRows(url, "sc", List.of("id", "k"));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(replica.rows()).isEqualTo(table));
        }
        assertThat(admin.captureProblems()).isEmpty();
        assertThat(Sql.rows(url, "SELECT tgname FROM pg_trigger WHERE tgrelid = 'sc_4'::regclass")).isEmpty();
        long logged = Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log");
        Sql.exec(url, "INSERT INTO sc_4 (id, k, v) VALUES (-4, 4, 'no longer part of sc')");
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log")).isEqualTo(logged);
    }

    @Test
    void ddlOnOnePartitionDoesNotWaitForWritersOfAnother() throws Exception {
        Sql.exec(url, "CREATE TABLE pp (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY LIST (k)",
                "CREATE TABLE pp_1 PARTITION OF pp FOR VALUES IN (1)", "CREATE TABLE pp_2 PARTITION OF pp FOR VALUES IN (2)");
        admin.watch("pp", List.of(), List.of());
        try (Connection writer = DriverManager.getConnection(url); Statement st = writer.createStatement()) {
            writer.setAutoCommit(false);
            st.execute("INSERT INTO pp VALUES (1, 2, 'a writer holds the table and pp_2')");
            // Following the DDL must not touch the triggers of pp or pp_2, which the open writer holds: it
            // would wait for the writer (here until lock_timeout, after which capture says it could not follow).
            try (Connection migration = DriverManager.getConnection(url); Statement ddl = migration.createStatement()) {
                ddl.execute("SET lock_timeout = '3s'");
                ddl.execute("ALTER TABLE pp_1 ADD CONSTRAINT v_set CHECK (v IS NOT NULL)");
                java.sql.SQLWarning warning = ddl.getWarnings();
                assertThat(warning == null ? "" : warning.getMessage()).as("warning of the DDL").isEmpty();
            }
            writer.commit();
        }
        assertThat(admin.captureProblems()).isEmpty();
    }

    @Test
    void anExplicitColumnListFollowsItsColumnsNotTheirNames() {
        Sql.exec(url, "CREATE TABLE ex (id int PRIMARY KEY, a text, b text, secret text)");
        admin.watch("ex", List.of("a", "b"), List.of());
        Collector collector = new Collector();
        // A handler for every captured column of the table (handle(table, List.of(), ...) would widen capture to all columns).
        try (Epidemic epidemic = db.engine().consumer("c").handleEveryTable(List.of("ex"), collector).build().start()) {
            Sql.exec(url, "INSERT INTO ex VALUES (1, 'a', 'b', 'pw')",
                    "ALTER TABLE ex RENAME COLUMN a TO aa",
                    "ALTER TABLE ex ADD COLUMN added text",
                    "UPDATE ex SET aa = 'renamed', added = 'not watched' WHERE id = 1",
                    "UPDATE ex SET added = 'still not watched', secret = 'pw2'",
                    "ALTER TABLE ex DROP COLUMN b",
                    "INSERT INTO ex VALUES (2, 'after the drop', 'pw3')");
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 3);
        }
        List<Change> changes = collector.changes();
        assertThat(changes).hasSize(3);
        assertThat(changes.get(0).newValues()).isEqualTo(Map.of("a", "a", "b", "b"));
        assertThat(changes.get(1).newValues()).isEqualTo(Map.of("aa", "renamed", "b", "b"));
        assertThat(changes.get(2).newValues()).isEqualTo(Map.of("aa", "after the drop"));
        assertThat(admin.list()).singleElement().satisfies(w -> assertThat(w.columns()).containsExactly("aa"));
        assertThat(admin.captureProblems()).singleElement().asString()
                .isEqualTo("capture of public.ex: watched column b was dropped and is no longer captured (the other columns are);"
                        + " run: epidemic watch public.ex --columns aa");
        admin.watch("public.ex", List.of("aa"), List.of());
        assertThat(admin.captureProblems()).isEmpty();
    }

    @Test
    void withoutTheEventTriggerARenameNeverFailsAWriterAndIsReportedUntilWatchIsRunAgain() {
        Sql.exec(url, "CREATE TABLE r (id int PRIMARY KEY, a text, b text)");
        admin.watch("r", List.of("id", "a"), List.of());
        // As when watch was run by a role that may not create event triggers.
        Sql.exec(url, "DROP EVENT TRIGGER epidemic_follow_schema_changes");
        Sql.exec(url, "ALTER TABLE r RENAME COLUMN a TO aa", "INSERT INTO r VALUES (1, 'x', 'y')");
        assertThat(admin.captureProblems()).singleElement().asString()
                .isEqualTo("capture of public.r: watched column a was renamed to aa and capture has not followed (it reads as null, and its updates alone are not logged);"
                        + " run: epidemic watch public.r --columns id,aa");
        admin.watch("public.r", List.of("id", "aa"), List.of());
        assertThat(admin.captureProblems()).isEmpty();
        Sql.exec(url, "UPDATE r SET aa = 'followed'");
        assertThat(Sql.rows(url, "SELECT new::text FROM epidemic.change_log ORDER BY id"))
                .containsExactly("{\"a\": null, \"id\": 1}", "{\"aa\": \"followed\", \"id\": 1}");
    }

    @Test
    void aReplacedPrimaryKeyIsReportedAndCaptureGoesOnWithTheOldKey() {
        Sql.exec(url, "CREATE TABLE pk (id int PRIMARY KEY, code text NOT NULL)");
        admin.watch("pk", List.of(), List.of());
        Sql.exec(url, "ALTER TABLE pk DROP CONSTRAINT pk_pkey", "INSERT INTO pk VALUES (1, 'one')");
        assertThat(admin.captureProblems()).singleElement().asString().startsWith("capture of public.pk: it has no primary key any more;");
        Sql.exec(url, "ALTER TABLE pk ADD PRIMARY KEY (code)", "INSERT INTO pk VALUES (2, 'two')");
        assertThat(admin.captureProblems()).singleElement().asString()
                .isEqualTo("capture of public.pk: its primary key is now (code) but its changes are keyed by (id); run: epidemic watch public.pk");
        assertThat(Sql.rows(url, "SELECT key::text FROM epidemic.change_log ORDER BY id")).containsExactly("{\"id\": 1}", "{\"id\": 2}");
        admin.watch("pk", List.of(), List.of());
        assertThat(admin.captureProblems()).isEmpty();
        Sql.exec(url, "INSERT INTO pk VALUES (3, 'three')");
        assertThat(Sql.rows(url, "SELECT key::text FROM epidemic.change_log ORDER BY id")).last().isEqualTo("{\"code\": \"three\"}");
    }

    @Test
    void columnsRenamedToHostileNamesAreFollowedAsData() {
        Sql.exec(url, "CREATE TABLE h (id int PRIMARY KEY, a text, b text)", "CREATE TABLE victim (id int)");
        admin.watch("h", List.of("a"), List.of());
        String hostile = "a'); DROP TABLE victim; --";
        Sql.exec(url, "ALTER TABLE h RENAME COLUMN a TO \"" + hostile + "\"",
                "ALTER TABLE h RENAME COLUMN id TO \"$capture$ \"\"%I%s\"",
                "INSERT INTO h VALUES (1, 'value', 'b')");
        assertThat(Sql.rows(url, "SELECT key::text || ' ' || new::text FROM epidemic.change_log"))
                .containsExactly("{\"$capture$ \\\"%I%s\": 1} {\"" + hostile + "\": \"value\"}");
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM pg_class WHERE relname = 'victim'")).isEqualTo(1);
        assertThat(admin.captureProblems()).isEmpty();
    }

    /** A many-row UPDATE that the application retries when it deadlocks with the writers (as it would without capture). */
    private void updateRetryingOnConflict(String update) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
                st.execute(update);
                return;
            } catch (SQLException e) {
                if (attempt == 20 || !List.of("40P01", "40001").contains(e.getSQLState())) {
                    throw e;
                }
            }
        }
    }

    /** Runs DDL (or a statement under test) in its own transaction, then lets the writers go on across it. */
    private void ddl(Writers writers, String... statements) throws InterruptedException {
        Sql.exec(url, statements);
        writers.awaitSomeWork();
    }
}
