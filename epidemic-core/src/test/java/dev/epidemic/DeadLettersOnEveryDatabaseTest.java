package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Dead letters on every database: a change that keeps failing is kept whole with its error and attempts,
 * listed per consumer, replayed (gone when it succeeds, counted when it fails again) and dropped.
 * (FailureHandlingTest covers the failure policies themselves, on PostgreSQL.)
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#all")
class DeadLettersOnEveryDatabaseTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final FailurePolicy TWICE = FailurePolicy.deadLetterAfter(2).withBackoff(Duration.ofMillis(10), Duration.ofMillis(20));

    @Parameter
    TestServer server;

    /** Refuses the rows whose id is in {@code refused} until they are taken out of it. */
    static final class Refusing implements ChangeHandler {
        final List<Integer> refused = new CopyOnWriteArrayList<>();
        final List<Change> handled = new CopyOnWriteArrayList<>();

        Refusing(Integer... refused) {
            this.refused.addAll(List.of(refused));
        }

        @Override
        public void onInsert(Change change) {
            if (refused.contains((Integer) change.key().get("id"))) {
                throw new IllegalStateException("refused row " + change.key().get("id"));
            }
            handled.add(change);
        }
    }

    @Test
    void keepsReplaysAndDropsTheChangesAHandlerKeptFailingOn() {
        Target db = server.create();
        db.exec("CREATE TABLE t (id int PRIMARY KEY, amount DECIMAL(10,2), note " + (server.isPostgres() ? "text" : "VARCHAR(50)") + ")");
        EpidemicAdmin admin = db.admin();
        admin.watch("t", List.of(), List.of());
        Refusing handler = new Refusing(2, 3);
        Instant before = Instant.now().minusSeconds(5);
        try (Epidemic epidemic = db.engine().consumer("dl").handle("t", List.of(), handler, TWICE).build().start();
             Epidemic other = db.engine().consumer("other").handle("t", List.of(), new ChangeHandler() {
             }).build().start()) {
            db.exec("INSERT INTO t VALUES (1, 1.50, 'ok')", "INSERT INTO t VALUES (2, 2.25, 'bad ünï \"quoted\"')",
                    "INSERT INTO t VALUES (3, 3.00, NULL)", "INSERT INTO t VALUES (4, 4.00, 'ok')");
            await().atMost(WAIT).until(() -> handler.handled.size() >= 2 && admin.deadLetters("dl").size() == 2);

            // Kept whole: the change as it was logged, the handler, the error, the attempts and when.
            List<DeadLetter> dead = admin.deadLetters("dl");
            assertThat(dead).extracting(d -> d.change().key()).containsExactly(Map.of("id", 2), Map.of("id", 3));
            DeadLetter first = dead.get(0);
            assertThat(first.consumer()).isEqualTo("dl");
            assertThat(first.handler()).isEqualTo(Refusing.class.getName());
            assertThat(first.error()).contains("refused row 2");
            assertThat(first.attempts()).isEqualTo(2);
            assertThat(first.replayRequested()).isFalse();
            assertThat(first.change().table()).isEqualTo(db.qualified("t"));
            assertThat(first.change().newValues()).containsEntry("note", "bad ünï \"quoted\"")
                    .hasEntrySatisfying("amount", a -> assertThat((BigDecimal) a).isEqualByComparingTo("2.25"));
            assertThat(first.change().at()).isAfter(before).isBeforeOrEqualTo(first.firstFailure());
            assertThat(first.firstFailure()).isBeforeOrEqualTo(first.lastFailure()).isBefore(Instant.now().plusSeconds(5));
            assertThat(admin.deadLetters(null)).hasSize(2);
            assertThat(admin.deadLetters("other")).isEmpty();

            // A replay that fails again counts the attempt and clears the request; one that succeeds removes it.
            assertThat(admin.replayDeadLetters("dl", List.of(first.id()))).isEqualTo(1);
            await().atMost(WAIT).until(() -> admin.deadLetters("dl").get(0).attempts() == 3);
            assertThat(admin.deadLetters("dl").get(0).replayRequested()).isFalse();
            assertThat(admin.deadLetters("dl").get(0).lastFailure()).isAfterOrEqualTo(first.lastFailure());
            handler.refused.remove(Integer.valueOf(2));
            assertThat(admin.replayDeadLetters("dl", List.of())).isEqualTo(2);
            await().atMost(WAIT).until(() -> admin.deadLetters("dl").size() == 1);
            assertThat(handler.handled).extracting(c -> c.key().get("id")).containsExactly(1, 4, 2);
        }
        assertThat(admin.replayDeadLetters("nobody", List.of())).isZero();
        assertThat(admin.dropDeadLetters("dl", List.of(-1L))).isZero();
        assertThat(admin.dropDeadLetters(null, List.of(admin.deadLetters("dl").get(0).id()))).isEqualTo(1);
        assertThat(admin.deadLetters(null)).isEmpty();
    }

    @Test
    void aDatabaseWithoutEpidemicHasNoDeadLetters() {
        EpidemicAdmin admin = server.create().admin();
        assertThat(admin.deadLetters(null)).isEmpty();
        assertThat(admin.replayDeadLetters(null, List.of())).isZero();
        assertThat(admin.dropDeadLetters(null, List.of())).isZero();
    }
}
