package dev.epidemic.dialect.postgres;

import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.dialect.BackfillTargets;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.RowFilter;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.firstLine;
import static dev.epidemic.dialect.Jdbc.inTransaction;
import static dev.epidemic.dialect.Jdbc.prepare;
import static dev.epidemic.dialect.Jdbc.queryBoolean;
import static dev.epidemic.dialect.SqlText.quoteIdent;
import static dev.epidemic.dialect.SqlText.quoteLiteral;

/**
 * Backfills on PostgreSQL (see {@link Dialect.Backfills}). A chunk is two statements in one transaction:
 * the first finds, without locking, the key the chunk ends at (the chunk size-th matching key after the
 * last one logged); the second locks every row in that key range {@code FOR SHARE NOWAIT} and logs it as
 * a READ. Locking re-reads a row a writer changed since the first statement, so each READ holds the
 * row's latest committed version, and a writer that changes the row later waits for the chunk to commit:
 * its change is logged, and delivered, after the READ. A row a writer holds makes the chunk fail at once
 * (55P03) rather than wait, so a chunk is never part of a deadlock that a writer could lose.
 */
final class BackfillChunks implements Dialect.Backfills {
    private static final Pattern PLAN_ROWS = Pattern.compile("\"Plan Rows\":\\s*([0-9.e+]+)");
    private static final String COLUMNS = "b.id, b.table_id, b.row_filter, b.started_by, b.rows_done, b.rows_estimate,"
            + " b.started_at, b.updated_at, b.finished_at,"
            + " ARRAY(SELECT t.consumer FROM %1$s.backfill_target t WHERE t.backfill_id = b.id ORDER BY t.consumer),"
            + " coalesce(n.nspname || '.' || c.relname, w.schema_name || '.' || w.table_name)";

    private final String schema;
    private final String s; // the schema, quoted
    private final OwnSchema own;
    private volatile Boolean mayTick; // whether the role may record ticks; asked once

    BackfillChunks(String schema, OwnSchema own) {
        this.schema = schema;
        this.s = quoteIdent(schema);
        this.own = own;
    }

    /** A watched table as a chunk reads it: its relation, its key (names and types) and its captured columns. */
    private record Source(int tableId, String relation, String display, List<String> keys, List<String> keyTypes,
                          List<String> columns) {
        /** The table in a FROM clause: its children are left out, as its capture leaves them out. */
        String from(String alias) {
            return relation + " AS " + alias;
        }
    }

    @Override
    public BackfillStatus begin(Connection c, String table, List<String> consumers, String where) throws SQLException {
        own.install(c);
        return inTransaction(c, () -> {
            Source source = source(c, watchedId(c, table));
            String condition = RowFilter.check(where, source.display());
            checkCondition(c, source, condition);
            List<String> requested = consumers.isEmpty() ? null : List.copyOf(new TreeSet<>(consumers));
            List<String> targets = targets(c, source, requested);
            try (PreparedStatement lock = c.prepareStatement("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(?))")) {
                lock.setString(1, "epidemic backfill begin " + schema);
                lock.execute(); // two runs of the same command must not both start a new backfill
            }
            Long unfinished = unfinishedCommand(c, source.tableId(), condition, requested);
            if (unfinished != null) {
                return status(c, unfinished);
            }
            long id = create(c, source, condition, requested, null, targets);
            return status(c, id);
        });
    }

    @Override
    public void createFromSnapshot(Connection c, String consumer, int[] tableIds) throws SQLException {
        inTransaction(c, () -> {
            // The consumer starts at the present, and its backfills are registered in the same transaction: a
            // crash can leave neither a consumer without its backfills nor backfills without their consumer.
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + s + ".consumer (name, delivered)"
                    + " VALUES (?, pg_catalog.pg_current_snapshot()) ON CONFLICT (name) DO NOTHING")) {
                ps.setString(1, consumer);
                if (ps.executeUpdate() == 0) {
                    return; // it exists: it resumes from its position, and its own unfinished backfills
                }
            }
            for (int tableId : tableIds == null ? activeTables(c) : tableIds) {
                create(c, source(c, tableId), null, List.of(consumer), consumer, List.of(consumer));
            }
        });
    }

    @Override
    public boolean tryRun(Connection c, long backfill) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext(?), ?)")) {
            ps.setString(1, "epidemic backfill " + schema);
            ps.setInt(2, (int) backfill);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    @Override
    public void release(Connection c, long backfill) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtext(?), ?)")) {
            ps.setString(1, "epidemic backfill " + schema);
            ps.setInt(2, (int) backfill);
            ps.execute();
        }
    }

    @Override
    public boolean rowsBusy(SQLException e) {
        // 55P03: a row is locked (NOWAIT), or a table lock waited past lock_timeout; 40001: a row moved to
        // another partition under the chunk; 40P01: a deadlock (not expected: a chunk never waits for rows).
        return List.of("55P03", "40001", "40P01").contains(e.getSQLState());
    }

    @Override
    public BackfillStatus logChunk(Connection c, long backfill, int limit) throws SQLException {
        inTransaction(c, () -> {
            // A DDL statement queued on the table would otherwise make the chunk wait behind it, and the
            // application's writers behind the chunk.
            execute(c, "SET LOCAL lock_timeout = '1s'");
            int tableId;
            String condition;
            String[] afterKey;
            try (PreparedStatement ps = c.prepareStatement("SELECT table_id, row_filter, after_key, finished_at IS NOT NULL FROM "
                    + s + ".backfill WHERE id = ? FOR UPDATE")) {
                ps.setLong(1, backfill);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new EpidemicException("backfill " + backfill + " does not exist");
                    }
                    if (rs.getBoolean(4)) {
                        return;
                    }
                    tableId = rs.getInt(1);
                    condition = rs.getString(2);
                    Array key = rs.getArray(3);
                    afterKey = key == null ? null : (String[]) key.getArray();
                }
            }
            Source source = source(c, tableId);
            String[] endKey = chunkEnd(c, source, condition, afterKey, limit);
            long logged = logRange(c, source, backfill, condition, afterKey, endKey);
            execute(c, "SELECT pg_catalog.pg_notify(" + quoteLiteral(schema) + ", '') WHERE EXISTS (SELECT 1 FROM " + s + ".waiting)");
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + s + ".backfill SET after_key = coalesce(?::text[], after_key),"
                    + " rows_done = rows_done + ?, updated_at = now(), finished_at = CASE WHEN ?::text[] IS NULL THEN now() END WHERE id = ?")) {
                Array end = endKey == null ? null : c.createArrayOf("text", endKey);
                ps.setArray(1, end);
                ps.setLong(2, logged);
                ps.setArray(3, end);
                ps.setLong(4, backfill);
                ps.executeUpdate();
            }
        });
        return status(c, backfill);
    }

    @Override
    public List<BackfillStatus> unfinished(Connection c, String startedBy) throws SQLException {
        if (!own.installed(c) || own.installedVersion(c) < 4) {
            return List.of();
        }
        List<BackfillStatus> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(select() + " WHERE b.finished_at IS NULL"
                + (startedBy == null ? "" : " AND b.started_by = ?") + " ORDER BY b.id")) {
            if (startedBy != null) {
                ps.setString(1, startedBy);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(status(rs));
                }
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- chunks

    /**
     * The key of the chunk's last row: the {@code limit}-th matching key after {@code afterKey}, read without
     * locking; null when fewer are left, and the chunk then takes every row after {@code afterKey}.
     */
    private String[] chunkEnd(Connection c, Source source, String condition, String[] afterKey, int limit) throws SQLException {
        String sql = "SELECT ARRAY[" + String.join(", ", source.keys().stream().map(k -> "r." + quoteIdent(k) + "::text").toList()) + "]"
                + " FROM " + source.from("r") + " WHERE " + range(source, "r", afterKey != null, false) + filter(condition)
                + " ORDER BY " + String.join(", ", source.keys().stream().map(k -> "r." + quoteIdent(k)).toList())
                + " OFFSET ? LIMIT 1";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = bindKey(ps, 1, afterKey);
            ps.setInt(i, limit - 1);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? (String[]) rs.getArray(1).getArray() : null;
            }
        }
    }

    /** Locks the rows of the key range (afterKey, endKey] and logs each as a READ; returns how many. */
    private long logRange(Connection c, Source source, long backfill, String condition, String[] afterKey, String[] endKey)
            throws SQLException {
        // The key object is built from the key columns themselves: picking it out of the row's jsonb in the
        // INSERT cost about 40% of the statement (pgbench, 5,000-row chunks; docs/benchmarks.md "Backfill").
        // A table with row filters: each READ carries the mask of the filters its row matches, as capture's
        // changes do, and a row that none selects is not logged (docs/row-filters.md).
        String mask = filterMask(c, source.tableId());
        String sql = "WITH rows AS (SELECT pg_catalog.to_jsonb(r.*) AS j, " + columnsObject("r", source.keys()) + " AS k"
                + (mask == null ? "" : ", " + mask + " AS m") + " FROM " + source.from("r")
                + " WHERE " + range(source, "r", afterKey != null, endKey != null) + filter(condition)
                + " FOR SHARE OF r NOWAIT)"
                + " INSERT INTO " + s + ".change_log (slot, id, txid, table_id, op, key, old, new, at, backfill_id" + (mask == null ? "" : ", filter_mask") + ")"
                + " SELECT st.current_slot, pg_catalog.nextval(" + quoteLiteral(s + ".change_id_seq") + "::pg_catalog.regclass),"
                + " pg_catalog.pg_current_xact_id(), " + source.tableId() + ", 'R', x.k, NULL, "
                + pick("x.j", source.columns()) + ", pg_catalog.statement_timestamp(), " + backfill + (mask == null ? "" : ", x.m")
                + " FROM rows x, " + s + ".log_state st" + (mask == null ? "" : " WHERE x.m <> 0");
        long logged;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = bindKey(ps, 1, afterKey);
            bindKey(ps, i, endKey);
            logged = ps.executeUpdate();
        }
        if (logged > 0) {
            tickIfDue(c, logged);
        }
        return logged;
    }

    /**
     * Records a tick (V5__ticks.sql) when the chunk's last id crossed a multiple of 4096, as capture does,
     * so that a consumer far behind a big backfill reads it in windows of a few thousand changes. A role
     * without the right to record ticks (it is the installer's, and optional) records none.
     */
    private void tickIfDue(Connection c, long logged) throws SQLException {
        if (mayTick == null) {
            mayTick = queryBoolean(c, "SELECT pg_catalog.has_function_privilege(?, 'EXECUTE')", s + ".log_tick(bigint)");
        }
        if (mayTick) {
            String id = "pg_catalog.currval(" + quoteLiteral(s + ".change_id_seq") + "::pg_catalog.regclass)";
            try (PreparedStatement ps = prepare(c, "SELECT " + s + ".log_tick(" + id + ") WHERE " + id + " % 4096 < ?", logged)) {
                ps.execute();
            }
        }
    }

    /**
     * The SQL of the filter mask of a row r of the table, as capture computes it (mask_sql in V6__row_filters.sql), or null
     * when the table has no row filter. The filters were checked when registered; here they run with the
     * rights of the role that runs the backfill.
     */
    private String filterMask(Connection c, int tableId) throws SQLException {
        if (own.installedVersion(c) < OwnSchema.ROW_FILTERS) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT predicate, bit FROM " + s + ".row_filter WHERE table_id = ? ORDER BY bit")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    parts.add("CASE WHEN (" + rs.getString(1) + ") THEN " + (1L << rs.getInt(2)) + "::pg_catalog.int8 ELSE 0::pg_catalog.int8 END");
                }
            }
        }
        return parts.isEmpty() ? null : "(" + String.join(" | ", parts) + ")";
    }

    /** The key condition of a chunk: after the last key logged (if any), up to its end key (if any). */
    private static String range(Source source, String alias, boolean after, boolean upTo) {
        List<String> parts = new ArrayList<>();
        String columns = "(" + String.join(", ", source.keys().stream().map(k -> alias + "." + quoteIdent(k)).toList()) + ")";
        List<String> casts = new ArrayList<>();
        for (String type : source.keyTypes()) {
            casts.add("CAST(? AS " + type + ")");
        }
        String values = "(" + String.join(", ", casts) + ")";
        if (after) {
            parts.add(columns + " > " + values);
        }
        if (upTo) {
            parts.add(columns + " <= " + values);
        }
        return parts.isEmpty() ? "true" : String.join(" AND ", parts);
    }

    private static String filter(String condition) {
        return condition == null ? "" : " AND (" + condition + ")";
    }

    private static int bindKey(PreparedStatement ps, int first, String[] key) throws SQLException {
        int i = first;
        if (key != null) {
            for (String value : key) {
                ps.setString(i++, value);
            }
        }
        return i;
    }

    /**
     * The SQL of a jsonb object of the named columns of the table row {@code alias}: the same object as
     * {@link #pick} of that row's {@code to_jsonb} (both convert each value with to_jsonb's rules).
     */
    private static String columnsObject(String alias, List<String> names) {
        return jsonbObject(names, name -> alias + "." + quoteIdent(name));
    }

    /**
     * The SQL of a jsonb object of the named columns of the row image {@code row}, as capture builds it
     * (pick_sql in V3): {@code ->} by name never fails; null names mean the whole row image.
     */
    private static String pick(String row, List<String> names) {
        if (names == null) {
            return row;
        }
        return names.isEmpty() ? "'{}'::jsonb" : jsonbObject(names, name -> row + "->" + quoteLiteral(name));
    }

    /** {@code jsonb_build_object} of each name and its value, in pieces: it takes at most 100 arguments. */
    private static String jsonbObject(List<String> names, UnaryOperator<String> valueOf) {
        List<String> pieces = new ArrayList<>();
        for (int from = 0; from < names.size(); from += 50) {
            List<String> args = new ArrayList<>();
            for (String name : names.subList(from, Math.min(names.size(), from + 50))) {
                args.add(quoteLiteral(name) + ", " + valueOf.apply(name));
            }
            pieces.add("pg_catalog.jsonb_build_object(" + String.join(", ", args) + ")");
        }
        return String.join(" || ", pieces);
    }

    // ---------------------------------------------------------------- registration

    private int watchedId(Connection c, String table) throws SQLException {
        Catalog.TableInfo info = Catalog.resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + s + ".watched_table WHERE relid = ? AND active")) {
            ps.setLong(1, info.oid());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new InvalidInputException("table " + info.display() + " is not watched; run: epidemic watch " + table);
                }
                return rs.getInt(1);
            }
        }
    }

    private int[] activeTables(Connection c) throws SQLException {
        List<Integer> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT w.id FROM " + s + ".watched_table w"
                + " JOIN pg_catalog.pg_class c ON c.oid = w.relid WHERE w.active ORDER BY w.id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The watched table as it is now: columns are registered by attribute number and read by their current names. */
    private Source source(Connection c, int tableId) throws SQLException {
        String attributes = "SELECT %s FROM unnest(%s) WITH ORDINALITY k(num, ord)"
                + " JOIN pg_catalog.pg_attribute a ON a.attrelid = w.relid AND a.attnum = k.num AND NOT a.attisdropped ORDER BY k.ord";
        String sql = "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), n.nspname || '.' || c.relname, c.relkind,"
                + " ARRAY(" + attributes.formatted("a.attname::text", "w.key_attnums") + "),"
                + " ARRAY(" + attributes.formatted("pg_catalog.format_type(a.atttypid, a.atttypmod)", "w.key_attnums") + "),"
                + " CASE WHEN w.column_attnums IS NULL THEN NULL ELSE ARRAY(" + attributes.formatted("a.attname::text", "w.column_attnums") + ") END"
                + " FROM " + s + ".watched_table w JOIN pg_catalog.pg_class c ON c.oid = w.relid"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE w.id = ? AND w.active";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new EpidemicException("the table of backfill (registry id " + tableId + ") is no longer watched");
                }
                String relation = (rs.getString(3).charAt(0) == 'p' ? "" : "ONLY ") + rs.getString(1);
                List<String> keys = Arrays.asList((String[]) rs.getArray(4).getArray());
                List<String> keyTypes = Arrays.asList((String[]) rs.getArray(5).getArray());
                Array columns = rs.getArray(6);
                if (keys.isEmpty()) {
                    throw new EpidemicException("table " + rs.getString(2) + " has no key to backfill it by");
                }
                return new Source(tableId, relation, rs.getString(2), keys, keyTypes,
                        columns == null ? null : Arrays.asList((String[]) columns.getArray()));
            }
        }
    }

    /** Asks the server whether the condition is valid on the table, running nothing of it (rolled back to a savepoint). */
    private static void checkCondition(Connection c, Source source, String condition) throws SQLException {
        if (condition == null) {
            return;
        }
        var savepoint = c.setSavepoint();
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + source.from("r") + " WHERE (" + condition + ") LIMIT 0")) {
            ps.executeQuery().close();
            c.releaseSavepoint(savepoint);
        } catch (SQLException e) {
            c.rollback(savepoint);
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("42") || state.startsWith("22")) { // syntax, names, types; bad literals
                throw new InvalidInputException("--where for " + source.display() + " is not a valid condition (" + condition + "): "
                        + firstLine(e.getMessage()).replaceFirst("^ERROR: ", ""));
            }
            throw e;
        }
    }

    /** The consumers that receive the backfill: those requested (each must exist), or every one there is now. */
    private List<String> targets(Connection c, Source source, List<String> requested) throws SQLException {
        List<String> existing = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT name FROM " + s + ".consumer ORDER BY name"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                existing.add(rs.getString(1));
            }
        }
        return BackfillTargets.resolve(existing, requested, source.display());
    }

    private Long unfinishedCommand(Connection c, int tableId, String condition, List<String> requested) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + s + ".backfill WHERE table_id = ? AND finished_at IS NULL"
                + " AND started_by IS NULL AND row_filter IS NOT DISTINCT FROM ? AND requested IS NOT DISTINCT FROM ?::text[] ORDER BY id LIMIT 1")) {
            ps.setInt(1, tableId);
            ps.setString(2, condition);
            ps.setArray(3, requested == null ? null : c.createArrayOf("text", requested.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    private long create(Connection c, Source source, String condition, List<String> requested, String startedBy, List<String> targets)
            throws SQLException {
        long id;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + s + ".backfill (table_id, row_filter, requested, started_by, rows_estimate)"
                + " VALUES (?, ?, ?::text[], ?, ?) RETURNING id")) {
            ps.setInt(1, source.tableId());
            ps.setString(2, condition);
            ps.setArray(3, requested == null ? null : c.createArrayOf("text", requested.toArray()));
            ps.setString(4, startedBy);
            ps.setLong(5, estimate(c, source, condition));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + s + ".backfill_target (backfill_id, consumer) VALUES (?, ?)")) {
            for (String consumer : targets) {
                ps.setLong(1, id);
                ps.setString(2, consumer);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return id;
    }

    /** The planner's estimate of the rows to log. */
    private static long estimate(Connection c, Source source, String condition) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN (FORMAT JSON) SELECT 1 FROM " + source.from("r") + " WHERE true" + filter(condition));
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            Matcher m = PLAN_ROWS.matcher(rs.getString(1));
            return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
        }
    }

    // ---------------------------------------------------------------- status

    private String select() {
        return "SELECT " + COLUMNS.formatted(s) + " FROM " + s + ".backfill b JOIN " + s + ".watched_table w ON w.id = b.table_id"
                + " LEFT JOIN pg_catalog.pg_class c ON c.oid = w.relid AND w.active LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace";
    }

    @Override
    public BackfillStatus status(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(select() + " WHERE b.id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return status(rs);
            }
        }
    }

    private static BackfillStatus status(ResultSet rs) throws SQLException {
        long estimate = rs.getLong(6);
        if (rs.wasNull()) {
            estimate = -1;
        }
        return new BackfillStatus(rs.getLong(1), rs.getString(11), Arrays.asList((String[]) rs.getArray(10).getArray()),
                rs.getString(3), rs.getString(4), rs.getLong(5), estimate,
                Timestamptz.COLUMNS.get(rs, 7), Timestamptz.COLUMNS.get(rs, 8), Timestamptz.COLUMNS.get(rs, 9));
    }
}
