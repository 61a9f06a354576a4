package dev.epidemic;

import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.Operation;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What is captured, and how; on every database (values that differ per database: PostgresValuesTest, MariaDbValuesTest). */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#allVersions")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CaptureTest {
    @Parameter
    TestServer server;
    Target db;
    String url;
    EpidemicAdmin admin;

    @BeforeEach
    void database() {
        if (db != null && db.server() == server) {
            return; // one database per server: the instance is shared by the invocations
        }
        db = server.create();
        url = db.url();
        admin = db.admin();
    }

    @Test
    void deliversInsertUpdateDeleteWithOldAndNewValuesOfWatchedColumnsOnly() {
        Sql.exec(url, "CREATE TABLE mail_users (id int PRIMARY KEY, username text, quota_bytes bigint, last_login timestamp NULL)");
        admin.watch("mail_users", List.of("username", "quota_bytes"), List.of());
        Collector collector = new Collector();
        try (Epidemic epidemic = db.engine().consumer("c1")
                .handle("mail_users", List.of("username", "quota_bytes"), collector).build().start()) {
            Sql.exec(url,
                    "INSERT INTO mail_users VALUES (1, 'ann', 100, now())",
                    "UPDATE mail_users SET last_login = now() WHERE id = 1",   // no watched column: not logged
                    "UPDATE mail_users SET quota_bytes = 200 WHERE id = 1",
                    "DELETE FROM mail_users WHERE id = 1");
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.size() >= 3);
        }
        List<Change> changes = collector.changes();
        assertThat(changes).extracting(Change::operation).containsExactly(Operation.INSERT, Operation.UPDATE, Operation.DELETE);
        Change insert = changes.get(0);
        assertThat(insert.table()).isEqualTo(db.qualified("mail_users"));
        assertThat(insert.key()).isEqualTo(Map.of("id", 1));
        assertThat(insert.oldValues()).isNull();
        assertThat(insert.newValues()).isEqualTo(Map.of("username", "ann", "quota_bytes", 100));
        Change update = changes.get(1);
        assertThat(update.oldValues()).containsEntry("quota_bytes", 100);
        assertThat(update.newValues()).containsEntry("quota_bytes", 200);
        Change delete = changes.get(2);
        assertThat(delete.newValues()).isNull();
        assertThat(delete.oldValues()).isEqualTo(Map.of("username", "ann", "quota_bytes", 200));
        assertThat(changes.get(0).id()).isLessThan(changes.get(1).id());
    }
}
