package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.DeadLetters;

import java.sql.Connection;
import java.sql.SQLException;

import static dev.epidemic.dialect.mariadb.Names.quote;

/** MariaDB's dead-letter table: JSON as LONGTEXT, {@code key} a reserved word, ON DUPLICATE KEY for the upsert. */
record DeadLetterTable(OwnTables own, Installation installation) implements DeadLetters.Table {

    @Override
    public String name() {
        return own.deadLetter();
    }

    @Override
    public boolean exists(Connection c) throws SQLException {
        return installation.installed(c);
    }

    @Override
    public String upsert() {
        return "INSERT INTO " + name() + " (consumer, handler, change_id, txid, table_name, op, `key`, old, new, at, error, attempts,"
                + " first_failure, last_failure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON DUPLICATE KEY UPDATE error = VALUES(error), attempts = attempts + VALUES(attempts),"
                + " last_failure = VALUES(last_failure), replay_requested = FALSE";
    }

    @Override
    public String jsonText(String column) {
        return quote(column);
    }
}
