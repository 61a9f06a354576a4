package dev.epidemic.api;

import java.time.Instant;
import java.util.List;

/**
 * A backfill: the rows of a table, read in chunks into the change log as READ changes for some consumers.
 *
 * @param id           the backfill's number
 * @param table        {@code schema.table}, as its changes name it
 * @param consumers    the consumers that receive its READs
 * @param where        the row filter it was started with, or null for every row
 * @param startedBy    the consumer that started it from a snapshot (and resumes it when restarted), or null
 *                     for one started by {@code epidemic backfill} (resumed by running that again)
 * @param rowsDone     rows logged so far
 * @param rowsEstimate the planner's estimate of the rows to log in all, or -1 when unknown
 * @param startedAt    when it started
 * @param updatedAt    when its last chunk was logged
 * @param finishedAt   when its last chunk was logged, or null while it is unfinished
 */
public record BackfillStatus(long id, String table, List<String> consumers, String where, String startedBy,
                             long rowsDone, long rowsEstimate, Instant startedAt, Instant updatedAt, Instant finishedAt) {

    public boolean finished() {
        return finishedAt != null;
    }
}
