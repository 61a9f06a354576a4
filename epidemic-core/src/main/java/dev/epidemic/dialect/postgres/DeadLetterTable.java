package dev.epidemic.dialect.postgres;

import dev.epidemic.dialect.DeadLetters;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * PostgreSQL's dead-letter table: version 2 of Epidemic's schema, JSON as {@code jsonb}, op as
 * {@code "char"}; a replay request wakes idle dispatchers by NOTIFY.
 */
record DeadLetterTable(String quotedSchema, OwnSchema own, WakeUps wakeUps) implements DeadLetters.Table {

    @Override
    public String name() {
        return quotedSchema + ".dead_letter";
    }

    @Override
    public boolean exists(Connection c) throws SQLException {
        return own.installedVersion(c) >= 2;
    }

    @Override
    public String upsert() {
        return "INSERT INTO " + name() + " (consumer, handler, change_id, txid, table_name, op, key, old, new, at, error, attempts,"
                + " first_failure, last_failure) VALUES (?, ?, ?, ?, ?, ?::\"char\", ?::jsonb, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (consumer, handler, change_id) DO UPDATE SET error = excluded.error,"
                + " attempts = " + name() + ".attempts + excluded.attempts, last_failure = excluded.last_failure,"
                + " replay_requested = false";
    }

    @Override
    public String jsonText(String column) {
        return column + "::text";
    }

    @Override
    public void replayRequested(Connection c) throws SQLException {
        wakeUps.replayRequested(c);
    }
}
