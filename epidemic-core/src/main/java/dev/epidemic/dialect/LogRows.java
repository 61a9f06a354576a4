package dev.epidemic.dialect;

import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The one mapping from a result set to a {@link LogRow}, for the windows a dialect reads and the changes
 * its dead letters keep. The columns, from {@code first} on, are: id, txid, the transaction's last id,
 * table (schema.table), op, key, old and new (JSON as text), at.
 */
public final class LogRows {
    private LogRows() {
    }

    public static LogRow read(ResultSet rs, int first, TimeColumns times) throws SQLException {
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
        return new LogRow(id, txid, txLastId, table, op, key, old, newValues, times.get(rs, i));
    }
}
