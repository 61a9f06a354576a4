package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.mariadb.Catalog.Column;
import dev.epidemic.dialect.mariadb.Catalog.Table;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.epidemic.dialect.Jdbc.queryStrings;
import static dev.epidemic.dialect.mariadb.Names.literal;
import static dev.epidemic.dialect.mariadb.Names.quote;

/**
 * The capture triggers of one table, and whether they are in place: AFTER INSERT, UPDATE and DELETE, each
 * appending one row to the log with the key and the watched columns as JSON_OBJECTs. Values are rendered so that the JSON carries them
 * exactly: DECIMAL as its digits, DATETIME and TIMESTAMP as ISO-8601 (TIMESTAMP in UTC), binary strings as
 * base64, JSON nested, BIT as a number, spatial values as WKT.
 */
final class Capture {
    static final List<String> PURPOSES = List.of("capture_insert", "capture_update", "capture_delete");
    private static final int ER_SPECIFIC_ACCESS_DENIED_ERROR = 1227;
    private static final int ER_TRG_DOES_NOT_EXIST = 1360;
    /** "Unknown column": a column the trigger names is gone. */
    private static final int ER_BAD_FIELD_ERROR = 1054;
    /** The op of a marker row: a change of the table that its trigger could not capture (see {@link dev.epidemic.dialect.LogRow#NOT_CAPTURED}). */
    static final char NOT_CAPTURED = dev.epidemic.dialect.LogRow.NOT_CAPTURED;

    private final OwnTables own;

    Capture(OwnTables own) {
        this.own = own;
    }

    /**
     * A trigger's name: unique per database in MariaDB (not per table), so it names the schema, the
     * purpose and the table. Names are at most 64 characters: a longer one keeps its start and ends in a hash of
     * the whole, which keeps it distinct.
     */
    String triggerName(Table table, String purpose) {
        String full = own.schema() + "_" + purpose + "_" + table.name();
        if (full.codePointCount(0, full.length()) <= 64) {
            return full;
        }
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(full.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return full.substring(0, full.offsetByCodePoints(0, 64 - 17)) + "_" + java.util.HexFormat.of().formatHex(digest, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private String quotedTriggerName(Table table, String purpose) {
        return quote(table.schema()) + "." + quote(triggerName(table, purpose));
    }

    /**
     * The three CREATE OR REPLACE TRIGGER statements (each replaces its trigger atomically). A trigger
     * names its columns, and MariaDB has no DDL trigger to regenerate it: after a captured column is renamed
     * or dropped, its reference fails with error 1054 on every row, which would fail the application's own
     * statement. So each body continues past exactly that error and logs a {@link #NOT_CAPTURED} marker
     * instead, naming nothing but the table; any other error (a deadlock, a full disk) still fails the writer.
     */
    List<String> createTriggers(Table table, int tableId, List<Column> all, List<String> keys, List<String> watched,
                                Map<String, Integer> filters) {
        if (!filters.isEmpty()) {
            return createFilteredTriggers(table, tableId, all, keys, watched, filters);
        }
        String log = own.changeLog();
        String insertInto = "INSERT INTO " + log + " (table_id, op, `key`, old, new, at) VALUES (" + tableId + ", ";
        String at = "UNIX_TIMESTAMP(SYSDATE(6))"; // the moment the change was logged: ids are taken in this order
        String begin = " FOR EACH ROW BEGIN DECLARE CONTINUE HANDLER FOR " + ER_BAD_FIELD_ERROR + " INSERT INTO " + log
                + " (table_id, op, at) VALUES (" + tableId + ", '" + NOT_CAPTURED + "', " + at + "); ";
        String changed = changed(keys, watched);
        List<String> statements = new ArrayList<>();
        statements.add("CREATE OR REPLACE TRIGGER " + quotedTriggerName(table, "capture_insert") + " AFTER INSERT ON " + table.quoted()
                + begin + insertInto + "'I', " + json("NEW", keys, all) + ", NULL, " + json("NEW", watched, all) + ", " + at + "); END");
        statements.add("CREATE OR REPLACE TRIGGER " + quotedTriggerName(table, "capture_update") + " AFTER UPDATE ON " + table.quoted()
                + begin + "IF " + changed + " THEN " + insertInto + "'U', " + json("NEW", keys, all) + ", "
                + json("OLD", watched, all) + ", " + json("NEW", watched, all) + ", " + at + "); END IF; END");
        statements.add("CREATE OR REPLACE TRIGGER " + quotedTriggerName(table, "capture_delete") + " AFTER DELETE ON " + table.quoted()
                + begin + insertInto + "'D', " + json("OLD", keys, all) + ", " + json("OLD", watched, all) + ", NULL, " + at + "); END");
        return statements;
    }

    /** An UPDATE is logged when a key or watched column changed: <=> is equality that NULLs pass. */
    private static String changed(List<String> keys, List<String> watched) {
        return Stream.concat(keys.stream(), watched.stream()).distinct()
                .map(column -> "NOT (OLD." + quote(column) + " <=> NEW." + quote(column) + ")")
                .collect(Collectors.joining(" OR "));
    }

    /**
     * The triggers of a table with row filters (docs/row-filters.md): each computes the mask of the filters
     * the row matches (the old or the new row, for an UPDATE) after its error handler is in place, and logs
     * the change with it only when some filter matched. A table without filters keeps the triggers above.
     */
    private List<String> createFilteredTriggers(Table table, int tableId, List<Column> all, List<String> keys, List<String> watched,
                                                Map<String, Integer> filters) {
        String log = own.changeLog();
        String insertInto = "INSERT INTO " + log + " (table_id, op, `key`, old, new, at, filter_mask) VALUES (" + tableId + ", ";
        String at = "UNIX_TIMESTAMP(SYSDATE(6))";
        String begin = " FOR EACH ROW BEGIN DECLARE epidemic_mask BIGINT DEFAULT NULL; DECLARE CONTINUE HANDLER FOR " + ER_BAD_FIELD_ERROR
                + " INSERT INTO " + log + " (table_id, op, at) VALUES (" + tableId + ", '" + NOT_CAPTURED + "', " + at + "); ";
        String newMask = RowFilters.mask("NEW", filters, table, all);
        String oldMask = RowFilters.mask("OLD", filters, table, all);
        List<String> statements = new ArrayList<>();
        statements.add("CREATE OR REPLACE TRIGGER " + quotedTriggerName(table, "capture_insert") + " AFTER INSERT ON " + table.quoted()
                + begin + "SET epidemic_mask = " + newMask + "; IF epidemic_mask <> 0 THEN " + insertInto + "'I', " + json("NEW", keys, all)
                + ", NULL, " + json("NEW", watched, all) + ", " + at + ", epidemic_mask); END IF; END");
        statements.add("CREATE OR REPLACE TRIGGER " + quotedTriggerName(table, "capture_update") + " AFTER UPDATE ON " + table.quoted()
                + begin + "IF " + changed(keys, watched) + " THEN SET epidemic_mask = " + oldMask + " | " + newMask + "; IF epidemic_mask <> 0 THEN "
                + insertInto + "'U', " + json("NEW", keys, all) + ", " + json("OLD", watched, all) + ", " + json("NEW", watched, all) + ", "
                + at + ", epidemic_mask); END IF; END IF; END");
        statements.add("CREATE OR REPLACE TRIGGER " + quotedTriggerName(table, "capture_delete") + " AFTER DELETE ON " + table.quoted()
                + begin + "SET epidemic_mask = " + oldMask + "; IF epidemic_mask <> 0 THEN " + insertInto + "'D', " + json("OLD", keys, all)
                + ", " + json("OLD", watched, all) + ", NULL, " + at + ", epidemic_mask); END IF; END");
        return statements;
    }

    /**
     * True when the table's three capture triggers exist. information_schema.TRIGGERS shows a trigger only
     * to a user with the TRIGGER right on its table, which a consumer has not (starting one must not take
     * DDL rights when capture is in place), so each is asked for by name: MariaDB answers "access denied"
     * for a trigger that exists and the user may not see, "does not exist" for one that does not.
     */
    boolean present(Connection c, Table t) throws SQLException {
        for (String purpose : PURPOSES) {
            try (Statement st = c.createStatement(); ResultSet ignored = st.executeQuery("SHOW CREATE TRIGGER " + quotedTriggerName(t, purpose))) {
                // present
            } catch (SQLException e) {
                if (e.getErrorCode() == ER_TRG_DOES_NOT_EXIST) {
                    return false;
                }
                if (e.getErrorCode() != ER_SPECIFIC_ACCESS_DENIED_ERROR) {
                    throw e;
                }
            }
        }
        return true;
    }

    /**
     * The table that the capture triggers registered for {@code registered} are on now, when it is not that
     * table any more (RENAME TABLE takes the triggers along); null when they are not found, or not visible
     * to this user (information_schema shows a trigger only with the TRIGGER right).
     */
    String tableOf(Connection c, Table registered) throws SQLException {
        return queryStrings(c, "SELECT EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?",
                registered.schema(), triggerName(registered, "capture_insert")).stream()
                .filter(name -> !name.equals(registered.name())).findFirst().orElse(null);
    }

    /** True when this user has the TRIGGER right on the table: only then does information_schema show its triggers. */
    boolean mayAlter(Connection c, Table table) throws SQLException {
        return !queryStrings(c, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?"
                + " AND EVENT_OBJECT_TABLE = ?", table.schema(), triggerName(table, "capture_insert"), table.name()).isEmpty();
    }

    List<String> dropTriggers(Table table) {
        return PURPOSES.stream().map(p -> "DROP TRIGGER IF EXISTS " + quotedTriggerName(table, p)).toList();
    }

    /** A JSON_OBJECT of the named columns of {@code record} (a row alias, or NEW / OLD in a trigger). */
    static String json(String record, List<String> columns, List<Column> all) {
        StringBuilder sb = new StringBuilder("JSON_OBJECT(");
        for (int i = 0; i < columns.size(); i++) {
            String name = columns.get(i);
            Column column = all.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(literal(name)).append(", ").append(value(record + "." + quote(name), column));
        }
        return sb.append(')').toString();
    }

    /** The expression that puts one column's value into JSON without losing anything. */
    static String value(String ref, Column column) {
        int p = Math.max(0, Math.min(6, column.datetimePrecision()));
        int length = 19 + (p > 0 ? p + 1 : 0);
        return switch (column.dataType().toLowerCase(java.util.Locale.ROOT)) {
            case "datetime" -> "LEFT(DATE_FORMAT(" + ref + ", '%Y-%m-%dT%H:%i:%s.%f'), " + length + ")";
            case "timestamp" -> "CONCAT(LEFT(DATE_FORMAT(CONVERT_TZ(" + ref + ", @@session.time_zone, '+00:00'), '%Y-%m-%dT%H:%i:%s.%f'), "
                    + length + "), 'Z')";
            case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> "REPLACE(TO_BASE64(" + ref + "), CHAR(10), '')";
            case "bit" -> "(" + ref + " + 0)";
            case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection" ->
                    "ST_AsText(" + ref + ")";
            default -> ref;
        };
    }
}
