package dev.epidemic.chaos;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 60-second chaos run against an embedded PostgreSQL the harness owns: 8 writers, the consumer JVM
 * killed with SIGKILL, its connections terminated, the server restarted, the handler throwing. Nothing
 * committed may be lost, nothing rolled back delivered, nothing reordered.
 */
class ChaosRunTest {

    @Test
    void aMinuteOfFaultsLosesNothing(@TempDir Path workDir) throws Exception {
        ChaosOptions defaults = ChaosOptions.defaults(Duration.ofSeconds(60), workDir);
        // A flakier handler than the full run's, so that a minute surely sees it fail a few times; a backfill
        // of 50,000 rows in the first part of the run, amid the same faults (server restarts among them).
        ChaosOptions options = new ChaosOptions(defaults.duration(), defaults.writers(), null, workDir, defaults.mix(), 0.0003,
                defaults.faultGapMillis(), defaults.seed(), 50_000, ChaosOptions.BACKFILL_CHUNK);

        Verdict verdict = new ChaosRun(options).run();

        System.out.print(verdict.report());
        assertThat(verdict.problems()).as(verdict.report()).isEmpty();
        assertThat(verdict.clean()).isTrue();
        assertThat(verdict.delivery().committedChanges()).as("changes committed").isGreaterThan(10_000);
        assertThat(verdict.delivery().missing()).isZero();
        assertThat(verdict.delivery().rolledBackDelivered()).isZero();
        assertThat(verdict.delivery().orderViolations()).isZero();
        assertThat(verdict.rolledBackTransactions()).as("rolled-back transactions written").isPositive();
        for (Fault fault : Fault.values()) {
            assertThat(verdict.recoveries().count(fault)).as(fault.description()).isPositive();
        }
        assertThat(verdict.backfill().finished()).as(verdict.report()).isTrue();
        assertThat(verdict.backfill().replicaEqualsTable()).as(verdict.report()).isTrue();
    }
}
