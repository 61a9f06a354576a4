package dev.epidemic.dialect;

import java.time.Instant;

/**
 * One row of the change log as a dialect reads it; values are JSON text, not yet parsed.
 *
 * @param txLastId the highest id of the row's transaction within the window: changes are handed
 *                 over ordered by (txLastId, id), which keeps a transaction together and changes to one
 *                 row in the order they were made
 * @param tableId  the registry's id of the table, which stays with it through renames (0 when unknown,
 *                 as for a dead letter)
 * @param table    the table's name (schema.table) when the change was read
 * @param filterMask the row filters of its table that the row matched, bit by bit (docs/row-filters.md); null
 *                 when its table had no filters, so the change is for every handler
 */
public record LogRow(long id, long txid, long txLastId, int tableId, String table, char op, String keyJson,
                     String oldJson, String newJson, Instant at, Long filterMask) {
    /**
     * The op of a marker row: a change that capture could not log (on MariaDB, a trigger naming a column
     * that a schema change removed). It carries only its table; it is reported, never handed to a handler.
     */
    public static final char NOT_CAPTURED = '!';

    public boolean notCaptured() {
        return op == NOT_CAPTURED;
    }
}
