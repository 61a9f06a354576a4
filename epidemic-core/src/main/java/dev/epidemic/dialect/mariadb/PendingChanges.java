package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.Consumers;
import dev.epidemic.dialect.Position;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;

/** What a consumer has not been handed yet, for status: counted by its log state, as a window is read (with only its own backfills' READs). */
final class PendingChanges implements Consumers.Pending {
    private final OwnTables own;
    private final WindowReader windows;
    private final Installation installation;

    PendingChanges(OwnTables own, WindowReader windows, Installation installation) {
        this.own = own;
        this.windows = windows;
        this.installation = installation;
    }

    /** The changes not yet handed over: above the mark or in a gap, less what of the window in hand was. */
    @Override
    public Consumers.Backlog of(Connection c, String consumer, Position p) throws SQLException {
        LogState state = LogState.parse(p.delivered());
        String forConsumer = installation.installedVersion(c) >= 3 ? consumer : null; // status need not migrate the log first
        // Backfills' READs count only for their targets.
        String pendingRows = "SELECT l.id, l.at FROM " + own.changeLog() + " l WHERE (l.id > " + state.highWater()
                + (state.gaps().isEmpty() ? "" : " OR " + state.gapCondition("l.id")) + ")" + windows.forConsumer("l", forConsumer);
        long pending;
        Instant oldest;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*), MIN(x.at) FROM (" + pendingRows + ") x")) {
            rs.next();
            pending = rs.getLong(1);
            oldest = EpochSeconds.COLUMNS.get(rs, 2);
        }
        if (p.window() != null && pending > 0) {
            // Changes of the window in hand that were already handed over are not pending.
            LogState end = LogState.parse(p.window());
            String window = windows.windowRows(state, end, null, forConsumer, installation.installedVersion(c) >= 4); // no mask before version 4
            try (PreparedStatement ps = c.prepareStatement("SELECT w.id FROM (" + window + ") w WHERE w.tx_last_id < ? OR (w.tx_last_id = ? AND w.id <= ?)")) {
                ps.setLong(1, p.afterTxLastId());
                ps.setLong(2, p.afterTxLastId());
                ps.setLong(3, p.afterId());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        pending -= WindowReader.inWindow(end, rs.getLong(1)) ? 1 : 0;
                    }
                }
            }
        }
        return new Consumers.Backlog(pending, oldest);
    }
}
