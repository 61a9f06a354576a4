package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import dev.epidemic.testing.Workload;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Concurrent writers against a consumer that keeps being stopped and restarted: every committed change arrives, in order per row, and nothing
 * rolled back does. On every database; terminated backends are TerminatedConnectionsTest (PostgreSQL;
 * MariaDB's KILL CONNECTION is exercised by its chaos run).
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#allVersions")
class ConcurrencyTest {
    @Parameter
    TestServer server;
    Target db;

    /** Records what the Workload needs to check. */
    static final class Recorder implements ChangeHandler.EveryChange {
        final List<Workload.Event> events = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger rolledBack = new AtomicInteger();

        @Override
        public void accept(Change change) {
            if (Workload.rolledBack(change)) {
                rolledBack.incrementAndGet();
            }
            events.add(Workload.eventOf(change));
        }
    }

    private String setUp() {
        db = server.create();
        db.exec(Workload.createTable());
        db.admin().watch("items", List.of(), List.of());
        return db.url();
    }

    private Epidemic consumer(String url, Recorder recorder) {
        return db.engine().consumer("restarted").batchSize(50)
                .handle("items", List.of(), ChangeHandler.forEveryChange(recorder)).build();
    }

    @Test
    void deliversEveryCommittedChangeAcrossConsumerRestarts() throws Exception {
        String url = setUp();
        Recorder recorder = new Recorder();
        Workload workload = new Workload(url);
        CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
            try {
                workload.run(4, 600);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Random random = new Random(42);
        int restarts = 0;
        int restartsWhileWriting = 0;
        // At least three restarts however fast the writers are (on a quiet machine they finish in a second).
        while (!writing.isDone() || restarts < 3) {
            boolean whileWriting = !writing.isDone();
            try (Epidemic epidemic = consumer(url, recorder).start()) {
                Thread.sleep(50 + random.nextInt(250));
            }
            restarts++;
            restartsWhileWriting += whileWriting ? 1 : 0;
        }
        writing.join();
        try (Epidemic epidemic = consumer(url, recorder).start()) {
            await().atMost(Duration.ofSeconds(60)).until(() -> workload.verify(List.copyOf(recorder.events)).isEmpty());
        }
        assertThat(restartsWhileWriting).isPositive();
        assertThat(workload.committedChanges()).isGreaterThan(2000);
        assertThat(recorder.rolledBack.get()).isZero();
        assertThat(workload.verify(List.copyOf(recorder.events))).isEmpty();
    }
}
