package dev.epidemic.cli;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * An embedded PostgreSQL that asks for passwords (scram-sha-256) for every user but postgres, for the
 * tests of wrong passwords and of where a password may show. The shared test server trusts everyone,
 * so it cannot tell a wrong password from a right one. Started once per JVM, on first use.
 */
final class PasswordServer {
    static final String USER = "epidemic_pw_user";
    static final String PASSWORD = "Sw0rdf1sh-" + ProcessHandle.current().pid();
    private static PasswordServer instance;

    private final int port;

    private PasswordServer(int port) {
        this.port = port;
    }

    static synchronized PasswordServer get() {
        if (instance == null) {
            instance = start();
        }
        return instance;
    }

    private static PasswordServer start() {
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder()
                    .setServerConfig("password_encryption", "scram-sha-256")
                    .setDataDirectoryCustomizer(dir -> {
                        try {
                            Files.writeString(dir.toPath().resolve("pg_hba.conf"), """
                                    host all postgres 127.0.0.1/32 trust
                                    host all postgres ::1/128 trust
                                    host all all 127.0.0.1/32 scram-sha-256
                                    host all all ::1/128 scram-sha-256
                                    """);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    })
                    .start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // the JVM is going away
                }
            }));
            try (Connection c = DriverManager.getConnection(pg.getJdbcUrl("postgres", "postgres")); Statement st = c.createStatement()) {
                st.execute("CREATE ROLE " + USER + " LOGIN PASSWORD '" + PASSWORD + "'");
                st.execute("CREATE DATABASE pw OWNER " + USER);
            }
            return new PasswordServer(pg.getPort());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start an embedded PostgreSQL", e);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The database's URL without user or password. */
    String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/pw";
    }

    String adminUrl() {
        return url() + "?user=postgres";
    }
}
