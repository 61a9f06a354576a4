package dev.epidemic.chaos;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * The SQL of a chaos run that differs between databases. Every statement that changes the watched
 * table also records, in the same transaction, each change it made in the truth table, so the truth
 * is exactly what committed; {@link #recordCommit} marks the transaction as committed.
 */
public interface ChaosDialect {

    /** The watched table, as Epidemic names it in a change ({@code schema.table}). */
    String watchedTable();

    /** Creates the watched table and the truth tables. */
    void createTables(Connection c) throws SQLException;

    /** Inserts rows {@code firstId .. firstId+count-1} of {@code writer}; returns the changes made. */
    int insert(Connection c, int writer, long firstId, int count, String note) throws SQLException;

    /** Raises the version of the rows that still exist among {@code ids}; returns the changes made. */
    int update(Connection c, long[] ids, String note) throws SQLException;

    /** Deletes the rows that still exist among {@code ids}; returns the changes made. */
    int delete(Connection c, long[] ids) throws SQLException;

    /**
     * Empties the watched table (every writer's rows); returns the changes made (one). Called only when
     * {@link #capturesTruncate()}.
     */
    int truncate(Connection c) throws SQLException;

    /** False for a database whose capture cannot see a TRUNCATE: its writers then never truncate. */
    boolean capturesTruncate();

    /** Keeps the transaction open, on the server, for {@code duration}. */
    void pause(Connection c, Duration duration) throws SQLException;

    /** Marks the current transaction as one that commits, with the number of changes it made. */
    void recordCommit(Connection c, int writer, int changes) throws SQLException;

    /** The ids of {@code writer}'s rows as committed. */
    List<Long> ids(Connection c, int writer) throws SQLException;

    /** Has the server end every connection of the consumer (found through {@link #consumerUrl}); returns how many. */
    int terminateConsumerConnections(Connection c) throws SQLException;

    /** The JDBC URL the consumer connects with: marked so that its connections can be found and ended. */
    String consumerUrl(String url);

    /** Compares the consumer's files of delivered changes with the truth. */
    DeliveryFigures verify(Connection c, List<Path> deliveredFiles) throws SQLException;
}
