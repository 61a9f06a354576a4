package dev.epidemic.chaos;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A MariaDB server the harness does not own, so it is never restarted. The run gets a database of its
 * own, {@code epidemic_chaos_PID_N}, for its tables and Epidemic's (which live beside them), and a user of
 * its own for the consumer, whose connections are found by that user and ended with KILL CONNECTION
 * (MariaDB has no application name in its process list, and performance_schema is often off). Both are
 * dropped at the end, and those of a harness that died (its process is gone) at the next start, with the
 * {@code ..._log} databases that older versions of the harness made for Epidemic's log.
 */
final class MariaDbServerTarget implements ChaosTarget {
    private static final Pattern URL = Pattern.compile("jdbc:(?:mariadb|mysql)://([^/?]+)/?([^?]*)(\\?.*)?");
    private static final String NAME = "^epidemic_chaos_[0-9]+_[0-9]+(_log)?$";
    private static final AtomicInteger RUNS = new AtomicInteger();

    private final String serverUrl;
    private final String hostPort;
    private final String params;
    private final String database;
    private final String consumerPassword;

    MariaDbServerTarget(String url) {
        Matcher m = URL.matcher(url);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a MariaDB URL: jdbc:mariadb://HOST[:PORT]/[DATABASE][?user=...]");
        }
        this.hostPort = m.group(1);
        this.params = m.group(3) == null ? "" : m.group(3);
        this.serverUrl = "jdbc:mariadb://" + hostPort + "/" + m.group(2) + params;
        this.database = "epidemic_chaos_" + ProcessHandle.current().pid() + "_" + RUNS.incrementAndGet();
        byte[] secret = new byte[16];
        new SecureRandom().nextBytes(secret);
        this.consumerPassword = HexFormat.of().formatHex(secret);
        try (Connection c = DriverManager.getConnection(serverUrl); Statement st = c.createStatement()) {
            dropLeftoversOfDeadRuns(c);
            st.execute("CREATE DATABASE " + database + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
            for (String host : List.of("%", "localhost")) {
                String user = "'" + database + "'@'" + host + "'";
                st.execute("CREATE USER " + user + " IDENTIFIED BY '" + consumerPassword + "'");
                // Its database (more than docs/security.md's consumer grants, which name tables that exist only once
                // the run has installed them), and PROCESS for innodb_trx.
                st.execute("GRANT ALL PRIVILEGES ON " + database + ".* TO " + user);
                st.execute("GRANT PROCESS ON *.* TO " + user);
            }
        } catch (SQLException e) {
            close();
            throw new IllegalStateException("cannot create database and user " + database + " on the MariaDB server: " + e.getMessage(), e);
        }
    }

    /** True for a URL this target serves: {@code jdbc:mariadb:} or {@code jdbc:mysql:}. */
    static boolean accepts(String url) {
        return url.startsWith("jdbc:mariadb:") || url.startsWith("jdbc:mysql:");
    }

    @Override
    public String url() {
        return "jdbc:mariadb://" + hostPort + "/" + database + params;
    }

    @Override
    public String logSchema() {
        return "epidemic";
    }

    @Override
    public ChaosDialect dialect() {
        return new MariaDbChaosDialect(database, database, consumerPassword);
    }

    @Override
    public boolean canRestart() {
        return false;
    }

    @Override
    public void restart() {
        throw new UnsupportedOperationException("the harness never restarts a MariaDB server: it does not own it");
    }

    @Override
    public void close() {
        try (Connection c = DriverManager.getConnection(serverUrl)) {
            drop(c, database);
        } catch (SQLException e) {
            System.err.println("chaos: could not drop database and user " + database + ": " + e.getMessage());
        }
    }

    private static void drop(Connection c, String name) throws SQLException {
        try (Statement st = c.createStatement()) {
            // A consumer still connected would hold metadata locks on the log.
            List<Long> ids = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '" + name + "'")) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            for (long id : ids) {
                try {
                    st.execute("KILL CONNECTION " + id);
                } catch (SQLException gone) {
                    // ended by itself meanwhile
                }
            }
            st.execute("DROP DATABASE IF EXISTS " + name);
            st.execute("DROP DATABASE IF EXISTS " + name + "_log");
            st.execute("DROP USER IF EXISTS '" + name + "'@'%', '" + name + "'@'localhost'");
        }
    }

    /** Databases and users of harness processes that are gone (killed before they could clean up). */
    private static void dropLeftoversOfDeadRuns(Connection c) throws SQLException {
        List<String> stale = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME REGEXP '" + NAME + "'"
                     + " UNION SELECT DISTINCT User FROM mysql.user WHERE User REGEXP '" + NAME + "'")) {
            while (rs.next()) {
                String name = rs.getString(1).replaceFirst("_log$", "");
                long pid = Long.parseLong(name.split("_")[2]);
                if (!stale.contains(name) && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                    stale.add(name);
                }
            }
        }
        for (String name : stale) {
            drop(c, name);
        }
    }
}
