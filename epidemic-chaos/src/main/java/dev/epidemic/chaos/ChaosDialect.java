package dev.epidemic.chaos;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

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

    /**
     * Compares the consumer's files of delivered changes with the truth. A backfill's READs are not in the
     * truth (they are not a writer's changes): they count neither as missing nor as unknown, but a READ of a
     * row delivered after a later change of that row is an order violation.
     */
    DeliveryFigures verify(Connection c, List<Path> deliveredFiles) throws SQLException;

    /**
     * True when Epidemic can backfill this database's tables ({@code EpidemicAdmin.backfill}): only then does
     * a run fill the table before the consumer exists and backfill it amid the writers.
     */
    default boolean backfills() {
        return false;
    }

    /**
     * Fills the watched table, before it is watched, with rows {@code 1..rows}, each owned by writer
     * {@code id % writers} (so the writers update and delete them); not in the truth, as they are no
     * change: the consumer learns of them only through the backfill.
     */
    void seedRows(Connection c, int rows, int writers) throws SQLException;

    /** The watched table's rows as they are: id and version (the rest of a row follows from them). */
    default Map<Long, Integer> rows(Connection c) throws SQLException {
        Map<Long, Integer> rows = new HashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id, version FROM chaos_items")) {
            while (rs.next()) {
                rows.put(rs.getLong(1), rs.getInt(2));
            }
        }
        return rows;
    }

    /**
     * The last key the unfinished backfill of the watched table logged (empty when there is none, or before
     * its first chunk; 0 then means "from the start"), so that a writer can update the rows just after it:
     * the rows the next chunk reads.
     */
    default OptionalLong backfillCursor(Connection c, String logSchema) throws SQLException {
        return OptionalLong.empty();
    }
}
