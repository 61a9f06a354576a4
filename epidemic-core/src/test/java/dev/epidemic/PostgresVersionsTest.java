package dev.epidemic;

import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The suites that run on every PostgreSQL version really do: each server is the version it is named for. */
class PostgresVersionsTest {

    @Test
    void theSuitesRunOnPostgres14To18AndEachServerRunsTheVersionItIsNamedFor() {
        List<TestServer> servers = TestDatabase.postgresVersions();

        assertThat(servers).extracting(Object::toString)
                .containsExactly("PostgreSQL 14", "PostgreSQL 15", "PostgreSQL 17", "PostgreSQL 18");
        for (TestServer server : servers) {
            TestDatabase postgres = (TestDatabase) server;
            String version = Sql.rows(postgres.url("postgres"), "SHOW server_version").get(0);
            System.out.println(server + " at " + postgres.hostPort() + ": server_version " + version);
            assertThat(version).as(server.toString()).startsWith(postgres.major() + ".");
        }
    }
}
