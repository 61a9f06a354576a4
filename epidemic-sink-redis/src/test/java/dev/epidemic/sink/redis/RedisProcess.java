package dev.epidemic.sink.redis;

import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A redis-server of a test's own, on a free port of 127.0.0.1, that the test may kill and start again: it
 * keeps its data in an append-only file synced on every write, so that a stream outlives a {@code kill -9}.
 */
final class RedisProcess implements AutoCloseable {
    private static final String SERVER = "/usr/bin/redis-server";

    private final int port;
    private final Path directory;
    private final List<String> extra;
    private Process process;

    private RedisProcess(int port, Path directory, List<String> extra) {
        this.port = port;
        this.directory = directory;
        this.extra = extra;
    }

    /** Starts a server; {@code extra} are more redis-server options, e.g. {@code --requirepass}, {@code secret}. */
    static RedisProcess start(String... extra) {
        try {
            RedisProcess redis = new RedisProcess(freePort(), Files.createTempDirectory("epidemic-redis-"), List.of(extra));
            redis.startAgain();
            return redis;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port() {
        return port;
    }

    String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** Starts a server that speaks only TLS on its port, with this PEM certificate and key. */
    static RedisProcess startTls(Path certificate, Path key) {
        return start("--port", "0", "--tls-port", "TLS_PORT", "--tls-cert-file", certificate.toString(),
                "--tls-key-file", key.toString(), "--tls-auth-clients", "no");
    }

    /** Starts the server (again) on the same port and data, and waits until it answers. */
    void startAgain() {
        List<String> command = new ArrayList<>(List.of(SERVER, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", directory.toString(), "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"));
        extra.forEach(option -> command.add(option.equals("TLS_PORT") ? Integer.toString(port) : option));
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(directory.resolve("server.log").toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + SERVER, e);
        }
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < until && extra.contains("TLS_PORT")) {
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
                return; // it accepts connections; a plain PING would not be understood
            } catch (IOException notYet) {
                sleep(50);
            }
        }
        while (System.nanoTime() < until) {
            try (Jedis jedis = new Jedis("127.0.0.1", port)) {
                jedis.ping();
                return;
            } catch (redis.clients.jedis.exceptions.JedisDataException answered) {
                return; // NOAUTH: it answers, and wants a password
            } catch (redis.clients.jedis.exceptions.JedisConnectionException notYet) {
                sleep(50);
            }
        }
        throw new IllegalStateException("redis-server on port " + port + " did not answer; see " + directory.resolve("server.log"));
    }

    /** Kills the server as a crash would ({@code kill -9}) and waits until it is gone. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A client of this server. */
    Jedis client() {
        return new Jedis("127.0.0.1", port);
    }

    @Override
    public void close() {
        kill();
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
