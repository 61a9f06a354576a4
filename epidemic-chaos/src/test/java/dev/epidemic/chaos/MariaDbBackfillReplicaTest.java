package dev.epidemic.chaos;

import dev.epidemic.testing.MariaDbServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * {@link BackfillReplicaTest} on the shared MariaDB server (never restarted): a table of 200,000 rows is backfilled to a consumer while 4 writers
 * update, delete and insert random rows of it and one updates the rows at the backfill's cursor; the backfill
 * JVM and the consumer JVM are each killed with SIGKILL several times. Applying what the consumer was handed,
 * in order, must give the table's rows exactly.
 */
class MariaDbBackfillReplicaTest {
    @Test
    void aBackfillKilledAmidWritersAndConsumerKillsLeavesTheReplicaEqualToTheTable(@TempDir Path workDir) throws Exception {
        BackfillReplicaTest.proveTheReplicaEqualsTheTable(MariaDbServer.get().url(""), workDir);
    }
}
