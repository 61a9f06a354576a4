package dev.epidemic;

import dev.epidemic.api.BatchHandler;
import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.testing.Replica;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code parallelism(n)}: changes to different rows are handed over in n lanes at once, one row's changes
 * in order, a TRUNCATE after everything before it; failures and dead letters work as with one lane.
 */
class ParallelDeliveryTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    static String url;
    static EpidemicAdmin admin;

    @BeforeAll
    static void database() {
        url = TestDatabase.get().createDatabase();
        admin = EpidemicAdmin.create(url, null, null, "epidemic");
    }

    private static void table(String name) {
        Sql.exec(url, "CREATE TABLE " + name + " (id int PRIMARY KEY, v int NOT NULL)");
        admin.watch(name, List.of(), List.of());
    }

    /** Records each row's values in the order handled, and how many calls ran at once at most. */
    static final class OrderRecorder implements ChangeHandler {
        final Map<Object, List<Object>> valuesByRow = new ConcurrentHashMap<>();
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();
        final AtomicInteger handled = new AtomicInteger();

        @Override
        public void onInsert(Change change) throws InterruptedException {
            record(change);
        }

        @Override
        public void onUpdate(Change change) throws InterruptedException {
            record(change);
        }

        private void record(Change change) throws InterruptedException {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                Thread.sleep(1); // a handler that waits on something, as a webhook or a broker does
                valuesByRow.computeIfAbsent(change.key().get("id"), k -> Collections.synchronizedList(new ArrayList<>()))
                        .add(change.newValues().get("v"));
                handled.incrementAndGet();
            } finally {
                running.decrementAndGet();
            }
        }
    }

    @Test
    void handsChangesToDifferentRowsOverAtOnceAndKeepsEachRowsOrder() {
        // Given 20 rows each updated 20 times, interleaved, some of it in multi-row transactions,
        table("lanes_order");
        List<String> writes = new ArrayList<>();
        writes.add("INSERT INTO lanes_order SELECT g, 0 FROM generate_series(1, 20) g");
        for (int round = 1; round <= 20; round++) {
            writes.add("UPDATE lanes_order SET v = " + round);
        }
        OrderRecorder recorder = new OrderRecorder();
        // when a consumer with 8 lanes delivers them,
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("lanes-order").parallelism(8)
                .handle("lanes_order", List.of(), recorder).build().start()) {
            Sql.exec(url, writes.toArray(String[]::new));
            await().atMost(WAIT).until(() -> recorder.handled.get() >= 20 * 21);
        }

        // every row's values arrive in the order they were written, and rows were handled concurrently.
        List<Object> inOrder = new ArrayList<>();
        for (int v = 0; v <= 20; v++) {
            inOrder.add(v);
        }
        assertThat(recorder.valuesByRow).hasSize(20);
        recorder.valuesByRow.values().forEach(values -> assertThat(values).isEqualTo(inOrder));
        assertThat(recorder.mostAtOnce.get()).isGreaterThan(1);
    }

    @Test
    void aTruncateWaitsForEverythingBeforeItAndTheReplicaEndsEqualToTheTable() {
        table("lanes_truncate");
        Replica replica = new Replica();
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("lanes-truncate").parallelism(4)
                .handle("lanes_truncate", List.of(), replica).build().start()) {
            Sql.exec(url, "INSERT INTO lanes_truncate SELECT g, g FROM generate_series(1, 50) g",
                    "UPDATE lanes_truncate SET v = v + 100",
                    "TRUNCATE lanes_truncate",
                    "INSERT INTO lanes_truncate SELECT g, g FROM generate_series(1, 10) g",
                    "DELETE FROM lanes_truncate WHERE id > 5",
                    "UPDATE lanes_truncate SET v = -id");
            await().atMost(WAIT).until(() -> replica.applied() >= 50 + 50 + 1 + 10 + 5 + 5);
        }
        assertThat(replica.rows()).isEqualTo(Replica.tableRows(url, "lanes_truncate", List.of("id")));
    }

    @Test
    void aChangeThatKeepsFailingIsDeadLetteredAndTheOtherLanesGoOn() {
        table("lanes_failing");
        List<Object> handled = Collections.synchronizedList(new ArrayList<>());
        ChangeHandler failsOnRow7 = new ChangeHandler() {
            @Override
            public void onInsert(Change change) {
                if (change.key().get("id").equals(7)) {
                    throw new IllegalStateException("row 7 cannot be stored");
                }
                handled.add(change.key().get("id"));
            }
        };
        FailurePolicy quick = FailurePolicy.deadLetterAfter(3).withBackoff(Duration.ofMillis(10), Duration.ofMillis(40));
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("lanes-failing").parallelism(4)
                .handle("lanes_failing", List.of(), failsOnRow7, quick).build().start()) {
            Sql.exec(url, "INSERT INTO lanes_failing SELECT g, g FROM generate_series(1, 40) g");
            await().atMost(WAIT).until(() -> handled.size() >= 39 && admin.deadLetters("lanes-failing").size() == 1);
        }
        assertThat(handled).doesNotHaveDuplicates().hasSize(39).doesNotContain(7);
        assertThat(admin.deadLetters("lanes-failing")).singleElement()
                .satisfies(letter -> assertThat(letter.error()).contains("row 7 cannot be stored"));
    }

    @Test
    void splitsABatchHandlersBatchesByRow() {
        table("lanes_batches");
        Map<Object, List<Object>> valuesByRow = new ConcurrentHashMap<>();
        AtomicInteger batches = new AtomicInteger();
        BatchHandler sink = changes -> {
            batches.incrementAndGet();
            for (Change change : changes) {
                valuesByRow.computeIfAbsent(change.key().get("id"), k -> Collections.synchronizedList(new ArrayList<>()))
                        .add(change.newValues().get("v"));
            }
        };
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("lanes-batches").parallelism(4)
                .handleBatches("lanes_batches", List.of(), sink, null).build().start()) {
            Sql.exec(url, "INSERT INTO lanes_batches SELECT g, 0 FROM generate_series(1, 30) g",
                    "UPDATE lanes_batches SET v = 1", "UPDATE lanes_batches SET v = 2");
            await().atMost(WAIT).until(() -> valuesByRow.values().stream().mapToInt(List::size).sum() >= 90);
        }
        assertThat(valuesByRow).hasSize(30);
        valuesByRow.values().forEach(values -> assertThat(values).containsExactly(0, 1, 2));
        assertThat(batches.get()).isGreaterThan(1);
    }

    @Test
    void refusesParallelismWithATransactionalHandler() {
        assertThatThrownBy(() -> Epidemic.builder(url, null, null).consumer("lanes-tx").parallelism(2)
                .handleInTransaction("lanes_failing", List.of(), (change, tx) -> { }, null).build())
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("transactional handler");
        assertThatThrownBy(() -> Epidemic.builder(url, null, null).parallelism(0))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("parallelism must be between 1 and 256, not 0");
    }
}
