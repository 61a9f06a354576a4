package dev.epidemic.sink.redis;

import dev.epidemic.api.Change;
import dev.epidemic.api.Operation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code rediss://} against a redis-server that speaks only TLS, with a self-signed certificate for 127.0.0.1
 * made by the JDK's keytool: trusted through {@code tls-ca-file}, it writes; without it, the handshake fails
 * and the sink waits rather than falling back to plain text.
 */
@Timeout(120) // a sink that waited for good instead of refusing would otherwise hang the build
class RedisTlsTest {
    private static final Change INSERT = new Change(1, 1, "public.items", Operation.INSERT, Map.of("id", 1), null, Map.of("id", 1), Instant.now());

    @Test
    void writesOverTlsTrustingTheCaFileAndNotWithoutIt(@TempDir Path directory) throws Exception {
        Path certificate = directory.resolve("redis.crt");
        Path key = directory.resolve("redis.key");
        selfSigned(directory, certificate, key);
        try (RedisProcess redis = RedisProcess.startTls(certificate, key)) {
            String url = "rediss://127.0.0.1:" + redis.port();
            try (RedisSink sink = new RedisSink(RedisSink.Settings.of(url).withTlsCaFile(certificate.toString()), null)) {
                sink.handle(List.of(INSERT));
            }
            try (Jedis client = new Jedis(new HostAndPort("127.0.0.1", redis.port()), DefaultJedisClientConfig.builder()
                    .ssl(true).sslSocketFactory(TlsTrust.fromPem(certificate)).build())) {
                assertThat(client.xlen("epidemic:public.items")).isEqualTo(1);
            }

            // Without the CA the certificate is not trusted: the sink waits (and can be stopped), it never writes in clear
            try (RedisSink untrusting = new RedisSink(RedisSink.Settings.of(url).withTimeout("1s"), null)) {
                assertWaitsUntilInterrupted(untrusting);
            }
            // Nor is a certificate for 127.0.0.1 taken from a server called localhost: the host name is checked
            String byName = "rediss://localhost:" + redis.port();
            try (RedisSink otherName = new RedisSink(RedisSink.Settings.of(byName).withTlsCaFile(certificate.toString()).withTimeout("1s"), null)) {
                assertWaitsUntilInterrupted(otherName);
            }
            try (Jedis client = new Jedis(new HostAndPort("127.0.0.1", redis.port()), DefaultJedisClientConfig.builder()
                    .ssl(true).sslSocketFactory(TlsTrust.fromPem(certificate)).build())) {
                assertThat(client.xlen("epidemic:public.items")).isEqualTo(1);
            }
        }
    }

    private static void assertWaitsUntilInterrupted(RedisSink sink) throws InterruptedException {
        Thread writer = Thread.currentThread();
        Thread stopper = new Thread(() -> {
            sleep(1_000);
            writer.interrupt();
        });
        stopper.start();
        assertThatThrownBy(() -> sink.handle(List.of(INSERT))).isInstanceOf(InterruptedException.class);
        stopper.join();
        Thread.interrupted(); // in case the interrupt came after the sink gave up
    }

    @Test
    void aCaFileIsOnlyForRedissAndMustHoldACertificate(@TempDir Path directory) throws IOException {
        Path empty = Files.writeString(directory.resolve("empty.pem"), "");
        assertThat(RedisSink.problems(RedisSink.Settings.of("redis://127.0.0.1").withTlsCaFile(empty.toString())))
                .extracting(Object::toString).containsExactly("tls-ca-file: is for TLS only; write the url with rediss://");
        assertThat(RedisSink.problems(RedisSink.Settings.of("rediss://127.0.0.1").withTlsCaFile(empty.toString())))
                .extracting(Object::toString).singleElement().asString()
                .startsWith("tls-ca-file: cannot read certificates from " + empty + ": ");
    }

    /** A key pair and a self-signed certificate for 127.0.0.1, as PEM files, made with keytool alone. */
    private static void selfSigned(Path directory, Path certificate, Path key) throws Exception {
        Path store = directory.resolve("redis.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "redis", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(output).isZero();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            keys.load(in, "changeit".toCharArray());
        }
        Files.writeString(certificate, pem("CERTIFICATE", keys.getCertificate("redis").getEncoded()));
        Files.writeString(key, pem("PRIVATE KEY", keys.getKey("redis", "changeit".toCharArray()).getEncoded()));
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
