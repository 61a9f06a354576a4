package dev.epidemic.dialect;

import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The one mapping from a result set to a {@link LogRow}, for the windows a dialect reads and the changes
 * its dead letters keep. The columns, from {@code first} on, are: id, txid, the transaction's last id,
 * table (schema.table), op, key, old and new (JSON as text), at; for a change read from the log, then its
 * table's registry id and its filter mask.
 */
public final class LogRows {
    private LogRows() {
    }

    /** A change kept apart from the log (a dead letter), whose table is known by name only. */
    public static LogRow read(ResultSet rs, int first, TimeColumns times) throws SQLException {
        return read(rs, first, times, false);
    }

    /** A change read from the log: after {@code at} come the table's registry id and the row's filter mask (may be NULL). */
    public static LogRow readFromLog(ResultSet rs, int first, TimeColumns times) throws SQLException {
        return read(rs, first, times, true);
    }

    private static LogRow read(ResultSet rs, int first, TimeColumns times, boolean withTableId) throws SQLException {
        int i = first;
        long id = rs.getLong(i++);
        // Read as text and unsigned: PostgreSQL's xid8 has no JDBC type, MariaDB's transaction ids are unsigned.
        long txid = Long.parseUnsignedLong(rs.getString(i++));
        long txLastId = rs.getLong(i++);
        String table = rs.getString(i++);
        char op = rs.getString(i++).charAt(0);
        String key = rs.getString(i++);
        String old = rs.getString(i++);
        String newValues = rs.getString(i++);
        java.time.Instant at = times.get(rs, i);
        int tableId = withTableId ? rs.getInt(i + 1) : 0;
        Long mask = null;
        if (withTableId) {
            Object bits = rs.getObject(i + 2); // (MariaDB's driver: wasNull does not always tell NULL from 0)
            mask = bits == null ? null : ((Number) bits).longValue();
        }
        return new LogRow(id, txid, txLastId, tableId, table, op, key, old, newValues, at, mask);
    }
}
