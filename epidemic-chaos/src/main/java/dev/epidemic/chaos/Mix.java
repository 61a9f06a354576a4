package dev.epidemic.chaos;

/**
 * What the writers do, as probabilities per transaction.
 *
 * @param rollback  a transaction is rolled back instead of committed
 * @param truncate  a transaction is a TRUNCATE of the whole table (every writer's rows)
 * @param bulk      a transaction is one statement of {@code bulkRows} rows (insert, or update or delete of all of the writer's rows)
 * @param longTx    a transaction stays open for seconds between its statements
 * @param paceMillis mean pause between a writer's transactions
 * @param bulkRows  rows of a bulk statement
 */
public record Mix(double rollback, double truncate, double bulk, double longTx, int paceMillis, int bulkRows) {
    public static final int BULK_ROWS = 10_000;

    public static Mix defaults() {
        return new Mix(0.10, 0.0004, 0.002, 0.005, 10, BULK_ROWS);
    }

    /**
     * MariaDB's: no TRUNCATE (not captured), fewer transactions and bulk statements of 1,000 rows. With
     * PostgreSQL's mix the writers commit some 60,000 changes a second, mostly in bulk statements, which
     * the MariaDB consumer cannot read as fast (docs/reliability.md): the run would measure its backlog,
     * not its faults.
     */
    public static Mix mariaDb() {
        return new Mix(0.10, 0, 0.003, 0.005, 50, 1_000);
    }

    /** The same mix with no TRUNCATE, for a database whose capture cannot see one. */
    public Mix withoutTruncate() {
        return new Mix(rollback, 0, bulk, longTx, paceMillis, bulkRows);
    }
}
