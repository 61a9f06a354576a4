package dev.epidemic.dialect.mariadb;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.queryBoolean;
import static dev.epidemic.dialect.Jdbc.queryLong;

/** Creates Epidemic's tables in the application's database ({@link OwnTables}), and tells whether they are there. */
final class Installation {
    private static final Logger log = LoggerFactory.getLogger(Installation.class);
    /** 1: the tables; 2: watched_table.all_columns, and capture that survives schema changes; 3: backfills; 4: row filters. */
    static final int VERSION = 4;
    /** Binary collation: consumer and handler names are compared exactly, as on PostgreSQL. */
    private static final String TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

    private final OwnTables own;
    private final NamedLocks locks;

    Installation(OwnTables own, NamedLocks locks) {
        this.own = own;
        this.locks = locks;
    }

    /** Creates the tables; does nothing (and needs no DDL rights) when they are current. */
    void install(Connection c) throws SQLException {
        if (installedVersion(c) == VERSION) {
            return;
        }
        ServerCheck.requireMariaDb(c);
        locks.whileInstalling(c, () -> {
            if (installedVersion(c) == VERSION) {
                return null;
            }
            // MariaDB commits DDL at once: each statement is written to be re-runnable after a failure.
            // The tables set their character set, whatever the application's database defaults to.
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.watchedTable() + " (id INT AUTO_INCREMENT PRIMARY KEY,"
                    + " schema_name VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL, key_columns LONGTEXT NOT NULL,"
                    + " columns LONGTEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE,"
                    + " installed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), UNIQUE KEY (schema_name, table_name)) " + TABLE_OPTIONS);
            // Version 2. all_columns: whether every column was asked for (columns then lists those of the last
            // watch), so that a column added later is reported; NULL for a table watched by version 1, whose
            // triggers make the application's writes fail once a captured column is renamed or dropped.
            execute(c, "ALTER TABLE " + own.watchedTable() + " ADD COLUMN IF NOT EXISTS all_columns BOOLEAN NULL");
            // trx: the writer's InnoDB transaction id, stamped by the server (transaction-precise versioning).
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.changeLog() + " (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                    + " table_id INT NOT NULL, op CHAR(1) NOT NULL, `key` LONGTEXT, old LONGTEXT, new LONGTEXT, at DECIMAL(17,6) NOT NULL,"
                    + " trx BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE,"
                    + " trx_end BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,"
                    + " PERIOD FOR SYSTEM_TIME(trx, trx_end)) " + TABLE_OPTIONS + " WITH SYSTEM VERSIONING");
            // resolved_below: every id up to it has committed or can never commit (prune keeps it).
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.logState() + " (singleton TINYINT PRIMARY KEY, resolved_below BIGINT NOT NULL) " + TABLE_OPTIONS);
            execute(c, "INSERT IGNORE INTO " + own.logState() + " VALUES (1, 0)");
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.consumer() + " (name VARCHAR(255) PRIMARY KEY, delivered LONGTEXT NOT NULL,"
                    + " window_state LONGTEXT, after_tx_last_id BIGINT, after_id BIGINT,"
                    + " created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
                    + " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) " + TABLE_OPTIONS);
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.probe() + " (conn BIGINT UNSIGNED PRIMARY KEY, n BIGINT NOT NULL) " + TABLE_OPTIONS);
            // Changes a handler kept failing on, with the change itself (its log row may be pruned meanwhile).
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.deadLetter() + " (id BIGINT AUTO_INCREMENT PRIMARY KEY, consumer VARCHAR(255) NOT NULL,"
                    + " handler VARCHAR(255) NOT NULL, change_id BIGINT NOT NULL, txid BIGINT UNSIGNED NOT NULL, table_name VARCHAR(130) NOT NULL,"
                    + " op CHAR(1) NOT NULL, `key` LONGTEXT, old LONGTEXT, new LONGTEXT, at DECIMAL(17,6) NOT NULL, error LONGTEXT NOT NULL,"
                    + " attempts INT NOT NULL, first_failure DECIMAL(17,6) NOT NULL, last_failure DECIMAL(17,6) NOT NULL,"
                    + " replay_requested BOOLEAN NOT NULL DEFAULT FALSE, UNIQUE KEY (consumer, handler, change_id)) " + TABLE_OPTIONS);
            // Version 3: backfills. A log row with a backfill_id is a READ of that backfill, delivered only to the
            // consumers in backfill_target. The log is system-versioned: altering it needs the history kept.
            execute(c, "SET STATEMENT system_versioning_alter_history = KEEP FOR ALTER TABLE " + own.changeLog()
                    + " ADD COLUMN IF NOT EXISTS backfill_id INT NULL");
            // after_key: the key of the last row logged (a JSON array of its values as text), NULL before the
            // first chunk; requested: the consumers named when it started (a sorted JSON array), NULL for every one.
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.backfill() + " (id INT AUTO_INCREMENT PRIMARY KEY, table_id INT NOT NULL,"
                    + " row_filter LONGTEXT NULL, requested LONGTEXT NULL, started_by VARCHAR(255) NULL, after_key LONGTEXT NULL,"
                    + " rows_done BIGINT NOT NULL DEFAULT 0, rows_estimate BIGINT NULL, started_at DECIMAL(17,6) NOT NULL,"
                    + " updated_at DECIMAL(17,6) NOT NULL, finished_at DECIMAL(17,6) NULL) " + TABLE_OPTIONS);
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.backfillTarget() + " (backfill_id INT NOT NULL, consumer VARCHAR(255) NOT NULL,"
                    + " PRIMARY KEY (consumer, backfill_id)) " + TABLE_OPTIONS);
            // Version 4: row filters (docs/row-filters.md). filter_mask: the filters a log row matched, bit by bit,
            // NULL when its table had none; filter_owner: who registered which condition (registrant '' for
            // watch --where, predicate '' for a handler without a filter); row_filter: each table's filters and bits.
            execute(c, "SET STATEMENT system_versioning_alter_history = KEEP FOR ALTER TABLE " + own.changeLog()
                    + " ADD COLUMN IF NOT EXISTS filter_mask BIGINT NULL");
            execute(c, "ALTER TABLE " + own.watchedTable() + " ADD COLUMN IF NOT EXISTS next_filter_bit TINYINT NOT NULL DEFAULT 0");
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.filterOwner() + " (table_id INT NOT NULL, registrant VARCHAR(255) NOT NULL,"
                    + " predicate LONGTEXT NOT NULL, predicate_hash CHAR(64) NOT NULL, PRIMARY KEY (table_id, registrant, predicate_hash)) " + TABLE_OPTIONS);
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.rowFilter() + " (table_id INT NOT NULL, bit TINYINT NOT NULL, predicate LONGTEXT NOT NULL,"
                    + " PRIMARY KEY (table_id, bit)) " + TABLE_OPTIONS);
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.schemaVersion() + " (version INT PRIMARY KEY,"
                    + " applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) " + TABLE_OPTIONS);
            execute(c, "INSERT IGNORE INTO " + own.schemaVersion() + " (version) VALUES (" + VERSION + ")");
            log.info("Installed Epidemic's tables {}_* in {} version {}", own.schema(), own.database(), VERSION);
            return null;
        });
    }

    int installedVersion(Connection c) throws SQLException {
        if (!installed(c)) {
            return 0;
        }
        return (int) queryLong(c, "SELECT COALESCE(MAX(version), 0) FROM " + own.schemaVersion());
    }

    boolean installed(Connection c) throws SQLException {
        return queryBoolean(c, "SELECT COUNT(*) > 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                own.database(), own.name("schema_version"));
    }

    /** Drops every table of Epidemic's, after a first watch that failed half-way. */
    void uninstall(Connection c) throws SQLException {
        for (String table : OwnTables.TABLES) {
            execute(c, "DROP TABLE IF EXISTS " + own.quoted(table));
        }
    }
}
