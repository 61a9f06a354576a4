package dev.epidemic.dialect.mariadb;

import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.RowFilterInfo;
import dev.epidemic.dialect.RowFilter;
import dev.epidemic.dialect.mariadb.Catalog.Column;
import dev.epidemic.dialect.mariadb.Catalog.Table;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.epidemic.dialect.Jdbc.firstLine;
import static dev.epidemic.dialect.Jdbc.prepare;
import static dev.epidemic.dialect.Jdbc.queryStrings;
import static dev.epidemic.dialect.mariadb.Names.quote;

/**
 * Row filters on MariaDB (docs/row-filters.md): checking a condition, rewriting it for a trigger, and who
 * registered which filter on which table ({@code filter_owner}), from which the filters and their bits
 * ({@code row_filter}) follow.
 *
 * <p>Capture triggers run with their definer's rights, and MariaDB keeps no record of what an expression
 * depends on, so a condition is read token by token against an allow-list: the table's columns, literals,
 * operators, and the deterministic built-in functions of {@link #FUNCTIONS}; no variable, no qualified
 * name, no subquery, no stored function. Then the server is asked whether it is a valid condition on the
 * table (a query that reads no row).
 */
final class RowFilters {
    static final String TABLE_WIDE = "";
    static final String EVERY_ROW = "";
    private static final int BITS = 63;

    /** Built-in functions a filter may call: deterministic, reading nothing but their arguments. */
    static final Set<String> FUNCTIONS = Set.of(
            "COALESCE", "IFNULL", "NULLIF", "IF", "ISNULL", "GREATEST", "LEAST",
            "LOWER", "UPPER", "LCASE", "UCASE", "LENGTH", "CHAR_LENGTH", "CHARACTER_LENGTH", "OCTET_LENGTH",
            "SUBSTRING", "SUBSTR", "MID", "LEFT", "RIGHT", "TRIM", "LTRIM", "RTRIM", "CONCAT", "CONCAT_WS", "REPLACE",
            "LOCATE", "INSTR", "POSITION", "LPAD", "RPAD", "REVERSE", "STRCMP", "FIND_IN_SET",
            "ABS", "CEIL", "CEILING", "FLOOR", "ROUND", "TRUNCATE", "MOD", "SIGN",
            "CAST", "CONVERT",
            "JSON_VALUE", "JSON_EXTRACT", "JSON_UNQUOTE", "JSON_CONTAINS", "JSON_CONTAINS_PATH", "JSON_LENGTH", "JSON_TYPE",
            "JSON_EXISTS", "JSON_QUERY",
            "DATE", "TIME", "YEAR", "MONTH", "DAY", "DAYOFMONTH", "DAYOFWEEK", "HOUR", "MINUTE", "SECOND", "DATEDIFF", "TIMESTAMPDIFF");
    /** Words a filter may use that are neither columns nor functions: operators, literals, CASE and CAST's types. */
    private static final Set<String> KEYWORDS = Set.of(
            "AND", "OR", "NOT", "XOR", "IS", "NULL", "TRUE", "FALSE", "UNKNOWN", "IN", "BETWEEN", "LIKE", "ESCAPE", "REGEXP", "RLIKE",
            "DIV", "MOD", "CASE", "WHEN", "THEN", "ELSE", "END", "AS", "USING", "FROM", "FOR", "BOTH", "LEADING", "TRAILING",
            "CHAR", "VARCHAR", "SIGNED", "UNSIGNED", "INTEGER", "INT", "DECIMAL", "DOUBLE", "FLOAT", "DATE", "DATETIME", "TIME",
            "BINARY", "UTF8MB4", "JSON", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND");

    private final OwnTables own;

    RowFilters(OwnTables own) {
        this.own = own;
    }

    /** A token of a condition: a column reference starts at {@code start} and ends before {@code end}. */
    private record Token(String text, int start, int end, boolean column) {
    }

    /**
     * The condition, trimmed, once it is known to use only what a filter may use and to be a valid condition
     * on the table; otherwise an input error naming the table. Reads no row.
     */
    String check(Connection c, Table table, List<Column> columns, String where) throws SQLException {
        String condition = RowFilter.check(where, table.display());
        // The allow-list, then the server, on the condition as the triggers will hold it (each column read from a row).
        String sql = "SELECT (" + over("r", condition, table, columns) + ") FROM " + table.quoted() + " r LIMIT 0";
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            ResultSetMetaData md = rs.getMetaData();
            int type = md.getColumnType(1);
            boolean integral = type == Types.INTEGER || type == Types.TINYINT || type == Types.SMALLINT || type == Types.BIT
                    || type == Types.BOOLEAN || type == Types.BIGINT;
            // MariaDB has no boolean type: a comparison or logical operator is INT(1), a BOOLEAN column TINYINT(1).
            if (!integral || md.getPrecision(1) > 6) {
                throw refused(table, condition, "it is not a condition (its value is " + md.getColumnTypeName(1).toLowerCase(Locale.ROOT) + ")");
            }
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("42") || state.startsWith("22") || state.startsWith("HY")) {
                throw refused(table, condition, firstLine(e.getMessage()).replaceFirst("^\\(conn=\\d+\\) ", ""));
            }
            throw e;
        }
        return condition;
    }

    private static InvalidInputException refused(Table table, String condition, String why) {
        return new InvalidInputException("row filter for " + table.display() + " (" + condition + ") is refused: " + why);
    }

    /** The condition's tokens, each column marked; anything not on the allow-list is an input error. */
    private static List<Token> tokens(String condition, Table table, List<Column> columns) {
        Map<String, String> columnOf = new TreeMap<>(String.CASE_INSENSITIVE_ORDER); // MariaDB's column names are case-insensitive
        columns.forEach(col -> columnOf.put(col.name(), col.name()));
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        int n = condition.length();
        while (i < n) {
            char ch = condition.charAt(i);
            if (Character.isWhitespace(ch)) {
                i++;
            } else if (ch == '"') {
                // A string, or an identifier under ANSI_QUOTES: what it is depends on the session, so neither.
                throw refused(table, condition, "double quotes are not allowed; quote strings with ' and names with `");
            } else if (ch == '\'') {
                int end = endOfQuoted(condition, i, ch);
                tokens.add(new Token(condition.substring(i, end), i, end, false));
                i = end;
            } else if (ch == '`') {
                int end = endOfQuoted(condition, i, '`');
                String name = condition.substring(i + 1, end - 1).replace("``", "`");
                if (!columnOf.containsKey(name)) {
                    throw refused(table, condition, "`" + name + "` is not a column of the table");
                }
                tokens.add(new Token(quote(columnOf.get(name)), i, end, true));
                i = end;
            } else if (Character.isDigit(ch) || ch == '.' && i + 1 < n && Character.isDigit(condition.charAt(i + 1))) {
                int end = i;
                while (end < n && (Character.isLetterOrDigit(condition.charAt(end)) || condition.charAt(end) == '.')) {
                    end++;
                }
                tokens.add(new Token(condition.substring(i, end), i, end, false));
                i = end;
            } else if (Character.isLetter(ch) || ch == '_') {
                int end = i;
                while (end < n && (Character.isLetterOrDigit(condition.charAt(end)) || condition.charAt(end) == '_' || condition.charAt(end) == '$')) {
                    end++;
                }
                String word = condition.substring(i, end);
                String upper = word.toUpperCase(Locale.ROOT);
                boolean call = end < n && condition.charAt(end) == '(';
                if (end < n && condition.charAt(end) == '.') {
                    throw refused(table, condition, "qualified names (" + word + ".) are not allowed; name the table's columns alone");
                }
                if (call) {
                    if (!FUNCTIONS.contains(upper)) {
                        throw refused(table, condition, "function " + word + " is not one a filter may call (docs/row-filters.md lists them)");
                    }
                    tokens.add(new Token(word, i, end, false));
                } else if (columnOf.containsKey(word)) {
                    tokens.add(new Token(quote(columnOf.get(word)), i, end, true));
                } else if (KEYWORDS.contains(upper)) {
                    tokens.add(new Token(word, i, end, false));
                } else if (upper.equals("SELECT")) {
                    throw refused(table, condition, "subqueries are not allowed");
                } else {
                    throw refused(table, condition, word + " is neither a column of the table nor a word a filter may use");
                }
                i = end;
            } else if ("=<>!+-*/%&|^~(),".indexOf(ch) >= 0) {
                tokens.add(new Token(String.valueOf(ch), i, i + 1, false));
                i++;
            } else {
                throw refused(table, condition, "'" + ch + "' is not allowed (no variables, placeholders or escapes)");
            }
        }
        return tokens;
    }

    private static int endOfQuoted(String text, int start, char quote) {
        int i = start + 1;
        while (i < text.length()) {
            char ch = text.charAt(i);
            if (ch == '\\' && quote != '`') {
                i += 2;
            } else if (ch == quote) {
                if (i + 1 < text.length() && text.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return text.length(); // RowFilter.check has refused an unclosed quote already
    }

    /** The condition with each column read from {@code record} (NEW or OLD in a trigger, an alias in a query). */
    static String over(String record, String condition, Table table, List<Column> columns) {
        StringBuilder sb = new StringBuilder();
        int last = 0;
        for (Token token : tokens(condition, table, columns)) {
            if (token.column()) {
                sb.append(condition, last, token.start()).append(record).append('.').append(token.text());
                last = token.end();
            }
        }
        return sb.append(condition.substring(last)).toString();
    }

    /**
     * The SQL of the mask of the filters ({@code bits}: predicate to bit) over {@code record}; null when there
     * are none. A condition that names a column the table no longer has counts as selecting every row.
     */
    static String mask(String record, Map<String, Integer> bits, Table table, List<Column> columns) {
        if (bits.isEmpty()) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, Integer> filter : bits.entrySet()) {
            String condition;
            try {
                condition = over(record, filter.getKey(), table, columns);
            } catch (InvalidInputException gone) {
                condition = "TRUE";
            }
            parts.add("IF((" + condition + "), " + (1L << filter.getValue()) + ", 0)");
        }
        return "(" + String.join(" | ", parts) + ")";
    }

    // ---------------------------------------------------------------- the registry

    Set<String> registered(Connection c, int tableId, String registrant) throws SQLException {
        Set<String> result = new TreeSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT predicate FROM " + own.filterOwner() + " WHERE table_id = ? AND registrant = ?")) {
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

    /**
     * The consumers other than {@code registrant} that registered nothing on the table: once it has filters they
     * receive only the rows some filter selects, until they start again and register their handlers.
     */
    List<String> unregisteredConsumers(Connection c, int tableId, String registrant) throws SQLException {
        return queryStrings(c, "SELECT cs.name FROM " + own.consumer() + " cs WHERE cs.name <> ? AND NOT EXISTS (SELECT 1 FROM "
                + own.filterOwner() + " r WHERE r.table_id = ? AND r.registrant = cs.name) ORDER BY cs.name", registrant, tableId);
    }

    /**
     * Records that {@code registrant} handles the table with a handler that takes every row, on a table without
     * filters (capture does not change; the caller holds the install lock, so no filter change runs meanwhile).
     */
    void registerEveryRow(Connection c, int tableId, String registrant) throws SQLException {
        try (PreparedStatement ps = prepare(c, "INSERT IGNORE INTO " + own.filterOwner() + " (table_id, registrant, predicate, predicate_hash)"
                + " VALUES (?, ?, '', SHA2('', 256))", tableId, registrant)) {
            ps.executeUpdate();
        }
    }

    /** Withdraws what {@code registrant} registered on a table without filters (capture does not change). */
    void withdraw(Connection c, int tableId, String registrant) throws SQLException {
        try (PreparedStatement ps = prepare(c, "DELETE FROM " + own.filterOwner() + " WHERE table_id = ? AND registrant = ?", tableId, registrant)) {
            ps.executeUpdate();
        }
    }

    List<Integer> tablesOf(Connection c, String registrant) throws SQLException {
        List<Integer> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT table_id FROM " + own.filterOwner() + " WHERE registrant = ?")) {
            ps.setString(1, registrant);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(rs.getInt(1));
                }
            }
        }
        return result;
    }

    boolean filtered(Connection c, int tableId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) > 0 FROM " + own.filterOwner() + " WHERE table_id = ? AND predicate <> ''")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Replaces what {@code registrant} registered on the table and derives its filters again (as sync_filters
     * does on PostgreSQL); the caller regenerates the triggers.
     */
    void replace(Connection c, String table, int tableId, String registrant, Set<String> predicates) throws SQLException {
        // MariaDB's statements here commit one by one: the limit is checked before the first of them.
        Map<String, Set<String>> after = registrations(c, tableId);
        after.put(registrant, predicates);
        Set<String> filters = filters(after);
        if (filters.size() > BITS) {
            throw new InvalidInputException("row filters of " + table + ": a table can have at most " + BITS + " distinct row filters, not "
                    + filters.size() + "; share conditions between handlers, or drop some");
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + own.filterOwner() + " WHERE table_id = ? AND registrant = ?")) {
            ps.setInt(1, tableId);
            ps.setString(2, registrant);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + own.filterOwner() + " (table_id, registrant, predicate, predicate_hash)"
                + " VALUES (?, ?, ?, SHA2(?, 256))")) {
            for (String predicate : predicates) {
                ps.setInt(1, tableId);
                ps.setString(2, registrant);
                ps.setString(3, predicate);
                ps.setString(4, predicate);
                ps.executeUpdate();
            }
        }
        sync(c, tableId);
    }

    /** Each registrant's predicates on the table. */
    private Map<String, Set<String>> registrations(Connection c, int tableId) throws SQLException {
        Map<String, Set<String>> result = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT registrant, predicate FROM " + own.filterOwner() + " WHERE table_id = ?")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.computeIfAbsent(rs.getString(1), r -> new TreeSet<>()).add(rs.getString(2));
                }
            }
        }
        return result;
    }

    /**
     * The filters that follow from the registrations: one per distinct condition, and "TRUE" for a handler
     * without one beside filtered ones, unless a table-wide filter says what is logged (sync_filters on PostgreSQL).
     */
    private static Set<String> filters(Map<String, Set<String>> registrations) {
        Set<String> wanted = new TreeSet<>();
        boolean everyRow = false;
        for (Set<String> predicates : registrations.values()) {
            for (String predicate : predicates) {
                if (predicate.isEmpty()) {
                    everyRow = true;
                } else {
                    wanted.add(predicate);
                }
            }
        }
        boolean tableWide = !registrations.getOrDefault(TABLE_WIDE, Set.of()).isEmpty();
        if (!wanted.isEmpty() && everyRow && !tableWide) {
            wanted.add("TRUE");
        }
        return wanted;
    }

    private void sync(Connection c, int tableId) throws SQLException {
        Set<String> wanted = filters(registrations(c, tableId));
        Map<String, Integer> bits = bits(c, tableId);
        for (Map.Entry<String, Integer> existing : bits.entrySet()) {
            if (!wanted.contains(existing.getKey())) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + own.rowFilter() + " WHERE table_id = ? AND bit = ?")) {
                    ps.setInt(1, tableId);
                    ps.setInt(2, existing.getValue());
                    ps.executeUpdate();
                }
            }
        }
        int next;
        try (PreparedStatement ps = c.prepareStatement("SELECT next_filter_bit FROM " + own.watchedTable() + " WHERE id = ?")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                next = rs.next() ? rs.getInt(1) : 0;
            }
        }
        Set<Integer> used = new TreeSet<>(bits(c, tableId).values());
        for (String predicate : wanted) {
            if (bits.containsKey(predicate)) {
                continue;
            }
            // The next free bit after the last one given: a freed bit (whose rows may still be in the log) is given again last.
            int bit = next;
            while (used.contains(bit)) {
                bit = (bit + 1) % BITS;
            }
            used.add(bit);
            next = (bit + 1) % BITS;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + own.rowFilter() + " (table_id, bit, predicate) VALUES (?, ?, ?)")) {
                ps.setInt(1, tableId);
                ps.setInt(2, bit);
                ps.setString(3, predicate);
                ps.executeUpdate();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + own.watchedTable() + " SET next_filter_bit = ? WHERE id = ?")) {
            ps.setInt(1, next);
            ps.setInt(2, tableId);
            ps.executeUpdate();
        }
    }

    /** The table's filters: predicate to bit. */
    Map<String, Integer> bits(Connection c, int tableId) throws SQLException {
        Map<String, Integer> result = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT predicate, bit FROM " + own.rowFilter() + " WHERE table_id = ? ORDER BY bit")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.put(rs.getString(1), rs.getInt(2));
                }
            }
        }
        return result;
    }

    List<RowFilterInfo> describe(Connection c, int tableId) throws SQLException {
        Map<String, RowFilterInfo> byPredicate = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT predicate, registrant FROM " + own.filterOwner()
                + " WHERE table_id = ? AND predicate <> '' ORDER BY predicate, registrant")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String predicate = rs.getString(1);
                    String registrant = rs.getString(2);
                    RowFilterInfo so = byPredicate.getOrDefault(predicate, new RowFilterInfo(predicate, false, List.of()));
                    List<String> consumers = new ArrayList<>(so.consumers());
                    if (!registrant.isEmpty()) {
                        consumers.add(registrant);
                    }
                    byPredicate.put(predicate, new RowFilterInfo(predicate, so.tableWide() || registrant.isEmpty(), consumers));
                }
            }
        }
        return List.copyOf(byPredicate.values());
    }
}
