package dev.epidemic;

import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Least privilege: writers need no rights on Epidemic's schema, consumers only the documented grants. */
class PermissionTest {
    static final String CONSUMER = "epidemic_test_consumer_" + ProcessHandle.current().pid();
    static final String WRITER = "epidemic_test_writer_" + ProcessHandle.current().pid();
    static String url;

    @BeforeAll
    static void setUp() {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url,
                "CREATE ROLE " + CONSUMER + " LOGIN NOSUPERUSER NOREPLICATION NOCREATEDB NOCREATEROLE",
                "CREATE ROLE " + WRITER + " LOGIN NOSUPERUSER NOREPLICATION",
                "CREATE TABLE accounts (id int PRIMARY KEY, balance numeric)",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO " + WRITER);
        EpidemicAdmin.create(url, null, null, "epidemic").watch("accounts", List.of(), List.of());
        // The grants docs/security.md lists for a consumer role.
        Sql.exec(url,
                "GRANT USAGE ON SCHEMA epidemic TO " + CONSUMER,
                "GRANT SELECT ON ALL TABLES IN SCHEMA epidemic TO " + CONSUMER,
                "GRANT INSERT, UPDATE ON epidemic.consumer TO " + CONSUMER,
                "GRANT INSERT, UPDATE, DELETE ON epidemic.waiting TO " + CONSUMER,
                "GRANT INSERT, UPDATE, DELETE ON epidemic.dead_letter TO " + CONSUMER);
    }

    @AfterAll
    static void dropRoles() {
        Sql.exec(url, "DROP OWNED BY " + CONSUMER + ", " + WRITER, "DROP ROLE " + CONSUMER, "DROP ROLE " + WRITER);
    }

    private static String as(String role) {
        return url.replace("user=postgres", "user=" + role);
    }

    @Test
    void consumerWithoutSuperuserOrReplicationConsumesWhatAWriterWithoutEpidemicRightsWrote() {
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM pg_roles WHERE rolname = '" + CONSUMER + "' AND (rolsuper OR rolreplication)")).isZero();
        Collector collector = new Collector();
        try (Epidemic epidemic = Epidemic.builder(as(CONSUMER), null, null).consumer("least-privilege").startAtPresent(true)
                .handle("accounts", List.of(), collector).build().start()) {
            // A hostile search_path in the writer's session changes nothing for the capture function.
            Sql.exec(as(WRITER), "SET search_path = pg_temp, public", "INSERT INTO accounts VALUES (1, 10.5)",
                    "UPDATE accounts SET balance = 11 WHERE id = 1");
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 2);
        }
        assertThat(collector.changes().get(1).newValues()).containsEntry("balance", 11);
    }

    @Test
    void aConsumerGrantedItsRightsBeforeRowFiltersExistedStartsAsBeforeWhileItHasNoFilter() {
        // Given a consumer role whose GRANT ... ON ALL TABLES predates the row filter tables
        Sql.exec(url, "REVOKE SELECT ON epidemic.row_filter, epidemic.row_filter_registration FROM " + CONSUMER);
        try {
            Collector collector = new Collector();
            try (Epidemic epidemic = Epidemic.builder(as(CONSUMER), null, null).consumer("granted-before").startAtPresent(true)
                    .handle("accounts", List.of(), collector).build().start()) {
                Sql.exec(url, "INSERT INTO accounts VALUES (100, 1)");
                await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 1);
            }
            assertThat(EpidemicAdmin.create(as(CONSUMER), null, null, "epidemic").list()).isNotEmpty();
        } finally {
            Sql.exec(url, "GRANT SELECT ON epidemic.row_filter, epidemic.row_filter_registration TO " + CONSUMER);
        }
    }

    @Test
    void writerCannotReadOrForgeTheLog() {
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = '" + WRITER
                + "' AND table_schema = 'epidemic'")).isZero();
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                + " WHERE n.nspname = 'epidemic' AND has_function_privilege('" + WRITER + "', p.oid, 'EXECUTE')")).isZero();
    }

    @Test
    void everyFunctionEpidemicCreatesPinsItsSearchPathButLeanCapture() {
        // The capture of a table without row filters qualifies every name instead (CaptureSearchPathTest).
        List<String> unpinned = Sql.rows(url, "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                + " WHERE n.nspname = 'epidemic' AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)");
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'epidemic'"))
                .isPositive();
        assertThat(unpinned).allSatisfy(name -> assertThat(name).matches("capture_\\d+"));
    }
}
