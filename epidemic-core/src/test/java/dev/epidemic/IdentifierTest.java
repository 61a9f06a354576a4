package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Names are data, never SQL: odd identifiers work, hostile ones are refused, failures change nothing; on every PostgreSQL version. */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#postgresVersions")
class IdentifierTest {
    static final String TABLE = "\"My Schema\".\"Mixed Case \"\"Quoted\"\" Ünï\"";
    @Parameter
    TestServer server;
    static String url;
    static EpidemicAdmin admin;

    @BeforeParameterizedClassInvocation
    static void setUp(TestServer server) {
        url = server.create().url();
        admin = EpidemicAdmin.create(url, null, null, "epidemic");
        Sql.exec(url, "CREATE SCHEMA \"My Schema\"",
                "CREATE TABLE " + TABLE + " (\"Order\" int PRIMARY KEY, \"select\" text, \"Space Col\" int, \"we\"\"ird\" text, ünï text, other text)",
                "CREATE TABLE victim (id int PRIMARY KEY, v text)",
                "CREATE TABLE keyless (v text)");
    }

    @Test
    void capturesTablesAndColumnsWithMixedCaseSpacesQuotesReservedWordsAndUnicode() {
        admin.watch(TABLE, List.of("\"select\"", "Space Col", "we\"ird", "ünï"), List.of());
        Collector collector = new Collector();
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("odd-names").startAtPresent(true)
                .handle(TABLE, List.of("select", "Space Col", "we\"ird", "ünï"), collector).build().start()) {
            Sql.exec(url, "INSERT INTO " + TABLE + " VALUES (1, 'reserved', 2, 'quote', 'ü', 'not watched')",
                    "UPDATE " + TABLE + " SET other = 'still not watched'",
                    "UPDATE " + TABLE + " SET \"we\"\"ird\" = 'changed'");
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 2);
        }
        Change insert = collector.changes().get(0);
        assertThat(insert.table()).isEqualTo("My Schema.Mixed Case \"Quoted\" Ünï");
        assertThat(insert.key()).containsEntry("Order", 1);
        assertThat(insert.newValues()).containsOnlyKeys("select", "Space Col", "we\"ird", "ünï");
        assertThat(collector.changes().get(1).newValues()).containsEntry("we\"ird", "changed");
        assertThat(collector.size()).isEqualTo(2);
    }

    @Test
    void refusesInjectionInTableOrColumnNamesAndChangesNothing() {
        List<String> before = Sql.catalogFingerprint(url);
        assertThatThrownBy(() -> admin.watch("victim; DROP TABLE victim", List.of(), List.of()))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("victim; DROP TABLE victim");
        assertThatThrownBy(() -> admin.watch("victim", List.of("v); DROP TABLE victim; --"), List.of()))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> admin.watch("victim', 'x", List.of(), List.of())).isInstanceOf(InvalidInputException.class);
        assertThat(Sql.catalogFingerprint(url)).isEqualTo(before);
    }

    @Test
    void aFailedWatchLeavesTheCatalogExactlyAsItWas() {
        String fresh = server.create().url();
        Sql.exec(fresh, "CREATE TABLE t (id int PRIMARY KEY, a text)", "CREATE TABLE keyless (v text)", "CREATE VIEW v AS SELECT * FROM t");
        EpidemicAdmin freshAdmin = EpidemicAdmin.create(fresh, null, null, "epidemic");
        List<String> before = Sql.catalogFingerprint(fresh);
        assertThatThrownBy(() -> freshAdmin.watch("missing", List.of(), List.of())).hasMessage("table missing does not exist");
        assertThatThrownBy(() -> freshAdmin.watch("t", List.of("nope"), List.of())).hasMessage("column nope does not exist in table public.t");
        assertThatThrownBy(() -> freshAdmin.watch("t", List.of("a", "a"), List.of())).hasMessageContaining("named twice");
        assertThatThrownBy(() -> freshAdmin.watch("keyless", List.of(), List.of())).hasMessageContaining("has no primary key");
        assertThatThrownBy(() -> freshAdmin.watch("v", List.of(), List.of())).hasMessageContaining("is not a table");
        assertThat(Sql.catalogFingerprint(fresh)).isEqualTo(before);
    }

    @Test
    void keylessTableCanBeWatchedWithAnExplicitKey() {
        assertThat(admin.watch("keyless", List.of(), List.of("v")).keyColumns()).containsExactly("v");
    }

    @Test
    void unwatchLeavesNoTriggerOrFunctionBehind() {
        admin.watch("keyless", List.of(), List.of("v")); // Epidemic's own schema is in place before we look
        List<String> before = Sql.catalogFingerprint(url);
        admin.watch("victim", List.of(), List.of());
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'victim'::regclass")).isEqualTo(4); // insert, delete, update, truncate
        assertThat(admin.unwatch("victim", true)).isTrue();
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'victim'::regclass")).isZero();
        assertThat(Sql.catalogFingerprint(url)).isEqualTo(before);
        assertThat(admin.unwatch("victim", true)).isFalse();
    }

    @Test
    void watchingAgainIsIdempotentAndOtherColumnsChangeWhatIsCaptured() {
        admin.watch("victim", List.of("v"), List.of());
        List<String> once = Sql.catalogFingerprint(url);
        admin.watch("victim", List.of("v"), List.of());
        assertThat(Sql.catalogFingerprint(url)).isEqualTo(once);
        assertThat(admin.watch("victim", List.of("id", "v"), List.of()).columns()).containsExactly("id", "v");
        assertThat(admin.list()).anySatisfy(w -> {
            assertThat(w.qualifiedName()).isEqualTo("public.victim");
            assertThat(w.columns()).containsExactly("id", "v");
        });
        admin.unwatch("victim", true);
    }
}
