package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.WatchedTable;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Target;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** MariaDB only: the value mapping of docs/mariadb.md, and the warnings for what triggers cannot see. */
class MariaDbValuesTest {

    @Test
    void rendersDecimalsExactlyTimesAsIsoBinaryAsBase64JsonNestedAndEmoji() throws Exception {
        Target db = MariaDbServer.get().create();
        db.exec("""
                CREATE TABLE typed (id int PRIMARY KEY, n decimal(40,20), d double, b tinyint(1), j json, by_ blob, vb varbinary(4),
                  ts timestamp(6) NULL, dt datetime, dt3 datetime(3), da date, nul text, uni text, bi bit(3), big longtext)
                  CHARACTER SET utf8mb4""");
        db.admin().watch("typed", List.of(), List.of());
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("types").handle("typed", List.of(), collector).build().start()) {
            db.exec("SET time_zone = '+02:00'",
                    "INSERT INTO typed VALUES (1, 12345678901234567890.12345678901234567890, 1.5, 1, '{\"x\": [1, \"two\", null]}',"
                            + " x'deadbeef', x'00ff', '2026-11-29 12:00:00.123456', '2026-11-29 10:00:00', '2026-11-29 10:00:00.120',"
                            + " '2026-11-29', NULL, 'héllo \"quoted\" ''single'' \\\\ ✓ 😀', b'101', REPEAT('x', 1048576))");
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 1);
        }
        Change change = collector.changes().get(0);
        Map<String, Object> v = change.newValues();
        assertThat(v.get("n")).isEqualTo(new BigDecimal("12345678901234567890.12345678901234567890"));
        assertThat(v.get("d")).isEqualTo(new BigDecimal("1.5"));
        assertThat(v.get("j")).isEqualTo(Map.of("x", java.util.Arrays.asList(1, "two", null)));
        assertThat(v.get("by_")).isEqualTo("3q2+7w==");
        assertThat(v.get("vb")).isEqualTo("AP8=");
        assertThat(v.get("ts")).isEqualTo("2026-11-29T10:00:00.123456Z"); // written at +02:00, rendered in UTC
        assertThat(v.get("dt")).isEqualTo("2026-11-29T10:00:00");
        assertThat(v.get("dt3")).isEqualTo("2026-11-29T10:00:00.120");
        assertThat(v.get("da")).isEqualTo("2026-11-29");
        assertThat(v).containsKey("nul");
        assertThat(v.get("nul")).isNull();
        assertThat(v.get("uni")).isEqualTo("héllo \"quoted\" 'single' \\ ✓ 😀");
        assertThat(v.get("bi")).isEqualTo(5);
        assertThat((String) v.get("big")).hasSize(1048576);
        assertThat(Epidemic.toJson(change)).contains("\"n\":12345678901234567890.12345678901234567890");
    }

    @Test
    void watchWarnsThatTruncateAndForeignKeyCascadesAreNotCaptured() {
        Target db = MariaDbServer.get().create();
        db.exec("CREATE TABLE parent (id int PRIMARY KEY)",
                "CREATE TABLE child (id int PRIMARY KEY, parent_id int, FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)");
        WatchedTable watched = db.admin().watch("child", List.of(), List.of());
        assertThat(watched.warnings()).anySatisfy(w -> assertThat(w).contains("TRUNCATE"));
        assertThat(watched.warnings()).anySatisfy(w -> assertThat(w).contains("foreign key to parent").contains("CASCADE"));
    }
}
