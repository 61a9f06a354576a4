package dev.epidemic.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The MariaDB server the tests run against: EPIDEMIC_TEST_MARIADB (default 127.0.0.1:3306, user root, no
 * password). It must be running (scripts/test.sh starts or installs it): a missing server fails the
 * tests, it never skips them. Each test class takes a database {@code epidemic_test_PID_N} of its own, and
 * Epidemic keeps its tables in it, as it does in an application's database.
 */
public final class MariaDbServer implements TestServer {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static MariaDbServer instance;

    private final String hostPort;

    private MariaDbServer(String hostPort) {
        this.hostPort = hostPort;
    }

    public static synchronized MariaDbServer get() {
        if (instance == null) {
            String hostPort = System.getenv().getOrDefault("EPIDEMIC_TEST_MARIADB", "127.0.0.1:3306");
            MariaDbServer server = new MariaDbServer(hostPort);
            try (Connection c = DriverManager.getConnection(server.url(""))) {
                dropDatabasesOfFinishedRuns(c);
            } catch (SQLException e) {
                throw new IllegalStateException("no MariaDB at " + hostPort + " (" + e.getMessage()
                        + "); start it, or run scripts/test.sh, which starts or installs it", e);
            }
            instance = server;
        }
        return instance;
    }

    /** Test databases are named after the JVM that made them; those of JVMs that are gone are dropped (with the log databases of older versions). */
    private static void dropDatabasesOfFinishedRuns(Connection c) throws SQLException {
        List<String> stale = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME REGEXP '^epidemic_test_[0-9]+_[0-9]+(_log)?$'")) {
            while (rs.next()) {
                long pid = Long.parseLong(rs.getString(1).split("_")[2]);
                if (ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                    stale.add(rs.getString(1));
                }
            }
        }
        for (String name : stale) {
            try (Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS `" + name + "`");
            }
        }
    }

    public String url(String database) {
        return "jdbc:mariadb://" + hostPort + "/" + database + "?user=root";
    }

    /** A new, empty database; returns its JDBC URL. */
    public String createDatabase() {
        String name = "epidemic_test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
        Sql.exec(url(""), "DROP DATABASE IF EXISTS " + name, "CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        return url(name);
    }

    /** The database a URL names. */
    public static String database(String url) {
        String path = url.substring(url.indexOf("//") + 2);
        path = path.substring(path.indexOf('/') + 1);
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    @Override
    public Target create() {
        return new Target(this, createDatabase(), "epidemic");
    }

    @Override
    public boolean isPostgres() {
        return false;
    }

    @Override
    public String qualified(String url, String table) {
        return database(url) + "." + table;
    }

    @Override
    public String logTable(String schema, String table) {
        return schema + "_" + table;
    }

    @Override
    public List<String> catalogFingerprint(String url) {
        String in = "('" + database(url) + "')";
        return Sql.rows(url, "SELECT CONCAT('rel ', TABLE_SCHEMA, '.', TABLE_NAME, ' ', TABLE_TYPE) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN " + in
                + " UNION ALL SELECT CONCAT('col ', TABLE_SCHEMA, '.', TABLE_NAME, '.', COLUMN_NAME, ' ', COLUMN_TYPE) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN " + in
                + " UNION ALL SELECT CONCAT('trg ', TRIGGER_SCHEMA, '.', TRIGGER_NAME, ' ', EVENT_OBJECT_TABLE, ' ', MD5(ACTION_STATEMENT)) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN " + in
                + " UNION ALL SELECT CONCAT('fn ', ROUTINE_SCHEMA, '.', ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN " + in
                + " UNION ALL SELECT CONCAT('ns ', SCHEMA_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN " + in
                + " ORDER BY 1");
    }

    @Override
    public String toString() {
        return "MariaDB";
    }
}
