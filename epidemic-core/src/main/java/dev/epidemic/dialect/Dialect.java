package dev.epidemic.dialect;

import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.PruneResult;
import dev.epidemic.api.WatchedTable;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything that differs between databases: all SQL lives behind this interface, one implementation
 * per database. The engine only sequences the calls. Its parts follow the data path: capture, reading
 * ({@link Reader}), positions ({@link PositionStore}), wake-ups ({@link WakeUpSource}) and leadership, and the
 * bookkeeping (dead letters, status, prune).
 */
public interface Dialect {

    /** Creates or migrates Epidemic's own schema; does nothing (and needs no DDL rights) when current. */
    void install(Connection connection) throws SQLException;

    /** Installs or changes capture on a table (no DDL when nothing differs); {@code columns} and {@code keyColumns} may be empty for "all" and "the primary key". */
    WatchedTable watch(Connection connection, String table, List<String> columns, List<String> keyColumns) throws SQLException;

    /**
     * As {@link #watch}, and makes {@code where} the table's table-wide row filter (null: none, removing one
     * it had), checked first (docs/row-filters.md). The base of a dialect without row filters refuses one.
     */
    default WatchedTable watch(Connection connection, String table, List<String> columns, List<String> keyColumns, String where)
            throws SQLException {
        if (where != null) {
            throw new InvalidInputException("row filters (--where) are not supported on this database");
        }
        return watch(connection, table, columns, keyColumns);
    }

    /** Checks that {@code where} may be a row filter of {@code table}, changing nothing; an input error otherwise. */
    default void checkWhere(Connection connection, String table, String where) throws SQLException {
        throw new InvalidInputException("row filters (where) are not supported on this database");
    }

    /**
     * Replaces the row filters that {@code consumer}'s handlers registered with those of {@code byTable}
     * (watched table to its handlers' conditions, {@link #EVERY_ROW} for a handler without one); what it
     * registered on other tables goes. Each condition is checked first, and the capture of each table whose
     * filters change is regenerated, all in one transaction. Writes nothing when nothing changes.
     */
    default void registerFilters(Connection connection, String consumer, Map<String, Set<String>> byTable) throws SQLException {
        if (byTable.values().stream().flatMap(Set::stream).anyMatch(p -> !p.equals(EVERY_ROW))) {
            throw new InvalidInputException("row filters are not supported on this database");
        }
    }

    /** The bit of each row filter of the table registered as {@code tableId} in the filter masks of its log rows, by predicate. */
    default Map<String, Integer> filterBits(Connection connection, int tableId) throws SQLException {
        return Map.of();
    }

    /** The predicate that stands for a handler without a row filter in {@link #registerFilters}. */
    String EVERY_ROW = "";

    /**
     * What {@link #watch} would capture on a table, checked against the catalog without changing
     * anything (no DDL, no lock beyond a catalog read): an unknown table or column is an input error.
     */
    WatchedTable checkWatch(Connection connection, String table, List<String> columns, List<String> keyColumns) throws SQLException;

    /** Removes capture from a table; with {@code purge} also its logged changes. False when it was not watched. */
    boolean unwatch(Connection connection, String table, boolean purge) throws SQLException;

    List<WatchedTable> list(Connection connection) throws SQLException;

    /** The capture installed on a table, or null when it is not watched; an unknown table is an input error. */
    WatchedTable watched(Connection connection, String table) throws SQLException;

    /** Resolves table names to the ids the log uses; an unwatched table is an input error. */
    int[] tableIds(Connection connection, List<String> tables) throws SQLException;

    /**
     * Watched tables whose capture is broken (its table, a trigger or a captured column gone), one
     * message each, naming the table and the command that repairs it; empty when all is well.
     */
    default List<String> captureProblems(Connection connection) throws SQLException {
        return List.of();
    }

    /**
     * Regenerates the capture of watched tables that a schema change left incomplete and that need no
     * decision to repair (capture of every column, after one was added, renamed or dropped), as
     * {@code watch} with the same arguments would; one line for each table repaired. A missing right is no
     * error: that table stays in {@link #captureProblems}.
     */
    default List<String> repairCapture(Connection connection) throws SQLException {
        return List.of();
    }

    /**
     * The command that makes the capture of the table registered as {@code tableId} complete again (for
     * a {@link LogRow#NOT_CAPTURED} marker), or null when there is none to give.
     */
    default String repairCommand(Connection connection, int tableId) throws SQLException {
        return null;
    }

    /** Reading the log in windows. */
    Reader reader();

    /** Consumers' durable positions. */
    PositionStore positions();

    /** Backfills: the rows a table already holds, logged as READ changes for some consumers. */
    Backfills backfills();

    /** How an idle dispatcher learns that something was logged. */
    WakeUpSource wakeUps();

    /**
     * Makes this connection's session the consumer's only active dispatcher, until the session ends;
     * false when another session holds it. Calling it again on the holding session returns true.
     */
    boolean tryLead(Connection connection, String consumer) throws SQLException;

    /** The changes handlers kept failing on: the same table on every database, spelled its own way. */
    DeadLetters deadLetters();

    List<ConsumerStatus> status(Connection connection) throws SQLException;

    PruneResult prune(Connection connection) throws SQLException;

    /**
     * Where a read window ends.
     *
     * @param snapshot the window's upper snapshot
     * @param present  true when it is the present; false when it is a snapshot recorded on the way (a tick),
     *                 and more may be committed after it
     */
    record WindowEnd(String snapshot, boolean present) {
    }

    /** Reading the log: a window is fixed by two snapshots, and no later commit can enter it. */
    interface Reader {
        /**
         * The upper bound of the next read window after {@code from}: a snapshot of which transactions are
         * committed now, or, when {@code from} is far behind, an earlier one on the way there holding about
         * {@code changes} changes, so that no window has to be ordered whole with a long backlog in it (a
         * dialect that tracks gaps needs the position to describe the window; one that cannot cut windows
         * short ignores {@code changes}).
         */
        WindowEnd nextWindowEnd(Connection connection, Position from, long changes) throws SQLException;

        /** True when nothing can have committed between the two snapshots, so the window is certainly empty. */
        boolean sameSnapshot(String a, String b);

        /**
         * Streams the window (position, upTo], after the position's progress in it, in delivery order: every
         * change, and the READs of the backfills {@code consumer} is a target of.
         */
        void readWindow(Connection connection, String consumer, Position position, String upTo, int[] tableIds, int fetchSize,
                        RowSink sink) throws SQLException;
    }

    /** Consumers' durable positions. */
    interface PositionStore {
        /** The stored position of a consumer, created (at the oldest retained change, or at the present) when new. */
        Position open(Connection connection, String consumer, boolean startAtPresent) throws SQLException;

        void store(Connection connection, String consumer, Position position) throws SQLException;

        /**
         * Prepares the connection that stores positions. A lost position only means redelivery, so a
         * dialect may make these commits cheaper than fully durable ones.
         */
        default void prepareCommitter(Connection connection) throws SQLException {
        }
    }

    /**
     * Backfills. A backfill reads its table in key order, a chunk per transaction: each chunk's rows are
     * locked (shared) while they are logged, so the READ of a row holds its latest committed version and
     * a writer that changes it later commits, and is delivered, after the READ (DESIGN.md, Backfill). A
     * chunk never waits for a row lock (it fails with {@link #rowsBusy} and is retried), so it is never
     * part of a deadlock that could fail a writer.
     */
    interface Backfills {
        /**
         * The unfinished backfill started by a command with the same arguments, or else a new one:
         * {@code consumers} empty means every consumer that exists now. An unknown table or consumer, an
         * unwatched table, or a {@code where} that is not a valid condition on the table's columns is an
         * input error, and nothing is changed.
         */
        BackfillStatus begin(Connection connection, String table, List<String> consumers, String where) throws SQLException;

        /**
         * Creates {@code consumer} at the present with a backfill of each of the tables (registry ids) for it
         * alone, which it runs itself, all in one transaction; nothing when the consumer exists.
         */
        void createFromSnapshot(Connection connection, String consumer, int[] tableIds) throws SQLException;

        /**
         * Makes this connection's session the only one running the backfill, until the session ends or
         * {@link #release}; false when another session runs it.
         */
        boolean tryRun(Connection connection, long backfill) throws SQLException;

        void release(Connection connection, long backfill) throws SQLException;

        /**
         * Logs the next chunk of at most {@code limit} rows, in a transaction of its own, and returns the
         * backfill after it ({@link BackfillStatus#finished()} once the table has no row left).
         */
        BackfillStatus logChunk(Connection connection, long backfill, int limit) throws SQLException;

        /** The backfill with this id as it is now. */
        BackfillStatus status(Connection connection, long backfill) throws SQLException;

        /** True when a chunk failed only because a writer held one of its rows: it is to be tried again. */
        boolean rowsBusy(SQLException e);

        /** The unfinished backfills, oldest first: all of them, or those started by {@code startedBy}. */
        List<BackfillStatus> unfinished(Connection connection, String startedBy) throws SQLException;
    }

    /** Wake-ups of an idle dispatcher; where the database has none, the dispatcher polls. */
    interface WakeUpSource {
        /** Asks writers to send a wake-up when they log a change; called on the listening connection. */
        void request(Connection listener, String consumer) throws SQLException;

        /** Withdraws the request: the dispatcher is busy, writers need not wake it. */
        void cancel(Connection listener, String consumer) throws SQLException;

        /** Prepares a dedicated connection to receive wake-ups. */
        void listen(Connection connection) throws SQLException;

        /** Waits at most {@code millis} for a wake-up; true if one came. */
        boolean await(Connection connection, int millis) throws SQLException;
    }

    /** Receives log rows one at a time; returning false stops the read. */
    @FunctionalInterface
    interface RowSink {
        boolean accept(LogRow row);
    }
}
