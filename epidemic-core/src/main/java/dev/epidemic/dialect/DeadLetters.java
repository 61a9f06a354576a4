package dev.epidemic.dialect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The dead-letter table, the same on every database but for the {@link Table} seam: the changes a handler
 * kept failing on, each with the change itself (its log row may be pruned meanwhile), the last error and
 * how often and when it failed; one row per consumer, handler and change, so that a dispatcher that
 * crashed after writing it and failed again updates the same row.
 */
public final class DeadLetters {

    /** What one database's dead-letter table differs in. */
    public interface Table {
        /** The table's name, qualified and quoted. */
        String name();

        /** True when the table is installed; before that there are no dead letters. */
        boolean exists(Connection c) throws SQLException;

        /**
         * An INSERT of (consumer, handler, change_id, txid, table_name, op, key, old, new, at, error, attempts,
         * first_failure, last_failure), fourteen parameters in that order, that for a row of the same
         * (consumer, handler, change_id) instead sets its error and last failure, adds the attempts and
         * clears its replay request.
         */
        String upsert();

        /** A JSON column ({@code key}, {@code old}, {@code new}) in a select list, as text. */
        String jsonText(String column);

        /** Called once a replay was requested, so that an idle dispatcher can take it up at once. */
        default void replayRequested(Connection c) throws SQLException {
        }
    }

    private final Table table;
    private final TimeColumns times;

    public DeadLetters(Table table, TimeColumns times) {
        this.table = table;
        this.times = times;
    }

    /** Records a change a handler kept failing on, or updates the record of an earlier failure of it. */
    public void record(Connection c, String consumer, String handler, LogRow row, String error, int attempts,
                       Instant firstFailure, Instant lastFailure) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(table.upsert())) {
            ps.setString(1, consumer);
            ps.setString(2, handler);
            ps.setLong(3, row.id());
            ps.setLong(4, row.txid()); // below 2^63 on both databases: xid8 by far, InnoDB's ids have 48 bits
            ps.setString(5, row.table());
            ps.setString(6, String.valueOf(row.op()));
            ps.setString(7, row.keyJson());
            ps.setString(8, row.oldJson());
            ps.setString(9, row.newJson());
            times.set(ps, 10, row.at());
            ps.setString(11, error);
            ps.setInt(12, attempts);
            times.set(ps, 13, firstFailure);
            times.set(ps, 14, lastFailure);
            ps.executeUpdate();
        }
    }

    /** Dead letters, oldest first: of one consumer, or of all when {@code consumer} is null. */
    public List<StoredDeadLetter> list(Connection c, String consumer, boolean onlyReplayRequested) throws SQLException {
        if (!table.exists(c)) {
            return List.of();
        }
        String sql = "SELECT id, consumer, handler, error, attempts, first_failure, last_failure, replay_requested,"
                + " change_id, txid, change_id, table_name, op, " + table.jsonText("key") + ", " + table.jsonText("old") + ", "
                + table.jsonText("new") + ", at FROM " + table.name()
                + where(consumer, onlyReplayRequested ? "replay_requested" : null, List.of()) + " ORDER BY id";
        List<StoredDeadLetter> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, consumer, List.of());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(new StoredDeadLetter(rs.getLong(1), rs.getString(2), rs.getString(3), LogRows.read(rs, 9, times),
                            rs.getString(4), rs.getInt(5), times.get(rs, 6), times.get(rs, 7), rs.getBoolean(8)));
                }
            }
        }
        return result;
    }

    /** Marks dead letters for replay by their consumer ({@code ids} empty: all of the consumer, or all); returns how many. */
    public int requestReplay(Connection c, String consumer, List<Long> ids) throws SQLException {
        if (!table.exists(c)) {
            return 0;
        }
        int count = update(c, "UPDATE " + table.name() + " SET replay_requested = TRUE", consumer, ids);
        table.replayRequested(c);
        return count;
    }

    /** Deletes dead letters ({@code ids} empty: all of the consumer, or all); returns how many. */
    public int drop(Connection c, String consumer, List<Long> ids) throws SQLException {
        return table.exists(c) ? update(c, "DELETE FROM " + table.name(), consumer, ids) : 0;
    }

    /** Records the outcome of a replay: success deletes the dead letter, failure counts the attempt. */
    public void replayed(Connection c, long deadLetterId, String errorOrNull) throws SQLException {
        String sql = errorOrNull == null
                ? "DELETE FROM " + table.name() + " WHERE id = ?"
                : "UPDATE " + table.name() + " SET attempts = attempts + 1, last_failure = " + times.now() + ", replay_requested = FALSE,"
                  + " error = ? WHERE id = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (errorOrNull != null) {
                ps.setString(i++, errorOrNull);
            }
            ps.setLong(i, deadLetterId);
            ps.executeUpdate();
        }
    }

    private int update(Connection c, String statement, String consumer, List<Long> ids) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(statement + where(consumer, null, ids))) {
            bind(ps, consumer, ids);
            return ps.executeUpdate();
        }
    }

    /** The conditions as plain SQL with parameters (no typed NULL parameter, which each database spells its own way). */
    private static String where(String consumer, String condition, List<Long> ids) {
        List<String> conditions = new ArrayList<>();
        if (consumer != null) {
            conditions.add("consumer = ?");
        }
        if (condition != null) {
            conditions.add(condition);
        }
        if (!ids.isEmpty()) {
            conditions.add("id IN (" + String.join(", ", Collections.nCopies(ids.size(), "?")) + ")");
        }
        return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
    }

    private static void bind(PreparedStatement ps, String consumer, List<Long> ids) throws SQLException {
        int i = 1;
        if (consumer != null) {
            ps.setString(i++, consumer);
        }
        for (long id : ids) {
            ps.setLong(i++, id);
        }
    }
}
