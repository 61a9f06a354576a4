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
 */
public record ChaosOptions(Duration duration, int writers, String serverUrl, Path workDir, Mix mix, double handlerThrowRate,
                           int faultGapMillis, long seed) {

    public static ChaosOptions defaults(Duration duration, Path workDir) {
        return new ChaosOptions(duration, 8, null, workDir, Mix.defaults(), 0.00005, 1000, System.nanoTime());
    }

    public ChaosOptions withServer(String url) {
        return new ChaosOptions(duration, writers, url, workDir, mix, handlerThrowRate, faultGapMillis, seed);
    }
}
