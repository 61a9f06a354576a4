package dev.epidemic.dialect.postgres;

import dev.epidemic.dialect.Consumers;

/** PostgreSQL's consumer table: positions are {@code pg_snapshot}s, kept as the database's text form. */
record ConsumerTable(String quotedSchema) implements Consumers.Table {

    @Override
    public String name() {
        return quotedSchema + ".consumer";
    }

    @Override
    public String positionColumns() {
        return "delivered::text, window_snapshot::text, after_tx_last_id, after_id";
    }

    @Override
    public String setPosition() {
        return "delivered = ?::pg_snapshot, window_snapshot = ?::pg_snapshot, after_tx_last_id = ?, after_id = ?, updated_at = now()";
    }
}
