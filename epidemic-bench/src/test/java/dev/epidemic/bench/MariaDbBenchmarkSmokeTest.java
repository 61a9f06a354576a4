package dev.epidemic.bench;

import dev.epidemic.testing.MariaDbServer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the MariaDB benchmarks briefly so that they cannot rot; the figures are printed, never asserted. */
class MariaDbBenchmarkSmokeTest {
    @Test
    void everyMeasurementRunsAndReportsAFigure() throws Exception {
        List<String> report = MariaDbBenchmark.run(MariaDbServer.get().createDatabase(), true);
        assertThat(report).hasSize(4);
        assertThat(report.get(0)).contains("ratio");
        assertThat(report.get(1)).contains("changes/s");
        assertThat(report.get(2)).contains("p50");
        // "not available" until the MariaDB dialect has a backfill
        assertThat(report.get(3)).startsWith("backfill: ").containsAnyOf("rows/s", "not available");
    }
}
