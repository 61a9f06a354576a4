package dev.epidemic.dialect.postgres;

import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.Dialect.RowSink;
import dev.epidemic.dialect.Dialect.WindowEnd;
import dev.epidemic.dialect.LogRows;
import dev.epidemic.dialect.Position;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;

import static dev.epidemic.dialect.Jdbc.inTransaction;

/**
 * Reading the log by snapshot windows (DESIGN.md): a window is every change whose transaction is visible
 * in the new snapshot and was not in the delivered one, handed over in (last id of its transaction, id)
 * order.
 */
final class WindowReader implements Dialect.Reader {
    /** Ticks looked at per window end: more than the largest window a dispatcher asks for spans. */
    private static final int TICKS_CONSIDERED = 64;

    private final String s; // the schema, quoted
    private final String nextWindowEndSql;

    WindowReader(String quotedSchema) {
        this.s = quotedSchema;
        // One statement, so the present and the ticks are read in the same snapshot: a tick counts only if
        // it is later than the delivered snapshot and earlier than the present.
        this.nextWindowEndSql = "WITH now AS (SELECT pg_catalog.pg_current_snapshot() AS snap),"
                + " ticks AS (SELECT t.snap, t.last_id FROM " + s + ".tick t, now"
                + "  WHERE t.snap_xmax > pg_catalog.pg_snapshot_xmax(?::pg_snapshot) AND t.snap_xmax < pg_catalog.pg_snapshot_xmax(now.snap)"
                + "  ORDER BY t.snap_xmax LIMIT " + TICKS_CONSIDERED + ")"
                + " SELECT now.snap::text, (SELECT k.snap::text FROM ticks k WHERE k.last_id <= (SELECT min(f.last_id) FROM ticks f) + ?"
                + "  ORDER BY k.last_id DESC LIMIT 1) FROM now";
    }

    /**
     * The present, unless ticks were recorded between {@code from} and it: then the latest tick that keeps
     * the window to about {@code changes} changes past the first tick. A window ends at a snapshot taken
     * after the delivered one and before the present, so it is a window like any other.
     */
    @Override
    public WindowEnd nextWindowEnd(Connection c, Position from, long changes) throws SQLException {
        // Prepared, so that pgjdbc keeps it prepared on the server: the dispatcher asks before every read.
        try (PreparedStatement ps = c.prepareStatement(nextWindowEndSql)) {
            ps.setString(1, from.delivered());
            ps.setLong(2, changes);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String tick = rs.getString(2);
                return tick != null ? new WindowEnd(tick, false) : new WindowEnd(rs.getString(1), true);
            }
        }
    }

    @Override
    public boolean sameSnapshot(String a, String b) {
        return a.equals(b);
    }

    /**
     * The changes of the window (delivered, upTo]: transactions in [xmax(delivered), xmax(upTo)) plus
     * those that were running at {@code delivered}, in both cases only if committed in {@code upTo}.
     * Both parts are index range or exact look-ups on txid, so a window costs what it contains.
     */
    String windowSql(boolean filtered, String select) {
        // A READ of a backfill goes only to the backfill's targets; the array is computed once per query.
        String filter = (filtered ? " AND l.table_id = ANY (?::int[])" : "")
                + " AND (l.backfill_id IS NULL OR l.backfill_id = ANY (ARRAY(SELECT b.backfill_id FROM " + s + ".backfill_target b WHERE b.consumer = ?)))";
        return "WITH win AS ("
                + " SELECT l.* FROM " + s + ".change_log l"
                + "  WHERE l.txid >= pg_catalog.pg_snapshot_xmax(?::pg_snapshot) AND l.txid < pg_catalog.pg_snapshot_xmax(?::pg_snapshot)"
                + "    AND pg_catalog.pg_visible_in_snapshot(l.txid, ?::pg_snapshot)" + filter
                + " UNION ALL"
                + " SELECT l.* FROM " + s + ".change_log l"
                + "  WHERE l.txid = ANY (ARRAY(SELECT pg_catalog.pg_snapshot_xip(?::pg_snapshot)))"
                + "    AND pg_catalog.pg_visible_in_snapshot(l.txid, ?::pg_snapshot)" + filter
                + "), ordered AS (SELECT w.*, max(w.id) OVER (PARTITION BY w.txid) AS tx_last_id FROM win w) "
                + select;
    }

    static int bindWindow(PreparedStatement ps, String consumer, String delivered, String upTo, int[] tableIds, Connection c) throws SQLException {
        int i = 1;
        Array ids = tableIds == null ? null : c.createArrayOf("integer", Arrays.stream(tableIds).boxed().toArray());
        ps.setString(i++, delivered);
        ps.setString(i++, upTo);
        ps.setString(i++, upTo);
        if (ids != null) {
            ps.setArray(i++, ids);
        }
        ps.setString(i++, consumer);
        ps.setString(i++, delivered);
        ps.setString(i++, upTo);
        if (ids != null) {
            ps.setArray(i++, ids);
        }
        ps.setString(i++, consumer);
        return i;
    }

    @Override
    public void readWindow(Connection c, String consumer, Position position, String upTo, int[] tableIds, int fetchSize, RowSink sink) throws SQLException {
        String sql = windowSql(tableIds != null,
                "SELECT o.id, o.txid::text, o.tx_last_id, coalesce(n.nspname || '.' || cl.relname, t.schema_name || '.' || t.table_name),"
                        + " o.op, o.key::text, o.old::text, o.new::text, o.at, o.table_id, o.filter_mask"
                        // the table's name now, even after a rename that no event trigger followed
                        + " FROM ordered o JOIN " + s + ".watched_table t ON t.id = o.table_id"
                        + " LEFT JOIN pg_catalog.pg_class cl ON cl.oid = t.relid AND t.active"
                        + " LEFT JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace"
                        + " WHERE (o.tx_last_id, o.id) > (?, ?) ORDER BY o.tx_last_id, o.id");
        inTransaction(c, () -> { // a cursor streams only inside a transaction
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = bindWindow(ps, consumer, position.delivered(), upTo, tableIds, c);
                boolean resuming = upTo.equals(position.window());
                ps.setLong(i++, resuming ? position.afterTxLastId() : 0);
                ps.setLong(i, resuming ? position.afterId() : 0);
                ps.setFetchSize(fetchSize);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (!sink.accept(LogRows.readFromLog(rs, 1, Timestamptz.COLUMNS))) {
                            break;
                        }
                    }
                }
            }
        });
    }
}
