package dev.epidemic.api;

import java.time.Instant;
import java.util.Map;

/**
 * One committed row change, as captured by the trigger in the writer's transaction.
 *
 * <p>Values are what PostgreSQL's {@code to_jsonb} makes of the column: {@code String},
 * {@code Boolean}, {@code Integer}, {@code Long} or {@code BigInteger} for whole numbers,
 * {@code java.math.BigDecimal} for the others (exact, scale kept), {@code List} for arrays and JSON
 * arrays, {@code Map} for JSON objects, and {@code null}.
 *
 * @param id         unique per change, identical on redelivery; changes to one row have increasing ids
 * @param txid       the writer's transaction id ({@code pg_current_xact_id()})
 * @param table      {@code schema.table}, unquoted
 * @param operation  what happened
 * @param key        primary-key values; {@code null} for TRUNCATE
 * @param oldValues  watched columns before the change; {@code null} for INSERT, TRUNCATE and READ
 * @param newValues  watched columns after the change; {@code null} for DELETE and TRUNCATE
 * @param at         when the writer's statement started (for a READ: when the backfill read the row)
 */
public record Change(long id, long txid, String table, Operation operation, Map<String, Object> key,
                     Map<String, Object> oldValues, Map<String, Object> newValues, Instant at) {
}
