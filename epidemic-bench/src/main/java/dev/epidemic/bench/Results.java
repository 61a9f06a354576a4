package dev.epidemic.bench;

import java.util.List;

/**
 * Everything one run measured, as written to the JSON results file. Each {@link Figure} is a median
 * over rounds with its spread; ratios compare figures of this same run.
 */
public record Results(String started, String mode, int rounds, String server, String debeziumServer, String writerLoad,
                      String memoryMethod, List<WriterRow> writer, List<DrainRow> drain, List<LatencyRow> latency,
                      List<BackfillRow> backfill, List<BackfillWriterRow> backfillWriters, List<String> notes) {

    /** Writer overhead: TPS of single-row transactions without and with Epidemic's capture trigger. */
    /** Writers' TPS without capture, with Epidemic's, and with the peer (a plain row trigger; null when not run). */
    public record WriterRow(String operation, int clients, String load, Figure withoutCapture, Figure withCapture, double ratio,
                            Figure withRowTrigger, double rowTriggerRatio) {
    }

    /** A backlog drained by one consumer; memory is the consumer process's own. */
    public record DrainRow(String system, long changes, Figure changesPerSecond, Figure startupMs, Figure peakHeapMb,
                           Figure peakRssMb, double ratioToEpidemic) {
    }

    /**
     * Existing rows to a no-op handler: {@code rowsPerSecond} from the start to the handler's last READ (or
     * snapshot record); {@code loggedRowsPerSecond} until every row was in the log (Epidemic only, else null).
     * {@code chunkSize} is 0 where chunks do not apply.
     */
    public record BackfillRow(String system, int chunkSize, long rows, Figure rowsPerSecond, Figure loggedRowsPerSecond) {
    }

    /**
     * Single-row UPDATE TPS of the backfilled table without and with a backfill running, alternating;
     * {@code backfillRowsPerSecond}: rows the backfills logged meanwhile.
     */
    /** Writers' TPS without and with backfills running, those as fast as they go (maxRate 0) or paced to maxRate rows/s. */
    public record BackfillWriterRow(int clients, String load, int chunkSize, long maxRate, Figure withoutBackfill, Figure withBackfill, double ratio,
                                    Figure backfillRowsPerSecond) {
    }

    /** Commit-to-handler latency under a paced writer (rate 0: the LISTEN/NOTIFY ping-pong). */
    public record LatencyRow(String system, int rate, Figure achievedRate, Figure p50Ms, Figure p99Ms, Figure maxMs,
                             Figure startupMs, Figure peakHeapMb, Figure peakRssMb, double p50RatioToEpidemic) {
    }
}
