package dev.epidemic.dialect;

import java.time.Instant;

/**
 * One row of the change log as a dialect reads it; values are JSON text, not yet parsed.
 *
 * @param txLastId the highest id of the row's transaction within the window: changes are handed
 *                 over ordered by (txLastId, id), which keeps a transaction together and changes to one
 *                 row in the order they were made
 */
public record LogRow(long id, long txid, long txLastId, String table, char op, String keyJson,
                     String oldJson, String newJson, Instant at) {
}
