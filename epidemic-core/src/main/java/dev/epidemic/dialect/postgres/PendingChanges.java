package dev.epidemic.dialect.postgres;

import dev.epidemic.dialect.Consumers;
import dev.epidemic.dialect.Position;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/** What a consumer has not been handed yet, for status: counted by snapshot visibility, as a window is read. */
final class PendingChanges implements Consumers.Pending {
    private final String s; // the schema, quoted
    private final WindowReader windows;

    PendingChanges(String quotedSchema, WindowReader windows) {
        this.s = quotedSchema;
        this.windows = windows;
    }

    /** The changes not yet handed over: those not visible in the delivered snapshot, less what of the window in hand was. */
    @Override
    public Consumers.Backlog of(Connection c, String consumer, Position p) throws SQLException {
        long pending;
        Instant oldest;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*), min(l.at) FROM " + s + ".change_log l"
                + " WHERE l.txid >= pg_catalog.pg_snapshot_xmin(?::pg_snapshot) AND NOT pg_catalog.pg_visible_in_snapshot(l.txid, ?::pg_snapshot)"
                + "   AND (l.backfill_id IS NULL OR l.backfill_id IN (SELECT b.backfill_id FROM " + s + ".backfill_target b WHERE b.consumer = ?))")) {
            ps.setString(1, p.delivered());
            ps.setString(2, p.delivered());
            ps.setString(3, consumer);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                pending = rs.getLong(1);
                oldest = Timestamptz.COLUMNS.get(rs, 2);
            }
        }
        if (p.window() != null && pending > 0) {
            // Changes of the window in hand that were already handed over are not pending.
            try (PreparedStatement ps = c.prepareStatement(windows.windowSql(false,
                    "SELECT count(*) FILTER (WHERE (o.tx_last_id, o.id) <= (?, ?)), min(o.at) FILTER (WHERE (o.tx_last_id, o.id) > (?, ?)) FROM ordered o"))) {
                int i = WindowReader.bindWindow(ps, consumer, p.delivered(), p.window(), null, c);
                ps.setLong(i++, p.afterTxLastId());
                ps.setLong(i++, p.afterId());
                ps.setLong(i++, p.afterTxLastId());
                ps.setLong(i, p.afterId());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    pending -= rs.getLong(1);
                }
            }
        }
        return new Consumers.Backlog(pending, oldest);
    }
}
