package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The A/B race of DESIGN.md, and what an open transaction may not do to others; on every database. */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#all")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SnapshotWindowTest {
    @Parameter
    TestServer server;
    Target db;
    String url;

    @BeforeEach
    void database() {
        if (db != null && db.server() == server) {
            return; // one database per server: the instance is shared by the invocations
        }
        db = server.create();
        url = db.url();
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        db.admin().watch("t", List.of(), List.of());
    }

    private static List<Object> ids(Collector collector) {
        return collector.changes().stream().map(c -> c.newValues() == null ? null : c.newValues().get("id")).toList();
    }

    @Test
    void deliversTransactionThatCommitsAfterALaterOne() throws Exception {
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("ab-race").startAtPresent(true).handle("t", List.of(), collector).build().start();
             Connection a = DriverManager.getConnection(url);
             Connection b = DriverManager.getConnection(url)) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            try (Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
                // Given A takes its log position first and stays open,
                sa.execute("INSERT INTO t VALUES (1, 'A')");
                // when B takes a later position and commits first,
                sb.execute("INSERT INTO t VALUES (2, 'B')");
                b.commit();
                await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 1);
                assertThat(ids(collector)).containsExactly(2);
                // and A commits afterwards,
                a.commit();
            }
            // then A is still delivered.
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 2);
        }
        assertThat(ids(collector)).containsExactly(2, 1);
        Change a = collector.changes().get(1);
        Change b = collector.changes().get(0);
        assertThat(a.id()).isLessThan(b.id());
    }

    @Test
    void neverDeliversRolledBackWork() throws Exception {
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("rollback").startAtPresent(true)
                .handle("t", List.of(), collector).build().start();
             Connection c = DriverManager.getConnection(url)) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("INSERT INTO t VALUES (10, 'rolled back')");
                c.rollback();
                st.execute("INSERT INTO t VALUES (11, 'kept')");
                st.execute("SAVEPOINT s");
                st.execute("INSERT INTO t VALUES (12, 'rolled back to savepoint')");
                st.execute("ROLLBACK TO SAVEPOINT s");
                c.commit();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 1);
            Thread.sleep(300); // nothing else may arrive; a wait for absence has no condition to poll
        }
        assertThat(ids(collector)).containsExactly(11);
    }

    @Test
    void anOpenTransactionDoesNotDelayOthers() throws Exception {
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("long-open").startAtPresent(true)
                .handle("t", List.of(), collector).build().start();
             Connection open = DriverManager.getConnection(url)) {
            // The consumer is up and delivering before the one-second deadlines below start (its start-up is not measured).
            Sql.exec(url, "INSERT INTO t VALUES (199, 'warm-up')");
            await().atMost(Duration.ofSeconds(20)).until(() -> collector.size() >= 1);
            open.setAutoCommit(false);
            try (Statement st = open.createStatement()) {
                st.execute("INSERT INTO t VALUES (100, 'held open for 10 s')");
            }
            long heldUntil = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            int expected = 1;
            for (int i = 0; System.nanoTime() < heldUntil; i++) {
                Sql.exec(url, "INSERT INTO t VALUES (" + (200 + i) + ", 'quick')");
                expected++;
                int want = expected;
                // Each quick transaction arrives within a second although an older one is still open.
                await().atMost(Duration.ofSeconds(1)).until(() -> collector.size() >= want);
                Thread.sleep(500);
            }
            assertThat(expected).isGreaterThanOrEqualTo(11);
            open.commit();
            int all = expected + 1;
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= all);
        }
        assertThat(ids(collector)).last().isEqualTo(100);
    }

    /** One multi-row INSERT of ids {@code from .. from + count - 1}. */
    private static String insertRows(int from, int count, String v) {
        StringBuilder sql = new StringBuilder("INSERT INTO t VALUES ");
        for (int i = 0; i < count; i++) {
            sql.append(i == 0 ? "" : ", ").append('(').append(from + i).append(", '").append(v).append("')");
        }
        return sql.toString();
    }

    @Test
    void bulkTransactionsStillRunningOrRolledBackAroundALaterCommit() throws Exception {
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("bulk-race").startAtPresent(true).handle("t", List.of(), collector).build().start();
             Connection a = DriverManager.getConnection(url);
             Connection r = DriverManager.getConnection(url);
             Connection b = DriverManager.getConnection(url)) {
            a.setAutoCommit(false);
            r.setAutoCommit(false);
            try (Statement sa = a.createStatement(); Statement sr = r.createStatement(); Statement sb = b.createStatement()) {
                // Given a bulk transaction that stays open and another that will roll back, both holding
                // thousands of log positions (a run of missing ids on MariaDB),
                sa.execute(insertRows(200_000, 5_000, "A"));
                sr.execute(insertRows(300_000, 5_000, "R"));
                // when a later transaction commits, it is delivered at once;
                sb.execute("INSERT INTO t VALUES (400000, 'B')");
                await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 1);
                assertThat(ids(collector)).containsExactly(400000);
                // then the rolled-back one never is, and the open one is, whole, once it commits.
                r.rollback();
                sb.execute("INSERT INTO t VALUES (400001, 'B')");
                await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 2);
                a.commit();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> collector.size() >= 5_002);
            // and nothing more comes: it would be a rolled-back or repeated change.
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> collector.size() == 5_002);
        }
        List<Object> ids = ids(collector);
        assertThat(ids).hasSize(5_002);
        assertThat(ids.subList(0, 2)).containsExactly(400000, 400001);
        assertThat(ids.subList(2, ids.size())).isEqualTo(java.util.stream.IntStream.range(200_000, 205_000).boxed().toList());
    }
}
