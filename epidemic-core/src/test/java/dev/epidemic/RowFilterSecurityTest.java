package dev.epidemic;

import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A row filter runs inside a SECURITY DEFINER capture function, with Epidemic's rights, on every write
 * (docs/row-filters.md, docs/security.md). An attacker who can create objects (a writer with a schema of its
 * own, and anyone in public) gets none of its code run by a filter: every condition that would call it, or
 * anything volatile, or read another relation, is refused before anything changes; and a writer's session
 * with a hostile search_path, shadowing functions and operators, and temp objects, evaluates the stored filter
 * as registered, with the built-in functions and operators only.
 */
class RowFilterSecurityTest {
    static final String WRITER = "epidemic_rf_writer_" + ProcessHandle.current().pid();
    static String url;
    static String writerUrl;

    /** A function that says it ran by adding a row to writable.ran, and then answers true. */
    private static String recorder(String name, String args, String returns) {
        return "CREATE FUNCTION " + name + "(" + args + ") RETURNS " + returns + " LANGUAGE plpgsql AS $$BEGIN"
                + " INSERT INTO writable.ran VALUES ('" + name + "'); RETURN " + (returns.equals("boolean") ? "true" : "$1") + "; END$$";
    }

    @BeforeAll
    static void setUp() {
        url = TestDatabase.get().createDatabase();
        writerUrl = url.replace("user=postgres", "user=" + WRITER);
        Sql.exec(url,
                "CREATE ROLE " + WRITER + " LOGIN NOSUPERUSER NOREPLICATION NOCREATEDB NOCREATEROLE",
                "CREATE SCHEMA writable AUTHORIZATION " + WRITER,
                "GRANT CREATE ON SCHEMA public TO " + WRITER,
                "CREATE TABLE accounts (id int PRIMARY KEY, region text, quota int)",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO " + WRITER,
                "CREATE SEQUENCE counter");
        Sql.exec(writerUrl,
                "CREATE TABLE writable.ran (what text)",
                "GRANT INSERT, SELECT ON writable.ran TO PUBLIC",
                recorder("writable.evil", "int", "boolean"),
                recorder("public.evil_public", "int", "boolean"),
                recorder("writable.lower", "text", "text"),
                recorder("public.lower", "text", "text"),
                recorder("writable.gt", "int, int", "boolean"),
                "CREATE OPERATOR writable.> (LEFTARG = int, RIGHTARG = int, FUNCTION = writable.gt)",
                "CREATE OPERATOR public.> (LEFTARG = int, RIGHTARG = int, FUNCTION = writable.gt)",
                "CREATE DOMAIN writable.checked AS int CHECK (writable.evil(VALUE))");
    }

    @AfterAll
    static void dropRole() {
        Sql.exec(url, "DROP OWNED BY " + WRITER + " CASCADE", "DROP ROLE " + WRITER);
    }

    private static long ran() {
        return Sql.queryLong(url, "SELECT count(*) FROM writable.ran");
    }

    /** The catalog, the registrations and the capture functions' code. */
    private static List<String> state() {
        List<String> result = new ArrayList<>(Sql.catalogFingerprint(url));
        result.addAll(Sql.rows(url, "SELECT p.proname || ' ' || md5(p.prosrc) FROM pg_proc p WHERE p.proname LIKE 'capture%' ORDER BY 1"));
        result.addAll(Sql.rows(url, "SELECT * FROM epidemic.row_filter_registration ORDER BY 1, 2, 3"));
        return result;
    }

    @Test
    void aConditionThatWouldRunAnythingButBuiltInNonVolatileCodeIsRefusedBeforeAnythingChanges() {
        EpidemicAdmin admin = EpidemicAdmin.create(url, null, null, "epidemic");
        admin.watch("accounts", List.of(), List.of(), "quota > 0");
        List<String> before = state();
        List<String> attacks = List.of(
                "writable.evil(quota)",                               // a writer's function
                "public.evil_public(quota)",                          // a function in public
                "evil_public(quota)",                                 // unqualified: not on the pinned search_path
                "quota OPERATOR(writable.>) 0",                       // a writer's operator
                "quota OPERATOR(public.>) 0",
                "quota::writable.checked > 0",                        // a domain whose check calls the writer's function
                "pg_sleep(10) IS NOT NULL",                           // volatile
                "pg_read_file('/etc/passwd') <> ''",                  // volatile, and reads the server's files
                "random() > 0.5",
                "nextval('public.counter') > 0",
                "length(table_to_xml('public.accounts', true, false, '')::text) > 0", // reads a table with Epidemic's rights
                "EXISTS (SELECT 1 FROM writable.ran)",                // a subquery, another relation
                "(SELECT count(*) FROM public.accounts) > 0",                // a subquery on the table itself
                "quota IN (SELECT 1)",
                "1=1); DROP TABLE accounts; --",
                "true /* comment */",
                "region = $$x$$",
                "region = 'a'; DELETE FROM accounts");
        for (String attack : attacks) {
            assertThatThrownBy(() -> admin.watch("accounts", List.of(), List.of(), attack))
                    .as(attack).isInstanceOf(InvalidInputException.class).hasMessageContaining("public.accounts").hasMessageNotContaining("\n");
        }
        assertThat(state()).isEqualTo(before);
        assertThat(ran()).isZero();
    }

    @Test
    void aHostileWritersSessionEvaluatesTheStoredConditionWithBuiltInsOnly() {
        EpidemicAdmin admin = EpidemicAdmin.create(url, null, null, "epidemic");
        admin.watch("accounts", List.of(), List.of(), "quota > 0 AND lower(region) = 'eu'");
        long before = Sql.queryLong(url, "SELECT coalesce(max(id), 0) FROM epidemic.change_log");

        Sql.exec(writerUrl,
                "CREATE TEMPORARY TABLE accounts (id int, region text, quota int)",
                "CREATE TEMPORARY TABLE r (id int, region text, quota int)",
                "CREATE FUNCTION pg_temp.lower(text) RETURNS text LANGUAGE sql AS $$SELECT 'eu'$$",
                "SET search_path = writable, public, pg_temp, pg_catalog",
                "INSERT INTO public.accounts VALUES (1, 'EU', 5), (2, 'us', 5), (3, 'eu', 0)",
                "UPDATE public.accounts SET quota = quota + 1",   // row 3 enters the filter
                "DELETE FROM public.accounts WHERE id = 2");

        // With the built-in lower and >: row 1's INSERT and UPDATE, row 3's UPDATE; nothing of row 2.
        assertThat(Sql.rows(url, "SELECT op::text || (key->>'id') FROM epidemic.change_log WHERE id > " + before + " ORDER BY id"))
                .containsExactlyInAnyOrder("I1", "U1", "U3");
        assertThat(ran()).isZero();
    }
}
