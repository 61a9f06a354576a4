package dev.epidemic.dialect;

import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.PruneResult;
import dev.epidemic.api.WatchedTable;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

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

    /** Reading the log: a window is fixed by two snapshots, and no later commit can enter it. */
    interface Reader {
        /**
         * A snapshot of which transactions are committed now: the upper bound of the next read window after
         * {@code from} (a dialect that tracks gaps needs the position to describe the window).
         */
        String currentSnapshot(Connection connection, Position from) throws SQLException;

        /** True when nothing can have committed between the two snapshots, so the window is certainly empty. */
        boolean sameSnapshot(String a, String b);

        /** Streams the window (position, upTo], after the position's progress in it, in delivery order. */
        void readWindow(Connection connection, Position position, String upTo, int[] tableIds, int fetchSize,
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
