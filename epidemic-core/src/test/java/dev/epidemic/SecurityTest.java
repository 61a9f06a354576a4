package dev.epidemic;

import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hardening beyond PermissionTest: every function Epidemic creates (partition guards, helpers, in any
 * schema name) pins its search_path, but for the capture of a table without row filters, whose every name
 * is qualified instead (CaptureSearchPathTest), and a writer with no rights at all on Epidemic's
 * schema can still do every kind of write, on plain and partitioned watched tables, all of it captured.
 */
class SecurityTest {
    static final String WRITER = "epidemic_sec_writer_" + ProcessHandle.current().pid();
    static final String SCHEMA = "Odd \"Schema\"";
    static String url;

    @BeforeAll
    static void setUp() {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url,
                "CREATE ROLE " + WRITER + " LOGIN NOSUPERUSER NOREPLICATION NOCREATEDB NOCREATEROLE",
                "CREATE TABLE plain (id int PRIMARY KEY, v text)",
                "CREATE TABLE parted (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY LIST (k)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1)",
                "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON plain, parted, parted_1 TO " + WRITER);
        for (String schema : List.of("epidemic", SCHEMA)) {
            EpidemicAdmin admin = EpidemicAdmin.create(url, null, null, schema);
            admin.watch("plain", List.of(), List.of());
            admin.watch("parted", List.of(), List.of());
        }
    }

    @AfterAll
    static void dropRole() {
        Sql.exec(url, "DROP OWNED BY " + WRITER, "DROP ROLE " + WRITER);
    }

    @Test
    void everyFunctionInEpidemicsSchemasButLeanCapturePinsItsSearchPath() {
        List<String> functions = Sql.rows(url, "SELECT n.nspname || '.' || p.proname || ' ' || coalesce(array_to_string(p.proconfig, ';'), '(none)')"
                + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('epidemic', 'Odd \"Schema\"') ORDER BY 1");

        assertThat(functions).hasSizeGreaterThanOrEqualTo(6); // per schema: two capture functions and a partition guard
        assertThat(functions).anyMatch(f -> f.contains("guard_truncate"));
        assertThat(functions).allSatisfy(f -> assertThat(f).matches(".*\\.capture_\\d+ \\(none\\)|.* search_path=pg_catalog, pg_temp"));
        assertThat(functions).anyMatch(f -> f.endsWith("(none)"));
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                + " WHERE n.nspname IN ('epidemic', 'Odd \"Schema\"') AND has_function_privilege('public', p.oid, 'EXECUTE')")).isZero();
    }

    @Test
    void aWriterWithNoRightsOnEpidemicsSchemaDoesEveryKindOfWriteAndAllOfItIsCaptured() {
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM pg_namespace WHERE nspname IN ('epidemic', 'Odd \"Schema\"')"
                + " AND (has_schema_privilege('" + WRITER + "', oid, 'USAGE') OR has_schema_privilege('" + WRITER + "', oid, 'CREATE'))")).isZero();
        long before = Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log");

        Sql.exec(url.replace("user=postgres", "user=" + WRITER),
                "SET search_path = pg_temp, public",
                "INSERT INTO plain VALUES (1, 'a'), (2, 'b')",
                "UPDATE plain SET v = 'c' WHERE id = 1",
                "DELETE FROM plain WHERE id = 2",
                "TRUNCATE plain",
                "INSERT INTO parted VALUES (1, 1, 'a')",
                "UPDATE parted SET v = 'b'",
                "DELETE FROM parted",
                "TRUNCATE parted");

        // 2 inserts, an update, a delete, a truncate; then an insert, an update, a delete, a truncate.
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log")).isEqualTo(before + 9);
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM \"Odd \"\"Schema\"\"\".change_log")).isEqualTo(before + 9);
        assertThat(Sql.rows(url, "SELECT op FROM epidemic.change_log ORDER BY id"))
                .containsExactly("I", "I", "U", "D", "T", "I", "U", "D", "T");
    }
}
