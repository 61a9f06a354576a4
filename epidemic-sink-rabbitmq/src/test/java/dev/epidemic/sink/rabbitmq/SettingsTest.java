package dev.epidemic.sink.rabbitmq;

import dev.epidemic.api.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link RabbitMqSink.Settings} are checked once, every problem named by its key, and never show a secret. */
class SettingsTest {
    private static RabbitMqSink.Settings settings(String uri, String host, Integer port, String password, String passwordFile,
                                                  String exchange, Boolean declare, String type, String routingKey, String format,
                                                  String confirmTimeout) {
        return new RabbitMqSink.Settings(uri, host, port, null, null, password, passwordFile, exchange, declare, type, routingKey,
                null, null, format, confirmTimeout, null, null);
    }

    @Test
    void rightSettingsHaveNoProblems() {
        assertThat(RabbitMqSink.Settings.of("amqp://guest:guest@127.0.0.1:5672/%2F", "orders").problems()).isEmpty();
        assertThat(settings(null, "rabbit", 5672, "pw", null, "", null, null, "{table}", "debezium", "5s").problems()).isEmpty();
    }

    @Test
    void everyProblemIsNamedByItsKey() {
        assertThat(settings("http://x", "rabbit", 70_000, "pw", "/nope/pw", null, false, "mesh", "{schema}.{row}", "avro", "5 sec").problems())
                .containsExactly(
                        "uri: give either uri or host, port and virtual-host, not both",
                        "uri: 'http://x' is not an amqp:// or amqps:// URI",
                        "port: must be between 1 and 65535, not 70000",
                        "password-file: give either password or password-file, not both",
                        "exchange: missing required key (\"\" is the default exchange, which routes by queue name)",
                        "exchange-type: only applies with declare-exchange: true; the sink declares no exchange otherwise",
                        "routing-key: unknown placeholder {row} in '{schema}.{row}'; use {schema}, {table} and {op}",
                        "format: must be one of epidemic, debezium, cloudevents, not 'avro'",
                        "confirm-timeout: '5 sec' is not a duration; write a number and a unit: ms, s, m or h (e.g. 200ms, 5s, 1m)");
        assertThatThrownBy(() -> settings(null, null, null, null, null, null, null, null, null, null, null).validate())
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("rabbitmq.exchange: missing required key");
    }

    @Test
    void aPasswordFileIsReadWithoutItsFinalNewlineAndAMissingOneIsNamed(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("pw"), "s3cret-pass\n");
        assertThat(SettingsCheck.passwordFromFile(file.toString())).isEqualTo("s3cret-pass");
        assertThat(settings(null, null, null, null, file.toString(), "x", null, null, null, null, null).secrets()).containsExactly("s3cret-pass");
        assertThat(settings(null, null, null, null, dir.resolve("none").toString(), "x", null, null, null, null, null).problems())
                .containsExactly("password-file: cannot read " + dir.resolve("none") + ": no such file");
    }

    @Test
    void toStringMasksThePasswordsAndTheUrisPassword() {
        RabbitMqSink.Settings s = RabbitMqSink.Settings.of("amqp://app:uri-secret@rabbit/prod", "orders").withPassword("other-secret");
        assertThat(s.toString()).contains("amqp://app:***@rabbit/prod", "password=***").doesNotContain("uri-secret", "other-secret");
        assertThat(s.secrets()).containsExactly("other-secret", "uri-secret");
        RabbitMqSink.Tls tls = new RabbitMqSink.Tls(true, "/ca.p12", "store-secret", null, null, null);
        assertThat(tls.toString()).doesNotContain("store-secret");
    }
}
