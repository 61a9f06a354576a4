package dev.epidemic.dialect.mariadb;

import dev.epidemic.api.EpidemicException;
import dev.epidemic.dialect.Jdbc;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;

import static dev.epidemic.dialect.Jdbc.queryBoolean;

/**
 * MariaDB's named locks (GET_LOCK): one active dispatcher per consumer, and one install at a time. They
 * belong to the session, so the server releases them when their holder's connection ends, and they are
 * re-entrant.
 */
final class NamedLocks {
    private final OwnTables own;

    NamedLocks(OwnTables own) {
        this.own = own;
    }

    /** Makes this session the consumer's only active dispatcher; false when another session is. */
    boolean tryLead(Connection c, String consumer) throws SQLException {
        return queryBoolean(c, "SELECT GET_LOCK(?, 0) = 1", name("consumer " + consumer));
    }

    /** Makes this session the only one running the backfill; false when another session runs it. */
    boolean tryRunBackfill(Connection c, long backfill) throws SQLException {
        return queryBoolean(c, "SELECT GET_LOCK(?, 0) = 1", name("backfill " + backfill));
    }

    void releaseBackfill(Connection c, long backfill) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DO RELEASE_LOCK(?)")) {
            ps.setString(1, name("backfill " + backfill));
            ps.execute();
        }
    }

    /** Runs {@code work} while no other session begins a backfill: two runs of one command must not both start a new one. */
    <T> T whileBeginningBackfill(Connection c, Jdbc.SqlWork<T> work) throws SQLException {
        return holding(c, name("backfill begin"), "another process is starting a backfill in " + own.database() + "; try again", work);
    }

    /** Runs {@code work} while no other process installs or watches in this database. */
    <T> T whileInstalling(Connection c, Jdbc.SqlWork<T> work) throws SQLException {
        return holding(c, name("install"), "another process is installing Epidemic in " + own.database() + "; try again", work);
    }

    private static <T> T holding(Connection c, String name, String busy, Jdbc.SqlWork<T> work) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT GET_LOCK(?, 60)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getInt(1) != 1) {
                    throw new EpidemicException(busy);
                }
            }
        }
        try {
            return work.run();
        } finally {
            try (PreparedStatement ps = c.prepareStatement("DO RELEASE_LOCK(?)")) {
                ps.setString(1, name);
                ps.execute();
            }
        }
    }

    /**
     * A lock of this database's Epidemic. Named locks are the server's, not a database's, so the name
     * carries the database. Lock names are at most 64 characters: longer ones are hashed, which keeps
     * them distinct.
     */
    private String name(String purpose) {
        String name = "epidemic " + own.database() + "." + own.schema() + " " + purpose;
        if (name.length() <= 64) {
            return name;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return "epidemic " + HexFormat.of().formatHex(digest).substring(0, 48);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
