package dev.epidemic.dialect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

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

    /** A statement with its parameters bound in order (strings, numbers, booleans, as the driver maps them). */
    public static PreparedStatement prepare(Connection c, String sql, Object... parameters) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            for (int i = 0; i < parameters.length; i++) {
                ps.setObject(i + 1, parameters[i]);
            }
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    /** The first column of the first row of {@code sql} with its parameters, as a boolean (false when there is no row, or it is NULL). */
    public static boolean queryBoolean(Connection c, String sql, Object... parameters) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, parameters); ResultSet rs = ps.executeQuery()) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /** The first column of every row of {@code sql} with its parameters, as strings. */
    public static List<String> queryStrings(Connection c, String sql, Object... parameters) throws SQLException {
        List<String> result = new ArrayList<>();
        try (PreparedStatement ps = prepare(c, sql, parameters); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                result.add(rs.getString(1));
            }
        }
        return result;
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
