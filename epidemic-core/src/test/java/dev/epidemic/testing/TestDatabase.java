package dev.epidemic.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A PostgreSQL server the tests run against. {@link #get()} is the main one: the server at
 * EPIDEMIC_TEST_PG (default 127.0.0.1:5432, user postgres, PostgreSQL 15 here) when it answers, else an
 * embedded one started for this JVM. Each test class takes a fresh database of its own from
 * {@link #createDatabase()}.
 *
 * <p>Sources for {@code @ParameterizedClass}: put a class on every server it should run on with one
 * {@code @MethodSource}, and take the server as {@code @Parameter TestServer server} (see CaptureTest; a
 * class with static set-up does it in a {@code @BeforeParameterizedClassInvocation} method, see
 * PostgresValuesTest). For example, a class on every version of both databases:
 * <pre>{@code
 * @ParameterizedClass(name = "{0}")
 * @MethodSource("dev.epidemic.testing.TestDatabase#allVersions")
 * class SchemaChangeCaptureTest {
 *     @Parameter
 *     TestServer server;
 * }</pre>
 * <ul>
 *   <li>{@code "dev.epidemic.testing.TestDatabase#all"}: each kind of database once, PostgreSQL 15 and
 *       MariaDB; for behaviour that does not depend on the server's version.</li>
 *   <li>{@code "dev.epidemic.testing.TestDatabase#allVersions"}: every PostgreSQL version of
 *       {@link #postgresVersions()}, then MariaDB; for capture, snapshot windows and schema changes.</li>
 *   <li>{@code "dev.epidemic.testing.TestDatabase#postgresVersions"}: PostgreSQL only, every version
 *       (14, 15, 17, 18); for PostgreSQL-only classes (see PostgresValuesTest).</li>
 * </ul>
 * The versions other than the main server's are embedded servers, from binaries that epidemic-core's
 * build unpacks (its pom names the versions); each is started on first use, once per JVM, and stopped at
 * exit. A version that cannot start fails its tests: nothing is skipped for lack of a server.
 */
public final class TestDatabase implements TestServer {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String BINARIES = "epidemic.test.postgres.binaries";
    private static final String VERSIONS = "epidemic.test.postgres.versions";
    private static final String FALLBACK = "epidemic.test.postgres.fallback";
    private static TestDatabase main;
    private static Map<Integer, TestDatabase> embedded;

    private final int major;
    private final String binariesVersion; // null for a server that is already running
    private String hostPort;
    private final String user = "postgres";

    private TestDatabase(int major, String binariesVersion, String hostPort) {
        this.major = major;
        this.binariesVersion = binariesVersion;
        this.hostPort = hostPort;
    }

    /** Each kind of database once: the main PostgreSQL server, and MariaDB (required, see scripts/test.sh; never skipped). */
    public static List<TestServer> all() {
        return List.of(get(), MariaDbServer.get());
    }

    /** Every PostgreSQL version, then MariaDB. */
    public static List<TestServer> allVersions() {
        List<TestServer> servers = new ArrayList<>(postgresVersions());
        servers.add(MariaDbServer.get());
        return servers;
    }

    /** Every PostgreSQL version the suites run on, oldest first: the main server and the embedded ones. */
    public static List<TestServer> postgresVersions() {
        List<TestDatabase> servers = new ArrayList<>(embedded().values());
        servers.add(get());
        servers.sort(Comparator.comparingInt(TestDatabase::major));
        return List.copyOf(servers);
    }

    /** The main server: the local one at EPIDEMIC_TEST_PG, or an embedded one when none answers there. */
    public static synchronized TestDatabase get() {
        if (main == null) {
            main = start();
        }
        return main;
    }

    /** The embedded servers, by major version, from epidemic-core's build; not started until used. */
    private static synchronized Map<Integer, TestDatabase> embedded() {
        if (embedded == null) {
            Map<Integer, TestDatabase> servers = new LinkedHashMap<>();
            for (String version : required(VERSIONS).split(",")) {
                TestDatabase server = new TestDatabase(major(version.strip()), version.strip(), null);
                if (servers.put(server.major, server) != null) {
                    throw new IllegalStateException(VERSIONS + " names PostgreSQL " + server.major + " twice: " + System.getProperty(VERSIONS));
                }
            }
            embedded = servers;
        }
        return embedded;
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property " + property + " is not set: epidemic-core's build sets it"
                    + " (maven-surefire-plugin); run the tests through Maven, e.g. mvn verify -pl epidemic-core -am");
        }
        return value;
    }

    private static int major(String binariesVersion) {
        return Integer.parseInt(binariesVersion.substring(0, binariesVersion.indexOf('.')));
    }

    /** The major version this server runs: what it was started from, or what it said when first reached. */
    public int major() {
        return major;
    }

    @Override
    public String toString() {
        return "PostgreSQL " + major;
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
    public List<String> catalogFingerprint(String url) {
        return Sql.catalogFingerprint(url);
    }

    private static TestDatabase start() {
        String hostPort = System.getenv().getOrDefault("EPIDEMIC_TEST_PG", "127.0.0.1:5432");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + hostPort + "/postgres?connectTimeout=3", "postgres", "")) {
            dropDatabasesOfFinishedRuns(c);
            return new TestDatabase(serverMajor(c), null, hostPort);
        } catch (SQLException unreachable) {
            System.err.println("No PostgreSQL at " + hostPort + " (" + unreachable.getMessage() + "); starting an embedded one");
        }
        String fallback = System.getProperty(FALLBACK);
        if (fallback != null && !fallback.isBlank()) {
            return new TestDatabase(major(fallback), fallback, null);
        }
        // Outside epidemic-core's build (another module's tests): zonky's own server, which cannot run as root.
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // the JVM is going away
                }
            }));
            String started = "127.0.0.1:" + pg.getPort();
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + started + "/postgres", "postgres", "")) {
                return new TestDatabase(serverMajor(c), null, started);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start an embedded PostgreSQL", e);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reach the embedded PostgreSQL", e);
        }
    }

    private static int serverMajor(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version_num")) {
            rs.next();
            return rs.getInt(1) / 10000;
        }
    }

    /** Test databases are named after the JVM that made them; those of JVMs that are gone are dropped. */
    private static void dropDatabasesOfFinishedRuns(Connection c) throws SQLException {
        List<String> stale = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT datname FROM pg_database WHERE datname ~ '^epidemic_test_[0-9]+_[0-9]+$'")) {
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

    /** Where the server listens; an embedded server is started here, on first use. */
    public synchronized String hostPort() {
        if (hostPort == null) {
            hostPort = EmbeddedPostgresServer.start(Path.of(required(BINARIES)), binariesVersion).hostPort();
        }
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
            throw new IllegalStateException("cannot create test database " + name + " on " + this, e);
        }
        return url(name);
    }

    public String url(String database) {
        return "jdbc:postgresql://" + hostPort() + "/" + database + "?user=" + user;
    }
}
