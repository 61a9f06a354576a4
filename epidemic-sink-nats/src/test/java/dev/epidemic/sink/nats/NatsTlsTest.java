package dev.epidemic.sink.nats;

import dev.epidemic.api.Change;
import dev.epidemic.api.Operation;
import dev.epidemic.format.ChangeFormat;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.StreamConfiguration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** TLS with the sink's trust store, against a nats-server of the test's own with a certificate made here. */
@Timeout(120)
class NatsTlsTest {
    @TempDir
    Path dir;

    private void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("tools.log").toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0).as(String.join(" ", command)).isTrue();
    }

    @Test
    void publishesOverTlsTrustingTheServerThroughTheTrustStore() throws Exception {
        Assumptions.assumeTrue(NatsServerProcess.available() && new File("/usr/bin/openssl").canExecute(), "needs nats-server and openssl");
        // Given a server certificate for 127.0.0.1, the server requiring TLS, and a trust store holding the certificate
        Path cert = dir.resolve("server.pem");
        Path key = dir.resolve("server.key");
        run("/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.toString(), "-out", cert.toString());
        Path truststore = dir.resolve("trust.p12");
        run(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-importcert", "-noprompt", "-alias", "nats",
                "-file", cert.toString(), "-keystore", truststore.toString(), "-storetype", "PKCS12", "-storepass", "trust-pw");
        try (NatsServerProcess server = new NatsServerProcess(dir, "tls { cert_file: \"" + cert + "\", key_file: \"" + key + "\" }\n")) {
            server.start();
            String url = server.url().replace("nats://", "tls://");
            NatsSink.Settings settings = new NatsSink.Settings(url, null, "secure.{table}", "SECURE", true, null, "2s", null,
                    null, null, null, null, new NatsSink.Settings.Tls(truststore.toString(), "trust-pw", null, null));
            // When a batch is published
            try (NatsSink sink = new NatsSink(settings, ChangeFormat.named("epidemic", null))) {
                sink.handle(List.of(new Change(1, 1, "public.orders", Operation.INSERT, Map.of("id", 1), null, Map.of("id", 1), Instant.now())));
            }
            // Then the stream holds it
            Options options = new Options.Builder().server(url).truststorePath(truststore.toString())
                    .truststorePassword("trust-pw".toCharArray()).build();
            try (Connection check = Nats.connect(options)) {
                assertThat(check.jetStreamManagement().getStreamInfo("SECURE").getStreamState().getMsgCount()).isEqualTo(1);
            }
        }
    }
}
