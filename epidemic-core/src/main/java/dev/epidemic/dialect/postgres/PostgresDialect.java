package dev.epidemic.dialect.postgres;

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

import static dev.epidemic.dialect.SqlText.quoteIdent;

/**
 * PostgreSQL 13+: capture by generated triggers into a slotted change log ({@link Capture}, in Epidemic's
 * own schema, {@link OwnSchema}), reading by snapshot windows ({@link WindowReader}, see DESIGN.md),
 * wake-ups by NOTIFY sent only when an idle dispatcher asked for one ({@link WakeUps}), one dispatcher per
 * consumer by advisory lock ({@link Leadership}), and the bookkeeping: {@link Positions}, status
 * ({@link PendingChanges}), dead letters and {@link Pruning}. This class only wires them up.
 */
public final class PostgresDialect implements Dialect {
    /** The partitions of the change log, rotated and truncated by prune. */
    static final int SLOTS = 3;

    private final OwnSchema own;
    private final Capture capture;
    private final WindowReader windows;
    private final Positions positions;
    private final Consumers consumers;
    private final PendingChanges pending;
    private final WakeUps wakeUps;
    private final Leadership leadership;
    private final DeadLetters deadLetters;
    private final Pruning pruning;
    private final BackfillChunks backfills;

    public PostgresDialect(String schema) {
        String s = quoteIdent(schema);
        this.own = new OwnSchema(schema);
        this.capture = new Capture(schema, own);
        this.windows = new WindowReader(s);
        this.consumers = new Consumers(new ConsumerTable(s));
        this.positions = new Positions(s, consumers);
        this.pending = new PendingChanges(s, windows);
        this.wakeUps = new WakeUps(schema);
        this.leadership = new Leadership(schema);
        this.deadLetters = new DeadLetters(new DeadLetterTable(s, own, wakeUps), Timestamptz.COLUMNS);
        this.pruning = new Pruning(s);
        this.backfills = new BackfillChunks(schema, own);
    }

    // ---------------------------------------------------------------- install and capture

    @Override
    public void install(Connection c) throws SQLException {
        own.install(c);
    }

    @Override
    public WatchedTable checkWatch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        return capture.checkWatch(c, table, columns, keyColumns);
    }

    @Override
    public WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        return capture.watch(c, table, columns, keyColumns);
    }

    @Override
    public WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns, String where) throws SQLException {
        return capture.watch(c, table, columns, keyColumns, where);
    }

    @Override
    public void checkWhere(Connection c, String table, String where) throws SQLException {
        capture.checkWhere(c, table, where);
    }

    @Override
    public void registerFilters(Connection c, String consumer, Map<String, Set<String>> byTable) throws SQLException {
        capture.registerFilters(c, consumer, byTable);
    }

    @Override
    public Map<String, Integer> filterBits(Connection c, int tableId) throws SQLException {
        return capture.filterBits(c, tableId);
    }

    @Override
    public boolean unwatch(Connection c, String table, boolean purge) throws SQLException {
        return capture.unwatch(c, table, purge);
    }

    @Override
    public List<WatchedTable> list(Connection c) throws SQLException {
        return capture.list(c);
    }

    @Override
    public WatchedTable watched(Connection c, String table) throws SQLException {
        return capture.watched(c, table);
    }

    @Override
    public int[] tableIds(Connection c, List<String> tables) throws SQLException {
        return capture.tableIds(c, tables);
    }

    @Override
    public List<String> captureProblems(Connection c) throws SQLException {
        return capture.captureProblems(c);
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
        return wakeUps;
    }

    @Override
    public boolean tryLead(Connection c, String consumer) throws SQLException {
        return leadership.tryLead(c, consumer);
    }

    // ---------------------------------------------------------------- bookkeeping

    @Override
    public DeadLetters deadLetters() {
        return deadLetters;
    }

    @Override
    public List<ConsumerStatus> status(Connection c) throws SQLException {
        return own.installed(c) ? consumers.status(c, pending) : List.of();
    }

    @Override
    public PruneResult prune(Connection c) throws SQLException {
        return own.installed(c) ? pruning.prune(c) : new PruneResult(0, 0, 0);
    }
}
