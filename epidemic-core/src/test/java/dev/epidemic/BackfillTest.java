package dev.epidemic;

import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.Operation;
import dev.epidemic.api.StartFrom;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Replica;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestDatabase;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Backfills: existing rows delivered as READs to the consumers they are for, consistent with live changes. */
@ParameterizedClass(name = "{0}")
@MethodSource("servers")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackfillTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Parameter
    TestServer server;
    Target db;

    static List<TestServer> servers() {
        return TestDatabase.all();
    }

    /** A FROM item of the integers {@code from..to} as column {@code g}, on either database. */
    private String series(int from, int to) {
        return server.isPostgres() ? "generate_series(" + from + ", " + to + ") AS s(g)" : "(SELECT seq AS g FROM seq_" + from + "_to_" + to + ") AS s";
    }

    private String mariaDbDatabase() {
        return MariaDbServer.database(db.url());
    }

    @BeforeEach
    void database() {
        db = server.create();
    }

    private static List<Object> readIds(Collector collector) {
        return collector.changes().stream().filter(c -> c.operation() == Operation.READ).map(c -> c.key().get("id")).toList();
    }

    @Test
    void deliversEveryExistingRowAsARead() {
        db.exec("CREATE TABLE users (id int PRIMARY KEY, name text)",
                "INSERT INTO users SELECT g, CONCAT('user ', g) FROM " + series(1, 2500));
        db.admin().watch("users", List.of(), List.of());
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("mail").handle("users", List.of(), collector).build().start()) {
            BackfillStatus done = db.admin().backfill("users", List.of(), null, 1000, b -> { });
            assertThat(done.finished()).isTrue();
            assertThat(done.rowsDone()).isEqualTo(2500);
            await().atMost(WAIT).until(() -> collector.size() >= 2500);
        }
        Change first = collector.changes().get(0);
        assertThat(first.operation()).isEqualTo(Operation.READ);
        assertThat(first.oldValues()).isNull();
        assertThat(first.newValues()).containsEntry("name", "user 1").containsEntry("id", 1);
        assertThat(first.table()).isEqualTo(db.qualified("users"));
        assertThat(readIds(collector)).hasSize(2500).doesNotHaveDuplicates();
        assertThat(db.admin().unfinishedBackfills()).isEmpty();
    }

    @Test
    void aBackfillForOneConsumerIsNotSeenByAnother() {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'a'), (2, 'b')");
        db.admin().watch("t", List.of(), List.of());
        Collector a = new Collector();
        Collector b = new Collector();
        try (Epidemic ea = db.engine().consumer("a").handle("t", List.of(), a).build().start();
             Epidemic eb = db.engine().consumer("b").handle("t", List.of(), b).build().start()) {
            db.admin().backfill("t", List.of("b"), null, 10, x -> { });
            db.exec("INSERT INTO t VALUES (3, 'c')");
            await().atMost(WAIT).until(() -> a.size() >= 1 && b.size() >= 3);
        }
        assertThat(a.changes()).extracting(Change::operation).containsExactly(Operation.INSERT);
        assertThat(readIds(b)).containsExactlyInAnyOrder(1, 2);
    }

    @Test
    void whereDeliversOnlyMatchingRows() {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, gid int)", "INSERT INTO t VALUES (1, 100), (2, 200), (3, 100)");
        db.admin().watch("t", List.of(), List.of());
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("c").handle("t", List.of(), collector).build().start()) {
            BackfillStatus done = db.admin().backfill("t", List.of(), "gid = 100", 1, x -> { });
            assertThat(done.rowsDone()).isEqualTo(2);
            await().atMost(WAIT).until(() -> collector.size() >= 2);
        }
        assertThat(readIds(collector)).containsExactlyInAnyOrder(1, 3);
    }

    @Test
    void refusesBadInputAndChangesNothing() {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, gid int)", "INSERT INTO t VALUES (1, 100)");
        db.admin().watch("t", List.of(), List.of());
        db.engine().consumer("c").handle("t", List.of(), new Collector()).build().start().close();
        List<String> before = db.catalogFingerprint();
        long logged = db.queryLong("SELECT count(*) FROM " + db.logTable("change_log"));
        List<String> bad = new ArrayList<>(List.of("nope = 1", "gid +", "1) OR (1", "gid = 1; DROP TABLE t", "gid = 1 -- x"));
        if (server.isPostgres()) {
            bad.add("gid"); // not a boolean on PostgreSQL; on MariaDB any number is a condition
        }
        for (String where : bad) {
            assertThatThrownBy(() -> db.admin().backfill("t", List.of(), where, 10, x -> { }))
                    .as(where).isInstanceOf(InvalidInputException.class).hasMessageContaining("--where for");
        }
        assertThatThrownBy(() -> db.admin().backfill("t", List.of("ghost"), null, 10, x -> { }))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("consumer ghost does not exist");
        assertThatThrownBy(() -> db.admin().backfill("missing", List.of(), null, 10, x -> { }))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("missing");
        assertThat(db.catalogFingerprint()).isEqualTo(before);
        assertThat(db.queryLong("SELECT count(*) FROM " + db.logTable("backfill"))).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM " + db.logTable("change_log"))).isEqualTo(logged);
    }

    @Test
    void aNewConsumerFromASnapshotGetsEveryRowThenEveryChange() {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t SELECT g, CONCAT('v', g) FROM " + series(1, 300));
        db.admin().watch("t", List.of(), List.of());
        db.exec("UPDATE t SET v = 'before' WHERE id = 1"); // logged before the consumer existed: not its business
        Replica replica = new Replica();
        try (Epidemic epidemic = db.engine().consumer("fresh").startFrom(StartFrom.SNAPSHOT).backfillChunkSize(50)
                .handle("t", List.of(), replica).build().start()) {
            db.exec("UPDATE t SET v = 'after' WHERE id = 2", "DELETE FROM t WHERE id = 3", "INSERT INTO t VALUES (301, 'new')");
            await().atMost(WAIT).until(() -> epidemic.caughtUpFor().toMillis() > 300);
        }
        assertThat(replica.rows()).isEqualTo(Replica.tableRows(db.url(), "t", List.of("id")));
        // Restarted, it does not take a second snapshot.
        Collector again = new Collector();
        try (Epidemic epidemic = db.engine().consumer("fresh").startFrom(StartFrom.SNAPSHOT).handle("t", List.of(), again).build().start()) {
            db.exec("INSERT INTO t VALUES (302, 'x')");
            await().atMost(WAIT).until(() -> again.size() >= 1);
            await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> again.size() == 1);
        }
    }

    @Test
    void anEmptyTableFinishesAtOnce() {
        db.exec("CREATE TABLE t (id int PRIMARY KEY)");
        db.admin().watch("t", List.of(), List.of());
        db.engine().consumer("c").handle("t", List.of(), new Collector()).build().start().close();
        BackfillStatus done = db.admin().backfill("t", List.of(), null, 10, x -> { });
        assertThat(done.finished()).isTrue();
        assertThat(done.rowsDone()).isZero();
    }

    @Test
    void aCompositeKeyNotFirstIsWalkedInKeyOrder() {
        db.exec("CREATE TABLE t (v varchar(10), b varchar(10), a int, PRIMARY KEY (a, b))",
                "INSERT INTO t SELECT CONCAT('v', g), SUBSTRING('abcde', g % 5 + 1, 1), FLOOR(g / 5) FROM " + series(0, 99));
        db.admin().watch("t", List.of("v"), List.of());
        Replica replica = new Replica();
        try (Epidemic epidemic = db.engine().consumer("c").handle("t", List.of("v"), replica).build().start()) {
            db.admin().backfill("t", List.of(), null, 7, x -> { });
            await().atMost(WAIT).until(() -> replica.applied() >= 100);
        }
        assertThat(replica.rows()).hasSize(100);
        assertThat(replica.rows().values()).allSatisfy(row -> assertThat(row).containsOnlyKeys("v"));
    }

    @Test
    void aPartitionedTableNamesTheParent() {
        if (server.isPostgres()) {
            db.exec("CREATE TABLE p (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)",
                    "CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM (0) TO (50)",
                    "CREATE TABLE p_2 PARTITION OF p FOR VALUES FROM (50) TO (100)");
        } else {
            db.exec("CREATE TABLE p (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)"
                    + " (PARTITION p_1 VALUES LESS THAN (50), PARTITION p_2 VALUES LESS THAN (100))");
        }
        db.exec("INSERT INTO p SELECT g, CONCAT('v', g) FROM " + series(0, 99));
        db.admin().watch("p", List.of(), List.of());
        Replica replica = new Replica();
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("c").handle("p", List.of(), replica).build().start();
             Epidemic names = db.engine().consumer("n").handle("p", List.of(), collector).build().start()) {
            db.admin().backfill("p", List.of(), null, 30, x -> { });
            await().atMost(WAIT).until(() -> replica.applied() >= 100 && collector.size() >= 100);
        }
        assertThat(replica.rows()).isEqualTo(Replica.tableRows(db.url(), "p", List.of("id")));
        assertThat(collector.changes()).extracting(Change::table).containsOnly(db.qualified("p"));
    }

    /** A rate limit paces the chunks: 300 rows at 500 a second cannot be logged in less than 0.6 s (they take milliseconds unpaced). */
    @Test
    void aRateLimitPacesTheChunks() {
        db.exec("CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t SELECT g FROM " + series(1, 300));
        db.admin().watch("t", List.of(), List.of());
        db.engine().consumer("c").handle("t", List.of(), new Collector()).build().start().close();
        long started = System.nanoTime();
        BackfillStatus done = db.admin().backfill("t", List.of(), null, 50, 500, x -> { });
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(done.rowsDone()).isEqualTo(300);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(590));
    }

    @Test
    void resumesAnUnfinishedBackfillWithTheSameArguments() throws Exception {
        db.exec("CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t SELECT g FROM " + series(1, 100));
        db.admin().watch("t", List.of(), List.of());
        db.engine().consumer("c").handle("t", List.of(), new Collector()).build().start().close();
        // Given a run that stopped after its first chunk (as a killed one does),
        Thread.currentThread().interrupt();
        BackfillStatus stopped;
        List<BackfillStatus> seen = new ArrayList<>();
        try {
            stopped = db.admin().backfill("t", List.of(), null, 40, seen::add);
        } finally {
            Thread.interrupted();
        }
        assertThat(stopped.finished()).isFalse();
        assertThat(db.admin().unfinishedBackfills()).extracting(BackfillStatus::id).containsExactly(stopped.id());
        // when it is run again with the same arguments, it goes on from there,
        BackfillStatus resumed = db.admin().backfill("t", List.of(), null, 40, x -> { });
        assertThat(resumed.id()).isEqualTo(stopped.id());
        assertThat(resumed.rowsDone()).isEqualTo(100);
        assertThat(db.queryLong("SELECT count(*) FROM " + db.logTable("change_log") + " WHERE backfill_id IS NOT NULL")).isEqualTo(100);
        // and once finished, the same arguments start a new one.
        assertThat(db.admin().backfill("t", List.of(), null, 40, x -> { }).id()).isNotEqualTo(stopped.id());
    }

    /**
     * The trap of DESIGN.md: a chunk reads a row, a writer updates it and commits first, the chunk commits
     * later. The chunk is held open after logging its READ; a writer then updates the row. The writer
     * must wait for the chunk (so its UPDATE lands after the READ); had it committed first, its UPDATE
     * would be delivered at once, the stale READ after it, and the replica would end with the old value.
     */
    @Test
    void aWriterThatUpdatesARowTheChunkReadCommitsAfterTheChunk() throws Exception {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'old')");
        db.admin().watch("t", List.of(), List.of());
        Replica replica = new Replica();
        Epidemic consumer = db.engine().consumer("c").handle("t", List.of(), replica).build().start();
        holdChunksOpenAfterLogging();
        try (Connection gate = DriverManager.getConnection(db.url()); Statement g = gate.createStatement()) {
            g.execute(server.isPostgres() ? "SELECT pg_advisory_lock(4242)" : "SELECT GET_LOCK('" + gateName() + "', 10)");
            CompletableFuture<BackfillStatus> backfill = CompletableFuture.supplyAsync(() -> db.admin().backfill("t", List.of(), null, 10, x -> { }));
            await().atMost(WAIT).until(this::chunkWaitsAtTheGate);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> db.exec("UPDATE t SET v = 'new' WHERE id = 1"));
            // The writer either waits for the chunk's row lock (the answer), or commits first and is
            // delivered at once (the trap).
            await().atMost(WAIT).until(() -> (writer.isDone() && replica.applied() >= 1) || writerWaitsOnARowLock());
            g.execute(server.isPostgres() ? "SELECT pg_advisory_unlock(4242)" : "SELECT RELEASE_LOCK('" + gateName() + "')");
            backfill.get(30, TimeUnit.SECONDS);
            writer.get(30, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> replica.applied() >= 2);
        } finally {
            consumer.close();
        }
        assertThat(replica.rows()).isEqualTo(Replica.tableRows(db.url(), "t", List.of("id")));
        assertThat(replica.rows().values()).extracting(row -> row.get("v")).containsExactly("new");
    }

    /**
     * A chunk held open in the middle of logging its READs must not make writers of other tables wait: their
     * triggers insert into the same log. On MariaDB (innodb_autoinc_lock_mode 1, its default) an
     * {@code INSERT ... SELECT} into the log held the log's AUTO-INC table lock to its end, and did just that.
     */
    @Test
    void aChunkLoggingItsReadsDoesNotHoldUpWritersOfOtherTables() throws Exception {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t SELECT g, 'x' FROM " + series(1, 10),
                "CREATE TABLE other (id int PRIMARY KEY)");
        db.admin().watch("t", List.of(), List.of());
        db.admin().watch("other", List.of(), List.of());
        db.engine().consumer("c").handle("t", List.of(), new Collector()).build().start().close();
        if (server.isPostgres()) {
            holdChunksOpenAfterLogging();
        } else {
            db.exec("CREATE TRIGGER hold AFTER INSERT ON " + db.logTable("change_log") + " FOR EACH ROW BEGIN IF NEW.op = 'R' THEN"
                    + " DO GET_LOCK('" + gateName() + "', 60); DO RELEASE_LOCK('" + gateName() + "'); END IF; END");
        }
        try (Connection gate = DriverManager.getConnection(db.url()); Statement g = gate.createStatement()) {
            g.execute(server.isPostgres() ? "SELECT pg_advisory_lock(4242)" : "SELECT GET_LOCK('" + gateName() + "', 10)");
            CompletableFuture<BackfillStatus> backfill = CompletableFuture.supplyAsync(() -> db.admin().backfill("t", List.of(), null, 10, x -> { }));
            await().atMost(WAIT).until(this::chunkWaitsAtTheGate);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> db.exec("INSERT INTO other VALUES (1)"));
            try {
                writer.get(5, TimeUnit.SECONDS);
            } finally {
                g.execute(server.isPostgres() ? "SELECT pg_advisory_unlock(4242)" : "SELECT RELEASE_LOCK('" + gateName() + "')");
            }
            assertThat(backfill.get(30, TimeUnit.SECONDS).rowsDone()).isEqualTo(10);
        }
    }

    /** A backfill whose connection is killed in the middle of a chunk reconnects and resumes: every row READ, none lost. */
    @Test
    void resumesAfterItsConnectionIsKilled() throws Exception {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t SELECT g, 'x' FROM " + series(1, 100));
        db.admin().watch("t", List.of(), List.of());
        Replica replica = new Replica();
        db.engine().consumer("c").handle("t", List.of(), replica).build().start().close();
        holdChunksOpenAfterLogging();
        try (Connection gate = DriverManager.getConnection(db.url()); Statement g = gate.createStatement()) {
            g.execute(server.isPostgres() ? "SELECT pg_advisory_lock(4242)" : "SELECT GET_LOCK('" + gateName() + "', 10)");
            CompletableFuture<BackfillStatus> backfill = CompletableFuture.supplyAsync(() -> db.admin().backfill("t", List.of(), null, 30, x -> { }));
            await().atMost(WAIT).until(this::chunkWaitsAtTheGate);
            if (server.isPostgres()) {
                g.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'advisory' AND datname = current_database()");
            } else {
                for (String id : Sql.rows(db.url(), "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '" + mariaDbDatabase()
                        + "' AND STATE = 'User lock'")) {
                    g.execute("KILL CONNECTION " + id);
                }
            }
            g.execute(server.isPostgres() ? "SELECT pg_advisory_unlock(4242)" : "SELECT RELEASE_LOCK('" + gateName() + "')");
            assertThat(backfill.get(60, TimeUnit.SECONDS).rowsDone()).isEqualTo(100);
        }
        try (Epidemic epidemic = db.engine().consumer("c").handle("t", List.of(), replica).build().start()) {
            await().atMost(WAIT).until(() -> replica.rows().size() == 100);
        }
        assertThat(replica.rows()).isEqualTo(Replica.tableRows(db.url(), "t", List.of("id")));
    }

    /** A chunk that meets a row a writer holds gives up and comes back: the writer and the backfill both go through. */
    @Test
    void retriesAroundARowAWriterHolds() throws Exception {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v int)", "INSERT INTO t SELECT g, 0 FROM " + series(1, 1000));
        db.admin().watch("t", List.of(), List.of());
        Replica replica = new Replica();
        db.engine().consumer("c").handle("t", List.of(), replica).build().start().close();
        try (Connection writer = DriverManager.getConnection(db.url()); Statement w = writer.createStatement()) {
            writer.setAutoCommit(false);
            w.execute("UPDATE t SET v = 1 WHERE id = 500");
            CompletableFuture<BackfillStatus> backfill = CompletableFuture.supplyAsync(() -> db.admin().backfill("t", List.of(), null, 1000, x -> { }));
            Thread.sleep(300); // the backfill meets row 500 held, again and again
            w.execute("UPDATE t SET v = 1 WHERE id IN (1, 2, 3, 999)"); // rows a chunk may hold by now
            writer.commit();
            assertThat(backfill.get(60, TimeUnit.SECONDS).rowsDone()).isEqualTo(1000);
        }
        try (Epidemic epidemic = db.engine().consumer("c").handle("t", List.of(), replica).build().start()) {
            await().atMost(WAIT).until(() -> replica.rows().size() == 1000 && replica.applied() >= 1005);
        }
        assertThat(replica.rows()).isEqualTo(Replica.tableRows(db.url(), "t", List.of("id")));
    }

    /**
     * A hook that holds each chunk's transaction open after it logged its READs (with their row locks, if it
     * takes them), until the test opens the gate: on PostgreSQL a trigger on the log that waits for an
     * advisory lock; on MariaDB a trigger on the chunk's cursor update (after the log's INSERT ... SELECT has
     * ended, so that the writer's own log insert does not queue behind it) that waits for a named lock.
     */
    private void holdChunksOpenAfterLogging() {
        if (server.isPostgres()) {
            db.exec("CREATE FUNCTION hold_backfill() RETURNS trigger LANGUAGE plpgsql AS $$"
                            + " BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NULL; END $$",
                    "CREATE TRIGGER hold AFTER INSERT ON " + db.logTable("change_log") + " FOR EACH ROW WHEN (NEW.op = 'R') EXECUTE FUNCTION hold_backfill()");
        } else {
            db.exec("CREATE TRIGGER hold AFTER UPDATE ON " + db.logTable("backfill") + " FOR EACH ROW BEGIN"
                    + " DO GET_LOCK('" + gateName() + "', 60); DO RELEASE_LOCK('" + gateName() + "'); END");
        }
    }

    /** MariaDB's named locks are the server's: the gate's name is this database's. */
    private String gateName() {
        return "hold " + mariaDbDatabase();
    }

    private boolean chunkWaitsAtTheGate() {
        return !Sql.rows(db.url(), server.isPostgres()
                ? "SELECT pid FROM pg_stat_activity WHERE wait_event = 'advisory' AND datname = current_database()"
                : "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '" + mariaDbDatabase() + "' AND STATE = 'User lock'").isEmpty();
    }

    private boolean writerWaitsOnARowLock() {
        return !Sql.rows(db.url(), server.isPostgres()
                ? "SELECT pid FROM pg_stat_activity WHERE wait_event IN ('transactionid', 'tuple') AND datname = current_database()"
                : "SELECT t.trx_id FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id"
                        + " WHERE t.trx_state = 'LOCK WAIT' AND p.DB = '" + mariaDbDatabase() + "'").isEmpty();
    }
}
