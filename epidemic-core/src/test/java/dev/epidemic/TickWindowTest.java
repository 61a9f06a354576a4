package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.Dialect.WindowEnd;
import dev.epidemic.dialect.Position;
import dev.epidemic.engine.Databases;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Ticks (V5__ticks.sql): snapshots that writers record every 4096 log ids, at which a consumer far behind
 * ends its windows, so that no window holds a whole backlog. A window cut at a tick must keep every
 * guarantee of one cut at the present. PostgreSQL only (MariaDB reads by id, not by snapshot).
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#postgresVersions")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TickWindowTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Parameter
    TestServer server;
    Target db;

    @BeforeEach
    void database() {
        if (db != null && db.server() == server) {
            return; // one database per server: the instance is shared by the invocations
        }
        db = server.create();
    }

    private void table(String name) {
        db.exec("CREATE TABLE " + name + " (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)");
        db.admin().watch(name, List.of(), List.of());
    }

    /** {@code statements} transactions of {@code rows} inserted rows each into {@code table}, ids from {@code from}. */
    private void backlog(String table, int from, int statements, int rows) {
        for (int i = 0; i < statements; i++) {
            int first = from + i * rows;
            db.exec("INSERT INTO " + table + " (id) SELECT g FROM generate_series(" + first + ", " + (first + rows - 1) + ") g");
        }
    }

    @Test
    void endsTheWindowOfAConsumerFarBehindAtATickNotAtThePresent() throws Exception {
        // Given a consumer whose position is before a backlog of 100,000 changes in 20 transactions,
        table("far_behind");
        Dialect dialect = Databases.dialectFor(db.url(), db.logSchema());
        Position start;
        try (Connection c = DriverManager.getConnection(db.url())) {
            start = Position.at(currentSnapshot(c));
        }
        backlog("far_behind", 1, 20, 5_000);
        // when it asks where its next window ends,
        WindowEnd end;
        String present;
        try (Connection c = DriverManager.getConnection(db.url())) {
            end = dialect.reader().nextWindowEnd(c, start, 32_768);
            present = currentSnapshot(c);
        }
        // then the window ends at a tick recorded on the way, before the present, and holds a part of the backlog.
        assertThat(db.queryLong("SELECT count(*) FROM " + db.logTable("tick"))).isGreaterThanOrEqualTo(20);
        assertThat(end.present()).isFalse();
        assertThat(end.snapshot()).isNotEqualTo(present);
        long inWindow = db.queryLong("SELECT count(*) FROM " + db.logTable("change_log")
                + " WHERE NOT pg_visible_in_snapshot(txid, '" + start.delivered() + "') AND pg_visible_in_snapshot(txid, '" + end.snapshot() + "')");
        assertThat(inWindow).isPositive().isLessThan(100_000);
    }

    @Test
    void deliversEveryChangeOfABacklogCutAtTicksOnceEachAndTheLastChangeOfARowLast() throws Exception {
        // Given a backlog of 60,000 inserts in 12 transactions, and updates of some of the rows in between and after,
        table("cut");
        backlog("cut", 1, 6, 5_000);
        db.exec("UPDATE cut SET v = 1 WHERE id % 1000 = 0");
        backlog("cut", 30_001, 6, 5_000);
        db.exec("UPDATE cut SET v = 2 WHERE id % 1000 = 0");
        Map<Integer, Integer> replica = new ConcurrentHashMap<>();
        List<Long> ids = Collections.synchronizedList(new ArrayList<>());
        ChangeHandler apply = new ChangeHandler() {
            @Override
            public void onInsert(Change change) {
                put(change);
            }

            @Override
            public void onUpdate(Change change) {
                put(change);
            }

            private void put(Change change) {
                ids.add(change.id());
                replica.put(((Number) change.newValues().get("id")).intValue(), ((Number) change.newValues().get("v")).intValue());
            }
        };
        // when a new consumer reads it from the oldest change,
        try (Epidemic epidemic = db.engine().consumer("cut").batchSize(1000).handle("cut", List.of(), apply).build().start()) {
            await().atMost(WAIT).until(() -> ids.size() >= 60_090);
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> ids.size() == 60_090);
        }
        // then it got every change once, and applied in that order they give the table.
        assertThat(ids).doesNotHaveDuplicates();
        assertThat(replica).hasSize(60_000);
        assertThat(replica.entrySet().stream().filter(e -> e.getValue() != (e.getKey() % 1000 == 0 ? 2 : 0)).toList()).isEmpty();
    }

    @Test
    void aTickCountsTheTransactionThatRecordedItAsRunning() throws Exception {
        // Given a consumer at the present,
        table("recorder");
        db.exec("INSERT INTO recorder (id) VALUES (0)");
        Collector collector = new Collector();
        try (Connection w = DriverManager.getConnection(db.url()); Statement sw = w.createStatement()) {
            Position start;
            Dialect dialect = Databases.dialectFor(db.url(), db.logSchema());
            try (Connection c = DriverManager.getConnection(db.url())) {
                start = Position.at(currentSnapshot(c));
            }
            // and a transaction W that begins, sees another transaction commit (so that its tick is later than
            // the consumer's position), logs enough changes to record a tick, and stays open,
            w.setAutoCommit(false);
            sw.execute("INSERT INTO recorder (id) VALUES (-1)");
            db.exec("INSERT INTO recorder (id) VALUES (-2)");
            sw.execute("INSERT INTO recorder (id) SELECT g FROM generate_series(1, 5000) g");
            // when another transaction U updates row 0 and commits after the tick,
            db.exec("UPDATE recorder SET v = 1 WHERE id = 0");
            // and W then updates row 0 too, and commits,
            sw.execute("UPDATE recorder SET v = 2 WHERE id = 0");
            w.commit();
            try (Connection c = DriverManager.getConnection(db.url())) {
                assertThat(dialect.reader().nextWindowEnd(c, start, 32_768).present()).as("a window cut at W's tick").isFalse();
            }
            // then a consumer reading from before W gets U's update before W's, as they were made,
            try (Epidemic epidemic = db.engine().consumer("recorder").startAtPresent(false).handle("recorder", List.of(), collector).build().start()) {
                await().atMost(WAIT).until(() -> collector.changes().stream().filter(ch -> ch.operation().name().equals("UPDATE")).count() >= 2);
            }
        }
        List<Object> row0 = collector.changes().stream().filter(ch -> ch.operation().name().equals("UPDATE")).map(ch -> ch.newValues().get("v")).toList();
        assertThat(row0).containsExactly(1, 2);
    }

    @Test
    void isNotCaughtUpWhileWindowsCutAtTicksRemainEvenIfTheyHoldNothingForIt() throws Exception {
        // Given a backlog of 100,000 changes of a table the consumer does not read, then one of a table it reads,
        table("busy");
        table("quiet");
        backlog("busy", 1, 20, 5_000);
        db.exec("INSERT INTO quiet (id) VALUES (1)");
        Collector collector = new Collector();
        // when the consumer reads from the oldest change (its first windows, cut at ticks, hold nothing for it),
        try (Epidemic epidemic = db.engine().consumer("quiet").handle("quiet", List.of(), collector).build().start()) {
            // then it counts as caught up only once it has the change of its table (tail --idle-exit relies on it).
            await().atMost(WAIT).pollInterval(Duration.ofMillis(1)).until(() -> epidemic.caughtUpFor().compareTo(Duration.ZERO) > 0);
            assertThat(collector.size()).isEqualTo(1);
        }
    }

    @Test
    void aBackfillRecordsTicksSoThatAConsumerBehindItReadsItInPieces() throws Exception {
        // Given 40,000 rows that exist before capture, and a consumer that is not running,
        db.exec("CREATE TABLE existing (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)", "INSERT INTO existing (id) SELECT g FROM generate_series(1, 40000) g");
        db.admin().watch("existing", List.of(), List.of());
        Position start;
        Dialect dialect = Databases.dialectFor(db.url(), db.logSchema());
        try (Connection c = DriverManager.getConnection(db.url())) {
            start = dialect.positions().open(c, "behind-backfill", true);
        }
        long ticksBefore = db.queryLong("SELECT count(*) FROM " + db.logTable("tick"));
        // when a backfill logs them for it in chunks of 5,000,
        db.admin().backfill("existing", List.of("behind-backfill"), null, 5_000, status -> { });
        // then its chunks recorded ticks, and the consumer's next window ends at one, not at the present.
        assertThat(db.queryLong("SELECT count(*) FROM " + db.logTable("tick")) - ticksBefore).isGreaterThanOrEqualTo(8);
        try (Connection c = DriverManager.getConnection(db.url())) {
            assertThat(dialect.reader().nextWindowEnd(c, start, 32_768).present()).isFalse();
        }
    }

    private static String currentSnapshot(Connection c) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_snapshot()::text")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
