package dev.epidemic.api;

import java.util.List;

/**
 * A table whose changes are captured.
 *
 * @param schema      its schema, unquoted
 * @param name        its name, unquoted
 * @param keyColumns  the columns that identify a row (the primary key unless chosen explicitly)
 * @param columns     the captured columns: an UPDATE that changes none of them (nor the key) is not logged
 */
public record WatchedTable(String schema, String name, List<String> keyColumns, List<String> columns) {
    /** {@code schema.name}, as it appears in {@link Change#table()}. */
    public String qualifiedName() {
        return schema + "." + name;
    }
}
