package dev.epidemic.sink.redis;

import dev.epidemic.api.Change;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.Operation;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The settings checked before anything connects, and the stream key template; no server needed. */
class RedisSinkSettingsTest {

    @Test
    void everyWrongKeyIsNamedWithWhatToChange() {
        RedisSink.Settings settings = new RedisSink.Settings("redis://:pw-1234@", " ", "pw", "/some/file", "", 0L, "avro", "0s", null);

        assertThat(RedisSink.problems(settings)).extracting(Object::toString).containsExactly(
                "url: 'redis://:***@' has no host; write redis://HOST[:PORT][/DATABASE]",
                "username: is empty; name the ACL user, or leave the key out",
                "password-file: cannot be given with password; give one of them",
                "stream: is empty; give a stream key such as epidemic:{schema}.{table}, or leave the key out for that default",
                "maxlen: must be at least 1, not 0; leave the key out to keep every entry",
                "format: must be one of epidemic, debezium, cloudevents, not 'avro'",
                "timeout: must be more than 0");
        assertThatThrownBy(() -> new RedisSink(settings, null)).isInstanceOf(InvalidInputException.class)
                .hasMessage("redis sink: url: 'redis://:***@' has no host; write redis://HOST[:PORT][/DATABASE]");
    }

    @Test
    void aGoodUrlHasNoProblemAndItsPasswordIsMaskedInToString() {
        RedisSink.Settings settings = RedisSink.Settings.of("rediss://app:p%40ss-word@cache.internal:6380/3").withCredentials(null, "other-secret");

        assertThat(RedisSink.problems(settings)).isEmpty();
        assertThat(settings.toString()).contains("url=rediss://app:***@cache.internal:6380/3").contains("password=***")
                .doesNotContain("p%40ss-word").doesNotContain("other-secret");
        RedisAddress address = RedisAddress.parse(settings.url());
        assertThat(address).extracting(RedisAddress::host, RedisAddress::port, RedisAddress::database, RedisAddress::tls,
                RedisAddress::user, RedisAddress::password).containsExactly("cache.internal", 6380, 3, true, "app", "p@ss-word");
        assertThat(address.toString()).isEqualTo("cache.internal:6380");
    }

    @Test
    void streamKeysFollowTheTemplate() {
        Change delete = new Change(1, 1, "sales.order_lines", Operation.DELETE, Map.of("id", 1), Map.of("id", 1), null, Instant.now());

        assertThat(StreamKeyTemplate.of(StreamKeyTemplate.DEFAULT).keyFor(delete)).isEqualTo("epidemic:sales.order_lines");
        assertThat(StreamKeyTemplate.of("cdc:{table}:{op}:{schema}").keyFor(delete)).isEqualTo("cdc:order_lines:delete:sales");
        assertThat(StreamKeyTemplate.problem("x:{tabel}")).isEqualTo("'{tabel}' is not a placeholder; use {schema}, {table} and {op}");
    }
}
