package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.PruneResult;
import dev.epidemic.api.WatchedTable;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Sql;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * MariaDB only: two applications on one server, each in a database of its own, capture and consume
 * apart. They use the same Epidemic schema and the same consumer name, as two unrelated applications
 * would (both keep the default), and neither sees the other's rows, consumers, positions, dead letters,
 * status or prune; a database that is dropped takes its capture with it.
 */
class MariaDbIsolationTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** The same in both databases; unique to this JVM so that nothing else on the server shares it. */
    private static final String SCHEMA = "iso" + ProcessHandle.current().pid();
    private static final FailurePolicy ONCE = FailurePolicy.deadLetterAfter(1).withBackoff(Duration.ZERO, Duration.ZERO);

    private final MariaDbServer server = MariaDbServer.get();

    private static String database(String url) {
        return Sql.rows(url, "SELECT DATABASE()").get(0);
    }

    private static EpidemicAdmin admin(String url) {
        return EpidemicAdmin.create(url, null, null, SCHEMA);
    }

    /** A consumer named "c" of every watched table; a change whose value is "bad" fails and becomes a dead letter. */
    private static Epidemic consumerC(String url, List<Change> handed) {
        return Epidemic.builder(url, null, null).schema(SCHEMA).consumer("c").failurePolicy(ONCE)
                .handleEveryTable(List.of(), ChangeHandler.forEveryChange(change -> {
                    if (change.newValues() != null && change.newValues().containsValue("bad")) {
                        throw new IllegalStateException("refused " + change.key());
                    }
                    handed.add(change);
                })).build().start();
    }

    @Test
    void twoDatabasesCaptureAndConsumeApartUnderTheSameSchemaAndConsumerName() {
        String xa = server.createDatabase();
        String xb = server.createDatabase();
        Sql.exec(xa, "CREATE TABLE t (id int PRIMARY KEY, v VARCHAR(20))");
        Sql.exec(xb, "CREATE TABLE secret (id int PRIMARY KEY, card VARCHAR(20))");
        admin(xa).watch("t", List.of(), List.of());
        admin(xb).watch("secret", List.of(), List.of());
        Sql.exec(xa, "INSERT INTO t VALUES (1, 'a')");
        Sql.exec(xb, "INSERT INTO secret VALUES (1, '4111-1111')", "INSERT INTO secret VALUES (2, 'bad')");

        List<Change> inA = new CopyOnWriteArrayList<>();
        List<Change> inB = new CopyOnWriteArrayList<>();
        try (Epidemic a = consumerC(xa, inA); Epidemic b = consumerC(xb, inB)) {
            await("consumer c of " + database(xb) + " runs beside consumer c of " + database(xa) + " and gets its own changes")
                    .atMost(WAIT).until(() -> inA.size() >= 1 && inB.size() >= 1 && admin(xb).deadLetters("c").size() == 1);
            Sql.exec(xa, "INSERT INTO t VALUES (2, 'a2')");
            Sql.exec(xb, "INSERT INTO secret VALUES (3, '5500-0000')");
            await().atMost(WAIT).until(() -> inA.size() >= 2 && inB.size() >= 2);
        }

        assertThat(inA).extracting(Change::table).containsOnly(database(xa) + ".t");
        assertThat(inA).extracting(c -> c.key().get("id")).containsExactly(1, 2);
        assertThat(inB).extracting(Change::table).containsOnly(database(xb) + ".secret");
        assertThat(inB).extracting(c -> c.key().get("id")).containsExactly(1, 3);

        assertThat(admin(xa).list()).extracting(WatchedTable::qualifiedName).containsExactly(database(xa) + ".t");
        assertThat(admin(xb).list()).extracting(WatchedTable::qualifiedName).containsExactly(database(xb) + ".secret");
        assertThat(admin(xa).status()).extracting(ConsumerStatus::name, ConsumerStatus::pending)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("c", 0L));
        assertThat(admin(xa).deadLetters(null)).isEmpty();
        assertThat(admin(xb).deadLetters(null)).extracting(d -> d.change().key().get("id")).containsExactly(2);

        // A consumer that only xb has is invisible to xa, and holds back only xb's prune.
        Sql.exec(xb, "INSERT INTO secret VALUES (4, '3400-0000')");
        assertThat(admin(xa).prune()).isEqualTo(new PruneResult(2, 0, 1));
        List<Change> lagging = new CopyOnWriteArrayList<>();
        try (Epidemic late = Epidemic.builder(xb, null, null).schema(SCHEMA).consumer("late").startAtPresent(true)
                .handleEveryTable(List.of(), ChangeHandler.forEveryChange(lagging::add)).build().start()) {
            await().atMost(WAIT).until(late::isRunning);
        }
        assertThat(admin(xa).status()).extracting(ConsumerStatus::name).containsExactly("c");
        assertThat(admin(xb).status()).extracting(ConsumerStatus::name, ConsumerStatus::pending)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("c", 1L), org.assertj.core.groups.Tuple.tuple("late", 0L));
        assertThat(admin(xb).prune()).isEqualTo(new PruneResult(3, 1, 2));
    }

    @Test
    void watchingATableAgainPointsTheTriggersOfAnOldSharedInstallAtItsDatabasesOwnLog() {
        // Given an install of the old layout: the log in a database named by the schema, a trigger writing there,
        String oldSchema = "old" + ProcessHandle.current().pid();
        String app = server.createDatabase();
        Sql.exec(app, "CREATE TABLE t (id int PRIMARY KEY)", "DROP DATABASE IF EXISTS " + oldSchema, "CREATE DATABASE " + oldSchema,
                "CREATE TABLE " + oldSchema + ".change_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, table_id INT, op CHAR(1))",
                "CREATE TRIGGER " + oldSchema + "_capture_insert_t AFTER INSERT ON t FOR EACH ROW INSERT INTO " + oldSchema
                        + ".change_log (table_id, op) VALUES (1, 'I')");
        try {
            // when the table is watched again by this version, under the same schema,
            EpidemicAdmin admin = EpidemicAdmin.create(app, null, null, oldSchema);
            admin.watch("t", List.of(), List.of());
            Sql.exec(app, "INSERT INTO t VALUES (1)");
            // then its changes go to the database's own log, and the old log can be dropped without breaking writes.
            assertThat(Sql.queryLong(app, "SELECT COUNT(*) FROM " + oldSchema + "_change_log")).isEqualTo(1);
            assertThat(Sql.queryLong(app, "SELECT COUNT(*) FROM " + oldSchema + ".change_log")).isZero();
            Sql.exec(app, "DROP DATABASE " + oldSchema, "INSERT INTO t VALUES (2)");
            assertThat(Sql.queryLong(app, "SELECT COUNT(*) FROM " + oldSchema + "_change_log")).isEqualTo(2);
        } finally {
            Sql.exec(app, "DROP DATABASE IF EXISTS " + oldSchema);
        }
    }

    @Test
    void aDroppedDatabaseLeavesNothingThatAnotherDatabaseSees() {
        String kept = server.createDatabase();
        String dropped = server.createDatabase();
        Sql.exec(kept, "CREATE TABLE t (id int PRIMARY KEY)");
        Sql.exec(dropped, "CREATE TABLE gone (id int PRIMARY KEY, v VARCHAR(20))");
        admin(kept).watch("t", List.of(), List.of());
        admin(dropped).watch("gone", List.of(), List.of());
        Sql.exec(dropped, "INSERT INTO gone VALUES (1, 'x')", "INSERT INTO gone VALUES (2, 'bad')");
        List<Change> handed = new CopyOnWriteArrayList<>();
        try (Epidemic c = consumerC(dropped, handed)) {
            await().atMost(WAIT).until(() -> handed.size() == 1 && admin(dropped).deadLetters("c").size() == 1);
        }
        String droppedName = database(dropped);

        Sql.exec(kept, "DROP DATABASE `" + droppedName + "`");

        EpidemicAdmin admin = admin(kept);
        assertThat(admin.list()).extracting(WatchedTable::qualifiedName).containsExactly(database(kept) + ".t");
        assertThat(admin.status()).isEmpty();
        assertThat(admin.deadLetters(null)).extracting(DeadLetter::consumer).isEmpty();
        assertThat(admin.prune()).isEqualTo(new PruneResult(0, 0, 0));
        // Epidemic's tables lived in the databases themselves: no database of its own, none left by the dropped one.
        assertThat(Sql.queryLong(kept, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '" + SCHEMA + "%'")).isZero();
        assertThat(Sql.rows(kept, "SELECT DISTINCT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME LIKE '" + SCHEMA + "\\_%'"))
                .doesNotContain(droppedName).contains(database(kept));
    }
}
