package dev.epidemic.dialect.mariadb;

import dev.epidemic.testing.MariaDbServer;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** Which servers the MariaDB dialect accepts (no MySQL server is available to test against: its version strings are). */
class ServerCheckTest {
    @Test
    void refusesMySqlWithOneLineSayingWhy() {
        String problem = ServerCheck.problem("8.0.36");
        assertThat(problem).startsWith("MySQL 8.0.36 is not supported yet").contains("system-versioned").doesNotContain("\n");
        assertThat(ServerCheck.problem("8.4.2-commercial")).startsWith("MySQL 8.4.2-commercial is not supported yet");
    }

    @Test
    void refusesMariaDbOlderThan106() {
        assertThat(ServerCheck.problem("10.5.23-MariaDB-0+deb11u1")).contains("too old");
        assertThat(ServerCheck.problem("10.6.0-MariaDB")).isNull();
        assertThat(ServerCheck.problem("11.4.2-MariaDB-log")).isNull();
        assertThat(ServerCheck.problem("5.5.5-10.11.6-MariaDB")).isNull(); // the old replication prefix
    }

    @Test
    void acceptsTheLocalMariaDb() throws Exception {
        try (Connection c = DriverManager.getConnection(MariaDbServer.get().url(""))) {
            assertThatCode(() -> ServerCheck.requireMariaDb(c)).doesNotThrowAnyException();
        }
    }
}
