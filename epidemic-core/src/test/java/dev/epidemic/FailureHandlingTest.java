package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.HandlerFailedException;
import dev.epidemic.api.RejectedChangeException;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Retries, dead letters, stopping on failure, batch and transactional handlers. */
class FailureHandlingTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final FailurePolicy QUICK = FailurePolicy.deadLetterAfter(3).withBackoff(Duration.ofMillis(10), Duration.ofMillis(40));

    static String url;
    static EpidemicAdmin admin;

    @BeforeAll
    static void database() {
        url = TestDatabase.get().createDatabase();
        admin = EpidemicAdmin.create(url, null, null, "epidemic");
    }

    private static String table(String name) {
        Sql.exec(url, "CREATE TABLE " + name + " (id int PRIMARY KEY, v text)");
        admin.watch(name, List.of(), List.of());
        return name;
    }

    private static List<Integer> ids(List<Change> changes) {
        return changes.stream().map(c -> (Integer) (c.newValues() != null ? c.newValues() : c.oldValues()).get("id")).toList();
    }

    /** Throws on the first {@code failures} deliveries of the row with id {@code failingRow}, then records. */
    static final class Flaky implements ChangeHandler {
        final int failingRow;
        final int failures;
        final AtomicInteger calls = new AtomicInteger();
        final List<Change> handled = Collections.synchronizedList(new ArrayList<>());
        volatile boolean healed;

        Flaky(int failingRow, int failures) {
            this.failingRow = failingRow;
            this.failures = failures;
        }

        @Override
        public void onInsert(Change change) {
            if (change.key().get("id").equals(failingRow)) {
                if (calls.incrementAndGet() <= failures && !healed) {
                    throw new IllegalStateException("mailbox store unavailable for row " + failingRow);
                }
            }
            handled.add(change);
        }
    }

    @Test
    void retriesAFailingChangeAndDeliversItWhenTheHandlerRecovers() {
        String t = table("flaky_twice");
        Flaky handler = new Flaky(2, 2);
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("twice")
                .handle(t, List.of(), handler, QUICK).build().start()) {
            Sql.exec(url, "INSERT INTO flaky_twice VALUES (1, 'a')", "INSERT INTO flaky_twice VALUES (2, 'b')",
                    "INSERT INTO flaky_twice VALUES (3, 'c')");
            await().atMost(WAIT).until(() -> handler.handled.size() >= 3);
        }
        assertThat(handler.calls.get()).isEqualTo(3);
        assertThat(ids(handler.handled)).containsExactly(1, 2, 3);
        assertThat(admin.deadLetters("twice")).isEmpty();
    }

    @Test
    void movesAChangeThatKeepsFailingToTheDeadLettersAndGoesOnThenReplaysIt() {
        String t = table("flaky_always");
        Flaky handler = new Flaky(2, Integer.MAX_VALUE);
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("always")
                .handle(t, List.of(), handler, QUICK).build().start()) {
            Sql.exec(url, "INSERT INTO flaky_always VALUES (1, 'a')", "INSERT INTO flaky_always VALUES (2, 'b')",
                    "INSERT INTO flaky_always VALUES (3, 'c')");
            await().atMost(WAIT).until(() -> handler.handled.size() >= 2);
            assertThat(ids(handler.handled)).containsExactly(1, 3);
            assertThat(handler.calls.get()).isEqualTo(3);

            List<DeadLetter> dead = admin.deadLetters("always");
            assertThat(dead).hasSize(1);
            DeadLetter letter = dead.get(0);
            assertThat(letter.attempts()).isEqualTo(3);
            assertThat(letter.error()).contains("mailbox store unavailable for row 2");
            assertThat(letter.change().key()).isEqualTo(Map.of("id", 2));
            assertThat(letter.handler()).isEqualTo(Flaky.class.getName());
            assertThat(letter.firstFailure()).isBeforeOrEqualTo(letter.lastFailure());

            Sql.exec(url, "INSERT INTO flaky_always VALUES (4, 'd')"); // later changes still flow
            await().atMost(WAIT).until(() -> handler.handled.size() >= 3);

            handler.healed = true;
            assertThat(admin.replayDeadLetters("always", List.of())).isEqualTo(1);
            await().atMost(WAIT).until(() -> handler.handled.size() >= 4);
            assertThat(ids(handler.handled)).containsExactly(1, 3, 4, 2);
            await().atMost(WAIT).until(() -> admin.deadLetters("always").isEmpty());
        }
    }

    @Test
    void aDeadLetterThatFailsAgainOnReplayStaysWithItsAttemptsCounted() {
        String t = table("flaky_replay");
        Flaky handler = new Flaky(1, Integer.MAX_VALUE);
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("replay")
                .handle(t, List.of(), handler, QUICK).build().start()) {
            Sql.exec(url, "INSERT INTO flaky_replay VALUES (1, 'a')");
            await().atMost(WAIT).until(() -> admin.deadLetters("replay").size() == 1);
            admin.replayDeadLetters("replay", List.of(admin.deadLetters("replay").get(0).id()));
            await().atMost(WAIT).until(() -> admin.deadLetters("replay").get(0).attempts() == 4);
            assertThat(admin.deadLetters("replay").get(0).replayRequested()).isFalse();
        }
        assertThat(admin.dropDeadLetters("replay", List.of())).isEqualTo(1);
        assertThat(admin.deadLetters("replay")).isEmpty();
    }

    @Test
    void aRejectedChangeGoesToTheDeadLettersWithoutFurtherAttempts() {
        String t = table("rejecting");
        AtomicInteger calls = new AtomicInteger();
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("rejecting")
                .handle(t, List.of(), ChangeHandler.forEveryChange(change -> {
                    calls.incrementAndGet();
                    throw new RejectedChangeException("endpoint answered 422");
                }), FailurePolicy.deadLetterAfter(5)).build().start()) {
            Sql.exec(url, "INSERT INTO rejecting VALUES (1, 'a')");
            await().atMost(WAIT).until(() -> admin.deadLetters("rejecting").size() == 1);
        }
        assertThat(calls.get()).isEqualTo(1);
        assertThat(admin.deadLetters("rejecting").get(0).attempts()).isEqualTo(1);
    }

    @Test
    void stopsAndHoldsItsPositionWhenTheHandlerMustNotSkip() throws Exception {
        String t = table("strict");
        Flaky handler = new Flaky(2, Integer.MAX_VALUE);
        FailurePolicy stop = FailurePolicy.stopAfter(2).withBackoff(Duration.ofMillis(10), Duration.ofMillis(20));
        Epidemic epidemic = Epidemic.builder(url, null, null).consumer("strict").handle(t, List.of(), handler, stop).build();
        epidemic.start();
        Sql.exec(url, "INSERT INTO strict VALUES (1, 'a')", "INSERT INTO strict VALUES (2, 'b')", "INSERT INTO strict VALUES (3, 'c')");
        await().atMost(WAIT).until(() -> !epidemic.isRunning());
        assertThat(epidemic.failure()).isInstanceOf(HandlerFailedException.class).hasMessageContaining("change");
        assertThat(ids(handler.handled)).containsExactly(1);
        assertThat(admin.deadLetters("strict")).isEmpty();

        Flaky fixed = new Flaky(2, 0);
        try (Epidemic restarted = Epidemic.builder(url, null, null).consumer("strict").handle(t, List.of(), fixed, stop).build().start()) {
            await().atMost(WAIT).until(() -> fixed.handled.size() >= 2);
        }
        assertThat(ids(fixed.handled)).containsExactly(2, 3);
    }

    @Test
    void aHealthyHandlerGetsEachChangeOnceWhileAnotherHandlerOfTheTableIsRetried() {
        String t = table("two_handlers");
        Flaky failing = new Flaky(2, 2);
        Collector healthy = new Collector();
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("pair")
                .handle(t, List.of(), healthy, QUICK)
                .handle(t, List.of(), failing, QUICK).build().start()) {
            Sql.exec(url, "INSERT INTO two_handlers VALUES (1, 'a')", "INSERT INTO two_handlers VALUES (2, 'b')",
                    "INSERT INTO two_handlers VALUES (3, 'c')");
            await().atMost(WAIT).until(() -> failing.handled.size() >= 3);
        }
        assertThat(ids(healthy.changes())).containsExactly(1, 2, 3);
        assertThat(ids(failing.handled)).containsExactly(1, 2, 3);
    }

    @Test
    void handsBatchesToABatchHandlerAndDeadLettersAWholeBatchThatKeepsFailing() {
        String t = table("batched");
        List<List<Change>> batches = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean failing = new AtomicBoolean(false);
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("batches").batchSize(10)
                .handleBatches(t, List.of(), changes -> {
                    if (failing.get()) {
                        throw new IllegalStateException("endpoint answered 503");
                    }
                    batches.add(changes);
                }, QUICK).build().start()) {
            Sql.exec(url, "INSERT INTO batched SELECT g, 'x' FROM generate_series(1, 25) g");
            await().atMost(WAIT).until(() -> batches.stream().mapToInt(List::size).sum() >= 25);
            assertThat(batches).allSatisfy(b -> assertThat(b.size()).isLessThanOrEqualTo(10));
            assertThat(batches.stream().flatMap(List::stream).map(c -> c.key().get("id")).toList())
                    .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, 25).boxed().toList());

            failing.set(true);
            Sql.exec(url, "INSERT INTO batched SELECT g, 'y' FROM generate_series(26, 30) g");
            await().atMost(WAIT).until(() -> admin.deadLetters("batches").size() == 5);
            assertThat(admin.deadLetters("batches")).allSatisfy(d -> assertThat(d.error()).contains("503"));
        }
    }

    @Test
    void aTransactionalHandlerTakesEffectExactlyOnceAcrossFailuresAndATerminatedConnection() throws Exception {
        String t = table("orders");
        Sql.exec(url, "CREATE TABLE order_totals (order_id int PRIMARY KEY, handled_by_pid int)");
        AtomicBoolean failedOnce = new AtomicBoolean();
        AtomicBoolean terminatedOnce = new AtomicBoolean();
        Map<Integer, Integer> attemptsPerOrder = new ConcurrentHashMap<>();
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("exactly-once").batchSize(20)
                .handleInTransaction(t, List.of(), (change, connection) -> {
                    int id = (Integer) change.key().get("id");
                    attemptsPerOrder.merge(id, 1, Integer::sum);
                    try (PreparedStatement ps = connection.prepareStatement(
                            "INSERT INTO order_totals VALUES (?, pg_backend_pid())")) {
                        ps.setInt(1, id);
                        ps.executeUpdate(); // a duplicate would violate the primary key
                    }
                    if (id == 17 && failedOnce.compareAndSet(false, true)) {
                        throw new IllegalStateException("payment service timeout"); // its insert is undone
                    }
                    if (id == 60 && terminatedOnce.compareAndSet(false, true)) {
                        terminate(connection); // the whole open transaction is lost with the session
                    }
                }, QUICK).build().start()) {
            Sql.exec(url, "INSERT INTO orders SELECT g, 'o' FROM generate_series(1, 100) g");
            await().atMost(WAIT).until(() -> Sql.queryLong(url, "SELECT count(*) FROM order_totals") == 100);
        }
        assertThat(Sql.queryLong(url, "SELECT count(DISTINCT order_id) FROM order_totals")).isEqualTo(100);
        assertThat(attemptsPerOrder.get(17)).isEqualTo(2);
        assertThat(attemptsPerOrder.get(60)).isEqualTo(2);
        // the earlier orders of the batch lost with the session were handled again, and still took effect once
        assertThat(attemptsPerOrder.values().stream().filter(n -> n == 2).count()).isGreaterThan(2);
        assertThat(admin.deadLetters("exactly-once")).isEmpty();
    }

    private static void terminate(Connection victim) throws SQLException {
        int pid;
        try (var st = victim.createStatement(); var rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            pid = rs.getInt(1);
        }
        try (Connection other = DriverManager.getConnection(url); var st = other.createStatement()) {
            st.execute("SELECT pg_terminate_backend(" + pid + ")");
        }
    }

    @Test
    void onlyOneDispatcherPerConsumerIsActiveAndAStandbyTakesOver() {
        String t = table("leader");
        AtomicInteger concurrent = new AtomicInteger();
        AtomicInteger maxConcurrent = new AtomicInteger();
        Map<String, List<Integer>> byDispatcher = new ConcurrentHashMap<>();
        ChangeHandler first = recorder("first", byDispatcher, concurrent, maxConcurrent);
        ChangeHandler second = recorder("second", byDispatcher, concurrent, maxConcurrent);
        Epidemic active = Epidemic.builder(url, null, null).consumer("leader").handle(t, List.of(), first).build().start();
        Sql.exec(url, "INSERT INTO leader SELECT g, 'x' FROM generate_series(1, 50) g");
        await().atMost(WAIT).until(() -> byDispatcher.getOrDefault("first", List.of()).size() >= 50);
        try (Epidemic standby = Epidemic.builder(url, null, null).consumer("leader").handle(t, List.of(), second).build().start()) {
            Sql.exec(url, "INSERT INTO leader SELECT g, 'y' FROM generate_series(51, 100) g");
            await().atMost(WAIT).until(() -> byDispatcher.get("first").size() >= 100);
            assertThat(byDispatcher).containsOnlyKeys("first");

            active.close();
            Sql.exec(url, "INSERT INTO leader SELECT g, 'z' FROM generate_series(101, 150) g");
            await().atMost(WAIT).until(() -> byDispatcher.getOrDefault("second", List.of()).size() >= 50);
        }
        List<Integer> all = new ArrayList<>(byDispatcher.get("first"));
        all.addAll(byDispatcher.get("second"));
        assertThat(all).containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.rangeClosed(1, 150).boxed().toList());
        assertThat(maxConcurrent.get()).isEqualTo(1);
    }

    private static ChangeHandler recorder(String name, Map<String, List<Integer>> byDispatcher, AtomicInteger concurrent,
                                          AtomicInteger maxConcurrent) {
        return ChangeHandler.forEveryChange(change -> {
            maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            try {
                byDispatcher.computeIfAbsent(name, n -> Collections.synchronizedList(new ArrayList<>()))
                        .add((Integer) change.key().get("id"));
            } finally {
                concurrent.decrementAndGet();
            }
        });
    }
}
