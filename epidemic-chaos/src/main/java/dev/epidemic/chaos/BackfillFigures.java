package dev.epidemic.chaos;

/**
 * The backfill phase of a run: the table as it is at the end, after the writers stopped and the consumer
 * caught up, against the replica materialized from what the consumer was handed.
 *
 * @param tableRows           rows the table holds
 * @param replicaRows         rows the replica holds
 * @param reads               distinct READ changes delivered
 * @param missing             rows of the table the replica lacks (must be 0)
 * @param stale               rows the replica holds at another version than the table (must be 0: a stale READ)
 * @param extra               rows the replica holds that the table does not (must be 0)
 * @param kills               kill -9 of the backfill JVM
 * @param instances           backfill JVMs started
 * @param unexpectedExits     backfill JVMs that ended by themselves without finishing (must be 0)
 * @param lastUnexpectedError the last line such a JVM wrote on stderr
 * @param finished            whether the backfill finished (must be true)
 * @param tookMillis          from the first backfill JVM's start to the end of the backfill
 */
public record BackfillFigures(long tableRows, long replicaRows, long reads, long missing, long stale, long extra, int kills,
                              int instances, int unexpectedExits, String lastUnexpectedError, boolean finished, long tookMillis) {

    /** True when the replica is the table, row for row and version for version. */
    public boolean replicaEqualsTable() {
        return missing == 0 && stale == 0 && extra == 0;
    }

    public boolean clean() {
        return replicaEqualsTable() && finished && unexpectedExits == 0;
    }
}
