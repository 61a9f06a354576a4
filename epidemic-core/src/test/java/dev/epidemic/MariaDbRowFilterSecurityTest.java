package dev.epidemic;

import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * On MariaDB a row filter runs inside capture triggers, with their definer's rights, and the server keeps no
 * record of what an expression uses: a condition may use only the table's columns, literals, operators and the
 * allow-listed built-in functions (docs/row-filters.md). Everything else is refused before anything changes:
 * a stored function (even one named like a built-in, called qualified), variables, subqueries, and the
 * built-ins that wait, read files or take locks.
 */
class MariaDbRowFilterSecurityTest {

    @Test
    void aConditionThatWouldRunAnythingButAllowListedBuiltInsIsRefusedBeforeAnythingChanges() {
        Target db = MariaDbServer.get().create();
        String schema = db.qualified("accounts").substring(0, db.qualified("accounts").indexOf('.'));
        db.exec("CREATE TABLE accounts (id int PRIMARY KEY, region varchar(10), quota int)",
                "CREATE TABLE ran (what varchar(20))",
                "CREATE FUNCTION evil(x int) RETURNS int DETERMINISTIC BEGIN INSERT INTO ran VALUES ('evil'); RETURN 1; END",
                "CREATE FUNCTION lower_case(x varchar(10)) RETURNS varchar(10) DETERMINISTIC BEGIN INSERT INTO ran VALUES ('lower'); RETURN x; END");
        EpidemicAdmin admin = db.admin();
        admin.watch("accounts", List.of(), List.of(), "quota > 0");
        List<String> before = state(db);
        List<String> attacks = List.of(
                "evil(quota) = 1",                                   // a stored function
                "`" + schema + "`.evil(quota) = 1",                 // qualified
                schema + ".evil(quota) = 1",
                "lower_case(region) = 'eu'",
                "SLEEP(10) = 0",
                "BENCHMARK(100000000, MD5('x')) = 0",
                "LOAD_FILE('/etc/passwd') IS NOT NULL",
                "GET_LOCK('x', 10) = 1",
                "RAND() > 0.5",
                "@x := 1",
                "quota > @limit",
                "quota IN (SELECT id FROM ran)",
                "EXISTS (SELECT 1 FROM ran)",
                "region = \"eu\"",                                 // a string or a name, depending on sql_mode
                "quota > ?",
                "{fn evil(quota)} = 1",
                "1=1); DROP TABLE ran; --",
                "quota > 0 # comment",
                "quota > 0; DELETE FROM ran",
                "no_such_column > 1",
                "quota + 1",                                        // not a condition
                "quota >");
        for (String attack : attacks) {
            assertThatThrownBy(() -> admin.watch("accounts", List.of(), List.of(), attack))
                    .as(attack).isInstanceOf(InvalidInputException.class).hasMessageContaining(".accounts").hasMessageNotContaining("\n");
        }
        assertThat(state(db)).isEqualTo(before);
        assertThat(db.queryLong("SELECT COUNT(*) FROM ran")).isZero();
    }

    @Test
    void aFilterEvaluatesTheTablesColumnsWhateverTheWritersSession() {
        Target db = MariaDbServer.get().create();
        db.exec("CREATE TABLE accounts (id int PRIMARY KEY, region varchar(10), quota int)");
        db.admin().watch("accounts", List.of(), List.of(), "quota > 0 AND LOWER(region) = 'eu' AND `quota` < 100");
        db.exec("SET @quota = 1000",
                "SET SESSION sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT'",
                "INSERT INTO accounts VALUES (1, 'EU', 5), (2, 'us', 5), (3, 'eu', 0), (4, 'eu', 500)",
                "UPDATE accounts SET quota = quota + 1");
        // Row 1 (INSERT and UPDATE) and row 3 (its UPDATE enters the filter); rows 2 and 4 never match.
        assertThat(Sql.rows(db.url(), "SELECT CONCAT(op, JSON_VALUE(`key`, '$.id')) FROM " + db.logTable("change_log") + " ORDER BY id"))
                .containsExactlyInAnyOrder("I1", "U1", "U3");
    }

    private static List<String> state(Target db) {
        List<String> result = new ArrayList<>(db.catalogFingerprint());
        result.addAll(Sql.rows(db.url(), "SELECT CONCAT(table_id, ' ', registrant, ' ', predicate) FROM " + db.logTable("filter_owner") + " ORDER BY 1"));
        return result;
    }
}
