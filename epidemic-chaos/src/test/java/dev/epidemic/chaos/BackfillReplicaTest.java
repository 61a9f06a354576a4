package dev.epidemic.chaos;

import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Replica equals source: a table of 200,000 rows is backfilled to a consumer while 4 writers update,
 * delete and insert random rows of it (and one updates the rows at the backfill's cursor), the backfill
 * JVM and the consumer JVM are each killed with SIGKILL several times and restarted (the backfill with the
 * same arguments, so it resumes; the consumer from its position). At the end, applying what the consumer
 * was handed, in order, gives the table's rows exactly. It is the chaos harness's backfill phase, against
 * the shared PostgreSQL server (never restarted).
 */
class BackfillReplicaTest {
    @Test
    void aBackfillKilledAmidWritersAndConsumerKillsLeavesTheReplicaEqualToTheTable(@TempDir Path workDir) throws Exception {
        proveTheReplicaEqualsTheTable(TestDatabase.get().url("postgres"), workDir);
    }

    /** The run and its requirements, on the server at {@code server} (MariaDbBackfillReplicaTest runs it on MariaDB). */
    static void proveTheReplicaEqualsTheTable(String server, Path workDir) throws Exception {
        // No TRUNCATE (MariaDB cannot capture one) and no 10,000-row statements: the table's rows must live
        // through the backfill to be read.
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
