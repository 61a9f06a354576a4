package dev.epidemic.dialect.postgres;

import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.RowFilterInfo;
import dev.epidemic.dialect.RowFilter;
import dev.epidemic.dialect.postgres.Catalog.TableInfo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static dev.epidemic.dialect.Jdbc.firstLine;
import static dev.epidemic.dialect.Jdbc.prepare;
import static dev.epidemic.dialect.Jdbc.queryBoolean;
import static dev.epidemic.dialect.Jdbc.queryStrings;
import static dev.epidemic.dialect.SqlText.quoteIdent;

/**
 * Row filters on PostgreSQL (docs/row-filters.md): checking a condition before it may enter a capture
 * function, and the registry of who registered which filter on which table ({@code row_filter_registration},
 * from which {@code sync_filters} in V6__row_filters.sql derives the filters and their bits).
 *
 * <p>A capture function is {@code SECURITY DEFINER}: a filter runs with Epidemic's rights on every write.
 * So a condition is compiled once, with the capture function's own {@code search_path}, into a temporary
 * view that is rolled back, and the view's parse tree is inspected: it may name only the table (and its
 * columns), constants, and functions and operators of {@code pg_catalog} that are not volatile, and types
 * of {@code pg_catalog} or of the table's columns; no subquery, no other relation, nothing user-defined.
 * Objects of {@code pg_catalog} are not recorded in {@code pg_depend} (they are pinned), so the functions
 * and operators the tree calls are read from the tree itself.
 */
final class RowFilters {
    /** The registrant of the table-wide filter of {@code watch --where}; a consumer's name is never empty. */
    static final String TABLE_WIDE = "";
    /** The predicate registered for a handler without a filter. */
    static final String EVERY_ROW = "";
    /** Built-in functions that are not volatile but read whole tables or schemas with the caller's (Epidemic's) rights. */
    private static final String READS_TABLES = "^(table|schema|database)_to_xml";

    private final String s; // the schema, quoted

    RowFilters(String quotedSchema) {
        this.s = quotedSchema;
    }

    /**
     * The condition, trimmed, once it is known to be a boolean expression over the table's own columns that
     * runs nothing but built-in, non-volatile code; otherwise an input error naming the table. Reads only
     * (its temporary view is rolled back).
     */
    String check(Connection c, TableInfo table, String where) throws SQLException {
        String condition = RowFilter.check(where, table.display());
        Savepoint savepoint = c.setSavepoint();
        try {
            try (Statement st = c.createStatement()) {
                // The capture function's own search_path: names resolve here as they will there.
                st.execute("SET LOCAL search_path = pg_catalog, pg_temp");
                st.execute("CREATE TEMPORARY VIEW epidemic_row_filter_check AS SELECT 1 FROM ONLY " + quoteIdent(table.schema()) + "."
                        + quoteIdent(table.name()) + " r WHERE (" + condition + ")");
            } catch (SQLException e) {
                String state = e.getSQLState() == null ? "" : e.getSQLState();
                if (state.startsWith("42") || state.startsWith("22") || state.startsWith("0A")) { // syntax, names, types; bad literals
                    throw refused(table, condition, firstLine(e.getMessage()).replaceFirst("^ERROR: ", ""));
                }
                throw e;
            }
            List<String> offending = offending(c, table);
            if (!offending.isEmpty()) {
                throw refused(table, condition, "it uses " + String.join(", ", offending)
                        + "; a filter may use only the table's columns, constants, and built-in functions and operators that are not volatile");
            }
            return condition;
        } finally {
            c.rollback(savepoint); // the view, and the search_path with it
        }
    }

    private static InvalidInputException refused(TableInfo table, String condition, String why) {
        return new InvalidInputException("row filter for " + table.display() + " (" + condition + ") is refused: " + why);
    }

    /** What the checked view uses beyond what a filter may use, one description each. */
    private static List<String> offending(Connection c, TableInfo table) throws SQLException {
        String sql = """
                WITH rule AS (
                    SELECT rw.oid, rw.ev_class, rw.ev_action::text AS tree FROM pg_catalog.pg_rewrite rw
                     WHERE rw.ev_class = pg_catalog.to_regclass('pg_temp.epidemic_row_filter_check')),
                column_types AS (
                    SELECT a.atttypid FROM pg_catalog.pg_attribute a WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped),
                procs AS (
                    SELECT m[1]::oid AS id FROM rule, pg_catalog.regexp_matches(rule.tree,
                        ':(?:funcid|opfuncid|hashfuncid|negfuncid|aggfnoid|winfnoid) (\\d+)', 'g') m),
                operators AS (
                    SELECT m[1]::oid AS id FROM rule, pg_catalog.regexp_matches(rule.tree, ':opno (\\d+)', 'g') m
                    UNION
                    SELECT pg_catalog.unnest(pg_catalog.string_to_array(m[1], ' '))::oid FROM rule,
                           pg_catalog.regexp_matches(rule.tree, ':opnos \\(o ([0-9 ]+)\\)', 'g') m)
                SELECT 'a subquery' FROM rule WHERE rule.tree LIKE '%:hasSubLinks true%'
                UNION ALL
                SELECT 'a cast to a domain' FROM rule WHERE rule.tree LIKE '%{COERCETODOMAIN %'
                UNION ALL
                -- everything not pinned (so not built in) that the view depends on, beyond the table and its columns' types
                SELECT pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0)
                  FROM rule JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = rule.oid
                 WHERE NOT (d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid IN (rule.ev_class, ?))
                   AND NOT (d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.refobjid IN (SELECT id FROM procs))
                   AND NOT (d.refclassid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND d.refobjid IN (SELECT id FROM operators))
                   AND NOT (d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.refobjid IN (SELECT atttypid FROM column_types))
                UNION ALL
                SELECT 'operator ' || o.oid::pg_catalog.regoperator::text || ' (not built in)'
                  FROM operators JOIN pg_catalog.pg_operator o ON o.oid = operators.id
                 WHERE o.oprnamespace <> 'pg_catalog'::pg_catalog.regnamespace
                UNION ALL
                SELECT 'function ' || p.oid::pg_catalog.regprocedure::text
                       || CASE WHEN p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace THEN ' (not built in)'
                               WHEN p.provolatile = 'v' THEN ' (volatile)' ELSE ' (reads tables)' END
                  FROM (SELECT id FROM procs UNION SELECT o.oprcode::oid FROM operators JOIN pg_catalog.pg_operator o ON o.oid = operators.id) used
                  JOIN pg_catalog.pg_proc p ON p.oid = used.id
                 WHERE p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace OR p.provolatile = 'v' OR p.proname ~ ?""";
        List<String> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, table.oid());
            ps.setLong(2, table.oid());
            ps.setString(3, READS_TABLES);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!result.contains(rs.getString(1))) {
                        result.add(rs.getString(1));
                    }
                }
            }
        }
        return result;
    }

    /** The predicates {@code registrant} registered on the table (registry id), sorted. */
    Set<String> registered(Connection c, int tableId, String registrant) throws SQLException {
        Set<String> result = new TreeSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT predicate FROM " + s + ".row_filter_registration WHERE table_id = ? AND registrant = ?")) {
            ps.setInt(1, tableId);
            ps.setString(2, registrant);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(rs.getString(1));
                }
            }
        }
        return result;
    }

    /** True when this role may read the registrations (a consumer granted its rights before they existed may not). */
    boolean readable(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.has_table_privilege(?, 'SELECT')")) {
            ps.setString(1, s + ".row_filter_registration");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * The table's filters that are no longer valid conditions on it (a column they name was dropped or
     * renamed), each with the server's reason; capture counts them as selecting every row (mask_sql in V6__row_filters.sql).
     */
    List<String> invalid(Connection c, int tableId, TableInfo table) throws SQLException {
        List<String> result = new ArrayList<>();
        Map<String, Integer> bits = bits(c, tableId);
        if (bits.isEmpty()) {
            return result;
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            for (String predicate : bits.keySet()) {
                Savepoint savepoint = c.setSavepoint();
                try (Statement st = c.createStatement()) {
                    st.execute("SET LOCAL search_path = pg_catalog, pg_temp");
                    st.executeQuery("SELECT 1 FROM ONLY " + quoteIdent(table.schema()) + "." + quoteIdent(table.name()) + " r WHERE ("
                            + predicate + ") LIMIT 0").close();
                } catch (SQLException e) {
                    result.add("(" + predicate + ") is no longer valid (" + firstLine(e.getMessage()).replaceFirst("^ERROR: ", "") + ")");
                } finally {
                    c.rollback(savepoint);
                }
            }
        } finally {
            if (autoCommit) {
                c.rollback();
                c.setAutoCommit(true);
            }
        }
        return result;
    }

    /**
     * The consumers other than {@code registrant} that registered nothing on the table: once it has filters they
     * receive only the rows some filter selects, until they start again and register their handlers.
     */
    List<String> unregisteredConsumers(Connection c, int tableId, String registrant) throws SQLException {
        return queryStrings(c, "SELECT cs.name FROM " + s + ".consumer cs WHERE cs.name <> ? AND NOT EXISTS (SELECT 1 FROM "
                + s + ".row_filter_registration r WHERE r.table_id = ? AND r.registrant = cs.name) ORDER BY cs.name", registrant, tableId);
    }

    /** True when this role may record and withdraw its own registrations (the consumer grants of docs/security.md). */
    boolean mayRegister(Connection c) throws SQLException {
        // Several privileges in one call would ask whether any of them is held.
        String table = s + ".row_filter_registration";
        return queryBoolean(c, "SELECT pg_catalog.has_table_privilege(?, 'SELECT') AND pg_catalog.has_table_privilege(?, 'INSERT')"
                + " AND pg_catalog.has_table_privilege(?, 'DELETE')", table, table, table);
    }

    /**
     * Records that {@code registrant} handles the table with a handler that takes every row, on a table without
     * filters: capture does not change, so this needs no right beyond the registrations. The new row's foreign
     * key waits for a filter change of the table under way; one that committed first is reported by returning
     * true (the table has filters now, and the caller must derive them again).
     */
    boolean registerEveryRow(Connection c, int tableId, String registrant) throws SQLException {
        try (PreparedStatement ps = prepare(c, "INSERT INTO " + s + ".row_filter_registration (table_id, registrant, predicate)"
                + " VALUES (?, ?, '') ON CONFLICT DO NOTHING", tableId, registrant)) {
            ps.executeUpdate();
        }
        return filtered(c, tableId);
    }

    /** Withdraws what {@code registrant} registered on a table without filters (capture does not change). */
    void withdraw(Connection c, int tableId, String registrant) throws SQLException {
        try (PreparedStatement ps = prepare(c, "DELETE FROM " + s + ".row_filter_registration WHERE table_id = ? AND registrant = ?", tableId, registrant)) {
            ps.executeUpdate();
        }
    }

    /** The registry ids of the tables {@code registrant} registered filters on. */
    List<Integer> tablesOf(Connection c, String registrant) throws SQLException {
        List<Integer> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT table_id FROM " + s + ".row_filter_registration WHERE registrant = ?")) {
            ps.setString(1, registrant);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(rs.getInt(1));
                }
            }
        }
        return result;
    }

    /** True when the table has a filter that selects rows (not only handlers without one). */
    boolean filtered(Connection c, int tableId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM " + s + ".row_filter_registration WHERE table_id = ? AND predicate <> '')")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Replaces what {@code registrant} registered on the table with {@code predicates} (already checked) and
     * derives the table's filters again; the caller regenerates capture in the same transaction.
     */
    void replace(Connection c, String table, int tableId, String registrant, Set<String> predicates) throws SQLException {
        // One change of a table's filters at a time, locked before the registrations are touched: their foreign
        // key share-locks the table's registry row, which two consumers starting together would then both hold
        // and each wait for the other to give up (sync_filters locks the row too).
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + s + ".watched_table WHERE id = ? FOR UPDATE")) {
            ps.setInt(1, tableId);
            ps.executeQuery().close();
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + s + ".row_filter_registration WHERE table_id = ? AND registrant = ?")) {
            ps.setInt(1, tableId);
            ps.setString(2, registrant);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + s + ".row_filter_registration (table_id, registrant, predicate) VALUES (?, ?, ?)")) {
            for (String predicate : predicates) {
                ps.setInt(1, tableId);
                ps.setString(2, registrant);
                ps.setString(3, predicate);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT " + s + ".sync_filters(?)")) {
            ps.setInt(1, tableId);
            ps.execute();
        } catch (SQLException e) {
            if ("54000".equals(e.getSQLState())) { // program_limit_exceeded: more than 63 filters
                throw new InvalidInputException("row filters of " + table + ": " + firstLine(e.getMessage()).replaceFirst("^ERROR: ", "")
                        + "; share conditions between handlers, or drop some");
            }
            throw e;
        }
    }

    /** The bit of each filter of the table (registry id), by predicate; empty when it has none. */
    Map<String, Integer> bits(Connection c, int tableId) throws SQLException {
        Map<String, Integer> result = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT predicate, bit FROM " + s + ".row_filter WHERE table_id = ?")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.put(rs.getString(1), rs.getInt(2));
                }
            }
        }
        return result;
    }

    /** The filters registered on the table (registry id), for {@code list}: by predicate, with who registered each. */
    List<RowFilterInfo> describe(Connection c, int tableId) throws SQLException {
        List<RowFilterInfo> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT predicate, bool_or(registrant = ''),"
                + " coalesce(array_agg(registrant ORDER BY registrant) FILTER (WHERE registrant <> ''), '{}')"
                + " FROM " + s + ".row_filter_registration WHERE table_id = ? AND predicate <> '' GROUP BY predicate ORDER BY predicate")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(new RowFilterInfo(rs.getString(1), rs.getBoolean(2), List.of((String[]) rs.getArray(3).getArray())));
                }
            }
        }
        return result;
    }
}
