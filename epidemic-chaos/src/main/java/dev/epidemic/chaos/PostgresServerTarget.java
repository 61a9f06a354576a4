package dev.epidemic.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A server the harness does not own (only when asked for with --url): the run gets a database of its
 * own on it, dropped at the end, and the server is never restarted.
 */
final class PostgresServerTarget implements ChaosTarget {
    private final String serverUrl;
    private final String database;

    PostgresServerTarget(String serverUrl) {
        this.serverUrl = serverUrl;
        this.database = "epidemic_chaos_" + ProcessHandle.current().pid();
        try (Connection c = DriverManager.getConnection(serverUrl); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + database);
            st.execute("CREATE DATABASE " + database);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + database + " on the server: " + e.getMessage(), e);
        }
    }

    @Override
    public String url() {
        // jdbc:postgresql://host:port/db?params -> the same with the run's database
        int slash = serverUrl.indexOf('/', "jdbc:postgresql://".length());
        int query = serverUrl.indexOf('?');
        String params = query < 0 ? "" : serverUrl.substring(query);
        return serverUrl.substring(0, slash + 1) + database + params;
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
        return false;
    }

    @Override
    public void restart() {
        throw new UnsupportedOperationException("the harness does not restart a server it does not own");
    }

    @Override
    public void close() {
        try (Connection c = DriverManager.getConnection(serverUrl); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        } catch (SQLException e) {
            System.err.println("chaos: could not drop database " + database + ": " + e.getMessage());
        }
    }
}
