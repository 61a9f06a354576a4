package dev.epidemic.api;

import dev.epidemic.dialect.Dialect;
import dev.epidemic.engine.ChangeCodec;
import dev.epidemic.engine.Databases;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

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

    /** Captures {@code table}'s changes to {@code columns} (empty: all), keyed by its primary key or {@code keyColumns}. */
    public WatchedTable watch(String table, List<String> columns, List<String> keyColumns) {
        return call(c -> dialect.watch(c, table, columns, keyColumns));
    }

    /**
     * Checks, without installing anything, that {@code watch(table, columns, keyColumns)} would succeed,
     * and returns what it would capture; an unknown table or column is an {@link InvalidInputException}.
     */
    public WatchedTable checkWatch(String table, List<String> columns, List<String> keyColumns) {
        return call(c -> dialect.checkWatch(c, table, columns, keyColumns));
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
