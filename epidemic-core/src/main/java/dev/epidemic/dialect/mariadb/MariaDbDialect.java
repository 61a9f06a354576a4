package dev.epidemic.dialect.mariadb;

import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.PruneResult;
import dev.epidemic.api.WatchedTable;
import dev.epidemic.dialect.Consumers;
import dev.epidemic.dialect.DeadLetters;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.Position;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MariaDB 10.6+: capture by generated AFTER triggers ({@link Capture}, watched through the {@link Registry}
 * after the {@link Catalog} was checked) into a log kept in the application's own database
 * ({@link OwnTables}, created by {@link Installation}); reading by polling, with the gaps in the log's ids
 * tracked until they fill or can never fill ({@link WindowReader}, {@link LogState}); one dispatcher per
 * consumer by named lock ({@link NamedLocks}); and the bookkeeping: {@link Positions}, status
 * ({@link PendingChanges}), dead letters and {@link Pruning}; and backfills, in locked key-range chunks
 * ({@link BackfillChunks}). This class only wires them up.
 *
 * <p>The log is a system-versioned table with transaction-precise row starts: InnoDB itself stamps each
 * logged change with its writer's transaction id, which keeps a transaction's changes together. TRUNCATE
 * and foreign-key cascades fire no trigger; {@link #watch} says so in the table's warnings.
 */
public final class MariaDbDialect implements Dialect {
    private final Installation installation;
    private final Registry registry;
    private final WindowReader windows;
    private final Positions positions;
    private final Consumers consumers;
    private final PendingChanges pending;
    private final BackfillChunks backfills;
    private final NamedLocks locks;
    private final Polling polling = new Polling();
    private final DeadLetters deadLetters;
    private final Pruning pruning;

    /**
     * @param database the application's database, the one the JDBC URL names: its tables are the ones
     *                 captured, and Epidemic's own tables are kept in it
     * @param schema   the prefix of Epidemic's table names ({@code epidemic} makes {@code epidemic_change_log})
     */
    public MariaDbDialect(String database, String schema) {
        OwnTables own = new OwnTables(database, schema);
        TransactionProbe probe = new TransactionProbe(own);
        this.locks = new NamedLocks(own);
        this.installation = new Installation(own, locks);
        Catalog catalog = new Catalog(own);
        this.registry = new Registry(own, installation, locks, catalog, new Capture(own));
        this.windows = new WindowReader(own, probe);
        this.consumers = new Consumers(new ConsumerTable(own));
        this.positions = new Positions(own, installation, consumers, probe, windows);
        this.pending = new PendingChanges(own, windows, installation);
        this.backfills = new BackfillChunks(own, installation, registry, catalog, locks, positions);
        this.deadLetters = new DeadLetters(new DeadLetterTable(own, installation), EpochSeconds.COLUMNS);
        this.pruning = new Pruning(own, consumers);
    }

    // ---------------------------------------------------------------- install and capture

    @Override
    public void install(Connection c) throws SQLException {
        installation.install(c);
    }

    @Override
    public WatchedTable checkWatch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        return registry.checkWatch(c, table, columns, keyColumns);
    }

    @Override
    public WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        return registry.watch(c, table, columns, keyColumns);
    }

    @Override
    public WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns, String where) throws SQLException {
        return registry.watch(c, table, columns, keyColumns, where);
    }

    @Override
    public void checkWhere(Connection c, String table, String where) throws SQLException {
        registry.checkWhere(c, table, where);
    }

    @Override
    public void registerFilters(Connection c, String consumer, Map<String, Set<String>> byTable) throws SQLException {
        registry.registerFilters(c, consumer, byTable);
    }

    @Override
    public Map<String, Integer> filterBits(Connection c, int tableId) throws SQLException {
        return registry.filterBits(c, tableId);
    }

    @Override
    public boolean unwatch(Connection c, String table, boolean purge) throws SQLException {
        return registry.unwatch(c, table, purge);
    }

    @Override
    public List<WatchedTable> list(Connection c) throws SQLException {
        return registry.list(c);
    }

    @Override
    public WatchedTable watched(Connection c, String table) throws SQLException {
        return registry.watched(c, table);
    }

    @Override
    public List<String> captureProblems(Connection c) throws SQLException {
        return registry.captureProblems(c);
    }

    @Override
    public List<String> repairCapture(Connection c) throws SQLException {
        return registry.repairCapture(c);
    }

    @Override
    public String repairCommand(Connection c, int tableId) throws SQLException {
        return registry.repairCommand(c, tableId);
    }

    @Override
    public int[] tableIds(Connection c, List<String> tables) throws SQLException {
        return registry.tableIds(c, tables);
    }

    // ---------------------------------------------------------------- reading, positions, wake-ups and leadership

    @Override
    public Reader reader() {
        return windows;
    }

    @Override
    public PositionStore positions() {
        return positions;
    }

    @Override
    public Dialect.Backfills backfills() {
        return backfills;
    }

    @Override
    public WakeUpSource wakeUps() {
        return polling;
    }

    @Override
    public boolean tryLead(Connection c, String consumer) throws SQLException {
        return locks.tryLead(c, consumer);
    }

    // ---------------------------------------------------------------- bookkeeping

    @Override
    public DeadLetters deadLetters() {
        return deadLetters;
    }

    @Override
    public List<ConsumerStatus> status(Connection c) throws SQLException {
        return installation.installed(c) ? consumers.status(c, pending) : List.of();
    }

    @Override
    public PruneResult prune(Connection c) throws SQLException {
        return installation.installed(c) ? pruning.prune(c) : new PruneResult(0, 0, 0);
    }
}
