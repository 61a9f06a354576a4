package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.FailurePolicy;
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
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The order within one window: transactions in the order of their last change (not of their first, nor of
 * their txid), each whole, changes to one row in the order made; and the same order again when the window
 * is read anew from a position in its middle (a handler's retry). On each kind of database.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#all")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WindowOrderTest {
    private static final FailurePolicy QUICK = FailurePolicy.deadLetterAfter(5).withBackoff(Duration.ofMillis(10), Duration.ofMillis(40));

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

    /** A watched table {@code name}, and {@code name_other}: watched too and written in the same transactions, but not read. */
    private void table(String name) {
        db.exec("CREATE TABLE " + name + " (id int PRIMARY KEY, v text)", "CREATE TABLE " + name + "_other (id int PRIMARY KEY)");
        db.admin().watch(name, List.of(), List.of());
        db.admin().watch(name + "_other", List.of(), List.of());
    }

    private static String insertRows(String table, int from, int count) {
        return "INSERT INTO " + table + " (id) VALUES " + String.join(", ",
                IntStream.range(from, from + count).mapToObj(i -> "(" + i + ")").toList());
    }

    /**
     * Writes, before any consumer reads, so that it all lands in one window: T1 (the oldest transaction, and the
     * first to write) writes rows 1..1500, T2 writes rows 2001..2300 and commits, T1 writes 1501..1600 (and
     * rows of the other table after them) and commits, T3 inserts 3001 and updates row 1.
     */
    private void interleavedTransactions(String table) throws SQLException {
        try (Connection a = DriverManager.getConnection(db.url()); Connection b = DriverManager.getConnection(db.url());
             Statement t1 = a.createStatement(); Statement other = b.createStatement()) {
            a.setAutoCommit(false);
            t1.execute(insertRows(table, 1, 1500));
            other.execute(insertRows(table, 2001, 300));
            t1.execute(insertRows(table, 1501, 100));
            t1.execute(insertRows(table + "_other", 1, 50));
            a.commit();
            b.setAutoCommit(false);
            other.execute("INSERT INTO " + table + " (id) VALUES (3001)");
            other.execute("UPDATE " + table + " SET v = 'after T1' WHERE id = 1");
            b.commit();
        }
    }

    /** T2, then T1, then T3: the order of the transactions' last changes to the table read. */
    private static List<String> expectedOrder() {
        return Stream.of(IntStream.rangeClosed(2001, 2300).mapToObj(i -> "I" + i), IntStream.rangeClosed(1, 1600).mapToObj(i -> "I" + i),
                Stream.of("I3001", "U1")).flatMap(s -> s).toList();
    }

    private static String label(Change change) {
        return change.operation().name().charAt(0) + String.valueOf(change.key().get("id"));
    }

    /** Records each change it was handed; throws once on the change {@code failOn}, which is then handed over again. */
    private static final class FailsOnce implements ChangeHandler {
        final String failOn;
        final List<String> handled = Collections.synchronizedList(new ArrayList<>());
        volatile boolean failed;

        FailsOnce(String failOn) {
            this.failOn = failOn;
        }

        @Override
        public void onInsert(Change change) {
            record(change);
        }

        @Override
        public void onUpdate(Change change) {
            record(change);
        }

        private void record(Change change) {
            if (!failed && label(change).equals(failOn)) {
                failed = true;
                throw new IllegalStateException("fails once on " + failOn);
            }
            handled.add(label(change));
        }
    }

    @Test
    void handsOverTransactionsInTheOrderOfTheirLastChange() throws Exception {
        // Given interleaved transactions, one of them larger than a batch, all in one window,
        table("ordered");
        interleavedTransactions("ordered");
        FailsOnce handler = new FailsOnce("none");
        // when a consumer reads them in batches of 100,
        try (Epidemic epidemic = db.engine().consumer("ordered").batchSize(100).handle("ordered", List.of(), handler, QUICK).build().start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> handler.handled.size() >= expectedOrder().size());
        }
        // then each transaction comes whole, in the order of its last change, and row 1's insert before its update.
        assertThat(handler.handled).isEqualTo(expectedOrder());
    }

    @Test
    void readsAWindowAgainInTheSameOrderFromAPositionInItsMiddle() throws Exception {
        // Given the same transactions, and a handler that fails once in the middle of T1 (not at a batch's edge),
        table("resumed");
        interleavedTransactions("resumed");
        FailsOnce handler = new FailsOnce("I777");
        // when the consumer retries by reading the window again from its stored position,
        try (Epidemic epidemic = db.engine().consumer("resumed").batchSize(100).handle("resumed", List.of(), handler, QUICK).build().start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> handler.handled.size() >= expectedOrder().size());
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> handler.handled.size() == expectedOrder().size());
        }
        // then it goes on where it failed: nothing skipped, nothing handed over twice, the order unchanged.
        assertThat(handler.failed).isTrue();
        assertThat(handler.handled).isEqualTo(expectedOrder());
    }
}
