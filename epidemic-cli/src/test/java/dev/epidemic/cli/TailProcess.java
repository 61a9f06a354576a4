package dev.epidemic.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * {@code epidemic} as a child JVM on this test's class path, so that it can be killed and signalled like
 * the real thing. Its stdout and stderr go to files: unlike a pipe read by a thread of ours, a file keeps
 * every byte the process wrote before it was killed.
 */
final class TailProcess {
    private final Process process;
    private final Path out;
    private final Path err;

    private TailProcess(Process process, Path out, Path err) {
        this.process = process;
        this.out = out;
        this.err = err;
    }

    static TailProcess start(String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"),
                EpidemicCommand.class.getName()));
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("epidemic-tail", ".out");
            Path err = Files.createTempFile("epidemic-tail", ".err");
            out.toFile().deleteOnExit();
            err.toFile().deleteOnExit();
            Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            return new TailProcess(process, out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs to the end, at most {@code timeout}. */
    static TailProcess runToEnd(Duration timeout, String... args) {
        TailProcess tail = start(args);
        tail.waitFor(timeout);
        return tail;
    }

    /** Waits until at least {@code count} complete lines were printed; fails early if the process ends first. */
    void awaitLines(int count, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(10))
                .failFast("tail ended with " + lines().size() + " lines; stderr: " + err(), () -> !process.isAlive() && lines().size() < count)
                .until(() -> lines().size() >= count);
    }

    /** Waits for the process to end; returns the exit code. */
    int waitFor(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("tail did not end within " + timeout + "; stderr: " + err());
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
