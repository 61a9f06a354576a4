package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Names are data, never SQL, on every database: odd identifiers work, hostile ones are refused, a failed
 * watch changes nothing, unwatch leaves no trigger, and several watched tables serve several consumers.
 * (IdentifierTest keeps what only PostgreSQL has: schemas inside a database, functions, TRUNCATE triggers.)
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#all")
class NamesOnEveryDatabaseTest {
    @Parameter
    TestServer server;

    /** An identifier quoted the database's way, quotes inside doubled. */
    private String q(String name) {
        char quote = server.isPostgres() ? '"' : '`';
        return quote + name.replace(String.valueOf(quote), "" + quote + quote) + quote;
    }

    /** A name with a space, mixed case, both quote characters and non-ASCII letters. */
    private static final String ODD_TABLE = "Mixed Case \"Quoted\" `Tick` Ünï";

    @Test
    void capturesTablesAndColumnsWithMixedCaseSpacesQuotesReservedWordsAndUnicode() {
        Target db = server.create();
        String table = q(ODD_TABLE);
        String text = server.isPostgres() ? "text" : "VARCHAR(50)";
        db.exec("CREATE TABLE " + table + " (" + q("Order") + " int PRIMARY KEY, " + q("select") + " " + text + ", " + q("Space Col") + " int, "
                + q("we\"i`rd") + " " + text + ", " + q("ünï") + " " + text + ", other " + text + ")");
        List<String> columns = List.of("select", "Space Col", "we\"i`rd", "ünï");
        db.admin().watch(table, columns, List.of());
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("odd-names").startAtPresent(true).handle(table, columns, collector).build().start()) {
            await().atMost(Duration.ofSeconds(20)).until(epidemic::isRunning);
            db.exec("INSERT INTO " + table + " VALUES (1, 'reserved', 2, 'quote', 'ü', 'not watched')",
                    "UPDATE " + table + " SET other = 'still not watched'",
                    "UPDATE " + table + " SET " + q("we\"i`rd") + " = 'changed'");
            await().atMost(Duration.ofSeconds(20)).until(() -> collector.size() >= 2);
        }
        Change insert = collector.changes().get(0);
        assertThat(insert.table()).isEqualTo(db.qualified(ODD_TABLE));
        assertThat(insert.key()).containsEntry("Order", 1);
        assertThat(insert.newValues()).containsOnlyKeys(columns);
        assertThat(collector.changes().get(1).newValues()).containsEntry("we\"i`rd", "changed");
        assertThat(collector.size()).isEqualTo(2);
    }

    @Test
    void refusesInjectionInTableOrColumnNamesAndChangesNothing() {
        Target db = server.create();
        db.exec("CREATE TABLE victim (id int PRIMARY KEY, v " + (server.isPostgres() ? "text" : "VARCHAR(50)") + ")");
        EpidemicAdmin admin = db.admin();
        List<String> before = db.catalogFingerprint();
        assertThatThrownBy(() -> admin.watch("victim; DROP TABLE victim", List.of(), List.of()))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("victim; DROP TABLE victim");
        assertThatThrownBy(() -> admin.watch("victim", List.of("v); DROP TABLE victim; --"), List.of()))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> admin.watch("victim', 'x", List.of(), List.of())).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> admin.watch("victim` (id) VALUES (1); DROP TABLE victim; --", List.of(), List.of()))
                .isInstanceOf(InvalidInputException.class);
        assertThat(db.catalogFingerprint()).isEqualTo(before);
    }

    @Test
    void aFailedWatchLeavesTheCatalogExactlyAsItWas() {
        Target db = server.create();
        String text = server.isPostgres() ? "text" : "VARCHAR(50)";
        db.exec("CREATE TABLE t (id int PRIMARY KEY, a " + text + ")", "CREATE TABLE keyless (v " + text + ")", "CREATE VIEW v AS SELECT * FROM t");
        EpidemicAdmin admin = db.admin();
        List<String> before = db.catalogFingerprint();
        assertThatThrownBy(() -> admin.watch("missing", List.of(), List.of())).hasMessage("table missing does not exist");
        assertThatThrownBy(() -> admin.watch("t", List.of("nope"), List.of())).hasMessage("column nope does not exist in table " + db.qualified("t"));
        assertThatThrownBy(() -> admin.watch("t", List.of("a", "a"), List.of())).hasMessageContaining("named twice");
        assertThatThrownBy(() -> admin.watch("keyless", List.of(), List.of())).hasMessageContaining("has no primary key");
        assertThatThrownBy(() -> admin.watch("v", List.of(), List.of())).hasMessageContaining("is not a table");
        assertThat(db.catalogFingerprint()).isEqualTo(before);
        // And once Epidemic is installed, a failed watch changes nothing either.
        admin.watch("t", List.of(), List.of());
        List<String> installed = db.catalogFingerprint();
        assertThatThrownBy(() -> admin.watch("t", List.of("nope"), List.of())).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> admin.watch("keyless", List.of(), List.of())).isInstanceOf(InvalidInputException.class);
        assertThat(db.catalogFingerprint()).isEqualTo(installed);
        assertThat(admin.list()).singleElement().satisfies(w -> assertThat(w.columns()).containsExactly("id", "a"));
    }

    @Test
    void unwatchLeavesNoTriggerOfTheTable() {
        Target db = server.create();
        db.exec("CREATE TABLE kept (id int PRIMARY KEY)", "CREATE TABLE victim (id int PRIMARY KEY)");
        EpidemicAdmin admin = db.admin();
        admin.watch("kept", List.of(), List.of()); // Epidemic's own schema is in place before we look
        List<String> before = db.catalogFingerprint();
        admin.watch("victim", List.of(), List.of());
        assertThat(triggersOn(db, "victim")).isEqualTo(server.isPostgres() ? 4 : 3);
        assertThat(admin.unwatch("victim", true)).isTrue();
        assertThat(triggersOn(db, "victim")).isZero();
        assertThat(triggersOn(db, "kept")).isEqualTo(server.isPostgres() ? 4 : 3);
        assertThat(db.catalogFingerprint()).isEqualTo(before);
        assertThat(admin.unwatch("victim", true)).isFalse();
    }

    private long triggersOn(Target db, String table) {
        return server.isPostgres()
                ? db.queryLong("SELECT count(*) FROM pg_trigger WHERE tgrelid = '" + table + "'::regclass AND NOT tgisinternal")
                : db.queryLong("SELECT count(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = '" + table + "'");
    }

    @Test
    void severalWatchedTablesServeSeveralConsumers() {
        Target db = server.create();
        db.exec("CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)");
        EpidemicAdmin admin = db.admin();
        admin.watch("a", List.of(), List.of());
        admin.watch("b", List.of(), List.of());
        Collector onlyA = new Collector();
        Collector both = new Collector();
        db.exec("INSERT INTO a VALUES (1)", "INSERT INTO b VALUES (2)", "INSERT INTO a VALUES (3)");
        try (Epidemic first = db.engine().consumer("only-a").handle("a", List.of(), onlyA).build().start();
             Epidemic second = db.engine().consumer("both").handle("a", List.of(), both).handle("b", List.of(), both).build().start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> onlyA.size() >= 2 && both.size() >= 3);
        }
        assertThat(onlyA.changes()).extracting(c -> c.key().get("id")).containsExactly(1, 3);
        // Each handler gets its table's changes in order; two handlers of one chunk run one after the other.
        assertThat(both.changes()).extracting(Change::table, c -> c.key().get("id")).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(db.qualified("a"), 1), org.assertj.core.groups.Tuple.tuple(db.qualified("b"), 2),
                org.assertj.core.groups.Tuple.tuple(db.qualified("a"), 3));
        assertThat(admin.status()).extracting(s -> s.pending()).containsOnly(0L);
    }
}
