package dev.epidemic.api;

import dev.epidemic.dialect.Dialect;
import dev.epidemic.engine.Backfiller;
import dev.epidemic.engine.ChangeCodec;
import dev.epidemic.engine.Databases;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Consumer;

/**
 * Installs and removes capture, and reports on and prunes the change log. Every method opens a
 * connection of its own; a failed call leaves the database as it was.
 */
public final class EpidemicAdmin {
    private final DataSource dataSource;
    private final Dialect dialect;

    private EpidemicAdmin(DataSource dataSource, Dialect dialect) {
        this.dataSource = dataSource;
        this.dialect = dialect;
    }

    public static EpidemicAdmin create(DataSource dataSource, String schema) {
        return new EpidemicAdmin(dataSource, Databases.dialectFor(dataSource, schema));
    }

    public static EpidemicAdmin create(String jdbcUrl, String user, String password, String schema) {
        Dialect dialect = Databases.dialectFor(jdbcUrl, schema);
        return new EpidemicAdmin(Databases.fromUrl(jdbcUrl, user, password), dialect);
    }

    /**
     * Captures {@code table}'s changes to {@code columns} (empty: all), keyed by its primary key or
     * {@code keyColumns}, with no table-wide row filter (one it had is removed).
     */
    public WatchedTable watch(String table, List<String> columns, List<String> keyColumns) {
        return watch(table, columns, keyColumns, null);
    }

    /**
     * As {@link #watch(String, List, List)}, logging only the rows that {@code where} selects (one SQL
     * condition over the table's own columns; null: every row): the table-wide row filter, which replaces
     * the one it had (docs/row-filters.md). A condition that is not valid on the table, or that uses anything
     * but its columns, constants and built-in functions that are not volatile, is an
     * {@link InvalidInputException}, and nothing is changed.
     */
    public WatchedTable watch(String table, List<String> columns, List<String> keyColumns, String where) {
        return call(c -> dialect.watch(c, table, columns, keyColumns, where));
    }

    /**
     * Checks, without installing anything, that {@code watch(table, columns, keyColumns)} would succeed,
     * and returns what it would capture; an unknown table or column is an {@link InvalidInputException}.
     */
    public WatchedTable checkWatch(String table, List<String> columns, List<String> keyColumns) {
        return call(c -> dialect.checkWatch(c, table, columns, keyColumns));
    }

    /**
     * Checks, without changing anything, that {@code where} may be a row filter of {@code table}
     * (docs/row-filters.md); a condition that is not valid there, or that uses anything but its columns,
     * constants and built-in functions that are not volatile, is an {@link InvalidInputException}.
     */
    public void checkWhere(String table, String where) {
        call(c -> {
            dialect.checkWhere(c, table, where);
            return null;
        });
    }

    /** Removes capture from {@code table}; with {@code purge} also drops its logged changes. False if it was not watched. */
    public boolean unwatch(String table, boolean purge) {
        return call(c -> dialect.unwatch(c, table, purge));
    }

    public List<WatchedTable> list() {
        return call(dialect::list);
    }

    public List<ConsumerStatus> status() {
        return call(dialect::status);
    }

    public PruneResult prune() {
        return call(dialect::prune);
    }

    /** Dead letters, oldest first: of {@code consumer}, or of every consumer when it is null. */
    public List<DeadLetter> deadLetters(String consumer) {
        return call(c -> dialect.deadLetters().list(c, consumer, false).stream()
                .map(d -> new DeadLetter(d.id(), d.consumer(), d.handler(), ChangeCodec.decode(d.row()), d.error(), d.attempts(),
                        d.firstFailure(), d.lastFailure(), d.replayRequested()))
                .toList());
    }

    /**
     * Asks the consumers to hand these dead letters ({@code ids} empty: all of {@code consumer}, or all)
     * to their handlers again; a running consumer does so within a second, a stopped one when it starts.
     * A replayed dead letter disappears; one that fails again stays, with its attempts counted.
     */
    public int replayDeadLetters(String consumer, List<Long> ids) {
        return call(c -> dialect.deadLetters().requestReplay(c, consumer, ids));
    }

    /** Deletes dead letters ({@code ids} empty: all of {@code consumer}, or all); returns how many. */
    public int dropDeadLetters(String consumer, List<Long> ids) {
        return call(c -> dialect.deadLetters().drop(c, consumer, ids));
    }

    /**
     * Watched tables whose capture is broken (the table, a capture trigger or a captured column is gone,
     * for instance after DROP COLUMN ... CASCADE), each with the command that repairs it; empty when
     * every watched table is captured as registered.
     */
    public List<String> captureProblems() {
        return call(dialect::captureProblems);
    }

    /** The chunk size of a backfill when none is given: rows logged per transaction. */
    public static final int DEFAULT_CHUNK_SIZE = 5000;

    /**
     * Delivers every current row of {@code table} (those matching {@code where}, a condition over its
     * columns, when not null) to {@code consumers} (empty: every consumer that exists now) as READ changes,
     * logged {@code chunkSize} rows per transaction; returns once every row is in the log. When a backfill
     * with the same arguments is unfinished (its run was killed), this resumes it; otherwise it starts a new
     * one. {@code progress} is told after each chunk. An unknown table or consumer, an unwatched table or a
     * bad condition is an {@link InvalidInputException}, and nothing is changed.
     */
    public BackfillStatus backfill(String table, List<String> consumers, String where, int chunkSize,
                                   Consumer<BackfillStatus> progress) {
        return backfill(table, consumers, where, chunkSize, 0, progress);
    }

    /**
     * As {@link #backfill(String, List, String, int, Consumer)}, logging at most {@code maxRowsPerSecond}
     * rows a second on average (0: as fast as it can), so as to leave the application's writers the CPU
     * and I/O they need.
     */
    public BackfillStatus backfill(String table, List<String> consumers, String where, int chunkSize, long maxRowsPerSecond,
                                   Consumer<BackfillStatus> progress) {
        if (chunkSize < 1) {
            throw new InvalidInputException("chunk size must be at least 1, not " + chunkSize);
        }
        if (maxRowsPerSecond < 0) {
            throw new InvalidInputException("rate limit must be at least 1 row a second (or 0 for none), not " + maxRowsPerSecond);
        }
        try {
            return new Backfiller(dialect, chunkSize, maxRowsPerSecond).runReconnecting(dataSource,
                    c -> dialect.backfills().begin(c, table, consumers, where), () -> Thread.currentThread().isInterrupted(), progress);
        } catch (SQLException e) {
            throw new EpidemicException(describe(e), e);
        }
    }

    /** The backfills that have not finished, oldest first. */
    public List<BackfillStatus> unfinishedBackfills() {
        return call(c -> dialect.backfills().unfinished(c, null));
    }

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private <T> T call(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new EpidemicException(describe(e), e);
        }
    }

    private static String describe(SQLException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
