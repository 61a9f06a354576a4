package dev.epidemic.format;

import dev.epidemic.api.EpidemicException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The types of a table's columns, as far as the {@code debezium} format needs them to type a value as
 * Debezium would: read from the database's catalog the first time a change of the table is formatted, and
 * read again when a change names a column the last reading did not have (a column added since).
 */
final class ColumnTypes {
    /** What the Debezium format does with a column's values; everything not listed here passes unchanged. */
    enum Kind { DECIMAL, LOCAL_TIMESTAMP, ZONED_TIMESTAMP, DATE, TIME, ZONED_TIME, JSON, BYTES, AS_IS }

    /**
     * @param scale     DECIMAL: the declared scale, or -1 for a numeric of no declared scale
     * @param precision the declared fractional digits of seconds (6 when not declared)
     * @param array     the column holds an array of such values
     */
    record Column(Kind kind, int scale, int precision, boolean array) {
        static final Column UNKNOWN = new Column(Kind.AS_IS, -1, 6, false);
    }

    /** Reads one table's columns; the table is {@code schema.table} as a change names it. */
    interface Catalog {
        Map<String, Column> read(String table);
    }

    private final Catalog catalog;
    private final Map<String, Map<String, Column>> tables = new ConcurrentHashMap<>();

    ColumnTypes(Catalog catalog) {
        this.catalog = catalog;
    }

    static ColumnTypes fromCatalog(DataSource dataSource) {
        return new ColumnTypes(table -> read(dataSource, table));
    }

    /**
     * The table's columns in the table's order, read again when it lacks one of {@code names} (a column
     * added since the last reading); a column the catalog does not know at all is not in it.
     */
    Map<String, Column> of(String table, Set<String> names) {
        Map<String, Column> columns = tables.computeIfAbsent(table, catalog::read);
        if (!columns.keySet().containsAll(names)) {
            columns = catalog.read(table);
            tables.put(table, columns);
        }
        return columns;
    }

    // ---------------------------------------------------------------- reading the catalogs

    private static final String POSTGRES = """
            SELECT a.attname,
                   CASE WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END,
                   CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
              LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
             WHERE n.nspname || '.' || c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum
            """;

    private static final String MARIADB = """
            SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_SCALE, DATETIME_PRECISION
              FROM information_schema.COLUMNS
             WHERE CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) = ?
             ORDER BY ORDINAL_POSITION
            """;

    private static Map<String, Column> read(DataSource dataSource, String table) {
        try (Connection connection = dataSource.getConnection()) {
            boolean postgres = connection.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres");
            try (PreparedStatement ps = connection.prepareStatement(postgres ? POSTGRES : MARIADB)) {
                ps.setString(1, table);
                Map<String, Column> columns = new LinkedHashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        columns.put(rs.getString(1), postgres ? postgres(rs.getString(2), rs.getInt(3))
                                : mariadb(rs.getString(2), rs.getObject(3) == null ? -1 : rs.getInt(3), rs.getObject(4) == null ? 0 : rs.getInt(4)));
                    }
                }
                return columns;
            }
        } catch (SQLException e) {
            throw new EpidemicException("cannot read the column types of " + table + " for the debezium format: " + e.getMessage(), e);
        }
    }

    /** A PostgreSQL type name ({@code pg_type.typname}; arrays start with an underscore) and its typmod. */
    static Column postgres(String typname, int typmod) {
        boolean array = typname.startsWith("_");
        String element = array ? typname.substring(1) : typname;
        int precision = typmod < 0 ? 6 : typmod;
        return switch (element) {
            // numeric's typmod holds ((precision << 16) | scale) + 4
            case "numeric" -> new Column(Kind.DECIMAL, typmod < 0 ? -1 : (typmod - 4) & 0xffff, 6, array);
            case "timestamp" -> new Column(Kind.LOCAL_TIMESTAMP, -1, precision, array);
            case "timestamptz" -> new Column(Kind.ZONED_TIMESTAMP, -1, precision, array);
            case "date" -> new Column(Kind.DATE, -1, 6, array);
            case "time" -> new Column(Kind.TIME, -1, precision, array);
            case "timetz" -> new Column(Kind.ZONED_TIME, -1, precision, array);
            case "json", "jsonb" -> new Column(Kind.JSON, -1, 6, array);
            case "bytea" -> new Column(Kind.BYTES, -1, 6, array);
            default -> new Column(Kind.AS_IS, -1, 6, array);
        };
    }

    /** A MariaDB or MySQL {@code DATA_TYPE} with its scale and fractional-second digits. */
    static Column mariadb(String dataType, int scale, int precision) {
        return switch (dataType.toLowerCase(java.util.Locale.ROOT)) {
            case "decimal" -> new Column(Kind.DECIMAL, Math.max(scale, 0), 6, false);
            case "datetime" -> new Column(Kind.LOCAL_TIMESTAMP, -1, precision, false);
            case "timestamp" -> new Column(Kind.ZONED_TIMESTAMP, -1, precision, false);
            case "date" -> new Column(Kind.DATE, -1, 6, false);
            case "time" -> new Column(Kind.TIME, -1, 6, false); // the MySQL connector's adaptive_time_microseconds: always micros
            case "json" -> new Column(Kind.JSON, -1, 6, false);
            case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> new Column(Kind.BYTES, -1, 6, false);
            default -> new Column(Kind.AS_IS, -1, 6, false);
        };
    }
}
