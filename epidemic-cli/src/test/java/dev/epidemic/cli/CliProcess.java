package dev.epidemic.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * {@code epidemic} (a tail, a daemon) as a child JVM on this test's class path, so that it can be killed,
 * signalled and inspected with {@code ps} like the real thing. Its stdout and stderr go to files: unlike
 * a pipe read by a thread of ours, a file keeps every byte the process wrote before it was killed.
 */
final class CliProcess {
    private final Process process;
    private final Path out;
    private final Path err;

    private CliProcess(Process process, Path out, Path err) {
        this.process = process;
        this.out = out;
        this.err = err;
    }

    static CliProcess start(String... args) {
        return start(Map.of(), args);
    }

    /** Starts with {@code environment} added to this JVM's. */
    static CliProcess start(Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"),
                EpidemicCommand.class.getName()));
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("epidemic-cli", ".out");
            Path err = Files.createTempFile("epidemic-cli", ".err");
            out.toFile().deleteOnExit();
            err.toFile().deleteOnExit();
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            builder.environment().putAll(environment);
            return new CliProcess(builder.start(), out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs to the end, at most {@code timeout}. */
    static CliProcess runToEnd(Duration timeout, String... args) {
        CliProcess tail = start(args);
        tail.waitFor(timeout);
        return tail;
    }

    /** Waits until at least {@code count} complete lines were printed; fails early if the process ends first. */
    void awaitLines(int count, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(10))
                .failFast("process ended with " + lines().size() + " lines; stderr: " + err(), () -> !process.isAlive() && lines().size() < count)
                .until(() -> lines().size() >= count);
    }

    /** Waits until stderr (the log) contains {@code text}; fails early if the process ends first. */
    void awaitLog(String text, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(20))
                .failFast("process ended; stderr: " + err(), () -> !process.isAlive() && !err().contains(text))
                .until(() -> err().contains(text));
    }

    long pid() {
        return process.pid();
    }

    /** The command line as {@code ps} shows it to every user of the machine. */
    String psArgs() {
        try {
            Process ps = new ProcessBuilder("ps", "-o", "args=", "-p", Long.toString(pid())).redirectErrorStream(true).start();
            String text = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            ps.waitFor();
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Waits for the process to end; returns the exit code. */
    int waitFor(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("process did not end within " + timeout + "; stderr: " + err());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** SIGKILL: no chance to store anything. */
    void kill() {
        process.destroyForcibly();
        waitFor(Duration.ofSeconds(10));
    }

    /** SIGTERM. */
    void terminate() {
        process.destroy();
    }

    boolean alive() {
        return process.isAlive();
    }

    int exitCode() {
        return process.exitValue();
    }

    /** The complete lines printed so far. */
    List<String> lines() {
        String text = read(out);
        int end = text.lastIndexOf('\n');
        return end < 0 ? List.of() : text.substring(0, end).lines().toList();
    }

    /** What followed the last complete line: part of a line the process was killed while writing, or "". */
    String cutLine() {
        String text = read(out);
        return text.substring(text.lastIndexOf('\n') + 1);
    }

    String out() {
        return read(out);
    }

    String err() {
        return read(err);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
