package dev.epidemic;

import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A row filter that a schema change made invalid never fails a writer and never loses a row (PostgreSQL:
 * capture, regenerated inside the DDL's transaction, counts it as "true"), and is reported with the command
 * that registers it again, which keeps the table-wide filter (watch states the whole capture).
 */
class RowFilterSchemaChangeTest {

    @Test
    void aFilterNamingADroppedColumnSelectsEveryRowAndIsReportedWithItsRepair() {
        String url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE accounts (id int PRIMARY KEY, region text, quota int)");
        EpidemicAdmin admin = EpidemicAdmin.create(url, null, null, "epidemic");
        admin.watch("accounts", List.of(), List.of(), "region = 'eu'");
        Sql.exec(url, "INSERT INTO accounts VALUES (1, 'us', 1)");
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log")).isZero();

        Sql.exec(url, "ALTER TABLE accounts DROP COLUMN region",
                "INSERT INTO accounts VALUES (2, 5)",
                "UPDATE accounts SET quota = 7");

        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log")).isEqualTo(3);
        assertThat(admin.captureProblems()).singleElement().asString()
                .contains("row filter (region = 'eu') is no longer valid", "selects every row")
                .endsWith("run: epidemic watch public.accounts --where 'region = '\\''eu'\\'''");
    }
}
