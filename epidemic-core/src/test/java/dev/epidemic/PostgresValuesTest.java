package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.Operation;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** PostgreSQL only, every version: values as to_jsonb renders them, and TRUNCATE, which only PostgreSQL can capture. */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#postgresVersions")
class PostgresValuesTest {
    @Parameter
    TestServer server;
    static String url;
    static EpidemicAdmin admin;

    @BeforeParameterizedClassInvocation
    static void database(TestServer server) {
        url = server.create().url();
        admin = EpidemicAdmin.create(url, null, null, "epidemic");
    }

    @Test
    void rendersValuesAsToJsonbDoes() {
        Sql.exec(url, """
                CREATE TABLE typed (id int PRIMARY KEY, n numeric, d double precision, b boolean, j jsonb, a int[],
                  by bytea, ts timestamptz, u uuid, nul text, big text, uni text)""");
        admin.watch("typed", List.of(), List.of());
        Collector collector = new Collector();
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("types")
                .handle("typed", List.of(), collector).build().start()) {
            Sql.exec(url, """
                    INSERT INTO typed VALUES (1, 12.50, 1.5, true, '{"x": [1, "two", null]}', '{1,2,3}', '\\xdeadbeef',
                      '2026-11-29 10:00:00.123456+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL, repeat('x', 1048576),
                      'héllo "quoted" ''single'' \\ ✓ 😀')""");
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 1);
        }
        Change change = collector.changes().get(0);
        String expected = Sql.rows(url, "SELECT to_jsonb(t) - 'id' FROM typed t").get(0);
        String json = Epidemic.toJson(change);
        assertThat(change.newValues().get("n")).isEqualTo(new BigDecimal("12.50"));
        assertThat(change.newValues().get("nul")).isNull();
        assertThat(change.newValues()).containsKey("nul");
        assertThat(((String) change.newValues().get("big"))).hasSize(1048576);
        // The same values, compared by PostgreSQL itself: what we print is what to_jsonb makes.
        long equal = Sql.queryLong(url, "SELECT count(*) FROM typed t WHERE (to_jsonb(t) - 'id') = ("
                + dollar(json) + "::jsonb -> 'new') - 'id'");
        assertThat(equal).as("rendered %s vs %s", json.length() > 300 ? json.substring(0, 300) : json, expected.substring(0, 100)).isEqualTo(1);
    }

    static String dollar(String s) {
        return "$json$" + s + "$json$";
    }

    @Test
    void deliversTruncate() {
        Sql.exec(url, "CREATE TABLE truncated (id int PRIMARY KEY)");
        admin.watch("truncated", List.of(), List.of());
        Collector collector = new Collector();
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("trunc")
                .handle("truncated", List.of(), collector).build().start()) {
            Sql.exec(url, "INSERT INTO truncated VALUES (1)", "TRUNCATE truncated");
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 2);
        }
        Change truncate = collector.changes().get(1);
        assertThat(truncate.operation()).isEqualTo(Operation.TRUNCATE);
        assertThat(truncate.key()).isNull();
        assertThat(truncate.oldValues()).isNull();
        assertThat(truncate.newValues()).isNull();
    }
}
