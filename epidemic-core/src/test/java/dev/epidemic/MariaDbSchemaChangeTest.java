package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.testing.CapturedErr;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Writers;
import dev.epidemic.testing.Target;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * MariaDB only: capture lives through the application's migrations. MariaDB has no DDL triggers, so capture
 * cannot follow a schema change by itself; instead no DDL makes a writer's statement fail, what capture
 * misses is logged as markers and reported in one line with the command to run, and once that ran,
 * capture is complete again.
 */
class MariaDbSchemaChangeTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private Target db;
    private String url;
    private String database;
    private EpidemicAdmin admin;

    @BeforeEach
    void database() {
        db = MariaDbServer.get().create();
        url = db.url();
        database = MariaDbServer.database(url);
        admin = db.admin();
    }

    @Test
    void writersRunningAcrossEveryKindOfDdlNeverFailAndTheStreamMatchesTheTableAfterTheRewatch() throws Exception {
        Sql.exec(url, "CREATE TABLE sc (id BIGINT PRIMARY KEY, v TEXT, a INT, c VARCHAR(20))");
        admin.watch("sc", List.of(), List.of());
        Collector everything = new Collector();
        // Names the test renamed the table away from: a statement still naming one fails, with or without capture.
        Set<String> renamedAway = ConcurrentHashMap.newKeySet();
        // 1146 for such a name; 1213 and 1205: a deadlock or lock wait among the writers, which the application retries.
        try (Writers writers = new Writers(url, "sc", 3, (e, table) -> e.getErrorCode() == 1146 && renamedAway.contains(table)
                || e.getErrorCode() == 1213 || e.getErrorCode() == 1205);
             Epidemic all = db.engine().consumer("all").handle("sc", List.of(), everything).build().start()) {
            writers.awaitSomeWork();
            ddl(writers, "ALTER TABLE sc ADD COLUMN b VARCHAR(20) DEFAULT 'bee'");
            ddl(writers, "ALTER TABLE sc MODIFY COLUMN a BIGINT");
            ddl(writers, "ALTER TABLE sc RENAME COLUMN a TO aa");
            ddl(writers, "UPDATE sc SET aa = COALESCE(aa, 0) + 1 WHERE id % 3 = 0");
            ddl(writers, "ALTER TABLE sc DROP COLUMN c");
            renamedAway.add("sc");
            Sql.exec(url, "RENAME TABLE sc TO sc_renamed");
            writers.table = "sc_renamed";
            writers.awaitSomeWork();

            // The repair that captureProblems names, while the writers go on.
            assertThat(admin.captureProblems()).containsExactly("watched table " + database + ".sc was renamed to " + database + ".sc_renamed:"
                    + " its triggers went with it and still capture, under the old name; run: epidemic unwatch " + database + ".sc, then: epidemic watch "
                    + database + ".sc_renamed");
            admin.unwatch("sc", false);
            admin.watch("sc_renamed", List.of(), List.of());
            assertThat(admin.captureProblems()).isEmpty();
            Replica replica = new Replica();
            try (Epidemic after = db.engine().consumer("after-rewatch").startAtPresent(true).handle("sc_renamed", List.of(), replica).build().start()) {
                writers.awaitSomeWork();
                ddl(writers, "UPDATE sc_renamed SET b = 'x' WHERE id % 5 = 0");
                writers.stop();
                long last = Sql.queryLong(url, "SELECT MAX(id) FROM " + db.logTable("change_log"));
                await("the consumer started after the re-watch has read the whole log").atMost(WAIT)
                        .until(() -> admin.status().stream().filter(s -> s.name().equals("after-rewatch")).allMatch(s -> s.pending() == 0));
                assertThat(last).isPositive();
            }
            assertThat(writers.errors()).as("errors of the application's own statements").isEmpty();
            assertThat(replica.seen()).as("changes after the re-watch").isNotEmpty();
            Map<String, Map<String, String>> table = rows(url, "sc_renamed");
            for (String id : replica.seen()) {
                assertThat(replica.rows().get(id)).as("row " + id + " as the stream after the re-watch has it").isEqualTo(table.get(id));
            }
        }
        assertThat(everything.changes()).as("no marker is handed to a handler").allSatisfy(change -> assertThat(change.key()).isNotNull());
        assertThat(Sql.queryLong(url, "SELECT COUNT(*) FROM " + db.logTable("change_log") + " WHERE op = '!'"))
                .as("changes that capture could not log while a captured column was gone").isPositive();
    }

    @Test
    void eachBreakingSchemaChangeIsReportedInOneLineUntilTheTableIsWatchedAgain() {
        Sql.exec(url, "CREATE TABLE t (id INT PRIMARY KEY, a INT, c INT)",
                "CREATE TABLE e (id INT PRIMARY KEY, a INT, c INT, x INT)");
        admin.watch("t", List.of(), List.of());
        admin.watch("e", List.of("a", "c"), List.of());
        String t = database + ".t";
        String e = database + ".e";
        assertThat(admin.captureProblems()).isEmpty();

        Sql.exec(url, "ALTER TABLE t ADD COLUMN b INT", "ALTER TABLE e ADD COLUMN y INT");
        assertThat(admin.captureProblems()).as("a column added to a table whose every column is captured")
                .containsExactly("column b was added to " + t + " and is not captured; run: epidemic watch " + t);
        admin.watch("t", List.of(), List.of());
        assertThat(admin.captureProblems()).isEmpty();

        Sql.exec(url, "ALTER TABLE t RENAME COLUMN a TO aa");
        assertThat(admin.captureProblems()).containsExactly("watched column a of " + t + " was dropped or renamed: its changes are not captured;"
                + " column aa was added to " + t + " and is not captured; run: epidemic watch " + t);
        admin.watch("t", List.of(), List.of());
        assertThat(admin.captureProblems()).isEmpty();

        Sql.exec(url, "ALTER TABLE t DROP COLUMN c", "ALTER TABLE e DROP COLUMN c");
        assertThat(admin.captureProblems()).containsExactly(
                "watched column c of " + e + " was dropped or renamed: its changes are not captured; run: epidemic watch " + e + " --columns a",
                "watched column c of " + t + " was dropped or renamed: its changes are not captured; run: epidemic watch " + t);
        admin.watch("t", List.of(), List.of());
        admin.watch("e", List.of("a"), List.of());
        assertThat(admin.captureProblems()).isEmpty();

        Sql.exec(url, "ALTER TABLE e MODIFY COLUMN a BIGINT");
        assertThat(admin.captureProblems()).as("a type change breaks nothing").isEmpty();
    }

    @Test
    void aDispatcherAllowedToCreateTriggersRegeneratesAllColumnsCaptureAfterASchemaChange() {
        Sql.exec(url, "CREATE TABLE r (id INT PRIMARY KEY, a INT)");
        admin.watch("r", List.of(), List.of());
        Sql.exec(url, "ALTER TABLE r ADD COLUMN b INT", "ALTER TABLE r RENAME COLUMN a TO aa");
        assertThat(admin.captureProblems()).hasSize(1);
        Collector handed = new Collector();

        // A consumer of every watched table, which does not watch them itself as a handler of one table would.
        try (Epidemic epidemic = db.engine().consumer("c").startAtPresent(true).handleEveryTable(List.of(), handed).build().start()) {
            await("the dispatcher, starting, regenerates the triggers").atMost(WAIT).until(() -> admin.captureProblems().isEmpty());
            Sql.exec(url, "INSERT INTO r VALUES (1, 2, 3)");
            await().atMost(WAIT).until(() -> handed.size() == 1);
        }

        assertThat(handed.changes().get(0).newValues()).containsOnlyKeys("id", "aa", "b");
        assertThat(admin.list()).extracting(w -> w.columns()).containsExactly(List.of("id", "aa", "b"));
    }

    @Test
    void aConsumerWithoutTheRightToCreateTriggersOnlyReportsAndIsNotMisledByTablesItCannotSee() {
        Sql.exec(url, "CREATE TABLE seen (id INT PRIMARY KEY, a INT)", "CREATE TABLE unseen (id INT PRIMARY KEY, a INT)");
        admin.watch("seen", List.of(), List.of());
        admin.watch("unseen", List.of(), List.of());
        Sql.exec(url, "ALTER TABLE seen ADD COLUMN b INT");
        String user = "epi_ddl_consumer_" + ProcessHandle.current().pid();
        List<String> accounts = List.of("'" + user + "'@'%'", "'" + user + "'@'localhost'");
        String root = MariaDbServer.get().url("");
        Sql.exec(root, "DROP USER IF EXISTS " + String.join(", ", accounts));
        try {
            for (String account : accounts) {
                Sql.exec(url, "CREATE USER " + account + " IDENTIFIED BY 'not-secret'");
                // The documented consumer grants, with SELECT on the handled table "seen" only.
                Sql.exec(url, dev.epidemic.testing.SecurityDocs.grants("## MariaDB", Map.of("consumer_user", account, "app_db.", "`" + database + "`.",
                        "accounts", "seen")).toArray(String[]::new));
            }
            String consumerUrl = url.replace("user=root", "user=" + user + "&password=not-secret");
            String line = "column b was added to " + database + ".seen and is not captured; run: epidemic watch " + database + ".seen";
            assertThat(EpidemicAdmin.create(consumerUrl, null, null, "epidemic").captureProblems()).as("as the consumer sees it").containsExactly(line);
            Collector handed = new Collector();
            try (Epidemic epidemic = Epidemic.builder(consumerUrl, null, null).consumer("least").startAtPresent(true)
                    .handleEveryTable(List.of("seen"), handed).build().start()) {
                Sql.exec(url, "INSERT INTO seen VALUES (1, 1, 1)");
                await().atMost(WAIT).until(() -> handed.size() == 1);
            }
            assertThat(handed.changes().get(0).newValues()).containsOnlyKeys("id", "a");
            assertThat(admin.captureProblems()).as("nothing was regenerated").containsExactly(line);
        } finally {
            Sql.exec(root, "DROP USER IF EXISTS " + String.join(", ", accounts));
        }
    }

    @Test
    void aTableWatchedByEpidemicsFirstSchemaIsReportedUntilWatchUpgradesIt() {
        Sql.exec(url, "CREATE TABLE old (id INT PRIMARY KEY, a INT, c INT)");
        admin.watch("old", List.of("a"), List.of());
        // As version 1 left it: no all_columns, and triggers without the handler (the registry cannot tell them apart).
        Sql.exec(url, "ALTER TABLE " + db.logTable("watched_table") + " DROP COLUMN all_columns",
                "DELETE FROM " + db.logTable("schema_version") + " WHERE version >= 2");
        String old = database + ".old";
        assertThat(admin.list()).extracting(w -> w.columns()).containsExactly(List.of("a"));
        assertThat(admin.captureProblems()).containsExactly("capture of " + old + " was installed by an older Epidemic: renaming or dropping"
                + " a captured column makes the application's writes to it fail; upgrade with: epidemic watch " + old + " --columns a");

        admin.watch("old", List.of("a"), List.of());

        assertThat(admin.captureProblems()).isEmpty();
        Sql.exec(url, "ALTER TABLE old RENAME COLUMN a TO aa", "INSERT INTO old VALUES (1, 1, 1)");
        assertThat(Sql.queryLong(url, "SELECT COUNT(*) FROM " + db.logTable("change_log") + " WHERE op = '!'")).isEqualTo(1);
    }

    @Test
    void changesThatCouldNotBeCapturedAreLoggedAsMarkersReportedAndNeverHandedToAHandler() throws Exception {
        Sql.exec(url, "CREATE TABLE m (id INT PRIMARY KEY, a INT, v VARCHAR(20))");
        admin.watch("m", List.of(), List.of());
        Collector handed = new Collector();
        String log;
        try (CapturedErr err = new CapturedErr();
             Epidemic epidemic = db.engine().consumer("c").handle("m", List.of(), handed).build().start()) {
            Sql.exec(url, "INSERT INTO m VALUES (1, 1, 'one')");
            await().atMost(WAIT).until(() -> handed.size() == 1);

            Sql.exec(url, "ALTER TABLE m RENAME COLUMN a TO aa");
            // The application's statements succeed; what capture could not log is a marker, in the writer's transaction.
            Sql.exec(url, "INSERT INTO m VALUES (2, 2, 'two')", "UPDATE m SET v = 'uno' WHERE id = 1", "DELETE FROM m WHERE id = 2");
            try (Connection c = DriverManager.getConnection(url)) {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("INSERT INTO m VALUES (3, 3, 'rolled back')");
                }
                c.rollback();
            }
            assertThat(Sql.rows(url, "SELECT CONCAT_WS(' ', op, COALESCE(`key`, '-'), COALESCE(old, '-'), COALESCE(new, '-')) FROM "
                    + db.logTable("change_log") + " WHERE op = '!' ORDER BY id"))
                    .as("one marker per change, naming only its table; none for the rolled-back insert").containsExactly("! - - -", "! - - -", "! - - -");

            admin.watch("m", List.of(), List.of());
            Sql.exec(url, "INSERT INTO m VALUES (4, 4, 'four')");
            await().atMost(WAIT).until(() -> handed.size() == 2);
            log = err.text();
        }
        assertThat(handed.changes()).extracting(change -> change.key().get("id")).containsExactly(1, 4);
        assertThat(handed.changes().get(1).newValues()).containsEntry("aa", 4).doesNotContainKey("a");
        // One ERROR line per run of markers in a window: the three may arrive in one window or in several.
        java.util.regex.Matcher lines = java.util.regex.Pattern.compile("ERROR .*Consumer c: (\\d+) changes? of " + java.util.regex.Pattern.quote(database)
                + "\\.m \\(log ids \\d+ to \\d+\\) could not be captured since a schema change of the table and (is|are) not delivered;"
                + " run: epidemic watch " + java.util.regex.Pattern.quote(database) + "\\.m\n").matcher(log);
        int reported = 0;
        while (lines.find()) {
            reported += Integer.parseInt(lines.group(1));
        }
        assertThat(reported).as("markers the dispatcher's log reports, in:%n%s", log).isEqualTo(3);
    }

    private void ddl(Writers writers, String statement) {
        Sql.exec(url, statement);
        writers.awaitSomeWork();
    }

    /** The rows of a table, every value as text, by id. */
    private static Map<String, Map<String, String>> rows(String url, String table) throws SQLException {
        Map<String, Map<String, String>> result = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + table)) {
            ResultSetMetaData meta = rs.getMetaData();
            while (rs.next()) {
                Map<String, String> row = new TreeMap<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    Object value = rs.getObject(i);
                    row.put(meta.getColumnLabel(i), value == null ? null : value.toString());
                }
                result.put(row.get("id"), row);
            }
        }
        return result;
    }

    /** The table as the stream builds it, every value as text, and the ids it saw a change of. */
    private static final class Replica implements ChangeHandler {
        private final Map<String, Map<String, String>> rows = new ConcurrentHashMap<>();
        private final Set<String> seen = ConcurrentHashMap.newKeySet();

        @Override
        public void onInsert(Change change) {
            Map<String, String> row = new TreeMap<>();
            change.newValues().forEach((k, v) -> row.put(k, v == null ? null : v.toString()));
            String id = change.key().get("id").toString();
            rows.put(id, row);
            seen.add(id);
        }

        @Override
        public void onUpdate(Change change) {
            onInsert(change);
        }

        @Override
        public void onDelete(Change change) {
            String id = change.key().get("id").toString();
            rows.remove(id);
            seen.add(id);
        }

        @Override
        public void onTruncate(Change change) {
            throw new IllegalStateException("no TRUNCATE here");
        }

        Map<String, Map<String, String>> rows() {
            return rows;
        }

        Set<String> seen() {
            return seen;
        }
    }
}
