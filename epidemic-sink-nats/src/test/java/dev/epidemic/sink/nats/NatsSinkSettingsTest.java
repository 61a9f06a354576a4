package dev.epidemic.sink.nats;

import dev.epidemic.api.Change;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.Operation;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.sink.nats.internal.SubjectTemplate;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The sink's settings checked without a server: each problem names its key, and secrets never show. */
class NatsSinkSettingsTest {
    private static final NatsSink.Settings GOOD = NatsSink.Settings.forUrl("nats://127.0.0.1:4222");

    @Test
    void defaultsAreUsable() {
        assertThat(GOOD.problems()).isEmpty();
        assertThat(GOOD.withStream("ORDERS").withCreateStream(true).withFormat("debezium").withPublishTimeout("250ms").problems()).isEmpty();
        assertThat(new NatsSink.Settings(null, List.of("127.0.0.1:4222", "tls://nats.example:4443"), null, null, null, null,
                null, null, null, null, null, null, null).problems()).isEmpty();
    }

    @Test
    void eachProblemNamesItsKey() {
        NatsSink.Settings bad = new NatsSink.Settings(null, null, "a..{op}", "OR.DERS", null, "avro", "0s", 0,
                null, "pw", "tok", null, new NatsSink.Settings.Tls(null, null, "/nonexistent.p12", null));
        assertThat(bad.problems()).extracting(NatsSink.Settings.Problem::key).containsExactly(
                "url", "subject", "stream", "format", "publish-timeout", "max-in-flight", "password", "tls.keystore");
        assertThat(GOOD.withCreateStream(true).problems()).extracting(Object::toString)
                .containsExactly("create-stream: needs stream: name the stream to create");
        assertThat(GOOD.withSubject("x.{op}.*").problems()).extracting(Object::toString)
                .containsExactly("subject: 'x.{op}.*' has the wildcard *; a message is published to one subject");
        assertThat(GOOD.withUser("u", "p").withSubject(null).problems()).isEmpty();
        assertThat(new NatsSink.Settings("nats://a:4222", List.of("nats://b:4222"), null, null, null, null, null, null,
                null, null, null, null, null).problems()).extracting(Object::toString).containsExactly("urls: give url or urls, not both");
    }

    @Test
    void theConstructorRefusesBadSettingsNamingTheKey() {
        assertThatThrownBy(() -> new NatsSink(GOOD.withMaxInFlight(0), ChangeFormat.named("epidemic", null)))
                .isInstanceOf(InvalidInputException.class).hasMessage("NATS sink max-in-flight: must be at least 1, not 0");
    }

    @Test
    void toStringMasksPasswordsAndTokens() {
        NatsSink.Settings secret = new NatsSink.Settings("nats://joe:url-secret@127.0.0.1:4222", null, null, null, null, null, null, null,
                "joe", "pw-secret", null, null, new NatsSink.Settings.Tls("/ts.p12", "ts-secret", "/ks.p12", "ks-secret"));
        assertThat(secret.toString()).doesNotContain("secret").contains("password=***", "truststore-password=***");
        assertThat(new NatsSink(GOOD.withUser("joe", "pw-secret"), ChangeFormat.named("epidemic", null)).toString()).doesNotContain("pw-secret");
    }

    @Test
    void subjectsAreFilledPerChangeAndStayOneTokenPerName() {
        SubjectTemplate template = SubjectTemplate.of(NatsSink.DEFAULT_SUBJECT);
        Change change = new Change(1, 2, "sales.order lines", Operation.DELETE, Map.of("id", 1), Map.of("id", 1), null, Instant.now());
        assertThat(template.subjectOf(change)).isEqualTo("epidemic.sales.order_lines.delete");
        assertThat(template.wildcard()).isEqualTo("epidemic.*.*.*");
        assertThat(SubjectTemplate.matches("epidemic.>", "epidemic.sales.x.delete")).isTrue();
        assertThat(SubjectTemplate.matches("epidemic.*.*.insert", "epidemic.sales.x.delete")).isFalse();
        assertThat(SubjectTemplate.matches("epidemic.*", "epidemic.sales.x")).isFalse();
    }
}
