package dev.epidemic.dialect.postgres;

import java.sql.Connection;
import java.sql.SQLException;

import static dev.epidemic.dialect.Jdbc.queryBoolean;

/** One active dispatcher per consumer, elected by a PostgreSQL advisory lock. */
final class Leadership {
    private final String schema;

    Leadership(String schema) {
        this.schema = schema;
    }

    boolean tryLead(Connection c, String consumer) throws SQLException {
        // A session-level advisory lock: released by the server when the holder's session ends, so a
        // killed dispatcher gives way as soon as its connection is gone.
        return queryBoolean(c, "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended(?, 0))",
                "epidemic consumer " + schema + "." + consumer);
    }
}
