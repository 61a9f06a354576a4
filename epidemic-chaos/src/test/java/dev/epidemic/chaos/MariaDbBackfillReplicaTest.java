package dev.epidemic.chaos;

import dev.epidemic.testing.MariaDbServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link BackfillReplicaTest} on the shared MariaDB server (never restarted): a table of 200,000 rows is backfilled to a consumer while 4 writers
 * update, delete and insert random rows of it and one updates the rows at the backfill's cursor; the backfill
 * JVM and the consumer JVM are each killed with SIGKILL several times. Applying what the consumer was handed,
 * in order, must give the table's rows exactly.
 */
class MariaDbBackfillReplicaTest {
    @Test
    void aBackfillKilledAmidWritersAndConsumerKillsLeavesTheReplicaEqualToTheTable(@TempDir Path workDir) throws Exception {
        String server = MariaDbServer.get().url("");
        // No TRUNCATE (MariaDB cannot capture one, and the rows must live through the backfill to be read) and
        // no 10,000-row statements.
        Mix mix = new Mix(0.10, 0, 0, 0.005, 10, Mix.BULK_ROWS);
        ChaosOptions options = new ChaosOptions(Duration.ofSeconds(5), 4, server, workDir, mix, 0.00005, 300, System.nanoTime(),
                200_000, 500);
        long started = System.nanoTime();

        Verdict verdict = new ChaosRun(options).run();

        Duration took = Duration.ofNanos(System.nanoTime() - started);
        System.out.print(verdict.report());
        System.out.println("  the test took " + took.toMillis() + " ms");
        assertThat(verdict.problems()).as(verdict.report()).isEmpty();
        BackfillFigures backfill = verdict.backfill();
        assertThat(backfill).as("a backfill phase ran").isNotNull();
        assertThat(backfill.replicaEqualsTable()).as(verdict.report()).isTrue();
        assertThat(backfill.finished()).isTrue();
        assertThat(backfill.tableRows()).as("rows at the end").isGreaterThan(150_000);
        assertThat(backfill.reads()).as("READs delivered").isGreaterThan(150_000);
        assertThat(backfill.kills()).as("kill -9 of the backfill").isGreaterThanOrEqualTo(3);
        assertThat(verdict.recoveries().count(Fault.KILL_CONSUMER)).as("kill -9 of the consumer").isGreaterThanOrEqualTo(3);
        assertThat(verdict.delivery().committedChanges()).as("changes the writers committed").isGreaterThan(1_000);
    }
}
