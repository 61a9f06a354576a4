package dev.epidemic.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The consumer JVM: started on the harness's own class path, killed with SIGKILL, restarted under the
 * same consumer name. Each instance writes a file of its own, so a line cut short by a kill stays at
 * the end of its file.
 */
final class ConsumerProcess {
    private final String url;
    private final String schema;
    private final Path dir;
    private final double throwRate;
    private final long seed;
    private final List<Path> files = new ArrayList<>();
    private volatile Process process;
    private int instances;
    private int unexpectedExits;
    private String lastUnexpectedError = "";

    ConsumerProcess(String url, String schema, Path dir, double throwRate, long seed) {
        this.url = url;
        this.schema = schema;
        this.dir = dir;
        this.throwRate = throwRate;
        this.seed = seed;
        // An interrupted harness must not leave its consumer running.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Process running = process;
            if (running != null) {
                running.destroyForcibly();
            }
        }));
    }

    synchronized void start() {
        instances++;
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), ChaosConsumer.class.getName(),
                url, schema, dir.toString(), Integer.toString(instances), Double.toString(throwRate), Long.toString(seed + instances));
        files.add(dir.resolve(String.format("delivered-%05d.tsv", instances)));
        try {
            process = new ProcessBuilder(command)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(errFile(instances).toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the consumer JVM", e);
        }
    }

    /** SIGKILL, then a new instance. */
    synchronized void killAndRestart() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
        start();
    }

    /** A consumer that ended by itself is a finding: it is counted, its error kept, and it is restarted. */
    synchronized void restartIfDead() {
        if (process != null && !process.isAlive()) {
            unexpectedExits++;
            lastUnexpectedError = lastLine(errFile(instances));
            start();
        }
    }

    /** SIGTERM: the consumer stores its position and exits. */
    synchronized void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    synchronized List<Path> files() {
        return List.copyOf(files);
    }

    synchronized int instances() {
        return instances;
    }

    synchronized int unexpectedExits() {
        return unexpectedExits;
    }

    synchronized String lastUnexpectedError() {
        return lastUnexpectedError;
    }

    private Path errFile(int instance) {
        return dir.resolve(String.format("consumer-%05d.err", instance));
    }

    private static String lastLine(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (!lines.get(i).isBlank() && !lines.get(i).startsWith("\tat ")) {
                    return lines.get(i);
                }
            }
            return "";
        } catch (IOException e) {
            return "(no stderr: " + e.getMessage() + ")";
        }
    }
}
