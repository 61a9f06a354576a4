package dev.epidemic;

import dev.epidemic.ConcurrencyTest.Recorder;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestDatabase;
import dev.epidemic.testing.Workload;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * PostgreSQL: the dispatcher's backends (listener, reader, committer) are terminated again and again
 * while four writers write; it recovers by itself and nothing is lost, nothing rolled back delivered.
 */
class TerminatedConnectionsTest {
    private Target db;

    private String setUp() {
        db = TestDatabase.get().create();
        db.exec(Workload.createTable());
        db.admin().watch("items", List.of(), List.of());
        return db.url();
    }

    private Epidemic consumer(Recorder recorder) {
        return db.engine().consumer("restarted").batchSize(50)
                .handle("items", List.of(), ChangeHandler.forEveryChange(recorder)).build();
    }

    @Test
    void recoversByItselfWhenItsConnectionsAreTerminated() throws Exception {
        String url = setUp();
        Recorder recorder = new Recorder();
        Workload workload = new Workload(url);
        AtomicBoolean done = new AtomicBoolean();
        int terminated = 0;
        try (Epidemic epidemic = consumer(recorder).start()) {
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                try {
                    workload.run(4, 400);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    done.set(true);
                }
            });
            while (!done.get()) {
                Thread.sleep(300);
                // The listener, the reader and the committer of the dispatcher all go, mid-stream.
                terminated += (int) Sql.queryLong(url, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE application_name = 'epidemic' AND datname = current_database() AND pid <> pg_backend_pid()) x");
            }
            writing.join();
            await().atMost(Duration.ofSeconds(60)).until(() -> workload.verify(List.copyOf(recorder.events)).isEmpty());
        }
        assertThat(terminated).isGreaterThanOrEqualTo(3);
        assertThat(recorder.rolledBack.get()).isZero();
        assertThat(workload.verify(List.copyOf(recorder.events))).isEmpty();
    }
}
