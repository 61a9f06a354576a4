package dev.epidemic.dialect.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** One active dispatcher per consumer, elected by a PostgreSQL advisory lock. */
final class Leadership {
    private final String schema;

    Leadership(String schema) {
        this.schema = schema;
    }

    boolean tryLead(Connection c, String consumer) throws SQLException {
        // A session-level advisory lock: released by the server when the holder's session ends, so a
        // killed dispatcher gives way as soon as its connection is gone.
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended(?, 0))")) {
            ps.setString(1, "epidemic consumer " + schema + "." + consumer);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
