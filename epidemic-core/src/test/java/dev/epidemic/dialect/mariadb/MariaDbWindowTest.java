package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.LogRow;
import dev.epidemic.dialect.Position;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Target;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The MariaDB reader's windows, cut and read by the dialect itself (no dispatcher in between). */
class MariaDbWindowTest {
    private static List<String> read(MariaDbDialect dialect, Connection reader, Position position, String upTo) throws Exception {
        List<String> rows = new ArrayList<>();
        dialect.reader().readWindow(reader, "test", position, upTo, null, 100, (LogRow row) -> rows.add(row.newJson()));
        return rows;
    }

    @Test
    void aTransactionThatCommitsAfterTheWindowWasCutIsLeftWholeForTheNext() throws Exception {
        Target db = MariaDbServer.get().create();
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        db.admin().watch("t", List.of(), List.of());
        MariaDbDialect dialect = new MariaDbDialect(MariaDbServer.database(db.url()), db.logSchema());
        try (Connection reader = DriverManager.getConnection(db.url());
             Connection a = DriverManager.getConnection(db.url());
             Connection b = DriverManager.getConnection(db.url());
             Statement sa = a.createStatement();
             Statement sb = b.createStatement()) {
            Position start = dialect.positions().open(reader, "cut", true);
            // Given A holds log ids below B's and is still open when the window is cut,
            a.setAutoCommit(false);
            sa.execute("INSERT INTO t VALUES (1, 'A'), (2, 'A')");
            sb.execute("INSERT INTO t VALUES (3, 'B')");
            String upTo = dialect.reader().nextWindowEnd(reader, start).snapshot();
            // when A commits before the window is read,
            a.commit();
            // then the window holds B alone, although A's rows lie in its id range now,
            assertThat(read(dialect, reader, start, upTo)).hasSize(1).allMatch(json -> json.contains("\"B\""));
            // and the next window holds A, whole.
            Position next = start.windowDone(upTo);
            assertThat(read(dialect, reader, next, dialect.reader().nextWindowEnd(reader, next).snapshot()))
                    .hasSize(2).allMatch(json -> json.contains("\"A\""));
        }
    }
}
