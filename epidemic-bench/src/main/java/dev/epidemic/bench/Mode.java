package dev.epidemic.bench;

import java.util.List;

/**
 * The sizes of one benchmark run: the full run of the issue, or the smoke run that only proves every
 * code path still works (tiny sizes, one round).
 *
 * @param writerSeconds  duration of one pgbench or Java load-generator cell; 0 = count-based (smoke)
 * @param writerTransactions transactions per client of a count-based cell
 * @param drainBacklog   changes logged before a drain starts
 * @param latencyRates   paced writer rates, changes (single-row transactions) per second
 * @param latencySeconds duration of one paced run per rate
 * @param pings          LISTEN/NOTIFY round trips per round
 * @param backfillRows   rows of the table the backfill part backfills (and Debezium snapshots)
 * @param backfillChunkSizes chunk sizes the backfill part tries, each in every round
 */
public record Mode(String name, int rounds, int writerSeconds, int writerTransactions, int drainBacklog,
                   List<Integer> latencyRates, int latencySeconds, int pings, int backfillRows, List<Integer> backfillChunkSizes) {
    public static final Mode FULL = new Mode("full", 3, 6, 0, 1_000_000, List.of(1_000, 10_000), 30, 2_000,
            1_000_000, List.of(1_000, 5_000, 20_000));
    public static final Mode SMOKE = new Mode("smoke", 1, 0, 100, 5_000, List.of(200, 1_000), 1, 50,
            5_000, List.of(1_000));

    public boolean smoke() {
        return this == SMOKE;
    }
}
