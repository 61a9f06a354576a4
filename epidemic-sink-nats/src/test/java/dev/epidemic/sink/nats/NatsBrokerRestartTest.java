package dev.epidemic.sink.nats;

import dev.epidemic.api.Change;
import dev.epidemic.api.Operation;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.testing.CapturedErr;
import io.nats.client.api.MessageInfo;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A NATS server of the test's own (nats-server -js on a free port) that is down when the sink starts and is
 * killed in the middle of a batch: the sink waits, says so in the log, and in the end the stream holds every
 * change once, each row's changes in order.
 */
@Timeout(180)
class NatsBrokerRestartTest {
    private static final int ROWS = 50;

    @TempDir
    Path store;

    private static List<Change> changes(long firstId, int count) {
        List<Change> changes = new ArrayList<>();
        for (long id = firstId; id < firstId + count; id++) {
            int row = (int) (id % ROWS);
            Map<String, Object> values = Map.of("id", row, "version", id);
            changes.add(new Change(id, id, "public.accounts", Operation.UPDATE, Map.of("id", row), values, values, Instant.now()));
        }
        return changes;
    }

    @Test
    void waitsForAServerThatIsDownOrRestartsAndLosesNothing() throws Exception {
        Assumptions.assumeTrue(NatsServerProcess.available(), "nats-server is not installed at /usr/sbin/nats-server");
        String stream = JetStreams.uniqueName();
        try (NatsServerProcess server = new NatsServerProcess(store); CapturedErr log = new CapturedErr()) {
            NatsSink.Settings settings = NatsSink.Settings.forUrl(server.url()).withSubject(stream.toLowerCase() + ".{table}")
                    .withStream(stream).withCreateStream(true).withPublishTimeout("1s").withMaxInFlight(1_000);
            try (NatsSink sink = new NatsSink(settings, ChangeFormat.named("epidemic", null))) {
                // Given a server that is down when the first batch comes
                CompletableFuture<Void> first = handleInBackground(sink, changes(1, 100));
                await().atMost(Duration.ofSeconds(10)).until(() -> log.text().contains("waiting"));
                assertThat(first).isNotDone();
                assertThat(log.text()).contains("not acknowledged by " + server.url()).contains("WARN");
                // When it starts, the batch is published
                server.start();
                first.get(30, TimeUnit.SECONDS);

                // Given large batches, and the server killed (-9) while each is being published (twice: the
                // order a reconnect can break depends on where the kill falls)
                for (int round = 0; round < 2; round++) {
                    long firstId = 101 + round * 20_000L;
                    CompletableFuture<Void> batch = handleInBackground(sink, changes(firstId, 20_000));
                    try (JetStreams streams = new JetStreams(server.url())) {
                        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                                .until(() -> streams.count(stream) > firstId + 1_000);
                    }
                    server.kill();
                    int warningsBefore = warnings(log.text());
                    await().atMost(Duration.ofSeconds(15)).until(() -> warnings(log.text()) > warningsBefore);
                    assertThat(batch).isNotDone();
                    // When it comes back on the same port and store
                    server.start();
                    batch.get(60, TimeUnit.SECONDS);
                }
            }
            // Then every change is in the stream once, and each row's changes are in order
            try (JetStreams streams = new JetStreams(server.url())) {
                List<MessageInfo> messages = streams.messages(stream);
                List<Long> ids = messages.stream().map(m -> Long.parseLong(m.getHeaders().getFirst("epidemic-change-id"))).toList();
                assertThat(ids).doesNotHaveDuplicates().hasSize(40_100);
                Map<Long, Long> lastOfRow = new HashMap<>();
                for (long id : ids) {
                    Long before = lastOfRow.put(id % ROWS, id);
                    assertThat(before == null || before < id).as("change %d after %d of the same row", id, before).isTrue();
                }
                streams.deleteAtEnd(stream);
            }
        }
    }

    private static int warnings(String log) {
        return (int) log.lines().filter(line -> line.contains("WARN") && line.contains("waiting")).count();
    }

    private static CompletableFuture<Void> handleInBackground(NatsSink sink, List<Change> batch) {
        return CompletableFuture.runAsync(() -> {
            try {
                sink.handle(batch);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
