package dev.epidemic.dialect;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Small JDBC helpers that every dialect needs: one-value queries, statements, transactions. */
public final class Jdbc {
    private Jdbc() {
    }

    /** Work that runs SQL and returns a value. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run() throws SQLException;
    }

    /** Work that runs SQL. */
    @FunctionalInterface
    public interface VoidWork {
        void run() throws SQLException;
    }

    /** The first column of the first row of {@code sql}, as an int. */
    public static int queryInt(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** The first column of the first row of {@code sql}, as a long. */
    public static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The first column of the first row of {@code sql}, or null when there is no row. */
    public static String queryString(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    public static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Runs {@code work} in one transaction, committed when it returns and rolled back when it throws. */
    public static <T> T inTransaction(Connection c, SqlWork<T> work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            T result = work.run();
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    public static void inTransaction(Connection c, VoidWork work) throws SQLException {
        inTransaction(c, () -> {
            work.run();
            return null;
        });
    }

    public static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the transaction is gone with it
        }
    }

    /** The first line of a server message, for one-line reports. */
    public static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
