package dev.epidemic.api;

/** Where a new consumer starts reading; a consumer that exists resumes from its stored position whatever this says. */
public enum StartFrom {
    /** At the oldest change the log still holds. */
    OLDEST_RETAINED,
    /** At the present: only changes committed from now on. */
    NOW,
    /**
     * With a READ of every row its tables hold now (a backfill that the consumer runs itself, and resumes
     * after a restart), then every change after: applied in order, they give exactly the tables' rows.
     */
    SNAPSHOT
}
