package dev.epidemic.dialect.postgres;

import dev.epidemic.dialect.Dialect;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

import static dev.epidemic.dialect.SqlText.quoteIdent;

/**
 * Wake-ups by NOTIFY on a channel named after the schema, sent by writers only while some dispatcher is
 * idle and has asked for one (it is listed in {@code waiting}), so that busy dispatchers cost writers nothing.
 */
final class WakeUps implements Dialect.WakeUpSource {
    private final String schema;
    private final String s; // the schema, quoted

    WakeUps(String schema) {
        this.schema = schema;
        this.s = quoteIdent(schema);
    }

    @Override
    public void request(Connection listener, String consumer) throws SQLException {
        // Registered from the listening backend, so that a dispatcher that died (and took its backend
        // with it) is recognised and removed by the next one that goes idle.
        try (PreparedStatement ps = listener.prepareStatement("INSERT INTO " + s + ".waiting (consumer, pid) VALUES (?, pg_catalog.pg_backend_pid())"
                + " ON CONFLICT (consumer) DO UPDATE SET pid = excluded.pid");
             Statement st = listener.createStatement()) {
            ps.setString(1, consumer);
            ps.executeUpdate();
            st.executeUpdate("DELETE FROM " + s + ".waiting w WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = w.pid)");
        }
    }

    @Override
    public void cancel(Connection listener, String consumer) throws SQLException {
        try (PreparedStatement ps = listener.prepareStatement("DELETE FROM " + s + ".waiting WHERE consumer = ?")) {
            ps.setString(1, consumer);
            ps.executeUpdate();
        }
    }

    @Override
    public void listen(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("LISTEN " + quoteIdent(schema));
        }
    }

    @Override
    public boolean await(Connection c, int millis) throws SQLException {
        PGNotification[] notifications = c.unwrap(PGConnection.class).getNotifications(Math.max(1, millis));
        return notifications != null && notifications.length > 0;
    }

    /** Wakes an idle dispatcher of this schema, which then takes up the replay of its dead letters. */
    void replayRequested(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_notify(?, 'replay')")) {
            ps.setString(1, schema);
            ps.execute();
        }
    }
}
