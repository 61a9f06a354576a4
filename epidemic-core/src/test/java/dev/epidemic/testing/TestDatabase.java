package dev.epidemic.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The PostgreSQL server the tests run against: the one at EPIDEMIC_TEST_PG (default
 * 127.0.0.1:5432, user postgres) when it answers, else an embedded one started for this JVM.
 * Each test class takes a fresh database of its own from {@link #createDatabase()}.
 *
 * <p>{@link #all()} lists every server the shared behaviour suite runs against: this one and
 * {@link MariaDbServer}.
 */
public final class TestDatabase implements TestServer {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static TestDatabase instance;

    private final String hostPort;
    private final String user;

    private TestDatabase(String hostPort, String user) {
        this.hostPort = hostPort;
        this.user = user;
    }

    /** Every database the shared suite runs on; MariaDB is required (see scripts/test.sh), never skipped. */
    public static java.util.List<TestServer> all() {
        return java.util.List.of(get(), MariaDbServer.get());
    }

    @Override
    public String toString() {
        return "PostgreSQL";
    }

    @Override
    public Target create() {
        return new Target(this, createDatabase(), "epidemic");
    }

    @Override
    public boolean isPostgres() {
        return true;
    }

    @Override
    public String qualified(String url, String table) {
        return "public." + table;
    }

    @Override
    public String logTable(String schema, String table) {
        return schema + "." + table;
    }

    @Override
    public java.util.List<String> catalogFingerprint(String url) {
        return Sql.catalogFingerprint(url);
    }

    public static synchronized TestDatabase get() {
        if (instance == null) {
            instance = start();
        }
        return instance;
    }

    private static TestDatabase start() {
        String hostPort = System.getenv().getOrDefault("EPIDEMIC_TEST_PG", "127.0.0.1:5432");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + hostPort + "/postgres?connectTimeout=3", "postgres", "")) {
            dropDatabasesOfFinishedRuns(c);
            return new TestDatabase(hostPort, "postgres");
        } catch (SQLException unreachable) {
            System.err.println("No PostgreSQL at " + hostPort + " (" + unreachable.getMessage() + "); starting an embedded one");
        }
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // the JVM is going away
                }
            }));
            return new TestDatabase("127.0.0.1:" + pg.getPort(), "postgres");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start an embedded PostgreSQL", e);
        }
    }

    /** Test databases are named after the JVM that made them; those of JVMs that are gone are dropped. */
    private static void dropDatabasesOfFinishedRuns(Connection c) throws SQLException {
        java.util.List<String> stale = new java.util.ArrayList<>();
        try (Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT datname FROM pg_database WHERE datname ~ '^epidemic_test_[0-9]+_[0-9]+$'")) {
            while (rs.next()) {
                long pid = Long.parseLong(rs.getString(1).split("_")[2]);
                if (ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                    stale.add(rs.getString(1));
                }
            }
        }
        for (String name : stale) {
            try (Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            } catch (SQLException e) {
                System.err.println("could not drop old test database " + name + ": " + e.getMessage());
            }
        }
    }

    public String hostPort() {
        return hostPort;
    }

    /** A new, empty database; returns its JDBC URL (user and no password in it). */
    public String createDatabase() {
        String name = "epidemic_test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
        try (Connection c = DriverManager.getConnection(url("postgres"));
             Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + name);
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name, e);
        }
        return url(name);
    }

    public String url(String database) {
        return "jdbc:postgresql://" + hostPort + "/" + database + "?user=" + user;
    }
}
