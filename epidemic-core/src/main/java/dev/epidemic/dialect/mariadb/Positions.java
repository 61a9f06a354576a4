package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.Consumers;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.Position;
import dev.epidemic.dialect.mariadb.LogState.Gap;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import static dev.epidemic.dialect.Jdbc.queryLong;

/** Consumers' positions: where a new consumer starts (a {@link LogState} with the gaps it must wait for), and storing them. */
final class Positions implements Dialect.PositionStore {
    private final OwnTables own;
    private final Installation installation;
    private final Consumers consumers;
    private final TransactionProbe probe;
    private final WindowReader windows;

    Positions(OwnTables own, Installation installation, Consumers consumers, TransactionProbe probe, WindowReader windows) {
        this.own = own;
        this.installation = installation;
        this.consumers = consumers;
        this.probe = probe;
        this.windows = windows;
    }

    @Override
    public Position open(Connection c, String consumer, boolean startAtPresent) throws SQLException {
        Consumers.requireName(consumer);
        Position stored = storedPosition(c, consumer);
        if (stored != null) {
            return stored;
        }
        LogState start = startState(c, startAtPresent);
        try (PreparedStatement ps = c.prepareStatement("INSERT IGNORE INTO " + own.consumer() + " (name, delivered) VALUES (?, ?)")) {
            ps.setString(1, consumer);
            ps.setString(2, start.text());
            ps.executeUpdate();
        }
        return storedPosition(c, consumer);
    }

    /**
     * Where a new consumer starts. Ids below {@code low} are settled: they were taken before every
     * transaction still running began (or were pruned). Missing ids above it may belong to a running
     * transaction and become gaps.
     */
    LogState startState(Connection c, boolean atPresent) throws SQLException {
        long resolved = queryLong(c, "SELECT resolved_below FROM " + own.logState());
        long low = resolved;
        TransactionProbe.Result fresh = probe.awaitFresh(c);
        if (fresh != null) {
            // 2 s of slack for clocks and whole-second start times.
            try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(id), 0) FROM " + own.changeLog() + " WHERE at < ?")) {
                ps.setLong(1, fresh.oldestStart() - 2);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    low = Math.max(low, rs.getLong(1));
                }
            }
        }
        long lowest = low;
        return WindowReader.consistently(c, () -> {
            long oldest = queryLong(c, "SELECT COALESCE(MIN(id), 0) FROM " + own.changeLog());
            if (!atPresent) {
                return new LogState(oldest == 0 ? lowest : Math.min(lowest, oldest - 1), List.of());
            }
            List<Gap> gaps = new ArrayList<>();
            long max = windows.scanAbove(c, lowest, lowest, gaps);
            return new LogState(max, gaps);
        });
    }

    private Position storedPosition(Connection c, String consumer) throws SQLException {
        return installation.installed(c) ? consumers.position(c, consumer) : null;
    }

    @Override
    public void store(Connection c, String consumer, Position p) throws SQLException {
        consumers.store(c, consumer, p);
    }
}
