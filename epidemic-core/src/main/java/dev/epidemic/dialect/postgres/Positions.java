package dev.epidemic.dialect.postgres;

import dev.epidemic.dialect.Consumers;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.Position;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

import static dev.epidemic.dialect.Jdbc.execute;

/** Consumers' positions: where a new consumer starts, and storing them cheaply. */
final class Positions implements Dialect.PositionStore {
    private final String s; // the schema, quoted
    private final Consumers consumers;

    Positions(String quotedSchema, Consumers consumers) {
        this.s = quotedSchema;
        this.consumers = consumers;
    }

    @Override
    public Position open(Connection c, String consumer, boolean startAtPresent) throws SQLException {
        Consumers.requireName(consumer);
        // "The oldest retained change": nothing at or after the oldest logged transaction, nor anything
        // still running, counts as delivered.
        String start = startAtPresent
                ? "pg_catalog.pg_current_snapshot()"
                : "(SELECT (m || ':' || m || ':')::pg_snapshot FROM (SELECT least((SELECT l.txid FROM " + s + ".change_log l ORDER BY l.txid LIMIT 1),"
                  + " pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())) AS m) x)"; // min(xid8) exists only from PostgreSQL 15 on
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + s + ".consumer (name, delivered) VALUES (?, " + start
                + ") ON CONFLICT (name) DO NOTHING")) {
            ps.setString(1, consumer);
            ps.executeUpdate();
        }
        return consumers.position(c, consumer);
    }

    @Override
    public void store(Connection c, String consumer, Position p) throws SQLException {
        consumers.store(c, consumer, p);
    }

    /** Positions are stored without waiting for the WAL flush: a position lost in a crash only means redelivery. */
    @Override
    public void prepareCommitter(Connection c) throws SQLException {
        execute(c, "SET synchronous_commit = off");
    }
}
