package dev.epidemic.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.testing.TestDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the whole benchmark at tiny sizes, one round, so that it cannot rot: every section, Debezium
 * included, the table, the JSON file and the charts. The figures are printed, never asserted.
 *
 * <p>It never reconfigures a server: when the test server's wal_level is not logical, the Debezium part
 * runs against an embedded PostgreSQL started with wal_level=logical instead.
 */
class BenchmarkSmokeTest {
    private static final Path OUT = Path.of("target", "bench-smoke");
    private static final Path CLI_JAR = Path.of("..", "epidemic-cli", "target", "epidemic-cli-all.jar");

    @Test
    void everySectionRunsForEverySystemAndWritesTableJsonAndCharts() throws Exception {
        String url = TestDatabase.get().createDatabase();
        EmbeddedPostgres embedded = null;
        String debeziumUrl = url;
        if (!"logical".equals(PgUrl.parse(url).queryString("SHOW wal_level"))) {
            embedded = EmbeddedPostgres.builder().setServerConfig("wal_level", "logical").start();
            debeziumUrl = "jdbc:postgresql://127.0.0.1:" + embedded.getPort() + "/postgres?user=postgres";
        }
        try {
            Results results = Benchmark.run(new Benchmark.Options(url, debeziumUrl, true, OUT, CLI_JAR));

            assertThat(results.writer()).extracting(Results.WriterRow::operation).contains("INSERT", "UPDATE");
            assertThat(results.writer()).extracting(Results.WriterRow::load).contains("java");
            assertThat(results.writer()).allSatisfy(w -> assertThat(w.ratio()).isPositive().isFinite());
            assertThat(results.drain()).extracting(Results.DrainRow::system)
                    .containsExactly(Benchmark.EPIDEMIC, Benchmark.TAIL, Benchmark.DEBEZIUM_DEFAULTS);
            assertThat(results.drain()).allSatisfy(d -> {
                assertThat(d.changesPerSecond().median()).isPositive();
                assertThat(d.peakRssMb().median()).isPositive();
            });
            assertThat(results.latency()).extracting(Results.LatencyRow::system)
                    .contains(Benchmark.EPIDEMIC, Benchmark.EPIDEMIC_OPEN_TX, Benchmark.DEBEZIUM, Benchmark.PING_PONG);
            assertThat(results.latency()).filteredOn(l -> l.system().equals(Benchmark.DEBEZIUM))
                    .extracting(Results.LatencyRow::rate).containsExactlyElementsOf(Mode.SMOKE.latencyRates());
            assertThat(results.latency()).allSatisfy(l -> assertThat(l.p99Ms().median()).isGreaterThanOrEqualTo(l.p50Ms().median()));

            assertThat(results.backfill()).extracting(Results.BackfillRow::system).containsExactly(Benchmark.BACKFILL_CONCURRENT,
                    Benchmark.BACKFILL_ALONE, Benchmark.BACKFILL_DELIVERY, Benchmark.DEBEZIUM_SNAPSHOT);
            assertThat(results.backfill()).allSatisfy(b -> assertThat(b.rowsPerSecond() != null ? b.rowsPerSecond().median()
                    : b.loggedRowsPerSecond().median()).isPositive());
            // writers during backfills as fast as they go, and during backfills paced by a rate limit
            assertThat(results.backfillWriters()).extracting(Results.BackfillWriterRow::maxRate).containsExactly(0L, 20_000L);
            assertThat(results.backfillWriters()).allSatisfy(w -> assertThat(w.ratio()).isPositive().isFinite());

            JsonNode json = new ObjectMapper().readTree(OUT.resolve("results.json").toFile());
            assertThat(json.get("latency").size()).isEqualTo(results.latency().size());
            assertThat(json.get("drain").get(0).get("changesPerSecond").get("median").asDouble()).isPositive();
            for (String chart : List.of("latency-cdf-200.png", "latency-cdf-1000.png", "drain-throughput.png", "writer-tps.png")) {
                assertThat(Files.size(OUT.resolve(chart))).as(chart).isGreaterThan(5_000);
            }
            assertThat(openSlotsOfThisRun(debeziumUrl)).as("replication slots left behind").isZero();
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    private static long openSlotsOfThisRun(String url) throws Exception {
        return Long.parseLong(PgUrl.parse(url).queryString("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'epidemic_bench_"
                + ProcessHandle.current().pid() + "_%'"));
    }
}
