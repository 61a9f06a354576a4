package dev.epidemic.sink.nats;

import dev.epidemic.api.Change;
import dev.epidemic.api.Operation;
import dev.epidemic.api.RejectedChangeException;
import dev.epidemic.format.ChangeFormat;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.StreamConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A nats-server of the test's own with users: the sink authenticates with user and password or a token,
 * and a wrong password or a subject the user may not publish to is refused for good, not waited on.
 */
@Timeout(120)
class NatsAuthTest {
    private static final String CONFIG = """
            accounts {
              APP {
                jetstream: enabled
                users: [
                  {user: epidemic, password: "pw-%1$s",
                   permissions: {publish: {allow: ["orders.>", "$JS.API.>"]}, subscribe: {allow: ["_INBOX.>"]}}}
                  {user: admin, password: "admin-%1$s"}
                ]
              }
            }
            """;

    @TempDir
    Path store;

    NatsServerProcess server;
    String secret;

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(NatsServerProcess.available(), "nats-server is not installed at /usr/sbin/nats-server");
        secret = JetStreams.uniqueName();
        server = new NatsServerProcess(store, CONFIG.formatted(secret));
        server.start();
        try (Connection admin = Nats.connect(new Options.Builder().server(server.url()).userInfo("admin", "admin-" + secret).build())) {
            admin.jetStreamManagement().addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>", "audit.>").build());
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static Change change(long id) {
        return new Change(id, id, "public.orders", Operation.INSERT, Map.of("id", 1), null, Map.of("id", 1), Instant.now());
    }

    private NatsSink sink(String subject, String password) {
        NatsSink.Settings settings = NatsSink.Settings.forUrl(server.url()).withSubject(subject).withStream("ORDERS")
                .withUser("epidemic", password).withPublishTimeout("1s");
        return new NatsSink(settings, ChangeFormat.named("epidemic", null));
    }

    @Test
    void publishesWithUserAndPassword() throws Exception {
        try (NatsSink sink = sink("orders.{op}", "pw-" + secret)) {
            sink.handle(List.of(change(1), change(2)));
        }
        try (Connection admin = Nats.connect(new Options.Builder().server(server.url()).userInfo("admin", "admin-" + secret).build())) {
            assertThat(admin.jetStreamManagement().getStreamInfo("ORDERS").getStreamState().getMsgCount()).isEqualTo(2);
        }
    }

    @Test
    void aWrongPasswordIsRefusedWithoutShowingIt() {
        try (NatsSink sink = sink("orders.{op}", "wrong-" + secret)) {
            assertThatThrownBy(() -> sink.handle(List.of(change(1))))
                    .isInstanceOf(RejectedChangeException.class)
                    .hasMessageContaining("refused change 1 of public.orders")
                    .hasMessageContaining("not authorised")
                    .hasMessageNotContaining("wrong-" + secret);
        }
    }

    @Test
    void aSubjectTheUserMayNotPublishToIsRefused() {
        try (NatsSink sink = sink("audit.{op}", "pw-" + secret)) {
            assertThatThrownBy(() -> sink.handle(List.of(change(1))))
                    .isInstanceOf(RejectedChangeException.class)
                    .hasMessageContaining("not authorised to publish to audit.insert");
        }
    }
}
