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
     * MariaDB's: PostgreSQL's mix without TRUNCATE, which MariaDB's triggers cannot see. (It was a lighter
     * mix until the consumer kept gaps as runs and stopped filtering them in SQL: under 10,000-row bulk
     * statements its window query had slowed to tens of seconds.)
     */
    public static Mix mariaDb() {
        return defaults().withoutTruncate();
    }

    /** The same mix with no TRUNCATE, for a database whose capture cannot see one. */
    public Mix withoutTruncate() {
        return new Mix(rollback, 0, bulk, longTx, paceMillis, bulkRows);
    }
}
