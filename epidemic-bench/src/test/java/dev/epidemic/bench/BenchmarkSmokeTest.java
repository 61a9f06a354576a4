package dev.epidemic.bench;

import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs every benchmark briefly so that it cannot rot; the figures are printed, never asserted. */
class BenchmarkSmokeTest {
    @Test
    void everyMeasurementRunsAndReportsAFigure() throws Exception {
        List<String> report = Benchmark.run(TestDatabase.get().createDatabase(), true);
        assertThat(report).hasSize(4);
        assertThat(report.get(0)).contains("ratio");
        assertThat(report.get(1)).contains("changes/s");
        assertThat(report.get(2)).contains("p99");
        assertThat(report.get(3)).contains("held open");
    }
}
