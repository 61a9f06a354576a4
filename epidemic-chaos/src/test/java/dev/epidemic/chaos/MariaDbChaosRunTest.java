package dev.epidemic.chaos;

import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Sql;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 25-second chaos run (about 40 s with the catch-up and the verdict) against the shared MariaDB server: 8 writers (no TRUNCATE, which MariaDB cannot
 * capture), the consumer JVM killed with SIGKILL, its connections ended with KILL CONNECTION, the handler
 * throwing; never a server restart. Nothing committed may be lost, nothing rolled back delivered, nothing
 * reordered, and the run leaves no database or user behind.
 */
class MariaDbChaosRunTest {

    @Test
    void halfAMinuteOfFaultsOnMariaDbLosesNothing(@TempDir Path workDir) throws Exception {
        String server = MariaDbServer.get().url("");
        ChaosOptions defaults = ChaosOptions.defaults(Duration.ofSeconds(25), workDir);
        // A flakier handler than the full run's, so that so short a run surely sees it fail a few times.
        ChaosOptions options = new ChaosOptions(defaults.duration(), defaults.writers(), server, workDir, Mix.mariaDb(), 0.001,
                defaults.faultGapMillis(), defaults.seed());
        String ours = "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'epidemic\\_chaos\\_"
                + ProcessHandle.current().pid() + "\\_%'";

        Verdict verdict = new ChaosRun(options).run();

        System.out.print(verdict.report());
        assertThat(verdict.problems()).as(verdict.report()).isEmpty();
        assertThat(verdict.clean()).isTrue();
        assertThat(verdict.delivery().committedChanges()).as("changes committed").isGreaterThan(1_000);
        assertThat(verdict.delivery().missing()).isZero();
        assertThat(verdict.delivery().rolledBackDelivered()).isZero();
        assertThat(verdict.delivery().orderViolations()).isZero();
        assertThat(verdict.rolledBackTransactions()).as("rolled-back transactions written").isPositive();
        assertThat(verdict.recoveries().count(Fault.KILL_CONSUMER)).as("kill -9").isPositive();
        assertThat(verdict.recoveries().count(Fault.TERMINATE_BACKENDS)).as("KILL CONNECTION").isPositive();
        assertThat(verdict.recoveries().count(Fault.HANDLER)).as("handler throws").isPositive();
        assertThat(verdict.recoveries().count(Fault.RESTART_SERVER)).as("the shared server is never restarted").isZero();
        assertThat(Sql.queryLong(server, ours)).as("databases left behind").isZero();
        assertThat(Sql.queryLong(server, "SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'epidemic\\_chaos\\_"
                + ProcessHandle.current().pid() + "\\_%'")).as("users left behind").isZero();
    }
}
