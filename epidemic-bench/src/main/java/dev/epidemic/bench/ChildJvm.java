package dev.epidemic.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A {@link ConsumerProcess} in a JVM of its own, and what it reports on stdout. */
final class ChildJvm {
    /** The same heap limit for every consumer process, so that their heaps compare. */
    static final String HEAP = "-Xmx1g";

    private final Process process;
    private final Path log;
    final CompletableFuture<Long> streaming = new CompletableFuture<>();
    final CompletableFuture<Map<String, String>> result = new CompletableFuture<>();

    private ChildJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Under Surefire java.class.path may be a manifest-only booter jar; the test class path is the real one. */
    static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    static ChildJvm start(Path log, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(javaExecutable(), HEAP, "-Djava.awt.headless=true",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classPath(), ConsumerProcess.class.getName()));
        command.addAll(args);
        Files.createDirectories(log.getParent());
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        ChildJvm child = new ChildJvm(p, log);
        Thread reader = new Thread(child::readStdout, "child-stdout-" + p.pid());
        reader.setDaemon(true);
        reader.start();
        return child;
    }

    private void readStdout() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("STREAMING ")) {
                    streaming.complete(Long.parseLong(line.substring("STREAMING ".length()).trim()));
                } else if (line.startsWith("RESULT ")) {
                    Map<String, String> values = new LinkedHashMap<>();
                    for (String pair : line.substring("RESULT ".length()).trim().split(" ")) {
                        int eq = pair.indexOf('=');
                        values.put(pair.substring(0, eq), pair.substring(eq + 1));
                    }
                    result.complete(values);
                } else if (line.startsWith("FAILED ")) {
                    IllegalStateException e = new IllegalStateException("consumer process failed: " + line.substring(7) + " (log: " + log + ")");
                    streaming.completeExceptionally(e);
                    result.completeExceptionally(e);
                }
            }
        } catch (IOException e) {
            // the process is gone; the check below reports it
        }
        IllegalStateException gone = new IllegalStateException("consumer process exited without a result (log: " + log + ")");
        streaming.completeExceptionally(gone);
        result.completeExceptionally(gone);
    }

    long awaitStreaming(long timeoutSeconds) throws Exception {
        return streaming.get(timeoutSeconds, TimeUnit.SECONDS);
    }

    Map<String, String> awaitResult(long timeoutSeconds) throws Exception {
        try {
            Map<String, String> values = result.get(timeoutSeconds, TimeUnit.SECONDS);
            process.waitFor(30, TimeUnit.SECONDS);
            return values;
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }
}
