package dev.epidemic;

import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@link Epidemic#caughtUpFor()}: how long nothing has been pending for the consumer (tail --idle-exit waits on it); on every database. */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#all")
class CaughtUpTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Parameter
    TestServer server;

    @Test
    void countsOnlyOnceEverythingCommittedWasHandedOverAndAnewAfterEachChange() throws Exception {
        Target db = server.create();
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        db.admin().watch("t", List.of(), List.of());
        db.exec("INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES (2, 'b')");
        CountDownLatch firstInHand = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger handled = new AtomicInteger();
        AtomicLong lastHandledAt = new AtomicLong();
        Epidemic epidemic = db.engine().consumer("caught-up").handle("t", List.of(), ChangeHandler.forEveryChange(change -> {
            firstInHand.countDown();
            release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
            lastHandledAt.set(System.nanoTime());
            handled.incrementAndGet();
        })).build();
        assertThat(epidemic.caughtUpFor()).as("before start").isZero();

        try (Epidemic running = epidemic.start()) {
            // Given a change in hand, held for as long as the test likes, with another one behind it,
            assertThat(firstInHand.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            // then that time is not time caught up, however long it lasts;
            assertThat(epidemic.caughtUpFor()).as("while a change is in hand").isZero();
            release.countDown();
            // once both are handed over, it counts,
            await().atMost(WAIT).until(() -> epidemic.caughtUpFor().compareTo(Duration.ofMillis(100)) > 0);
            assertThat(handled).hasValue(2);

            // and a later change makes it count anew from no earlier than when that change was handled.
            db.exec("INSERT INTO t VALUES (3, 'c')");
            await().atMost(WAIT).until(() -> handled.get() == 3);
            long sinceHandled = System.nanoTime() - lastHandledAt.get();
            assertThat(epidemic.caughtUpFor()).isLessThanOrEqualTo(Duration.ofNanos(sinceHandled));
        }
    }
}
