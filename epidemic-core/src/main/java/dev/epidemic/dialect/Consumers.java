package dev.epidemic.dialect;

import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The consumer table, the same on every database but for the {@link Table} seam: each consumer's name and
 * durable position, and the status built from them. Creating a consumer is the database's own (where a new
 * consumer starts is a snapshot on PostgreSQL, a log state on MariaDB).
 */
public final class Consumers {

    /** How one database spells its consumer table. */
    public interface Table {
        /** The table's name, qualified and quoted. */
        String name();

        /** The select list of a position: delivered, window (text), after_tx_last_id, after_id. */
        String positionColumns();

        /**
         * The SET list that stores a position from four parameters (delivered, window, after_tx_last_id,
         * after_id) and stamps updated_at.
         */
        String setPosition();
    }

    /** A consumer and its position. */
    public record Stored(String name, Position position) {
    }

    /** What of the log a position has not handed over yet. */
    @FunctionalInterface
    public interface Pending {
        Backlog of(Connection c, String consumer, Position position) throws SQLException;
    }

    /** How many changes are pending, and when the oldest of them was logged (null when none is). */
    public record Backlog(long count, Instant oldest) {
    }

    private final Table table;

    public Consumers(Table table) {
        this.table = table;
    }

    /** Refuses an empty consumer name before anything is stored under it. */
    public static void requireName(String consumer) {
        if (consumer == null || consumer.isBlank()) {
            throw new InvalidInputException("consumer name is empty");
        }
    }

    /** The stored position of {@code consumer}, or null when there is no such consumer. */
    public Position position(Connection c, String consumer) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + table.positionColumns() + " FROM " + table.name() + " WHERE name = ?")) {
            ps.setString(1, consumer);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? position(rs, 1) : null;
            }
        }
    }

    public void store(Connection c, String consumer, Position p) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + table.name() + " SET " + table.setPosition() + " WHERE name = ?")) {
            ps.setString(1, p.delivered());
            ps.setString(2, p.window());
            if (p.window() == null) {
                ps.setNull(3, Types.BIGINT);
                ps.setNull(4, Types.BIGINT);
            } else {
                ps.setLong(3, p.afterTxLastId());
                ps.setLong(4, p.afterId());
            }
            ps.setString(5, consumer);
            // MariaDB counts only the rows it changed: a position stored again unchanged counts none.
            if (ps.executeUpdate() != 1 && position(c, consumer) == null) {
                throw new EpidemicException("consumer " + consumer + " disappeared while it was running");
            }
        }
    }

    /** Every consumer, by name. */
    public List<Stored> all(Connection c) throws SQLException {
        List<Stored> result = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT name, " + table.positionColumns() + " FROM " + table.name() + " ORDER BY name")) {
            while (rs.next()) {
                result.add(new Stored(rs.getString(1), position(rs, 2)));
            }
        }
        return result;
    }

    /** Per consumer, by name, its pending count and the age of its oldest pending change. */
    public List<ConsumerStatus> status(Connection c, Pending pending) throws SQLException {
        List<ConsumerStatus> result = new ArrayList<>();
        for (Stored consumer : all(c)) {
            Backlog backlog = pending.of(c, consumer.name(), consumer.position());
            Duration age = backlog.count() == 0 || backlog.oldest() == null ? null : Duration.between(backlog.oldest(), Instant.now());
            result.add(new ConsumerStatus(consumer.name(), backlog.count(), age));
        }
        return result;
    }

    private static Position position(ResultSet rs, int first) throws SQLException {
        return new Position(rs.getString(first), rs.getString(first + 1), rs.getLong(first + 2), rs.getLong(first + 3));
    }
}
