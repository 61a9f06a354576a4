package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.Operation;
import dev.epidemic.api.RowFilterInfo;
import dev.epidemic.testing.CapturedErr;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Row filters (docs/row-filters.md) on every database: only rows some filter selects are logged, an UPDATE
 * when its old or its new row is selected; each filtered handler receives what its own filter selected, a
 * handler without one everything logged; a filter nobody registers any more stops filtering; a condition that
 * is not valid is refused before anything changes.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#all")
class RowFilterTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Parameter
    TestServer server;

    private Target accounts() {
        Target db = server.create();
        db.exec("CREATE TABLE accounts (id int PRIMARY KEY, region varchar(10), active boolean, quota bigint)");
        return db;
    }

    private static long logged(Target db) {
        return db.queryLong("SELECT count(*) FROM " + db.logTable("change_log") + " WHERE op <> '!'");
    }

    private static List<String> ops(Collector collector) {
        List<String> result = new ArrayList<>();
        for (Change change : collector.changes()) {
            result.add(change.operation().name().charAt(0) + "" + change.key().get("id"));
        }
        return result;
    }

    private static void awaitSize(Collector collector, int size) {
        await().atMost(WAIT).until(() -> collector.size() >= size);
    }

    @Test
    void aConsumerThatStartedBeforeTheFirstFilterKeepsReceivingEveryRow() {
        // Given a consumer with a handler without a filter, started while the table had no filter,
        Target db = accounts();
        db.admin().watch("accounts", List.of(), List.of());
        Collector everything = new Collector();
        try (Epidemic early = db.engine().consumer("early").handle("accounts", List.of(), everything).build().start()) {
            // when another consumer gives the table its first filter, and rows inside and outside it are written,
            Collector eu = new Collector();
            try (Epidemic filtered = db.engine().consumer("filtered").handle("accounts", List.of(), eu).where("region = 'eu'").build().start()) {
                db.exec("INSERT INTO accounts VALUES (1, 'eu', true, 1)", "INSERT INTO accounts VALUES (2, 'us', true, 1)");
                awaitSize(everything, 2);
                awaitSize(eu, 1);
            }
            // then the first consumer, never restarted, received both (it had recorded that it takes every row),
            assertThat(ops(everything)).containsExactly("I1", "I2");
            // and the filtered one only its own.
            assertThat(ops(eu)).containsExactly("I1");
        }
    }

    @Test
    void theFirstFilterOfATableNamesTheConsumersThatWillReceiveOnlyFilteredRows() throws Exception {
        // Given a consumer that registers nothing (like tail: every table, no handler of its own per table),
        Target db = accounts();
        db.admin().watch("accounts", List.of(), List.of());
        try (Epidemic early = db.engine().consumer("early").handleEveryTable(List.of("accounts"), new Collector()).build().start();
             CapturedErr err = new CapturedErr()) {
            // when another consumer gives the table its first filter,
            try (Epidemic filtered = db.engine().consumer("filtered").handle("accounts", List.of(), new Collector()).where("region = 'eu'")
                    .build().start()) {
                // then the change is not silent: the log names the consumer that now receives only filtered rows.
                assertThat(err.text()).contains("now has row filters").contains("[early]");
            }
        }
    }

    @Test
    void aTableWideFilterLogsOnlyMatchingRowsAndUpdatesThatEnterOrLeaveIt() {
        Target db = accounts();
        EpidemicAdmin admin = db.admin();
        admin.watch("accounts", List.of(), List.of(), "active AND quota > 0");
        assertThat(admin.list()).singleElement().extracting(t -> t.filters())
                .isEqualTo(List.of(new RowFilterInfo("active AND quota > 0", true, List.of())));

        db.exec("INSERT INTO accounts VALUES (1, 'eu', true, 10)",   // matches
                "INSERT INTO accounts VALUES (2, 'eu', false, 10)",  // does not: not logged
                "INSERT INTO accounts VALUES (3, 'eu', true, 0)",    // does not
                "UPDATE accounts SET active = true WHERE id = 2",     // enters the filter
                "UPDATE accounts SET active = false WHERE id = 1",    // leaves it
                "UPDATE accounts SET region = 'us' WHERE id = 1",     // outside before and after: not logged
                "UPDATE accounts SET quota = 5 WHERE id = 3",         // enters
                "DELETE FROM accounts WHERE id = 2",                  // matched: logged
                "DELETE FROM accounts WHERE id = 1");                 // did not: not logged

        assertThat(logged(db)).isEqualTo(5);
        Collector all = new Collector();
        try (Epidemic ignored = db.engine().consumer("c").handle("accounts", List.of(), all).build().start()) {
            awaitSize(all, 5);
        }
        assertThat(ops(all)).containsExactly("I1", "U2", "U1", "U3", "D2");
        Change left = all.changes().get(2);
        assertThat(left.oldValues().get("active")).isNotEqualTo(left.newValues().get("active")); // (a boolean is 1 or 0 on MariaDB)
    }

    @Test
    void eachHandlerReceivesWhatItsOwnFilterSelectsAndOneWithoutAFilterReceivesEverything() {
        Target db = accounts();
        db.admin().watch("accounts", List.of(), List.of());
        Collector eu = new Collector();
        Collector us = new Collector();
        Collector every = new Collector();
        Collector otherEu = new Collector();
        try (Epidemic first = db.engine().consumer("first")
                .handle("accounts", List.of(), eu).where("region = 'eu'")
                .handle("accounts", List.of(), us).where("region = 'us'")
                .handle("accounts", List.of(), every)
                .build().start();
             Epidemic second = db.engine().consumer("second")
                     .handle("accounts", List.of(), otherEu).where("region = 'eu'")
                     .build().start()) {
            db.exec("INSERT INTO accounts VALUES (1, 'eu', true, 1)",
                    "INSERT INTO accounts VALUES (2, 'us', true, 1)",
                    "INSERT INTO accounts VALUES (3, 'asia', true, 1)",
                    "UPDATE accounts SET region = 'us' WHERE id = 1");  // leaves eu, enters us
            awaitSize(every, 4);
            awaitSize(us, 2);
            awaitSize(eu, 2);
            awaitSize(otherEu, 2);
        }
        assertThat(ops(eu)).containsExactly("I1", "U1");
        assertThat(ops(us)).containsExactly("I2", "U1");
        assertThat(ops(every)).containsExactly("I1", "I2", "I3", "U1");
        assertThat(ops(otherEu)).containsExactly("I1", "U1");
        assertThat(db.admin().list().get(0).filters()).extracting(RowFilterInfo::predicate, RowFilterInfo::consumers)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("region = 'eu'", List.of("first", "second")),
                        org.assertj.core.groups.Tuple.tuple("region = 'us'", List.of("first")));
    }

    @Test
    void consumersStartingTogetherEachRegisterTheirOwnFilter() throws Exception {
        Target db = accounts();
        db.admin().watch("accounts", List.of(), List.of());
        List<String> regions = List.of("eu", "us", "asia", "africa");
        List<Collector> collectors = regions.stream().map(r -> new Collector()).toList();
        List<java.util.concurrent.CompletableFuture<Epidemic>> starting = new ArrayList<>();
        for (int i = 0; i < regions.size(); i++) {
            Epidemic.Builder builder = db.engine().consumer(regions.get(i)).handle("accounts", List.of(), collectors.get(i))
                    .where("region = '" + regions.get(i) + "'");
            starting.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> builder.build().start()));
        }
        List<Epidemic> started = new ArrayList<>();
        try {
            for (var future : starting) {
                started.add(future.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            db.exec("INSERT INTO accounts VALUES (1, 'eu', true, 1), (2, 'us', true, 1), (3, 'asia', true, 1), (4, 'africa', true, 1),"
                    + " (5, 'moon', true, 1)");
            for (Collector collector : collectors) {
                awaitSize(collector, 1);
            }
        } finally {
            started.forEach(Epidemic::close);
        }
        for (int i = 0; i < regions.size(); i++) {
            assertThat(ops(collectors.get(i))).containsExactly("I" + (i + 1));
        }
        assertThat(logged(db)).isEqualTo(4);
        assertThat(db.admin().list().get(0).filters()).hasSize(4);
    }

    @Test
    void aRowNoFilterSelectsIsNotLoggedUntilTheFilterIsGone() {
        Target db = accounts();
        db.admin().watch("accounts", List.of(), List.of());
        Collector eu = new Collector();
        Supplier<Epidemic.Builder> filtered = () -> db.engine().consumer("c").handle("accounts", List.of(), eu).where("region = 'eu'");
        try (Epidemic ignored = filtered.get().build().start()) {
            db.exec("INSERT INTO accounts VALUES (1, 'asia', true, 1)", "INSERT INTO accounts VALUES (2, 'eu', true, 1)");
            awaitSize(eu, 1);
        }
        assertThat(logged(db)).isEqualTo(1);
        assertThat(ops(eu)).containsExactly("I2");

        // The same consumer without its filter: nobody filters the table any more, and every row is logged again.
        Collector every = new Collector();
        try (Epidemic ignored = db.engine().consumer("c").handle("accounts", List.of(), every).build().start()) {
            db.exec("INSERT INTO accounts VALUES (3, 'asia', true, 1)");
            awaitSize(every, 1);
        }
        assertThat(logged(db)).isEqualTo(2);
        assertThat(ops(every)).containsExactly("I3");
        assertThat(db.admin().list().get(0).filters()).isEmpty();
    }

    @Test
    void aChangeLoggedBeforeTheTableHadFiltersReachesEveryHandler() {
        Target db = accounts();
        db.admin().watch("accounts", List.of(), List.of());
        db.exec("INSERT INTO accounts VALUES (1, 'asia', true, 1)"); // logged without a mask: no filter then
        Collector eu = new Collector();
        try (Epidemic ignored = db.engine().consumer("c").handle("accounts", List.of(), eu).where("region = 'eu'").build().start()) {
            db.exec("INSERT INTO accounts VALUES (2, 'asia', true, 1)", "INSERT INTO accounts VALUES (3, 'eu', true, 1)");
            awaitSize(eu, 2);
        }
        assertThat(ops(eu)).containsExactly("I1", "I3");
        assertThat(logged(db)).isEqualTo(2);
    }

    @Test
    void watchWithoutWhereRemovesTheTableWideFilter() {
        Target db = accounts();
        EpidemicAdmin admin = db.admin();
        admin.watch("accounts", List.of(), List.of(), "active");
        db.exec("INSERT INTO accounts VALUES (1, 'eu', false, 1)");
        assertThat(logged(db)).isZero();
        admin.watch("accounts", List.of(), List.of(), "NOT active");
        db.exec("INSERT INTO accounts VALUES (2, 'eu', false, 1)", "INSERT INTO accounts VALUES (3, 'eu', true, 1)");
        assertThat(logged(db)).isEqualTo(1);
        admin.watch("accounts", List.of(), List.of());
        db.exec("INSERT INTO accounts VALUES (4, 'eu', true, 1)");
        assertThat(logged(db)).isEqualTo(2);
        assertThat(admin.list().get(0).filters()).isEmpty();
    }

    @Test
    void aConditionThatIsNotValidOnTheTableIsRefusedAndChangesNothing() {
        Target db = accounts();
        EpidemicAdmin admin = db.admin();
        admin.watch("accounts", List.of(), List.of(), "active");
        List<String> before = state(db);
        for (String bad : List.of("no_such_column > 1", "quota + 1", "active AND", "region = ", "active)) OR ((true")) {
            assertThatThrownBy(() -> admin.watch("accounts", List.of(), List.of(), bad))
                    .as(bad).isInstanceOf(InvalidInputException.class).hasMessageContaining("accounts").hasMessageNotContaining("\n");
            assertThatThrownBy(() -> db.engine().consumer("c").handle("accounts", List.of(), new Collector()).where(bad).build().start())
                    .as(bad).isInstanceOf(InvalidInputException.class).hasMessageContaining("accounts");
        }
        assertThat(state(db)).isEqualTo(before);
        db.exec("INSERT INTO accounts VALUES (1, 'eu', false, 1)");
        assertThat(logged(db)).isZero(); // the filter in place still filters

        // A consumer's bad filter on a table not watched yet: nothing is installed for it either.
        db.exec("CREATE TABLE unwatched (id int PRIMARY KEY, v int)");
        List<String> fresh = state(db);
        assertThatThrownBy(() -> db.engine().consumer("d").handle("unwatched", List.of(), new Collector()).where("nope = 1").build().start())
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("unwatched");
        assertThat(state(db)).isEqualTo(fresh);
    }

    @Test
    void moreThan63DistinctFiltersOnOneTableAreRefusedAndChangeNothing() {
        Target db = accounts();
        db.admin().watch("accounts", List.of(), List.of());
        Epidemic.Builder many = db.engine().consumer("many");
        for (int i = 0; i < 63; i++) {
            many.handle("accounts", List.of(), new Collector()).where("quota = " + i);
        }
        many.build().start().close(); // 63 fit
        List<String> before = state(db);

        Epidemic.Builder tooMany = db.engine().consumer("too-many").handle("accounts", List.of(), new Collector()).where("quota = 63");
        assertThatThrownBy(() -> tooMany.build().start())
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("accounts").hasMessageContaining("at most 63");
        assertThat(state(db)).isEqualTo(before);
    }

    @Test
    void whereFollowsTheHandlerWhoseRowsItSelectsOnceAndIsNotEmpty() {
        Target db = accounts();
        assertThatThrownBy(() -> db.engine().consumer("c").where("active"))
                .isInstanceOf(InvalidInputException.class).hasMessage("where(active) must follow the handle(...) whose rows it selects");
        assertThatThrownBy(() -> db.engine().consumer("c").handle("accounts", List.of(), new Collector()).where("active").where("quota > 0"))
                .isInstanceOf(InvalidInputException.class).hasMessage("the handler of accounts already has a row filter (active)");
        assertThatThrownBy(() -> db.engine().consumer("c").handle("accounts", List.of(), new Collector()).where("  "))
                .isInstanceOf(InvalidInputException.class).hasMessage("the row filter for accounts is empty");
        assertThatThrownBy(() -> db.engine().consumer("c").handleEveryTable(List.of(), new Collector()).where("active"))
                .isInstanceOf(InvalidInputException.class); // tail's kind of handler takes every logged row
    }

    /** The catalog, Epidemic's registrations and its capture code, to compare before and after. */
    private static List<String> state(Target db) {
        List<String> result = new ArrayList<>(db.catalogFingerprint());
        String registrations = db.logTable(db.server().isPostgres() ? "row_filter_registration" : "filter_owner");
        result.addAll(Sql.rows(db.url(), "SELECT table_id, registrant, predicate FROM " + registrations + " ORDER BY 1, 2, 3"));
        if (db.server().isPostgres()) { // (MariaDB's fingerprint has the triggers' bodies)
            result.addAll(Sql.rows(db.url(), "SELECT p.proname || ' ' || md5(p.prosrc) FROM pg_proc p WHERE p.proname LIKE 'capture%' ORDER BY 1"));
        }
        return result;
    }

    @Test
    void backfillReadsReachOnlyTheHandlersWhoseFilterSelectsTheRow() {
        Target db = accounts();
        db.admin().watch("accounts", List.of(), List.of());
        Collector eu = new Collector();
        Collector every = new Collector();
        try (Epidemic ignored = db.engine().consumer("c")
                .handle("accounts", List.of(), eu).where("region = 'eu'")
                .handle("accounts", List.of(), every)
                .build().start()) {
            db.exec("INSERT INTO accounts VALUES (1, 'eu', true, 1)", "INSERT INTO accounts VALUES (2, 'us', true, 1)");
            awaitSize(every, 2);
            db.admin().backfill("accounts", List.of("c"), null, 10, status -> { });
            awaitSize(every, 4);
            awaitSize(eu, 2);
        }
        assertThat(eu.changes()).extracting(Change::operation).containsExactly(Operation.INSERT, Operation.READ);
        assertThat(ops(eu)).containsExactly("I1", "R1");
        assertThat(ops(every)).containsExactly("I1", "I2", "R1", "R2");
    }
}
