package dev.epidemic;

import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.testing.Collector;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.SecurityDocs;
import dev.epidemic.testing.Sql;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * MariaDB only, least privilege: installing needs rights on the application's database alone (no global
 * right, no CREATE DATABASE), writers need none on Epidemic's tables, and a consumer needs exactly the
 * grants docs/security.md lists, read from that file so that the test follows the documentation.
 */
class MariaDbPermissionTest {
    private static final String SUFFIX = "_" + ProcessHandle.current().pid();
    static final String INSTALLER = "epi_installer" + SUFFIX;
    static final String WRITER = "epi_writer" + SUFFIX;
    static final String CONSUMER = "epi_consumer" + SUFFIX;
    static final String PASSWORD = "not-secret";
    static String url;
    static String database;

    /** Users on both hosts: a TCP login from 127.0.0.1 may match either, whatever anonymous users the server has. */
    private static List<String> accounts(String user) {
        return List.of("'" + user + "'@'%'", "'" + user + "'@'localhost'");
    }

    @BeforeAll
    static void setUp() {
        url = MariaDbServer.get().createDatabase();
        database = MariaDbServer.database(url);
        dropUsers();
        List<String> setUp = new ArrayList<>(List.of("CREATE TABLE accounts (id int PRIMARY KEY, balance DECIMAL(12,2))"));
        for (String user : List.of(INSTALLER, WRITER, CONSUMER)) {
            for (String account : accounts(user)) {
                setUp.add("CREATE USER " + account + " IDENTIFIED BY '" + PASSWORD + "'");
            }
        }
        for (String account : accounts(INSTALLER)) {
            setUp.add("GRANT ALL PRIVILEGES ON `" + database + "`.* TO " + account);
        }
        for (String account : accounts(WRITER)) {
            setUp.add("GRANT SELECT, INSERT, UPDATE, DELETE ON `" + database + "`.accounts TO " + account);
        }
        Sql.exec(url, setUp.toArray(String[]::new));
        EpidemicAdmin.create(as(INSTALLER), null, null, "epidemic").watch("accounts", List.of(), List.of());
        List<String> grants = new ArrayList<>();
        for (String account : accounts(CONSUMER)) {
            grants.addAll(documentedGrants(account));
        }
        Sql.exec(url, grants.toArray(String[]::new));
    }

    @AfterAll
    static void tearDown() {
        dropUsers();
    }

    private static void dropUsers() {
        for (String user : List.of(INSTALLER, WRITER, CONSUMER)) {
            Sql.exec(MariaDbServer.get().url(""), "DROP USER IF EXISTS " + String.join(", ", accounts(user)));
        }
    }

    private static String as(String user) {
        return url.replace("user=root", "user=" + user + "&password=" + PASSWORD);
    }

    /** The GRANT statements of docs/security.md's MariaDB block, for {@code account} on the test's database. */
    static List<String> documentedGrants(String account) {
        return SecurityDocs.grants("## MariaDB", Map.of("consumer_user", account, "app_db.", "`" + database + "`."));
    }

    @Test
    void aConsumerWithTheDocumentedGrantsConsumesWhatAWriterWithoutEpidemicRightsWrote() {
        Collector collector = new Collector();
        try (Epidemic epidemic = Epidemic.builder(as(CONSUMER), null, null).consumer("least-privilege").startAtPresent(true)
                .handle("accounts", List.of(), collector).build().start()) {
            await().atMost(Duration.ofSeconds(20)).until(epidemic::isRunning);
            Sql.exec(as(WRITER), "INSERT INTO accounts VALUES (1, 10.50)", "UPDATE accounts SET balance = 11 WHERE id = 1");
            await().atMost(Duration.ofSeconds(20)).until(() -> collector.size() >= 2);
        }
        assertThat(collector.changes().get(1).newValues()).containsEntry("balance", new java.math.BigDecimal("11.00"));
        assertThat(EpidemicAdmin.create(as(CONSUMER), null, null, "epidemic").status()).singleElement()
                .satisfies(s -> assertThat(s.pending()).isZero());
    }

    @Test
    void aWriterCanNeitherReadNorForgeTheLog() {
        assertThatThrownBy(() -> Sql.queryLong(as(WRITER), "SELECT COUNT(*) FROM epidemic_change_log")).hasMessageContaining("denied");
        assertThatThrownBy(() -> Sql.exec(as(WRITER), "INSERT INTO epidemic_change_log (table_id, op, at) VALUES (1, 'I', 0)"))
                .hasMessageContaining("denied");
    }
}
