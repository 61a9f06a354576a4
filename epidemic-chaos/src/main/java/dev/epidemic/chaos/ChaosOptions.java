package dev.epidemic.chaos;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a chaos run is set up.
 *
 * @param duration       how long the writers write and the faults are injected
 * @param writers        concurrent writers
 * @param serverUrl      a server to run against (its URL names a database to connect to), or null for an embedded
 *                       PostgreSQL of the harness's own, which is the only kind it restarts
 * @param workDir        where the consumer's files and the embedded server's data go
 * @param mix            what the writers do
 * @param handlerThrowRate probability that the consumer's handler throws, per change
 * @param faultGapMillis the longest pause between a recovery and the next fault (the pause is random up to it)
 * @param seed           makes the writers' and the consumer's choices repeatable
 * @param backfillRows   rows the table holds before the consumer exists, delivered to it by a backfill that runs
 *                       (and is killed) amid the writers and the faults; 0 for none. The run goes on past its
 *                       duration until the backfill is done. Only where the dialect {@link ChaosDialect#backfills()}.
 * @param backfillChunk  rows per chunk of that backfill: small, so that it takes a while and is killed mid-way
 */
public record ChaosOptions(Duration duration, int writers, String serverUrl, Path workDir, Mix mix, double handlerThrowRate,
                           int faultGapMillis, long seed, int backfillRows, int backfillChunk) {
    public static final int BACKFILL_ROWS = 200_000;
    public static final int BACKFILL_CHUNK = 500;

    /** A run without a backfill phase. */
    public ChaosOptions(Duration duration, int writers, String serverUrl, Path workDir, Mix mix, double handlerThrowRate,
                        int faultGapMillis, long seed) {
        this(duration, writers, serverUrl, workDir, mix, handlerThrowRate, faultGapMillis, seed, 0, BACKFILL_CHUNK);
    }

    public static ChaosOptions defaults(Duration duration, Path workDir) {
        return new ChaosOptions(duration, 8, null, workDir, Mix.defaults(), 0.00005, 1000, System.nanoTime(), BACKFILL_ROWS,
                BACKFILL_CHUNK);
    }

    public ChaosOptions withServer(String url) {
        return new ChaosOptions(duration, writers, url, workDir, mix, handlerThrowRate, faultGapMillis, seed, backfillRows, backfillChunk);
    }

    /** The same run with a backfill phase of {@code rows} rows in chunks of {@code chunk} (0 rows: none). */
    public ChaosOptions withBackfill(int rows, int chunk) {
        return new ChaosOptions(duration, writers, serverUrl, workDir, mix, handlerThrowRate, faultGapMillis, seed, rows, chunk);
    }
}
