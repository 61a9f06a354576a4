package dev.epidemic.cli;

import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code epidemic run} with a {@code redis:} sink, against the Redis at 127.0.0.1:6379: a daemon killed with
 * {@code kill -9} mid-stream and started again delivers every change at least once, and a redelivered one is
 * recognisable by its change id; a wrong key is exit 2 with one line naming its path.
 */
class RedisDaemonTest {
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private String url;
    private String prefix;
    private Jedis redis;
    private final List<CliProcess> daemons = new CopyOnWriteArrayList<>();

    @BeforeEach
    void databaseAndStreamPrefix() {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, v text)");
        prefix = "epidemic-test-" + UUID.randomUUID() + ":";
        redis = new Jedis("127.0.0.1", 6379);
    }

    @AfterEach
    void killDaemonsAndDeleteStreams() {
        daemons.forEach(CliProcess::kill); // a failed test must not leave a daemon writing
        for (String key : redis.keys(prefix + "*")) {
            redis.del(key);
        }
        redis.close();
    }

    private Path config(String redisKeys) throws IOException {
        return Files.writeString(dir.resolve("daemon.yaml"), """
                database:
                  url: '%s'
                consumers:
                  - name: to-redis
                    batch-size: 50
                    tables:
                      - table: public.items
                        sink:
                          redis:
                %s""".formatted(url, redisKeys.indent(12)));
    }

    @Test
    void kill9MidStreamThenRestartDeliversEveryChangeAtLeastOnceAndRedeliveriesAreRecognisable() throws Exception {
        // Given a daemon writing items to a stream, its URL from the environment
        Path config = config("url: ${REDIS_URL}\nstream: '" + prefix + "{schema}.{table}'\ntimeout: 2s\n");
        Map<String, String> environment = Map.of("REDIS_URL", "redis://127.0.0.1:6379/0");
        String stream = prefix + "public.items";
        CliProcess daemon = started(CliProcess.start(environment, "run", "--config", config.toString()));
        daemon.awaitLog("Consumer to-redis started", START);

        List<Integer> inserted;
        try (RowInserter writer = new RowInserter(url)) {
            // When it is killed while changes flow, and started again
            await().atMost(START).until(() -> redis.xlen(stream) >= 200);
            daemon.kill();
            long beforeRestart = redis.xlen(stream);
            CliProcess restarted = started(CliProcess.start(environment, "run", "--config", config.toString()));
            restarted.awaitLog("Consumer to-redis started", START);
            await().atMost(START).until(() -> redis.xlen(stream) >= beforeRestart + 100);
            writer.close();
            inserted = writer.inserted;

            // Then every inserted row arrives, at least once, and in order per row
            await().atMost(START).until(() -> rows(stream).size() == inserted.size());
            restarted.terminate();
            assertThat(restarted.waitFor(Duration.ofSeconds(30))).as(restarted.err()).isZero();
        }
        List<StreamEntry> entries = redis.xrange(stream, (StreamEntryID) null, (StreamEntryID) null);
        assertThat(rows(stream)).isEqualTo(new HashSet<>(inserted));
        List<String> ids = entries.stream().map(e -> e.getFields().get("epidemic-change-id")).toList();
        Set<String> distinct = new HashSet<>(ids);
        System.out.printf("redis kill -9: %d rows, %d entries, %d redelivered%n", inserted.size(), ids.size(), ids.size() - distinct.size());
        // a redelivery repeats an entry byte for byte under the same change id
        Map<String, String> valueById = new java.util.HashMap<>();
        for (StreamEntry entry : entries) {
            String before = valueById.putIfAbsent(entry.getFields().get("epidemic-change-id"), entry.getFields().get("value"));
            assertThat(before == null || before.equals(entry.getFields().get("value"))).isTrue();
        }
        assertThat(distinct).hasSize(inserted.size());
    }

    @Test
    void wrongOrMissingRedisKeysAreExit2WithOneLineNamingTheKeyPath() throws Exception {
        assertThat(refused("strem: x\nurl: redis://127.0.0.1")).containsExactly(
                "consumers[0].tables[0].sink.redis.strem: unknown key; expected one of url, username, password, password-file, stream, maxlen, format, timeout, tls-ca-file");
        assertThat(refused("stream: x")).containsExactly(
                "consumers[0].tables[0].sink.redis.url: missing required key; write redis://HOST[:PORT][/DATABASE] or rediss:// for TLS");
        assertThat(refused("url: http://127.0.0.1\ntimeout: soon\nmaxlen: 0\nstream: '{db}:{table}'")).containsExactly(
                "consumers[0].tables[0].sink.redis.url: 'http://127.0.0.1' must start with redis:// or rediss:// (TLS), e.g. redis://127.0.0.1:6379",
                "consumers[0].tables[0].sink.redis.stream: '{db}' is not a placeholder; use {schema}, {table} and {op}",
                "consumers[0].tables[0].sink.redis.maxlen: must be at least 1, not 0; leave the key out to keep every entry",
                "consumers[0].tables[0].sink.redis.timeout: 'soon' is not a duration; write a number and a unit: ms, s, m or h (e.g. 500ms, 10s)");
        assertThat(refused("url: redis://127.0.0.1\npassword-file: " + dir.resolve("missing"))).containsExactly(
                "consumers[0].tables[0].sink.redis.password-file: cannot read " + dir.resolve("missing") + ": no such file");
        assertThat(refused("url: redis://127.0.0.1\npassword: ${NO_SUCH_VARIABLE_HERE}")).containsExactly(
                "consumers[0].tables[0].sink.redis.password: environment variable NO_SUCH_VARIABLE_HERE is not set");
        assertThat(refused("url: 'redis://u:pw-never-shown@127.0.0.1/x'")).containsExactly(
                "consumers[0].tables[0].sink.redis.url: 'redis://u:***@127.0.0.1/x' has the path '/x'; only a database number may follow the port, e.g. redis://HOST:6379/0");
    }

    @Test
    void aSinkWithBothStdoutAndRedisIsRefused() throws Exception {
        Path config = Files.writeString(dir.resolve("both.yaml"), """
                database:
                  url: '%s'
                consumers:
                  - name: both
                    tables:
                      - table: public.items
                        sink: {stdout: {}, redis: {url: 'redis://127.0.0.1'}}
                """.formatted(url));
        Cli.Result result = Cli.run("run", "--config", config.toString());
        assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
        assertThat(result.errLines()).containsExactly("epidemic: " + config + ": consumers[0].tables[0].sink: give exactly one of stdout, webhook, nats, rabbitmq and redis");
    }

    private CliProcess started(CliProcess daemon) {
        daemons.add(daemon);
        return daemon;
    }

    private List<String> refused(String redisKeys) throws IOException {
        Path config = config(redisKeys);
        Cli.Result result = Cli.run("run", "--config", config.toString());
        assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
        assertThat(result.err()).doesNotContain("Exception").doesNotContain("pw-never-shown");
        String start = "epidemic: " + config + ": ";
        assertThat(result.errLines()).allSatisfy(line -> assertThat(line).startsWith(start));
        return result.errLines().stream().map(line -> line.substring(start.length())).toList();
    }

    /** The rows (primary key id) that have an entry in the stream. */
    private Set<Integer> rows(String stream) {
        Set<Integer> rows = new HashSet<>();
        for (StreamEntry entry : redis.xrange(stream, (StreamEntryID) null, (StreamEntryID) null)) {
            String key = entry.getFields().get("key");
            rows.add(Integer.parseInt(key.replaceAll("\\D", "")));
        }
        return rows;
    }

}
