package dev.epidemic.dialect.postgres;

import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.PruneResult;
import dev.epidemic.api.WatchedTable;
import dev.epidemic.dialect.Consumers;
import dev.epidemic.dialect.DeadLetters;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.LogRow;
import dev.epidemic.dialect.LogRows;
import dev.epidemic.dialect.Position;
import dev.epidemic.dialect.StoredDeadLetter;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.firstLine;
import static dev.epidemic.dialect.Jdbc.inTransaction;
import static dev.epidemic.dialect.Jdbc.queryInt;
import static dev.epidemic.dialect.Jdbc.rollbackQuietly;
import static dev.epidemic.dialect.SqlText.quoteIdent;
import static dev.epidemic.dialect.SqlText.quoteLiteral;

/**
 * PostgreSQL 13+: capture by generated row triggers into a slotted change log, reading by snapshot
 * windows (see DESIGN.md), wake-ups by NOTIFY sent only when an idle dispatcher asked for one.
 */
public final class PostgresDialect implements Dialect {
    private static final Logger log = LoggerFactory.getLogger(PostgresDialect.class);

    static final int SLOTS = 3;

    private final String schema;
    private final String s; // the schema, quoted
    private final OwnSchema own;
    private final Capture capture;
    private final Consumers consumers;
    private final DeadLetters deadLetters;

    public PostgresDialect(String schema) {
        this.schema = schema;
        this.s = quoteIdent(schema);
        this.own = new OwnSchema(schema);
        this.capture = new Capture(schema, own);
        this.consumers = new Consumers(new ConsumerTable(s));
        this.deadLetters = new DeadLetters(new DeadLetterTable(s, own), Timestamptz.COLUMNS);
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

    // ---------------------------------------------------------------- positions

    @Override
    public Position openConsumer(Connection c, String consumer, boolean startAtPresent) throws SQLException {
        Consumers.requireName(consumer);
        // "The oldest retained change": nothing at or after the oldest logged transaction, nor anything
        // still running, counts as delivered.
        String start = startAtPresent
                ? "pg_catalog.pg_current_snapshot()"
                : "(SELECT (m || ':' || m || ':')::pg_snapshot FROM (SELECT least((SELECT l.txid FROM " + s + ".change_log l ORDER BY l.txid LIMIT 1),"
                  + " pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())) AS m) x)"; // min(xid8) exists only from PostgreSQL 15 on
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + s + ".consumer (name, delivered) VALUES (?, " + start
                + ") ON CONFLICT (name) DO NOTHING")) {
            ps.setString(1, consumer);
            ps.executeUpdate();
        }
        return consumers.position(c, consumer);
    }

    @Override
    public void storePosition(Connection c, String consumer, Position p) throws SQLException {
        consumers.store(c, consumer, p);
    }

    @Override
    public String currentSnapshot(Connection c, Position from) throws SQLException {
        // Prepared, so that pgjdbc keeps it prepared on the server: the dispatcher asks before every read.
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_current_snapshot()::text"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Override
    public void prepareCommitter(Connection c) throws SQLException {
        execute(c, "SET synchronous_commit = off");
    }

    @Override
    public boolean sameSnapshot(String a, String b) {
        return a.equals(b);
    }

    /**
     * The changes of the window (delivered, upTo]: transactions in [xmax(delivered), xmax(upTo)) plus
     * those that were running at {@code delivered}, in both cases only if committed in {@code upTo}.
     * Both parts are index range or exact look-ups on txid, so a window costs what it contains.
     */
    private String windowSql(boolean filtered, String select) {
        String filter = filtered ? " AND l.table_id = ANY (?::int[])" : "";
        return "WITH win AS ("
                + " SELECT l.* FROM " + s + ".change_log l"
                + "  WHERE l.txid >= pg_catalog.pg_snapshot_xmax(?::pg_snapshot) AND l.txid < pg_catalog.pg_snapshot_xmax(?::pg_snapshot)"
                + "    AND pg_catalog.pg_visible_in_snapshot(l.txid, ?::pg_snapshot)" + filter
                + " UNION ALL"
                + " SELECT l.* FROM " + s + ".change_log l"
                + "  WHERE l.txid = ANY (ARRAY(SELECT pg_catalog.pg_snapshot_xip(?::pg_snapshot)))"
                + "    AND pg_catalog.pg_visible_in_snapshot(l.txid, ?::pg_snapshot)" + filter
                + "), ordered AS (SELECT w.*, max(w.id) OVER (PARTITION BY w.txid) AS tx_last_id FROM win w) "
                + select;
    }

    private static int bindWindow(PreparedStatement ps, String delivered, String upTo, int[] tableIds, Connection c) throws SQLException {
        int i = 1;
        Array ids = tableIds == null ? null : c.createArrayOf("integer", Arrays.stream(tableIds).boxed().toArray());
        ps.setString(i++, delivered);
        ps.setString(i++, upTo);
        ps.setString(i++, upTo);
        if (ids != null) {
            ps.setArray(i++, ids);
        }
        ps.setString(i++, delivered);
        ps.setString(i++, upTo);
        if (ids != null) {
            ps.setArray(i++, ids);
        }
        return i;
    }

    @Override
    public void readWindow(Connection c, Position position, String upTo, int[] tableIds, int fetchSize, RowSink sink) throws SQLException {
        String sql = windowSql(tableIds != null,
                "SELECT o.id, o.txid::text, o.tx_last_id, t.schema_name || '.' || t.table_name, o.op, o.key::text, o.old::text, o.new::text, o.at"
                        + " FROM ordered o JOIN " + s + ".watched_table t ON t.id = o.table_id"
                        + " WHERE (o.tx_last_id, o.id) > (?, ?) ORDER BY o.tx_last_id, o.id");
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false); // a cursor streams only inside a transaction
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = bindWindow(ps, position.delivered(), upTo, tableIds, c);
            boolean resuming = upTo.equals(position.window());
            ps.setLong(i++, resuming ? position.afterTxLastId() : 0);
            ps.setLong(i, resuming ? position.afterId() : 0);
            ps.setFetchSize(fetchSize);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!sink.accept(LogRows.read(rs, 1, Timestamptz.COLUMNS))) {
                        break;
                    }
                }
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    // ---------------------------------------------------------------- wake-ups

    @Override
    public void requestWakeUp(Connection listener, String consumer) throws SQLException {
        // Registered from the listening backend, so that a dispatcher that died (and took its backend
        // with it) is recognised and removed by the next one that goes idle.
        try (PreparedStatement ps = listener.prepareStatement("INSERT INTO " + s + ".waiting (consumer, pid) VALUES (?, pg_catalog.pg_backend_pid())"
                + " ON CONFLICT (consumer) DO UPDATE SET pid = excluded.pid");
             Statement st = listener.createStatement()) {
            ps.setString(1, consumer);
            ps.executeUpdate();
            st.executeUpdate("DELETE FROM " + s + ".waiting w WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = w.pid)");
        }
    }

    @Override
    public void cancelWakeUp(Connection listener, String consumer) throws SQLException {
        try (PreparedStatement ps = listener.prepareStatement("DELETE FROM " + s + ".waiting WHERE consumer = ?")) {
            ps.setString(1, consumer);
            ps.executeUpdate();
        }
    }

    @Override
    public void listen(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("LISTEN " + quoteIdent(schema));
        }
    }

    @Override
    public boolean awaitWakeUp(Connection c, int millis) throws SQLException {
        PGNotification[] notifications = c.unwrap(PGConnection.class).getNotifications(Math.max(1, millis));
        return notifications != null && notifications.length > 0;
    }

    // ---------------------------------------------------------------- leadership and dead letters

    @Override
    public boolean tryLead(Connection c, String consumer) throws SQLException {
        // A session-level advisory lock: released by the server when the holder's session ends, so a
        // killed dispatcher gives way as soon as its connection is gone.
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended(?, 0))")) {
            ps.setString(1, "epidemic consumer " + schema + "." + consumer);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    @Override
    public void deadLetter(Connection c, String consumer, String handler, LogRow row, String error, int attempts,
                           java.time.Instant firstFailure, java.time.Instant lastFailure) throws SQLException {
        deadLetters.record(c, consumer, handler, row, error, attempts, firstFailure, lastFailure);
    }

    @Override
    public List<StoredDeadLetter> deadLetters(Connection c, String consumer, boolean onlyReplayRequested) throws SQLException {
        return deadLetters.list(c, consumer, onlyReplayRequested);
    }

    @Override
    public int requestReplay(Connection c, String consumer, List<Long> ids) throws SQLException {
        if (own.installedVersion(c) < 2) {
            return 0;
        }
        int count = deadLetters.requestReplay(c, consumer, ids);
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_notify(?, 'replay')")) {
            ps.setString(1, schema); // wakes an idle dispatcher, which then takes up the replay
            ps.execute();
        }
        return count;
    }

    @Override
    public int dropDeadLetters(Connection c, String consumer, List<Long> ids) throws SQLException {
        return deadLetters.drop(c, consumer, ids);
    }

    @Override
    public void replayed(Connection c, long deadLetterId, String errorOrNull) throws SQLException {
        deadLetters.replayed(c, deadLetterId, errorOrNull);
    }

    // ---------------------------------------------------------------- status and prune

    @Override
    public List<ConsumerStatus> status(Connection c) throws SQLException {
        return own.installed(c) ? consumers.status(c, this::pending) : List.of();
    }

    /** The changes not yet handed over: those not visible in the delivered snapshot, less what of the window in hand was. */
    private Consumers.Backlog pending(Connection c, Position p) throws SQLException {
        long pending;
        java.time.Instant oldest;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*), min(l.at) FROM " + s + ".change_log l"
                + " WHERE l.txid >= pg_catalog.pg_snapshot_xmin(?::pg_snapshot) AND NOT pg_catalog.pg_visible_in_snapshot(l.txid, ?::pg_snapshot)")) {
            ps.setString(1, p.delivered());
            ps.setString(2, p.delivered());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                pending = rs.getLong(1);
                oldest = Timestamptz.COLUMNS.get(rs, 2);
            }
        }
        if (p.window() != null && pending > 0) {
            // Changes of the window in hand that were already handed over are not pending.
            try (PreparedStatement ps = c.prepareStatement(windowSql(false,
                    "SELECT count(*) FILTER (WHERE (o.tx_last_id, o.id) <= (?, ?)), min(o.at) FILTER (WHERE (o.tx_last_id, o.id) > (?, ?)) FROM ordered o"))) {
                int i = bindWindow(ps, p.delivered(), p.window(), null, c);
                ps.setLong(i++, p.afterTxLastId());
                ps.setLong(i++, p.afterId());
                ps.setLong(i++, p.afterTxLastId());
                ps.setLong(i, p.afterId());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    pending -= rs.getLong(1);
                }
            }
        }
        return new Consumers.Backlog(pending, oldest);
    }

    /**
     * Removes what every consumer has passed. The log is split into slots: the slot writers append to
     * is rotated when the next one is empty, and a slot whose every change was passed is TRUNCATEd
     * (no dead tuples, no vacuum debt). Passed changes in a slot that a lagging consumer still needs
     * are DELETEd one by one, so the lagging consumer's changes always stay.
     */
    @Override
    public PruneResult prune(Connection c) throws SQLException {
        if (!own.installed(c)) {
            return new PruneResult(0, 0, 0);
        }
        int consumers = queryInt(c, "SELECT count(*) FROM " + s + ".consumer");
        if (consumers == 0) {
            return new PruneResult(0, queryInt(c, "SELECT count(*) FROM " + s + ".change_log"), 0);
        }
        String notPassed = "EXISTS (SELECT 1 FROM " + s + ".consumer cs WHERE NOT pg_catalog.pg_visible_in_snapshot(l.txid, cs.delivered))";
        long deleted = 0;
        int current = inTransaction(c, () -> {
            int slot = queryInt(c, "SELECT current_slot FROM " + s + ".log_state FOR UPDATE");
            int next = (slot + 1) % SLOTS;
            boolean currentHasRows = queryInt(c, "SELECT count(*) FROM (SELECT 1 FROM " + s + ".change_log_" + slot + " LIMIT 1) x") > 0;
            boolean nextEmpty = queryInt(c, "SELECT count(*) FROM (SELECT 1 FROM " + s + ".change_log_" + next + " LIMIT 1) x") == 0;
            if (currentHasRows && nextEmpty) {
                execute(c, "UPDATE " + s + ".log_state SET current_slot = " + next);
                return next;
            }
            return slot;
        });
        for (int offset = 1; offset <= SLOTS; offset++) {
            int slot = (current + offset) % SLOTS;
            String part = s + ".change_log_" + slot + " l";
            try {
                deleted += inTransaction(c, () -> {
                    execute(c, "SET LOCAL lock_timeout = '2s'");
                    if (slot != current) {
                        // Waits for writers still appending to the slot, and keeps new ones out while it checks.
                        execute(c, "LOCK TABLE " + s + ".change_log_" + slot + " IN ACCESS EXCLUSIVE MODE");
                    }
                    int total = queryInt(c, "SELECT count(*) FROM " + part);
                    int pending = queryInt(c, "SELECT count(*) FROM " + part + " WHERE " + notPassed);
                    if (total > 0 && pending == 0 && slot != current) {
                        execute(c, "TRUNCATE " + s + ".change_log_" + slot);
                    } else if (total > pending) {
                        execute(c, "DELETE FROM " + part + " WHERE NOT " + notPassed);
                    }
                    return (long) (total - pending);
                });
            } catch (SQLException e) {
                if (!"55P03".equals(e.getSQLState())) {
                    throw e;
                }
                log.warn("Prune skipped log slot {}: it is busy ({}); the next prune will take it", slot, firstLine(e.getMessage()));
            }
        }
        long retained = queryInt(c, "SELECT count(*) FROM " + s + ".change_log");
        log.info("Pruned {} changes; {} retained for {} consumers", deleted, retained, consumers);
        return new PruneResult(deleted, retained, consumers);
    }

}
