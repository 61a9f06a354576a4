package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.Consumers;

/** MariaDB's consumer table: positions are {@link LogState}s in their text form. */
record ConsumerTable(OwnTables own) implements Consumers.Table {

    @Override
    public String name() {
        return own.consumer();
    }

    @Override
    public String positionColumns() {
        return "delivered, window_state, after_tx_last_id, after_id";
    }

    @Override
    public String setPosition() {
        return "delivered = ?, window_state = ?, after_tx_last_id = ?, after_id = ?, updated_at = CURRENT_TIMESTAMP(6)";
    }
}
