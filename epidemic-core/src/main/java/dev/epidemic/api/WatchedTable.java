package dev.epidemic.api;

import java.util.List;

/**
 * A table whose changes are captured.
 *
 * @param schema      its schema (on MariaDB and MySQL: its database), unquoted
 * @param name        its name, unquoted
 * @param keyColumns  the columns that identify a row (the primary key unless chosen explicitly)
 * @param columns     the captured columns: an UPDATE that changes none of them (nor the key) is not logged
 * @param warnings    what the database cannot capture on this table (for example TRUNCATE on MariaDB),
 *                    said when capture is installed; empty when everything is captured
 * @param filters     its row filters (docs/row-filters.md); empty: every row is logged
 */
public record WatchedTable(String schema, String name, List<String> keyColumns, List<String> columns, List<String> warnings,
                           List<RowFilterInfo> filters) {

    public WatchedTable(String schema, String name, List<String> keyColumns, List<String> columns) {
        this(schema, name, keyColumns, columns, List.of(), List.of());
    }

    public WatchedTable(String schema, String name, List<String> keyColumns, List<String> columns, List<String> warnings) {
        this(schema, name, keyColumns, columns, warnings, List.of());
    }

    /** The same table with these row filters. */
    public WatchedTable withFilters(List<RowFilterInfo> filters) {
        return new WatchedTable(schema, name, keyColumns, columns, warnings, List.copyOf(filters));
    }

    /** {@code schema.name}, as it appears in {@link Change#table()}. */
    public String qualifiedName() {
        return schema + "." + name;
    }
}
