package dev.epidemic.chaos;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of the harness's own (io.zonky embedded binaries), on a data directory it keeps
 * across restarts: restarting it is a fault the harness may inject.
 */
final class EmbeddedPostgresTarget implements ChaosTarget {
    private final Path dataDirectory;
    private final int port;
    private EmbeddedPostgres server;

    EmbeddedPostgresTarget(Path workDir) {
        try {
            this.dataDirectory = Files.createDirectories(workDir.resolve("pgdata"));
            this.server = builder(0).start();
            this.port = server.getPort();
            try (Connection c = server.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE chaos");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start an embedded PostgreSQL", e);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the chaos database", e);
        }
    }

    private EmbeddedPostgres.Builder builder(int fixedPort) {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(false)
                .setServerConfig("max_connections", "100")
                .setServerConfig("fsync", "on");
        return fixedPort == 0 ? builder : builder.setPort(fixedPort);
    }

    @Override
    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/chaos?user=postgres";
    }

    @Override
    public String logSchema() {
        return "epidemic";
    }

    @Override
    public ChaosDialect dialect() {
        return new PostgresChaosDialect();
    }

    @Override
    public boolean canRestart() {
        return true;
    }

    /** A fast shutdown (every session is ended, in-flight transactions roll back) and a start on the same data and port. */
    @Override
    public synchronized void restart() throws IOException {
        server.close();
        server = builder(port).start();
    }

    @Override
    public synchronized void close() {
        try {
            server.close();
        } catch (IOException e) {
            System.err.println("chaos: could not stop the embedded PostgreSQL: " + e.getMessage());
        }
        try (Stream<Path> files = Files.walk(dataDirectory)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("chaos: could not remove " + dataDirectory + ": " + e.getMessage());
        }
    }
}
