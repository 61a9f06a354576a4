package dev.epidemic;

import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.PruneResult;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Several independent consumers, status, and pruning that never takes what a lagging consumer needs; on every database. */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#all")
class PruneTest {
    @Parameter
    TestServer server;
    Target db;

    private void consume(String url, String consumer, Collector collector, int expected) {
        try (Epidemic epidemic = db.engine().consumer(consumer).handle("t", List.of(), collector).build().start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> collector.size() >= expected);
        }
    }

    private static void insert(String url, int from, int to) {
        for (int i = from; i < to; i += 50) {
            StringBuilder values = new StringBuilder();
            for (int id = i; id < Math.min(to, i + 50); id++) {
                values.append(id == i ? "" : ", ").append("(").append(id).append(", 'x')");
            }
            Sql.exec(url, "INSERT INTO t VALUES " + values);
        }
    }

    @Test
    void pruneDeletesOnlyWhatEveryConsumerPassedAndConsumersStayIndependent() {
        db = server.create();
        String url = db.url();
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        EpidemicAdmin admin = db.admin();
        admin.watch("t", List.of(), List.of());
        insert(url, 0, 100);
        assertThat(admin.prune()).as("no consumer yet: nothing is deleted").isEqualTo(new PruneResult(0, 100, 0));

        Collector fast = new Collector();
        Collector slow = new Collector();
        consume(url, "fast", fast, 100);
        consume(url, "slow", slow, 100);
        insert(url, 100, 300);
        consume(url, "fast", fast, 300);

        assertThat(admin.status()).extracting(ConsumerStatus::name, ConsumerStatus::pending)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("fast", 0L), org.assertj.core.groups.Tuple.tuple("slow", 200L));
        PruneResult pruned = admin.prune();
        assertThat(pruned.deleted()).isEqualTo(100);
        assertThat(pruned.retained()).isEqualTo(200);

        consume(url, "slow", slow, 300);
        assertThat(slow.changes()).extracting(c -> c.newValues().get("id")).doesNotHaveDuplicates().hasSize(300);
        assertThat(admin.prune()).isEqualTo(new PruneResult(200, 0, 2));

        // The log keeps working through several rotations of its slots.
        for (int round = 0; round < 4; round++) {
            insert(url, 1000 + round * 10, 1010 + round * 10);
            consume(url, "fast", fast, 310 + round * 10);
            consume(url, "slow", slow, 310 + round * 10);
            assertThat(admin.prune().retained()).isZero();
        }
        assertThat(fast.changes()).hasSize(340);
        assertThat(db.queryLong("SELECT count(*) FROM " + db.logTable("change_log"))).isZero();
        if (!server.isPostgres()) {
            // The log is system-versioned: deleted rows become history rows, which prune deletes too.
            assertThat(db.queryLong("SELECT count(*) FROM " + db.logTable("change_log") + " FOR SYSTEM_TIME ALL")).isZero();
            return;
        }
        // Passed slots were TRUNCATEd, not DELETEd: no dead tuples, no pages left behind.
        assertThat(Sql.queryLong(url, "SELECT sum(pg_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = 'epidemic' AND c.relname LIKE 'change\\_log\\_%' AND c.relkind = 'r'")).isZero();
    }

    @Test
    void statusCountsOnlyWhatAConsumerHasNotBeenHandedYet() {
        db = server.create();
        String url = db.url();
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        EpidemicAdmin admin = db.admin();
        admin.watch("t", List.of(), List.of());
        Collector first = new Collector();
        consume(url, "partial", first, 0);
        insert(url, 0, 10);
        // A handler that stops the consumer after three changes leaves it in the middle of a window.
        // Closed on the dispatcher's own thread, the consumer stops as soon as the handler returns: a
        // close from another thread could land after all ten were handed over (it once did).
        Collector some = new Collector();
        Epidemic stopping = stopAfter(some, 3, 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> some.size() >= 3);
        stopping.close();
        assertThat(some.size()).isEqualTo(3);
        assertThat(admin.status()).singleElement().satisfies(s -> {
            assertThat(s.pending()).isEqualTo(7);
            assertThat(s.oldestPendingAge()).isNotNull();
        });
    }

    @Test
    void aConsumerStoppedRightAfterTheLastFullChunkOfAWindowLetsPruneDeleteIt() {
        db = server.create();
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        EpidemicAdmin admin = db.admin();
        admin.watch("t", List.of(), List.of());
        insert(db.url(), 0, 10);
        // Two full chunks of five; the consumer is stopped while it hands over the second one.
        Collector all = new Collector();
        Epidemic stopping = stopAfter(all, 10, 5);
        await().atMost(Duration.ofSeconds(20)).until(() -> all.size() >= 10);
        stopping.close();
        assertThat(admin.status()).singleElement().satisfies(s -> assertThat(s.pending()).isZero());
        assertThat(admin.prune()).isEqualTo(new PruneResult(10, 0, 1));
    }

    /** A consumer "partial" that closes itself from its handler after {@code count} changes. */
    private Epidemic stopAfter(Collector collector, int count, int batchSize) {
        Epidemic[] holder = new Epidemic[1];
        holder[0] = db.engine().consumer("partial").batchSize(batchSize).handle("t", List.of(), new dev.epidemic.api.ChangeHandler() {
            @Override
            public void onInsert(dev.epidemic.api.Change change) {
                collector.onInsert(change);
                if (collector.size() == count) {
                    holder[0].close();
                }
            }
        }).build();
        return holder[0].start(); // assigned first: the handler may run as soon as it starts
    }
}
