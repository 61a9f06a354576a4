package dev.epidemic.dialect.mariadb;

import dev.epidemic.api.InvalidInputException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.queryStrings;
import static dev.epidemic.dialect.mariadb.Names.quote;

/**
 * What {@code information_schema} says about the application's tables: which table a user named, its
 * columns, primary key and foreign keys. Everything is looked up here before any DDL runs.
 */
final class Catalog {

    /** A column as the catalog describes it. */
    record Column(String name, String dataType, int datetimePrecision) {
    }

    /** A watched table's place in the catalog. */
    record Table(String schema, String name) {
        String quoted() {
            return quote(schema) + "." + quote(name);
        }

        String display() {
            return schema + "." + name;
        }
    }

    private final OwnTables own;

    Catalog(OwnTables own) {
        this.own = own;
    }

    /**
     * The table a user named, in the application's database, or null when there is none of that name.
     * A table of another database is an input error: its changes belong in that database's own log.
     */
    Table resolveTable(Connection c, String text) throws SQLException {
        List<Names.Part> parts = Names.parse(text);
        Names.Part tablePart = parts.get(parts.size() - 1);
        String schemaName = own.database();
        if (parts.size() == 2 && match(List.of(schemaName), parts.get(0)) == null) {
            throw new InvalidInputException("table " + text + " is not in database " + schemaName + ", which the URL names: Epidemic captures the"
                    + " tables of the database it connects to; connect to " + parts.get(0).name() + " to watch it");
        }
        if (own.isOwn(tablePart.name())) {
            throw new InvalidInputException("table " + text + " is one of Epidemic's own tables; watch a table of your own");
        }
        String tableName = match(queryStrings(c, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND LOWER(TABLE_NAME) = LOWER(?)",
                schemaName, tablePart.name()), tablePart);
        if (tableName == null) {
            return null;
        }
        String type = queryStrings(c, "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                schemaName, tableName).stream().findFirst().orElse(null);
        if (!"BASE TABLE".equals(type) && !"SYSTEM VERSIONED".equals(type)) {
            throw new InvalidInputException(schemaName + "." + tableName + " is not a table (" + type + "); only base tables can be watched");
        }
        return new Table(schemaName, tableName);
    }


    List<Column> columnsOf(Connection c, Table t) throws SQLException {
        List<Column> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT COLUMN_NAME, DATA_TYPE, COALESCE(DATETIME_PRECISION, 0) FROM information_schema.COLUMNS"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(new Column(rs.getString(1), rs.getString(2), rs.getInt(3)));
                }
            }
        }
        return result;
    }

    List<String> primaryKey(Connection c, Table t) throws SQLException {
        return queryStrings(c, "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY'"
                + " ORDER BY SEQ_IN_INDEX", t.schema(), t.name());
    }

    /** Requested column names matched exactly, or (as MariaDB compares column names) ignoring case. */
    static List<String> pick(List<Column> all, List<String> requested, Table table, String what) {
        Set<String> result = new LinkedHashSet<>();
        for (String raw : requested) {
            String name = raw.strip();
            if (name.isEmpty()) {
                throw new InvalidInputException("a column name is empty");
            }
            if (name.length() >= 2 && (name.startsWith("`") && name.endsWith("`") || name.startsWith("\"") && name.endsWith("\""))) {
                char q = name.charAt(0);
                name = name.substring(1, name.length() - 1).replace("" + q + q, "" + q);
            }
            String wanted = name;
            String match = all.stream().map(Column::name).filter(wanted::equals).findFirst()
                    .orElse(all.stream().map(Column::name).filter(wanted::equalsIgnoreCase).findFirst().orElse(null));
            if (match == null) {
                throw new InvalidInputException(what + " " + raw.strip() + " does not exist in table " + table.display());
            }
            if (!result.add(match)) {
                throw new InvalidInputException(what + " " + raw.strip() + " is named twice");
            }
        }
        return List.copyOf(result);
    }


    /** What the triggers cannot see on this table. */
    List<String> warnings(Connection c, Table info) throws SQLException {
        List<String> warnings = new ArrayList<>();
        warnings.add("TRUNCATE of " + info.display() + " fires no trigger on MariaDB/MySQL and is not captured; use DELETE to have rows' removal captured");
        try (PreparedStatement ps = c.prepareStatement("SELECT REFERENCED_TABLE_NAME, DELETE_RULE, UPDATE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS"
                + " WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND (DELETE_RULE <> 'RESTRICT' AND DELETE_RULE <> 'NO ACTION'"
                + " OR UPDATE_RULE <> 'RESTRICT' AND UPDATE_RULE <> 'NO ACTION') ORDER BY CONSTRAINT_NAME")) {
            ps.setString(1, info.schema());
            ps.setString(2, info.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    warnings.add("changes that the foreign key to " + rs.getString(1) + " makes to " + info.display() + " (ON DELETE "
                            + rs.getString(2) + ", ON UPDATE " + rs.getString(3) + ") fire no trigger on MariaDB/MySQL and are not captured");
                }
            }
        }
        return warnings;
    }


    /** The session's quoting rules are set, so that the generated trigger text means what it says. */
    void plainQuoting(Connection c) throws SQLException {
        execute(c, "SET SESSION sql_mode = REPLACE(REPLACE(@@session.sql_mode, 'NO_BACKSLASH_ESCAPES', ''), 'ANSI_QUOTES', '')");
    }


    /** Exact match first; an unquoted name may also match one name that differs only in case. */
    private static String match(List<String> candidates, Names.Part part) {
        if (candidates.contains(part.name())) {
            return part.name();
        }
        if (part.quoted()) {
            return null;
        }
        List<String> folded = candidates.stream().filter(n -> n.equalsIgnoreCase(part.name())).toList();
        return folded.size() == 1 ? folded.get(0) : null;
    }
}
