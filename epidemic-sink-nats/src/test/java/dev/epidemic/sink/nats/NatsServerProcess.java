package dev.epidemic.sink.nats;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A nats-server of the test's own, with JetStream storing in a directory of the test, on a free port of
 * 127.0.0.1: it can be stopped and started again on the same port and store, as a broker restart does.
 */
final class NatsServerProcess implements AutoCloseable {
    private static final String BINARY = "/usr/sbin/nats-server";

    private final int port;
    private final Path store;
    private final String config;
    private Process process;

    NatsServerProcess(Path store) throws IOException {
        this(store, null);
    }

    /** With a configuration file's text ({@code -c}) added to the command line's options; null for none. */
    NatsServerProcess(Path store, String config) throws IOException {
        this.store = store;
        this.config = config;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
    }

    static boolean available() {
        return new File(BINARY).canExecute();
    }

    String url() {
        return "nats://127.0.0.1:" + port;
    }

    void start() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(BINARY, "-a", "127.0.0.1", "-p", Integer.toString(port), "-js", "-sd", store.toString()));
        if (config != null) {
            Path file = Files.writeString(store.resolve("server.conf"), config);
            command.addAll(List.of("-c", file.toString()));
        }
        process = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(store.resolve("server.log").toFile()).start();
        long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < until) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("nats-server did not listen on " + port + " within 15 s; see " + store.resolve("server.log"));
    }

    /** Kills the server at once (SIGKILL), as a crash would. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            kill();
        }
    }
}
