package dev.epidemic.dialect.postgres;

import dev.epidemic.api.InvalidInputException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static dev.epidemic.dialect.Jdbc.firstLine;
import static dev.epidemic.dialect.SqlText.quoteIdent;

/** What PostgreSQL's catalog says about the tables and columns a user names. Reads only. */
final class Catalog {
    private Catalog() {
    }

    /** A table as the catalog knows it. */
    record TableInfo(long oid, String schema, String name, char kind, char persistence) {
        /** schema.name as the log and messages name it (unquoted). */
        String display() {
            return schema + "." + name;
        }
    }

    /** A column: its current name and the attribute number that stays with it through renames. */
    record Column(String name, short attnum) {
    }

    /** The table a user named, or null when there is none; a name that cannot be a table name is an input error. */
    static TableInfo resolveTable(Connection c, String table) throws SQLException {
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
            if (List.of("42602", "42601", "3F000", "42P01", "22023", "0A000").contains(e.getSQLState())) {
                throw new InvalidInputException("table " + table + " is not a valid table name: " + firstLine(e.getMessage()));
            }
            throw e;
        }
    }

    /** The table with this oid, or null when it no longer exists. */
    static TableInfo tableByOid(Connection c, long oid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence"
                + " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ?")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new TableInfo(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4).charAt(0), rs.getString(5).charAt(0)) : null;
            }
        }
    }

    /** The table's columns now, in attribute order. */
    static List<Column> columnsOf(Connection c, long oid) throws SQLException {
        return columns(c, "SELECT a.attname, a.attnum FROM pg_catalog.pg_attribute a"
                + " WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum", oid);
    }

    /** The primary key's columns in key order; empty when the table has none. */
    static List<Column> primaryKey(Connection c, long oid) throws SQLException {
        return columns(c, "SELECT a.attname, a.attnum FROM pg_catalog.pg_index i"
                + " JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
                + " WHERE i.indrelid = ? AND i.indisprimary ORDER BY pg_catalog.array_position(i.indkey::int2[], a.attnum)", oid);
    }

    private static List<Column> columns(Connection c, String sql, long oid) throws SQLException {
        List<Column> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(new Column(rs.getString(1), rs.getShort(2)));
                }
            }
        }
        return result;
    }

    /**
     * Matches requested column names against the table's: a name in double quotes must match exactly,
     * any other name matches exactly or, failing that, as PostgreSQL folds an unquoted name (lower case).
     */
    static List<Column> pick(List<Column> all, List<String> requested, TableInfo table, String what) {
        Set<Column> result = new LinkedHashSet<>();
        for (String name : requested) {
            Column match = matchColumn(all, name);
            if (match == null) {
                throw new InvalidInputException(what + " " + name + " does not exist in table " + table.display());
            }
            if (!result.add(match)) {
                throw new InvalidInputException(what + " " + name + " is named twice");
            }
        }
        return List.copyOf(result);
    }

    private static Column matchColumn(List<Column> all, String name) {
        String trimmed = name.strip();
        if (trimmed.isEmpty()) {
            throw new InvalidInputException("a column name is empty");
        }
        if (trimmed.length() >= 2 && trimmed.startsWith("\"") && trimmed.endsWith("\"")) {
            String exact = trimmed.substring(1, trimmed.length() - 1).replace("\"\"", "\"");
            return all.stream().filter(column -> column.name().equals(exact)).findFirst().orElse(null);
        }
        for (Column column : all) {
            if (column.name().equals(trimmed)) {
                return column;
            }
        }
        String folded = trimmed.toLowerCase(Locale.ROOT);
        return all.stream().filter(column -> column.name().equals(folded)).findFirst().orElse(null);
    }

    /** schema.table as a user would type it: quoted only where PostgreSQL would otherwise fold or reject it. */
    static String displayName(String schemaName, String tableName) {
        return plainOrQuoted(schemaName) + "." + plainOrQuoted(tableName);
    }

    /** A column list as a user would type it after --columns. */
    static String columnList(List<String> names) {
        return String.join(",", names.stream().map(Catalog::plainOrQuoted).toList());
    }

    private static String plainOrQuoted(String name) {
        return name.matches("[a-z_][a-z0-9_$]*") ? name : quoteIdent(name);
    }
}
