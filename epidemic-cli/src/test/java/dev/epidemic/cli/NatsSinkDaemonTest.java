package dev.epidemic.cli;

import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StreamConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code epidemic run} with a {@code nats} sink against the machine's NATS server (127.0.0.1:4222): a daemon
 * killed with -9 mid-stream and started again loses nothing, and what the stream holds is what
 * {@code epidemic tail} prints; a wrong key is exit 2 with one line naming it.
 */
class NatsSinkDaemonTest {
    private static final String NATS = "nats://127.0.0.1:4222";
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    Connection nats;
    JetStreamManagement streams;
    String stream;

    @BeforeEach
    void stream() throws Exception {
        nats = Nats.connect(NATS);
        streams = nats.jetStreamManagement();
        stream = "T" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toUpperCase();
        streams.addStream(StreamConfiguration.builder().name(stream).subjects(stream.toLowerCase() + ".>").build());
    }

    @AfterEach
    void deleteStream() throws Exception {
        try {
            streams.deleteStream(stream);
        } finally {
            nats.close();
        }
    }

    private List<MessageInfo> messages() throws IOException, JetStreamApiException {
        long last = streams.getStreamInfo(stream).getStreamState().getLastSequence();
        List<MessageInfo> messages = new ArrayList<>();
        for (long seq = 1; seq <= last; seq++) {
            messages.add(streams.getMessage(stream, seq));
        }
        return messages;
    }

    private long count() throws IOException, JetStreamApiException {
        return streams.getStreamInfo(stream).getStreamState().getMsgCount();
    }

    private Path config(String url, String natsKeys) throws IOException {
        return Files.writeString(dir.resolve("daemon.yaml"), """
                database: {url: '%s'}
                consumers:
                  - name: to-nats
                    batch-size: 50
                    tables:
                      - table: public.items
                        sink:
                          nats: {%s}
                        on-failure: stop
                """.formatted(url, natsKeys));
    }

    /** Inserts a row and updates the one before in each transaction, until closed; counts the transactions. */
    private static final class Writer implements AutoCloseable {
        final AtomicInteger committed = new AtomicInteger();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        Writer(String url) {
            thread = new Thread(() -> {
                try (java.sql.Connection c = DriverManager.getConnection(url);
                     PreparedStatement insert = c.prepareStatement("INSERT INTO items VALUES (?, 0)");
                     PreparedStatement update = c.prepareStatement("UPDATE items SET v = v + 1 WHERE id = ?")) {
                    c.setAutoCommit(false);
                    for (int id = 1; !stop.get(); id++) {
                        insert.setInt(1, id);
                        insert.executeUpdate();
                        update.setInt(1, id - 1);
                        update.executeUpdate();
                        c.commit();
                        committed.set(id);
                        Thread.sleep(3);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "writer");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join();
        }
    }

    @Test
    void aDaemonKilledMidStreamAndRestartedDeliversEveryChangeAsTailPrintsIt() throws Exception {
        // Given a daemon publishing a table's changes to a stream
        String url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, v int)");
        Path config = config(url, "url: '" + NATS + "', subject: '" + stream.toLowerCase() + ".{table}.{op}', stream: " + stream);
        // and first changes that an earlier daemon published but died before storing its position: they are in
        // the stream already, with their change ids as Nats-Msg-Id, and will be published again
        assertThat(Cli.run("--url", url, "watch", "items").exitCode()).isZero();
        Sql.exec(url, "INSERT INTO items VALUES (-1, 0)", "INSERT INTO items VALUES (-2, 0)", "UPDATE items SET v = 1 WHERE id = -1");
        Cli.Result earlier = Cli.run("--url", url, "tail", "--consumer", "earlier-daemon", "--idle-exit", "1");
        assertThat(earlier.outLines()).hasSize(3);
        for (String line : earlier.outLines()) {
            String id = line.replaceAll("^\\{\"id\":(\\d+),.*", "$1");
            String op = line.contains("\"op\":\"UPDATE\"") ? "update" : "insert";
            io.nats.client.impl.Headers headers = new io.nats.client.impl.Headers().put("epidemic-change-id", id).put("epidemic-op", op);
            nats.jetStream().publish(io.nats.client.impl.NatsMessage.builder().subject(stream.toLowerCase() + ".items." + op).headers(headers)
                    .data(line.getBytes(StandardCharsets.UTF_8)).build(), io.nats.client.PublishOptions.builder().messageId(id).build());
        }
        CliProcess daemon = CliProcess.start("run", "--config", config.toString());
        daemon.awaitLog("Consumer to-nats started", START);

        int transactions;
        try (Writer writer = new Writer(url)) {
            // When it is killed (-9) while changes flow, and started again
            await().atMost(START).until(() -> count() >= 200);
            daemon.kill();
            await().atMost(START).until(() -> writer.committed.get() >= 300);
            daemon = CliProcess.start("run", "--config", config.toString());
            daemon.awaitLog("Consumer to-nats started", START);
            await().atMost(START).until(() -> writer.committed.get() >= 500);
        }
        try {
            // Then every change arrives (an insert per transaction and an update for all but the first)
            transactions = Integer.parseInt(Sql.rows(url, "SELECT count(*) FROM items WHERE id > 0").get(0));
            int changes = 2 * transactions - 1 + 3;
            await().atMost(START).until(() -> distinctIds(messages()).size() >= changes);
        } finally {
            daemon.terminate();
            daemon.waitFor(Duration.ofSeconds(30));
        }
        List<MessageInfo> messages = messages();
        assertThat(distinctIds(messages)).hasSize(2 * transactions - 1 + 3);
        assertThat(messages).as("what was published again was dropped by Nats-Msg-Id").hasSize(2 * transactions - 1 + 3);

        // each row's insert before its update
        Map<String, String> firstOpOfRow = new HashMap<>();
        for (MessageInfo message : messages) {
            String body = new String(message.getData(), StandardCharsets.UTF_8);
            String row = body.replaceAll(".*\"key\":\\{\"id\":(-?\\d+)}.*", "$1");
            firstOpOfRow.putIfAbsent(row, message.getHeaders().getFirst("epidemic-op"));
        }
        assertThat(firstOpOfRow.values()).containsOnly("insert");

        // and the stream holds what epidemic tail prints for the same changes
        Cli.Result tail = Cli.run("--url", url, "tail", "--consumer", "check", "--idle-exit", "2");
        assertThat(tail.exitCode()).as(tail.err()).isZero();
        Set<String> published = new LinkedHashSet<>();
        messages.forEach(m -> published.add(new String(m.getData(), StandardCharsets.UTF_8)));
        assertThat(published).containsExactlyInAnyOrderElementsOf(tail.outLines());
    }

    private static Set<String> distinctIds(List<MessageInfo> messages) {
        Set<String> ids = new LinkedHashSet<>();
        messages.forEach(m -> ids.add(m.getHeaders().getFirst("epidemic-change-id")));
        return ids;
    }

    @Test
    void aWrongOrMissingNatsKeyIsExit2WithOneLineNamingIt() throws IOException {
        String url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, v int)");
        String prefix = "epidemic: " + dir.resolve("daemon.yaml") + ": consumers[0].tables[0].sink.nats.";

        Cli.Result unknown = Cli.run("run", "--config", config(url, "url: '" + NATS + "', subjet: x").toString());
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.errLines()).containsExactly(prefix + "subjet: unknown key; expected one of url, urls, subject, stream,"
                + " create-stream, format, publish-timeout, max-in-flight, user, password, token, credentials, tls");

        Cli.Result missing = Cli.run("run", "--config", config(url, "stream: " + stream).toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.errLines()).containsExactly(prefix + "url: missing required key: the NATS server, e.g. nats://127.0.0.1:4222");

        Cli.Result wrong = Cli.run("run", "--config", config(url, "url: 'http://x', subject: 'a.{tabel}', publish-timeout: soon,"
                + " password: hunter2-secret, tls: {truststore: /nonexistent/ts.jks}").toString());
        assertThat(wrong.exitCode()).isEqualTo(2);
        assertThat(wrong.errLines()).containsExactly(
                prefix + "url: 'http://x' is not a NATS URL; expected nats://HOST:PORT or tls://HOST:PORT",
                prefix + "subject: 'a.{tabel}' has the unknown placeholder {tabel}; use {schema}, {table} and {op}",
                prefix + "publish-timeout: 'soon' is not a duration; write a number and a unit: ms, s, m or h (e.g. 200ms, 5s, 1m)",
                prefix + "password: needs user",
                prefix + "tls.truststore: cannot read the file /nonexistent/ts.jks");
        assertThat(wrong.err()).doesNotContain("hunter2-secret");
    }
}
