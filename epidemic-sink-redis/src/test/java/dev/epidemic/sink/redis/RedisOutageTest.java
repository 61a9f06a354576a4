package dev.epidemic.sink.redis;

import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.engine.Databases;
import dev.epidemic.testing.CapturedErr;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

import javax.sql.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A Redis of the test's own (redis-server on a free port, append-only file synced on every write) that goes away
 * and comes back, and one that wants a password.
 */
@Timeout(120) // a sink that waited for good instead of refusing would otherwise hang the build
class RedisOutageTest {

    @Test
    void redisDownThenBackLosesNothingAndTheSinkSaysWhatItWaitsFor() throws Exception {
        String url = TestDatabase.get().createDatabase();
        DataSource dataSource = Databases.fromUrl(url, null, null);
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, qty int)");
        // A policy that would dead-letter at once: only the sink's own waiting can keep the changes
        FailurePolicy noPatience = FailurePolicy.deadLetterAfter(1);
        try (RedisProcess redis = RedisProcess.start();
             CapturedErr log = new CapturedErr();
             RedisSink sink = new RedisSink(RedisSink.Settings.of(redis.url()).withTimeout("1s"), dataSource);
             Epidemic consumer = Epidemic.builder(dataSource).consumer("outage").batchSize(10)
                     .handleBatches("public.items", List.of(), sink, noPatience).build().start()) {
            // Given changes that reached Redis
            for (int i = 1; i <= 50; i++) {
                Sql.exec(url, "INSERT INTO items VALUES (" + i + ", 0)");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> length(redis) == 50);

            // When Redis dies, changes come meanwhile, and Redis comes back a few seconds later
            redis.kill();
            for (int i = 51; i <= 100; i++) {
                Sql.exec(url, "INSERT INTO items VALUES (" + i + ", 0)", "UPDATE items SET qty = 1 WHERE id = " + i);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> log.text().contains("(attempt 3)")); // a few attempts while it is down
            redis.startAgain();

            // Then every change is in the stream, in order, none became a dead letter, and the log said what it waited for
            await().atMost(Duration.ofSeconds(60)).until(() -> length(redis) >= 150);
            List<Long> ids;
            try (Jedis client = redis.client()) {
                ids = client.xrange("epidemic:public.items", (StreamEntryID) null, (StreamEntryID) null).stream()
                        .map(StreamEntry::getFields).map(f -> Long.parseLong(f.get("epidemic-change-id"))).toList();
            }
            assertThat(ids.stream().distinct().sorted().toList()).as("every change, at least once")
                    .isEqualTo(IntStream.rangeClosed(1, 150).mapToObj(Long::valueOf).toList());
            assertThat(ids).as("in order").isSorted();
            assertThat(EpidemicAdmin.create(dataSource, "epidemic").deadLetters("outage")).isEmpty();
            assertThat(log.text()).contains("WARN dev.epidemic.sink.redis.RedisSink - Redis 127.0.0.1:" + redis.port() + " cannot take")
                    .contains("waiting 100 ms for it to answer (attempt 1)")
                    .contains("waiting 200 ms for it to answer (attempt 2)")
                    .contains("INFO dev.epidemic.sink.redis.RedisSink - Redis 127.0.0.1:" + redis.port() + " answers again");
        }
    }

    @Test
    void authenticatesAsAnAclUserWithAPasswordFileAndNeverShowsThePassword(@TempDir Path directory) throws Exception {
        Path passwordFile = directory.resolve("redis-password");
        Files.writeString(passwordFile, "s3cret-for-epidemic\n");
        try (RedisProcess redis = RedisProcess.start("--requirepass", "admin-pass-1234")) {
            try (Jedis admin = redis.client()) {
                admin.auth("admin-pass-1234");
                admin.aclSetUser("writer", "on", ">s3cret-for-epidemic", "~epidemic:*", "+xadd", "+ping");
            }
            RedisSink.Settings settings = new RedisSink.Settings(redis.url(), "writer", null, passwordFile.toString(), null, null, null, null, null);
            try (RedisSink sink = new RedisSink(settings, null)) {
                sink.handle(List.of(new dev.epidemic.api.Change(1, 1, "public.items", dev.epidemic.api.Operation.INSERT,
                        java.util.Map.of("id", 1), null, java.util.Map.of("id", 1), java.time.Instant.now())));
            }
            try (Jedis admin = redis.client()) {
                admin.auth("admin-pass-1234");
                assertThat(admin.xlen("epidemic:public.items")).isEqualTo(1);
            }
            RedisSink.Settings inline = RedisSink.Settings.of("redis://writer:s3cret-for-epidemic@127.0.0.1:" + redis.port())
                    .withCredentials(null, "another-s3cret");
            assertThat(inline.toString()).doesNotContain("s3cret").contains("writer:***@").contains("password=***");

            // A user that may not write the stream is refused for good, not waited for
            RedisSink.Settings readOnly = settings.withStream("other:{table}");
            try (RedisSink sink = new RedisSink(readOnly, null)) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> sink.handle(List.of(new dev.epidemic.api.Change(2, 1, "public.items",
                                dev.epidemic.api.Operation.INSERT, java.util.Map.of("id", 2), null, java.util.Map.of("id", 2), java.time.Instant.now()))))
                        .isInstanceOf(RedisRefusedException.class).hasMessageContaining("NOPERM").hasMessageContaining("change 2 of public.items")
                        .hasMessageNotContaining("s3cret");
            }
            // So is a wrong password: no amount of waiting makes it right
            try (RedisSink sink = new RedisSink(RedisSink.Settings.of(redis.url()).withCredentials("writer", "wrong-password-5678"), null)) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> sink.handle(List.of(new dev.epidemic.api.Change(3, 1, "public.items",
                                dev.epidemic.api.Operation.INSERT, java.util.Map.of("id", 3), null, java.util.Map.of("id", 3), java.time.Instant.now()))))
                        .isInstanceOf(RedisRefusedException.class).hasMessageContaining("WRONGPASS")
                        .hasMessageNotContaining("wrong-password-5678");
            }
        }
    }

    private static long length(RedisProcess redis) {
        try (Jedis client = redis.client()) {
            return client.xlen("epidemic:public.items");
        } catch (RuntimeException down) {
            return -1;
        }
    }
}
