package dev.epidemic.dialect.postgres;

import dev.epidemic.api.PruneResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.firstLine;
import static dev.epidemic.dialect.Jdbc.inTransaction;
import static dev.epidemic.dialect.Jdbc.queryInt;
import static dev.epidemic.dialect.postgres.PostgresDialect.SLOTS;

/** Prune: deletes from the slotted log what every consumer has passed. */
final class Pruning {
    private static final Logger log = LoggerFactory.getLogger(Pruning.class);

    private final String s; // the schema, quoted

    Pruning(String quotedSchema) {
        this.s = quotedSchema;
    }

    /**
     * Removes what every consumer has passed. The log is split into slots: the slot writers append to
     * is rotated when the next one is empty, and a slot whose every change was passed is TRUNCATEd
     * (no dead tuples, no vacuum debt). Passed changes in a slot that a lagging consumer still needs
     * are DELETEd one by one, so the lagging consumer's changes always stay.
     */
    PruneResult prune(Connection c) throws SQLException {
        int consumers = queryInt(c, "SELECT count(*) FROM " + s + ".consumer");
        if (consumers == 0) {
            return new PruneResult(0, queryInt(c, "SELECT count(*) FROM " + s + ".change_log"), 0);
        }
        String notPassed = "EXISTS (SELECT 1 FROM " + s + ".consumer cs WHERE NOT pg_catalog.pg_visible_in_snapshot(l.txid, cs.delivered))";
        long deleted = 0;
        int current = inTransaction(c, () -> {
            int slot = queryInt(c, "SELECT current_slot FROM " + s + ".log_state FOR UPDATE");
            int next = (slot + 1) % SLOTS;
            boolean currentHasRows = queryInt(c, "SELECT count(*) FROM (SELECT 1 FROM " + s + ".change_log_" + slot + " LIMIT 1) x") > 0;
            boolean nextEmpty = queryInt(c, "SELECT count(*) FROM (SELECT 1 FROM " + s + ".change_log_" + next + " LIMIT 1) x") == 0;
            if (currentHasRows && nextEmpty) {
                execute(c, "UPDATE " + s + ".log_state SET current_slot = " + next);
                return next;
            }
            return slot;
        });
        for (int offset = 1; offset <= SLOTS; offset++) {
            int slot = (current + offset) % SLOTS;
            String part = s + ".change_log_" + slot + " l";
            try {
                deleted += inTransaction(c, () -> {
                    execute(c, "SET LOCAL lock_timeout = '2s'");
                    if (slot != current) {
                        // Waits for writers still appending to the slot, and keeps new ones out while it checks.
                        execute(c, "LOCK TABLE " + s + ".change_log_" + slot + " IN ACCESS EXCLUSIVE MODE");
                    }
                    int total = queryInt(c, "SELECT count(*) FROM " + part);
                    int pending = queryInt(c, "SELECT count(*) FROM " + part + " WHERE " + notPassed);
                    if (total > 0 && pending == 0 && slot != current) {
                        execute(c, "TRUNCATE " + s + ".change_log_" + slot);
                    } else if (total > pending) {
                        execute(c, "DELETE FROM " + part + " WHERE NOT " + notPassed);
                    }
                    return (long) (total - pending);
                });
            } catch (SQLException e) {
                if (!"55P03".equals(e.getSQLState())) {
                    throw e;
                }
                log.warn("Prune skipped log slot {}: it is busy ({}); the next prune will take it", slot, firstLine(e.getMessage()));
            }
        }
        // A tick at or before every consumer's position can no longer end anyone's window.
        execute(c, "DELETE FROM " + s + ".tick WHERE snap_xmax <= (SELECT min(pg_catalog.pg_snapshot_xmax(cs.delivered)) FROM " + s + ".consumer cs)");
        long retained = queryInt(c, "SELECT count(*) FROM " + s + ".change_log");
        log.info("Pruned {} changes; {} retained for {} consumers", deleted, retained, consumers);
        return new PruneResult(deleted, retained, consumers);
    }
}
