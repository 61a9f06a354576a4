package dev.epidemic.cli;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Builds, at test time, a plugin jar holding {@code plugin.RecordingHandler}: a handler that is on no
 * class path, so a daemon can only load it from its plugins directory. For each change it records its
 * process id and when its handling started and ended, in the table {@code handled} of the database.
 */
final class PluginJar {
    static final String HANDLER = "plugin.RecordingHandler";

    private static final String SOURCE = """
            package plugin;

            import dev.epidemic.api.Change;
            import dev.epidemic.api.ChangeHandler;
            import java.sql.Connection;
            import java.sql.DriverManager;
            import java.sql.PreparedStatement;
            import java.sql.Timestamp;
            import java.time.Instant;
            import java.util.Map;

            public class RecordingHandler implements ChangeHandler {
                private final String url;
                private final long sleepMillis;
                private final long pid = ProcessHandle.current().pid();
                private Connection connection;

                public RecordingHandler(Map<String, String> properties) {
                    url = properties.get("url");
                    if (url == null) {
                        throw new IllegalArgumentException("property url is required");
                    }
                    sleepMillis = Long.parseLong(properties.getOrDefault("sleep-ms", "0"));
                }

                @Override
                public void onInsert(Change change) throws Exception {
                    Timestamp started = Timestamp.from(Instant.now());
                    Thread.sleep(sleepMillis);
                    Timestamp ended = Timestamp.from(Instant.now());
                    if (connection == null || connection.isClosed()) {
                        connection = DriverManager.getConnection(url);
                    }
                    try (PreparedStatement ps = connection.prepareStatement(
                            "INSERT INTO handled (change_id, row_id, pid, started, ended) VALUES (?, ?, ?, ?, ?)")) {
                        ps.setLong(1, change.id());
                        ps.setInt(2, (Integer) change.key().get("id"));
                        ps.setLong(3, pid);
                        ps.setTimestamp(4, started);
                        ps.setTimestamp(5, ended);
                        ps.executeUpdate();
                    }
                }
            }
            """;

    private PluginJar() {
    }

    /** Writes {@code recording-handler.jar} into {@code directory}. */
    static void buildInto(Path directory) throws IOException {
        Path work = Files.createTempDirectory("epidemic-plugin");
        Path source = work.resolve("plugin/RecordingHandler.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, SOURCE);
        Path classes = Files.createDirectories(work.resolve("classes"));
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        int status = compiler.run(null, null, null, "-classpath", System.getProperty("java.class.path"),
                "-d", classes.toString(), source.toString());
        if (status != 0) {
            throw new IllegalStateException("the plugin did not compile");
        }
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(directory.resolve("recording-handler.jar")));
             Stream<Path> files = Files.walk(classes)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                jar.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                Files.copy(file, jar);
                jar.closeEntry();
            }
        }
    }
}
