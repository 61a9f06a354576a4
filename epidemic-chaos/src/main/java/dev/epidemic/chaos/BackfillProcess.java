package dev.epidemic.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The backfill JVM ({@link ChaosBackfill}): started on the harness's own class path, killed with SIGKILL,
 * restarted with the same arguments until an instance exits saying the backfill is done. Each instance
 * writes a progress file of its own.
 */
final class BackfillProcess {
    private final List<String> arguments;
    private final Path dir;
    private final BooleanSupplier unfinishedInDatabase;
    private volatile Process process;
    private int instances;
    private int kills;
    private int unexpectedExits;
    private String lastUnexpectedError = "";
    private boolean finished;
    private long startedAtNanos;
    private long finishedAtNanos;

    /**
     * @param unfinishedInDatabase whether Epidemic has the backfill as unfinished: an instance killed after its
     *                             last chunk committed is done, and a new one would start a second backfill
     */
    BackfillProcess(String url, String schema, String table, String consumer, int chunk, Path dir, BooleanSupplier unfinishedInDatabase) {
        this.arguments = List.of(url, schema, table, consumer, Integer.toString(chunk));
        this.dir = dir;
        this.unfinishedInDatabase = unfinishedInDatabase;
        // An interrupted harness must not leave its backfill running.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Process running = process;
            if (running != null) {
                running.destroyForcibly();
            }
        }));
    }

    synchronized void start() {
        if (startedAtNanos == 0) {
            startedAtNanos = System.nanoTime();
        }
        instances++;
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), ChaosBackfill.class.getName()));
        command.addAll(arguments);
        command.add(progressFile(instances).toString());
        try {
            process = new ProcessBuilder(command)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(errFile(instances).toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the backfill JVM", e);
        }
    }

    /** SIGKILL, then a new instance with the same arguments, unless the killed one had finished the backfill. */
    synchronized void killAndRestart() throws InterruptedException {
        if (finished() || !process.isAlive()) {
            return; // it finished, or ended by itself and was restarted: no kill
        }
        process.destroyForcibly();
        process.waitFor();
        kills++;
        restartUnlessDone();
    }

    /**
     * True once the backfill is done; meanwhile restarts an instance that ended by itself without finishing
     * it (a finding: counted, its error kept).
     */
    synchronized boolean finished() {
        if (finished || process == null || process.isAlive()) {
            return finished;
        }
        if (process.exitValue() == ChaosBackfill.FINISHED) {
            finish();
            return true;
        }
        unexpectedExits++;
        lastUnexpectedError = lastLine(errFile(instances));
        restartUnlessDone();
        return finished;
    }

    /** Waits up to {@code timeout} for the current instance to log a chunk (or the backfill to be done); false if it did not. */
    boolean awaitChunk(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (finished()) {
                return true;
            }
            Path file;
            synchronized (this) {
                file = progressFile(instances);
            }
            if (lines(file).stream().anyMatch(line -> line.startsWith("chunk "))) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    synchronized void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }

    synchronized int instances() {
        return instances;
    }

    synchronized int kills() {
        return kills;
    }

    synchronized int unexpectedExits() {
        return unexpectedExits;
    }

    synchronized String lastUnexpectedError() {
        return lastUnexpectedError;
    }

    /** From the first start to the end of the backfill (or to now, while it runs). */
    synchronized Duration took() {
        return Duration.ofNanos((finished ? finishedAtNanos : System.nanoTime()) - startedAtNanos);
    }

    private void restartUnlessDone() {
        boolean begun = false;
        for (int i = 1; i <= instances && !begun; i++) {
            begun = !lines(progressFile(i)).isEmpty();
        }
        if (begun && !unfinishedInDatabase.getAsBoolean()) {
            finish();
        } else {
            start();
        }
    }

    private void finish() {
        finished = true;
        finishedAtNanos = System.nanoTime();
    }

    private Path progressFile(int instance) {
        return dir.resolve(String.format("backfill-%05d.log", instance));
    }

    private Path errFile(int instance) {
        return dir.resolve(String.format("backfill-%05d.err", instance));
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The last line of the file that is not part of a stack trace's frames ("at ...", "... 2 more"): the deepest cause. */
    private static String lastLine(Path file) {
        List<String> lines = lines(file);
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (!lines.get(i).isBlank() && !Character.isWhitespace(lines.get(i).charAt(0))) {
                return lines.get(i);
            }
        }
        return "";
    }
}
