package dev.epidemic.dialect.postgres;

import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.PruneResult;
import dev.epidemic.api.WatchedTable;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.LogRow;
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
import static dev.epidemic.dialect.SqlText.dollarTag;
import static dev.epidemic.dialect.SqlText.quoteIdent;
import static dev.epidemic.dialect.SqlText.quoteLiteral;

/**
 * Capture on PostgreSQL: which tables are watched (the registry), the generated trigger functions and
 * triggers that append their changes to the log, partitions, and the checks that capture still works.
 */
final class Capture {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Capture.class);
    /** The transition tables of the INSERT and DELETE statement triggers, as the capture function names them. */
    private static final String INSERTED = "epidemic_inserted";
    private static final String DELETED = "epidemic_deleted";

    private final String schema;
    private final String s; // the schema, quoted
    private final OwnSchema own;

    Capture(String schema, OwnSchema own) {
        this.schema = schema;
        this.s = quoteIdent(schema);
        this.own = own;
    }

    /** A table as the catalog knows it. */
    private record TableInfo(long oid, String schema, String name, char kind, char persistence) {
        String display() {
            return schema + "." + name;
        }

        String quoted() {
            return quoteIdent(schema) + "." + quoteIdent(name);
        }
    }

    /** A column and how its old and new values are compared. */
    private record ColumnInfo(String name, boolean compareAsText) {
    }

    /** What {@link #watch} would install on a table, found by reading the catalog only. */
    private record Plan(TableInfo info, List<ColumnInfo> all, WatchedTable wanted) {
    }

    private Plan plan(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        TableInfo info = resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        if (info.kind != 'r' && info.kind != 'p') {
            throw new InvalidInputException(info.display() + " is not a table (only ordinary and partitioned tables can be watched)");
        }
        if (info.schema.startsWith("pg_") || info.schema.equals("information_schema")) {
            throw new InvalidInputException(info.display() + " belongs to the system catalog; only user tables can be watched");
        }
        if (info.schema.equals(schema)) {
            throw new InvalidInputException(info.display() + " is one of Epidemic's own tables; it cannot be watched");
        }
        if (info.persistence == 't') {
            throw new InvalidInputException(info.display() + " is a temporary table, which other sessions cannot see; watch a permanent table");
        }
        List<ColumnInfo> all = columnsOf(c, info.oid);
        List<String> keys = keyColumns.isEmpty() ? primaryKey(c, info.oid) : pick(all, keyColumns, info, "key column");
        if (keys.isEmpty()) {
            throw new InvalidInputException("table " + info.display() + " has no primary key; add one, or name the key columns explicitly (--key)");
        }
        List<String> watched = columns.isEmpty() ? all.stream().map(ColumnInfo::name).toList() : pick(all, columns, info, "column");
        return new Plan(info, all, new WatchedTable(info.schema, info.name, keys, watched));
    }

    WatchedTable checkWatch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        return plan(c, table, columns, keyColumns).wanted();
    }

    WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        return inTransaction(c, () -> {
            Plan plan = plan(c, table, columns, keyColumns);
            TableInfo info = plan.info();
            List<ColumnInfo> all = plan.all();
            WatchedTable wanted = plan.wanted();
            List<String> keys = wanted.keyColumns();
            List<String> watched = wanted.columns();
            if (own.installed(c) && wanted.equals(registered(c, info.oid)) && captureIntact(c, info)) {
                return wanted;
            }
            own.installInTransaction(c);
            int id = register(c, info, keys, watched);
            createCapture(c, info, id, all, keys, watched);
            log.info("Watching {} (columns {})", info.display(), watched);
            return wanted;
        });
    }

    private TableInfo resolveTable(Connection c, String table) throws SQLException {
        if (table == null || table.isBlank()) {
            throw new InvalidInputException("table name is empty");
        }
        if (table.indexOf('\0') >= 0) {
            throw new InvalidInputException("table name contains a NUL character");
        }
        String sql = """
                SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence
                  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.oid = pg_catalog.to_regclass(?)""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return new TableInfo(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4).charAt(0), rs.getString(5).charAt(0));
            }
        } catch (SQLException e) {
            if ("42602".equals(e.getSQLState()) || "42601".equals(e.getSQLState()) || "3F000".equals(e.getSQLState()) || "42P01".equals(e.getSQLState())
                    || "22023".equals(e.getSQLState()) || "0A000".equals(e.getSQLState())) {
                throw new InvalidInputException("table " + table + " is not a valid table name: " + firstLine(e.getMessage()));
            }
            throw e;
        }
    }

    private static List<ColumnInfo> columnsOf(Connection c, long oid) throws SQLException {
        // Types without a usable equality (json, xml, geometric types) are compared as text.
        String sql = """
                SELECT a.attname,
                       t.typcategory = 'G' OR t.oid IN ('json'::regtype, 'xml'::regtype)
                       OR (e.oid IS NOT NULL AND (e.typcategory = 'G' OR e.oid IN ('json'::regtype, 'xml'::regtype)))
                  FROM pg_catalog.pg_attribute a
                  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum""";
        List<ColumnInfo> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(new ColumnInfo(rs.getString(1), rs.getBoolean(2)));
                }
            }
        }
        return result;
    }

    private static List<String> primaryKey(Connection c, long oid) throws SQLException {
        String sql = """
                SELECT a.attname
                  FROM pg_catalog.pg_index i
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                 WHERE i.indrelid = ? AND i.indisprimary
                 ORDER BY pg_catalog.array_position(i.indkey::int2[], a.attnum)""";
        List<String> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(rs.getString(1));
                }
            }
        }
        return result;
    }

    /**
     * Matches requested column names against the table's: a name in double quotes must match exactly,
     * any other name matches exactly or, failing that, as PostgreSQL folds an unquoted name (lower case).
     */
    private static List<String> pick(List<ColumnInfo> all, List<String> requested, TableInfo table, String what) {
        Set<String> result = new LinkedHashSet<>();
        for (String name : requested) {
            String match = matchColumn(all, name);
            if (match == null) {
                throw new InvalidInputException(what + " " + name + " does not exist in table " + table.display());
            }
            if (!result.add(match)) {
                throw new InvalidInputException(what + " " + name + " is named twice");
            }
        }
        return List.copyOf(result);
    }

    private static String matchColumn(List<ColumnInfo> all, String name) {
        String trimmed = name.strip();
        if (trimmed.isEmpty()) {
            throw new InvalidInputException("a column name is empty");
        }
        if (trimmed.length() >= 2 && trimmed.startsWith("\"") && trimmed.endsWith("\"")) {
            String exact = trimmed.substring(1, trimmed.length() - 1).replace("\"\"", "\"");
            return all.stream().map(ColumnInfo::name).filter(exact::equals).findFirst().orElse(null);
        }
        for (ColumnInfo column : all) {
            if (column.name.equals(trimmed)) {
                return column.name;
            }
        }
        String folded = trimmed.toLowerCase(java.util.Locale.ROOT);
        return all.stream().map(ColumnInfo::name).filter(folded::equals).findFirst().orElse(null);
    }

    private int register(Connection c, TableInfo t, List<String> keys, List<String> columns) throws SQLException {
        String sql = "INSERT INTO " + s + ".watched_table AS w (relid, schema_name, table_name, key_columns, columns, active)"
                + " VALUES (?, ?, ?, ?, ?, true)"
                + " ON CONFLICT (relid) DO UPDATE SET schema_name = excluded.schema_name, table_name = excluded.table_name,"
                + " key_columns = excluded.key_columns, columns = excluded.columns, active = true"
                + " RETURNING w.id";
        // A table dropped and re-created gets a new oid: its old registration (by name) is moved over.
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + s + ".watched_table SET relid = ? WHERE schema_name = ? AND table_name = ? AND relid <> ?")) {
            ps.setLong(1, t.oid);
            ps.setString(2, t.schema);
            ps.setString(3, t.name);
            ps.setLong(4, t.oid);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, t.oid);
            ps.setString(2, t.schema);
            ps.setString(3, t.name);
            ps.setArray(4, c.createArrayOf("text", keys.toArray()));
            ps.setArray(5, c.createArrayOf("text", columns.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private String functionName(int tableId) {
        return s + "." + quoteIdent("capture_" + tableId);
    }

    private String triggerName(String purpose) {
        return quoteIdent(schema + "_" + purpose);
    }

    private void createCapture(Connection c, TableInfo t, int tableId, List<ColumnInfo> all, List<String> keys,
                               List<String> watched) throws SQLException {
        String body = captureFunctionBody(tableId, keys, watched);
        String tag = dollarTag(body);
        Set<String> compared = new LinkedHashSet<>(keys);
        compared.addAll(watched);
        List<String> changed = new ArrayList<>();
        for (String column : compared) {
            boolean asText = all.stream().anyMatch(ci -> ci.name.equals(column) && ci.compareAsText);
            String col = quoteIdent(column);
            changed.add(asText
                    ? "OLD." + col + "::text IS DISTINCT FROM NEW." + col + "::text"
                    : "OLD." + col + " IS DISTINCT FROM NEW." + col);
        }
        String fn = functionName(tableId);
        try (Statement st = c.createStatement()) {
            dropTriggers(st, t);
            st.execute("CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql"
                    + " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS " + tag + body + tag);
            st.execute("REVOKE ALL ON FUNCTION " + fn + "() FROM PUBLIC");
            // INSERT and DELETE are captured per statement from transition tables: one trigger call and
            // one INSERT ... SELECT per statement, about 3x cheaper per row than a row trigger for bulk
            // statements and as cheap for single rows (docs/benchmarks.md). A transition table may serve
            // only one event, hence two triggers.
            st.execute("CREATE TRIGGER " + triggerName("capture_insert") + " AFTER INSERT ON " + t.quoted()
                    + " REFERENCING NEW TABLE AS " + INSERTED + " FOR EACH STATEMENT EXECUTE FUNCTION " + fn + "()");
            st.execute("CREATE TRIGGER " + triggerName("capture_delete") + " AFTER DELETE ON " + t.quoted()
                    + " REFERENCING OLD TABLE AS " + DELETED + " FOR EACH STATEMENT EXECUTE FUNCTION " + fn + "()");
            st.execute("CREATE TRIGGER " + triggerName("capture_update") + " AFTER UPDATE ON " + t.quoted()
                    + " FOR EACH ROW WHEN (" + String.join(" OR ", changed) + ") EXECUTE FUNCTION " + fn + "()");
            st.execute("CREATE TRIGGER " + triggerName("capture_truncate") + " AFTER TRUNCATE ON " + t.quoted()
                    + " FOR EACH STATEMENT EXECUTE FUNCTION " + fn + "()");
        }
        if (t.kind == 'p') {
            coverPartitions(c, t, tableId);
        }
    }

    private void dropTriggers(Statement st, TableInfo t) throws SQLException {
        // "capture" is the row trigger for INSERT OR DELETE of installs before statement-level capture.
        for (String purpose : List.of("capture", "capture_insert", "capture_delete", "capture_update", "capture_truncate")) {
            st.execute("DROP TRIGGER IF EXISTS " + triggerName(purpose) + " ON " + t.quoted());
        }
    }

    /**
     * The trigger function, one per table. Fired per statement for INSERT and DELETE (reading the
     * statement's transition table) and TRUNCATE, per row for UPDATE (whose WHEN clause already skipped
     * updates of unwatched columns). It reads the current slot and whether any dispatcher waits, appends
     * the log rows, and notifies only if a dispatcher waits and something was logged. It reads without
     * locking, so writers never wait for each other or for a dispatcher.
     */
    private String captureFunctionBody(int tableId, List<String> keys, List<String> watched) {
        String insertRows = "SELECT ${slot}, nextval(" + quoteLiteral(s + ".change_id_seq") + "::regclass), pg_current_xact_id(), "
                + tableId + ", 'I', " + jsonObject("r", keys) + ", NULL, " + jsonObject("r", watched) + ", statement_timestamp()"
                + " FROM " + INSERTED + " r";
        String deleteRows = "SELECT ${slot}, nextval(" + quoteLiteral(s + ".change_id_seq") + "::regclass), pg_current_xact_id(), "
                + tableId + ", 'D', " + jsonObject("r", keys) + ", " + jsonObject("r", watched) + ", NULL, statement_timestamp()"
                + " FROM " + DELETED + " r";
        String updateRow = "VALUES (${slot}, nextval(" + quoteLiteral(s + ".change_id_seq") + "::regclass), pg_current_xact_id(), "
                + tableId + ", 'U', " + jsonObject("NEW", keys) + ", " + jsonObject("OLD", watched) + ", " + jsonObject("NEW", watched)
                + ", statement_timestamp())";
        String truncate = "VALUES (${slot}, nextval(" + quoteLiteral(s + ".change_id_seq") + "::regclass), pg_current_xact_id(), "
                + tableId + ", 'T', NULL, NULL, NULL, statement_timestamp())";
        return "\nDECLARE\n  slot smallint;\n  wake boolean;\nBEGIN\n"
                + "  SELECT st.current_slot, EXISTS (SELECT 1 FROM " + s + ".waiting) INTO slot, wake FROM " + s + ".log_state st;\n"
                + "  IF TG_OP = 'UPDATE' THEN\n" + intoSlot(updateRow, "    ")
                + "  ELSIF TG_OP = 'INSERT' THEN\n" + intoSlot(insertRows, "    ")
                + "  ELSIF TG_OP = 'DELETE' THEN\n" + intoSlot(deleteRows, "    ")
                + "  ELSE\n" + intoSlot(truncate, "    ")
                + "  END IF;\n"
                + "  IF wake AND FOUND THEN\n"
                + "    PERFORM pg_notify(" + quoteLiteral(schema) + ", '');\n"
                + "  END IF;\n"
                + "  RETURN NULL;\n"
                + "END\n";
    }

    /** Appends {@code rows} to the slot's partition directly: cheaper than routing through the parent. */
    private String intoSlot(String rows, String indent) {
        StringBuilder sql = new StringBuilder();
        for (int slot = 0; slot < PostgresDialect.SLOTS; slot++) {
            sql.append(indent).append(slot == 0 ? "IF" : "ELSIF").append(" slot = ").append(slot).append(" THEN\n")
                    .append(indent).append("  INSERT INTO ").append(s).append(".change_log_").append(slot)
                    .append(" (slot, id, txid, table_id, op, key, old, new, at) ")
                    .append(rows.replace("${slot}", String.valueOf(slot))).append(";\n");
        }
        return sql.append(indent).append("END IF;\n").toString();
    }

    private static String jsonObject(String record, List<String> columns) {
        // jsonb_build_object takes at most 100 arguments: longer lists are concatenated in pieces.
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < columns.size(); i += 50) {
            List<String> piece = columns.subList(i, Math.min(columns.size(), i + 50));
            StringBuilder sb = new StringBuilder("jsonb_build_object(");
            for (int j = 0; j < piece.size(); j++) {
                if (j > 0) {
                    sb.append(", ");
                }
                sb.append(quoteLiteral(piece.get(j))).append(", ").append(record).append('.').append(quoteIdent(piece.get(j)));
            }
            parts.add(sb.append(')').toString());
        }
        return String.join(" || ", parts);
    }

    boolean unwatch(Connection c, String table, boolean purge) throws SQLException {
        return inTransaction(c, () -> {
            if (!own.installed(c)) {
                return false;
            }
            TableInfo info = resolveTable(c, table);
            Integer id = null;
            String schemaName = null;
            String tableName = null;
            String sql = info != null
                    ? "SELECT id, schema_name, table_name FROM " + s + ".watched_table WHERE active AND relid = ?"
                    : "SELECT id, schema_name, table_name FROM " + s + ".watched_table WHERE active AND ("
                      + " (schema_name, table_name) = (SELECT p[1], p[2] FROM pg_catalog.parse_ident(?) p WHERE cardinality(p) = 2)"
                      + " OR table_name = (SELECT p[1] FROM pg_catalog.parse_ident(?) p WHERE cardinality(p) = 1))";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                if (info != null) {
                    ps.setLong(1, info.oid);
                } else {
                    ps.setString(1, table);
                    ps.setString(2, table);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        id = rs.getInt(1);
                        schemaName = rs.getString(2);
                        tableName = rs.getString(3);
                    }
                    if (rs.next()) {
                        throw new InvalidInputException("table " + table + " is ambiguous; name its schema");
                    }
                }
            } catch (SQLException e) {
                if ("42602".equals(e.getSQLState())) {
                    throw new InvalidInputException("table " + table + " is not a valid table name: " + firstLine(e.getMessage()));
                }
                throw e;
            }
            if (id == null) {
                if (info == null) {
                    throw new InvalidInputException("table " + table + " does not exist");
                }
                return false;
            }
            try (Statement st = c.createStatement()) {
                if (info != null) {
                    dropTriggers(st, info);
                    uncoverPartitions(c, info);
                }
                st.execute("DROP FUNCTION IF EXISTS " + functionName(id) + "()");
                st.execute("DROP FUNCTION IF EXISTS " + guardFunctionName(id) + "()");
                if (purge) {
                    st.execute("DELETE FROM " + s + ".change_log WHERE table_id = " + id);
                    st.execute("DELETE FROM " + s + ".watched_table WHERE id = " + id);
                } else {
                    // The registration stays (inactive) so that changes already logged still name their table.
                    st.execute("UPDATE " + s + ".watched_table SET active = false WHERE id = " + id);
                }
            }
            log.info("Stopped watching {}.{}{}", schemaName, tableName, purge ? " and purged its changes" : "");
            return true;
        });
    }

    List<WatchedTable> list(Connection c) throws SQLException {
        List<WatchedTable> result = new ArrayList<>();
        if (!own.installed(c)) {
            return result;
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT schema_name, table_name, key_columns, columns FROM " + s
                     + ".watched_table WHERE active ORDER BY schema_name, table_name")) {
            while (rs.next()) {
                result.add(new WatchedTable(rs.getString(1), rs.getString(2), textArray(rs.getArray(3)), textArray(rs.getArray(4))));
            }
        }
        return result;
    }

    WatchedTable watched(Connection c, String table) throws SQLException {
        TableInfo info = resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        return own.installed(c) ? registered(c, info.oid) : null;
    }

    private WatchedTable registered(Connection c, long oid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT schema_name, table_name, key_columns, columns FROM " + s
                + ".watched_table WHERE relid = ? AND active")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new WatchedTable(rs.getString(1), rs.getString(2), textArray(rs.getArray(3)), textArray(rs.getArray(4))) : null;
            }
        }
    }

    private static List<String> textArray(Array array) throws SQLException {
        return List.of((String[]) array.getArray());
    }

    int[] tableIds(Connection c, List<String> tables) throws SQLException {
        int[] ids = new int[tables.size()];
        for (int i = 0; i < tables.size(); i++) {
            TableInfo info = resolveTable(c, tables.get(i));
            if (info == null) {
                throw new InvalidInputException("table " + tables.get(i) + " does not exist");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + s + ".watched_table WHERE relid = ?")) {
                ps.setLong(1, info.oid);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new InvalidInputException("table " + info.display() + " is not watched; run: epidemic watch " + tables.get(i));
                    }
                    ids[i] = rs.getInt(1);
                }
            }
        }
        return ids;
    }

    // ---------------------------------------------------------------- broken capture and partitions

    /**
     * Watched tables whose capture no longer works as registered: the table is gone, a capture trigger
     * was dropped or disabled (DROP COLUMN ... CASCADE silently drops the UPDATE trigger, whose WHEN
     * clause names the column), a watched column was dropped or renamed (the capture function then
     * fails every write), or a partition lacks its TRUNCATE guard. Each entry says how to repair it.
     */
    List<String> captureProblems(Connection c) throws SQLException {
        List<String> result = new ArrayList<>();
        if (!own.installed(c)) {
            return result;
        }
        String sql = "SELECT w.schema_name, w.table_name, w.key_columns, w.columns, cl.oid IS NOT NULL, cl.relkind::text,"
                + " ARRAY(SELECT x FROM unnest(ARRAY[" + quoteLiteral(schema + "_capture_insert") + ", " + quoteLiteral(schema + "_capture_delete")
                + ", " + quoteLiteral(schema + "_capture_update") + ", " + quoteLiteral(schema + "_capture_truncate") + "]) x"
                + "        WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = w.relid AND tg.tgname = x AND tg.tgenabled <> 'D')),"
                + " ARRAY(SELECT x FROM unnest(w.key_columns || w.columns) x"
                + "        WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = w.relid AND a.attname = x AND a.attnum > 0 AND NOT a.attisdropped)),"
                + " ARRAY(SELECT pt.relid::regclass::text FROM pg_catalog.pg_partition_tree(w.relid::regclass) pt WHERE cl.relkind = 'p'"
                + "        AND (SELECT k.relkind FROM pg_catalog.pg_class k WHERE k.oid = pt.relid) IN ('r', 'p')"
                + "        AND (SELECT count(*) FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = pt.relid AND tg.tgenabled <> 'D' AND tg.tgname IN ("
                + quoteLiteral(schema + "_guard_truncate") + ", " + quoteLiteral(schema + "_capture_insert") + ", "
                + quoteLiteral(schema + "_capture_delete") + ")) < 3)"
                + " FROM " + s + ".watched_table w LEFT JOIN pg_catalog.pg_class cl ON cl.oid = w.relid"
                + " WHERE w.active ORDER BY w.schema_name, w.table_name";
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                String table = displayName(rs.getString(1), rs.getString(2));
                if (!rs.getBoolean(5)) {
                    result.add("watched table " + table + " no longer exists; remove it with: epidemic unwatch " + table);
                    continue;
                }
                List<String> problems = new ArrayList<>();
                for (String trigger : textArray(rs.getArray(7))) {
                    problems.add("trigger " + trigger + " is missing or disabled");
                }
                List<String> missingColumns = textArray(rs.getArray(8));
                for (String column : missingColumns) {
                    problems.add("column " + column + " was dropped or renamed");
                }
                for (String partition : textArray(rs.getArray(9))) {
                    problems.add("partition " + partition + " lacks its capture triggers");
                }
                if (!problems.isEmpty()) {
                    Set<String> columns = new LinkedHashSet<>(textArray(rs.getArray(4)));
                    columns.removeAll(missingColumns);
                    result.add("capture of " + table + " is broken (" + String.join(", ", problems) + "): its changes are not all captured;"
                            + " repair with: epidemic watch " + table + (columns.isEmpty() ? "" : " --columns " + String.join(",", columns)));
                }
            }
        }
        return result;
    }

    /** True when the table's three capture triggers are in place and enabled, and every partition is guarded. */
    private boolean captureIntact(Connection c, TableInfo t) throws SQLException {
        String sql = "SELECT (SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgrelid = ? AND tgenabled <> 'D' AND tgname IN (?, ?, ?, ?)) = 4"
                + " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(?::oid::regclass) pt WHERE " + (t.kind == 'p' ? "true" : "pt.level > 0")
                + "   AND (SELECT k.relkind FROM pg_catalog.pg_class k WHERE k.oid = pt.relid) IN ('r', 'p')"
                + "   AND (SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgrelid = pt.relid AND tgenabled <> 'D' AND tgname IN (?, ?, ?)) < 3)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, t.oid);
            ps.setString(2, schema + "_capture_insert");
            ps.setString(3, schema + "_capture_delete");
            ps.setString(4, schema + "_capture_update");
            ps.setString(5, schema + "_capture_truncate");
            ps.setLong(6, t.oid);
            ps.setString(7, schema + "_guard_truncate");
            ps.setString(8, schema + "_capture_insert");
            ps.setString(9, schema + "_capture_delete");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private String guardFunctionName(int tableId) {
        return s + "." + quoteIdent("guard_truncate_" + tableId);
    }

    /**
     * Covers the partitions of a partitioned table: row triggers are cloned to partitions, statement
     * triggers are not, so each partition gets the INSERT and DELETE capture triggers of its own. A
     * TRUNCATE of one partition cannot be one change ("all rows of the table are gone" would be untrue):
     * it is refused, loudly, on every partition. A TRUNCATE
     * of the partitioned table itself also fires its partitions' triggers, after its own BEFORE trigger,
     * which marks the transaction as truncating the whole table until its AFTER trigger clears the mark.
     */
    private void coverPartitions(Connection c, TableInfo t, int tableId) throws SQLException {
        String message = "TRUNCATE of a partition of " + t.display() + " cannot be captured: truncate " + t.display()
                + " itself, or DELETE from the partition";
        String flag = quoteLiteral("epidemic.truncating_" + tableId + "_" + Integer.toHexString(schema.hashCode()));
        String body = "\nBEGIN\n"
                + "  IF TG_NARGS > 0 THEN\n"
                + "    PERFORM pg_catalog.set_config(" + flag + ", CASE TG_ARGV[0] WHEN 'begin' THEN 'on' ELSE '' END, true);\n"
                + "  ELSIF coalesce(pg_catalog.current_setting(" + flag + ", true), '') <> 'on' THEN\n"
                + "    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', MESSAGE = " + quoteLiteral(message) + ";\n"
                + "  END IF;\n"
                + "  RETURN NULL;\n"
                + "END\n";
        String tag = dollarTag(body);
        String fn = guardFunctionName(tableId);
        try (Statement st = c.createStatement()) {
            st.execute("CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql"
                    + " SET search_path = pg_catalog, pg_temp AS " + tag + body + tag);
            st.execute("REVOKE ALL ON FUNCTION " + fn + "() FROM PUBLIC");
            uncoverPartitions(c, t);
            st.execute("CREATE TRIGGER " + triggerName("guard_truncate") + " BEFORE TRUNCATE ON " + t.quoted()
                    + " FOR EACH STATEMENT EXECUTE FUNCTION " + fn + "('begin')");
            st.execute("CREATE TRIGGER " + triggerName("guard_truncate_end") + " AFTER TRUNCATE ON " + t.quoted()
                    + " FOR EACH STATEMENT EXECUTE FUNCTION " + fn + "('end')");
            for (String partition : partitions(c, t)) {
                st.execute("CREATE TRIGGER " + triggerName("guard_truncate") + " BEFORE TRUNCATE ON " + partition
                        + " FOR EACH STATEMENT EXECUTE FUNCTION " + fn + "()");
                // Statement triggers of the partitioned table do not fire for an INSERT or DELETE that
                // names a partition; these do (and only then), logging under the partitioned table's id.
                st.execute("CREATE TRIGGER " + triggerName("capture_insert") + " AFTER INSERT ON " + partition
                        + " REFERENCING NEW TABLE AS " + INSERTED + " FOR EACH STATEMENT EXECUTE FUNCTION " + functionName(tableId) + "()");
                st.execute("CREATE TRIGGER " + triggerName("capture_delete") + " AFTER DELETE ON " + partition
                        + " REFERENCING OLD TABLE AS " + DELETED + " FOR EACH STATEMENT EXECUTE FUNCTION " + functionName(tableId) + "()");
            }
        }
    }

    private void uncoverPartitions(Connection c, TableInfo t) throws SQLException {
        if (t.kind != 'p') {
            return;
        }
        try (Statement st = c.createStatement()) {
            st.execute("DROP TRIGGER IF EXISTS " + triggerName("guard_truncate") + " ON " + t.quoted());
            st.execute("DROP TRIGGER IF EXISTS " + triggerName("guard_truncate_end") + " ON " + t.quoted());
            for (String partition : partitions(c, t)) {
                for (String purpose : List.of("guard_truncate", "capture_insert", "capture_delete")) {
                    st.execute("DROP TRIGGER IF EXISTS " + triggerName(purpose) + " ON " + partition);
                }
            }
        }
    }

    /** Every partition below a partitioned table, quoted and qualified. */
    private static List<String> partitions(Connection c, TableInfo t) throws SQLException {
        List<String> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, cl.relname FROM pg_catalog.pg_partition_tree(?::oid::regclass) pt"
                + " JOIN pg_catalog.pg_class cl ON cl.oid = pt.relid JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace"
                + " WHERE pt.level > 0 AND cl.relkind IN ('r', 'p')")) {
            ps.setLong(1, t.oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(quoteIdent(rs.getString(1)) + "." + quoteIdent(rs.getString(2)));
                }
            }
        }
        return result;
    }

    /** schema.table as a user would type it: quoted only where PostgreSQL would otherwise fold or reject it. */
    private static String displayName(String schemaName, String tableName) {
        return plainOrQuoted(schemaName) + "." + plainOrQuoted(tableName);
    }

    private static String plainOrQuoted(String name) {
        return name.matches("[a-z_][a-z0-9_$]*") ? name : quoteIdent(name);
    }

}
