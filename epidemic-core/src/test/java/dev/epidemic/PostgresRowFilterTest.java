package dev.epidemic;

import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Row filters where PostgreSQL's capture differs: a partitioned table (statement triggers for every
 * operation, rows moving between partitions), and a filter that a schema change made invalid, which never
 * fails a writer and never loses a row (capture, regenerated inside the DDL's transaction, counts it as
 * "true") and is reported with the command that registers it again, keeping the table-wide filter.
 */
class PostgresRowFilterTest {

    @Test
    void aPartitionedTableLogsOnlyMatchingRowsAlsoWhenAnUpdateMovesThemBetweenPartitions() {
        String url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE parted (id int, k int, quota int, PRIMARY KEY (id, k)) PARTITION BY LIST (k)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1)",
                "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2)");
        EpidemicAdmin.create(url, null, null, "epidemic").watch("parted", List.of(), List.of(), "quota > 0");

        Sql.exec(url, "INSERT INTO parted VALUES (1, 1, 5), (2, 1, 0), (3, 2, 0)",   // only row 1 matches
                "UPDATE parted SET quota = 1 WHERE id = 2",                            // enters
                "UPDATE parted SET k = 2 WHERE id = 1",                                // moves partition: a DELETE and an INSERT
                "UPDATE parted SET k = 1 WHERE id = 3",                                // moves, never matches
                "DELETE FROM parted WHERE quota = 0");                                 // row 3: not logged

        assertThat(Sql.rows(url, "SELECT op::text || (key->>'id') FROM epidemic.change_log ORDER BY id"))
                .containsExactly("I1", "U2", "D1", "I1");
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log WHERE filter_mask IS NULL OR filter_mask = 0")).isZero();
    }

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
