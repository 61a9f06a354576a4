package dev.epidemic.dialect.mariadb;

import dev.epidemic.api.PruneResult;
import dev.epidemic.dialect.Consumers;
import dev.epidemic.dialect.mariadb.LogState.Gap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.queryLong;

/** Prune: deletes from the log what every consumer has passed, and records which ids are settled. */
final class Pruning {
    private static final Logger log = LoggerFactory.getLogger(Pruning.class);
    private static final int PRUNE_CHUNK = 10_000;

    private final OwnTables own;
    private final Consumers consumers;

    Pruning(OwnTables own, Consumers consumers) {
        this.own = own;
        this.consumers = consumers;
    }

    /**
     * Deletes the changes every consumer has passed: ids at or below every consumer's high-water mark
     * that are no consumer's gap. Runs at READ COMMITTED in chunks, so it neither waits for writers
     * nor holds long locks.
     */
    PruneResult prune(Connection c) throws SQLException {
        List<Consumers.Stored> consumers = this.consumers.all(c);
        if (consumers.isEmpty()) {
            return new PruneResult(0, queryLong(c, "SELECT COUNT(*) FROM " + own.changeLog()), 0);
        }
        long minHighWater = Long.MAX_VALUE;
        long settled = Long.MAX_VALUE; // below every consumer's mark and every gap
        List<LogState> states = new ArrayList<>();
        for (Consumers.Stored consumer : consumers) {
            LogState state = LogState.parse(consumer.position().delivered());
            minHighWater = Math.min(minHighWater, state.highWater());
            settled = Math.min(settled, Math.min(state.highWater(), state.lowestGapId() - 1));
            states.add(state);
        }
        int isolation = c.getTransactionIsolation();
        c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        long deleted = 0;
        try {
            long from = queryLong(c, "SELECT COALESCE(MIN(id), 0) FROM " + own.changeLog());
            for (long lo = from; lo <= minHighWater && from > 0; lo += PRUNE_CHUNK) {
                long hi = Math.min(minHighWater, lo + PRUNE_CHUNK - 1);
                // Only the gaps in this chunk: MariaDB checks every term of the condition on every row.
                List<Gap> kept = new ArrayList<>();
                for (LogState state : states) {
                    kept.addAll(state.gapsWithin(lo, hi));
                }
                String keep = kept.isEmpty() ? "" : " AND NOT " + LogState.condition("id", kept);
                try (Statement st = c.createStatement()) {
                    deleted += st.executeUpdate("DELETE FROM " + own.changeLog() + " WHERE id BETWEEN " + lo + " AND " + hi + keep);
                }
            }
            execute(c, "DELETE HISTORY FROM " + own.changeLog());
        } finally {
            c.setTransactionIsolation(isolation);
        }
        execute(c, "UPDATE " + own.logState() + " SET resolved_below = GREATEST(resolved_below, " + settled + ")");
        long retained = queryLong(c, "SELECT COUNT(*) FROM " + own.changeLog());
        log.info("Pruned {} changes; {} retained for {} consumers", deleted, retained, consumers.size());
        return new PruneResult(deleted, retained, consumers.size());
    }
}
