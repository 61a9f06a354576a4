package dev.epidemic.api;

import java.util.List;

/**
 * A row filter registered on a watched table (docs/row-filters.md): only rows that some filter of the
 * table selects are logged at all.
 *
 * @param predicate  the condition over the table's columns, as registered
 * @param tableWide  registered by {@code watch --where} ({@link EpidemicAdmin#watch(String, List, List, String)})
 * @param consumers  the consumers whose handlers registered it, sorted; empty for a table-wide filter alone
 */
public record RowFilterInfo(String predicate, boolean tableWide, List<String> consumers) {
    public RowFilterInfo {
        consumers = List.copyOf(consumers);
    }
}
