package dev.epidemic.chaos;

import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The verdict catches what it claims to: a lost change, a delivered rollback, a reordered row, and it
 * forgives what at-least-once allows (a redelivery) and a line cut short by a kill.
 */
class VerdictTest {
    static final ChaosDialect DIALECT = new PostgresChaosDialect();
    static String url;
    static long committed;
    static long rolledBack;

    @TempDir
    Path dir;

    @BeforeAll
    static void truth() throws SQLException {
        url = TestDatabase.get().createDatabase();
        try (Connection c = DriverManager.getConnection(url)) {
            DIALECT.createTables(c);
            c.setAutoCommit(false);
            // Committed: insert row 1, update it twice, insert row 2 and delete it; then a TRUNCATE.
            int changes = DIALECT.insert(c, 0, 1, 2, "ok") + DIALECT.update(c, new long[] {1}, "ok")
                    + DIALECT.update(c, new long[] {1}, "ok") + DIALECT.delete(c, new long[] {2});
            DIALECT.recordCommit(c, 0, changes);
            committed = txid(c);
            c.commit();
            // Rolled back: an insert of row 3.
            DIALECT.insert(c, 0, 3, 1, "rollback");
            rolledBack = txid(c);
            c.rollback();
        }
    }

    private static long txid(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_xact_id()::text::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private String i1() {
        return "1\t" + committed + "\tI\t1\t1\t0\n";
    }

    private String i2() {
        return "2\t" + committed + "\tI\t2\t1\t0\n";
    }

    private String u1v2() {
        return "3\t" + committed + "\tU\t1\t2\t0\n";
    }

    private String u1v3() {
        return "4\t" + committed + "\tU\t1\t3\t0\n";
    }

    private String d2() {
        return "5\t" + committed + "\tD\t2\t1\t0\n";
    }

    @Test
    void everythingOnceIsClean() throws Exception {
        DeliveryFigures figures = verify(i1() + i2() + u1v2() + u1v3() + d2());
        assertThat(figures.committedChanges()).isEqualTo(5);
        assertThat(figures.clean()).isTrue();
        assertThat(figures.duplicates()).isZero();
    }

    @Test
    void aRedeliveryIsADuplicateNotAFault() throws Exception {
        DeliveryFigures figures = verify(i1() + i2() + u1v2(), u1v2() + u1v3() + d2());
        assertThat(figures.duplicates()).isEqualTo(1);
        assertThat(figures.clean()).isTrue();
    }

    @Test
    void aLostChangeIsMissing() throws Exception {
        DeliveryFigures figures = verify(i1() + i2() + u1v3() + d2());
        assertThat(figures.missing()).isEqualTo(1);
        assertThat(figures.clean()).isFalse();
    }

    @Test
    void aLineCutShortByAKillDoesNotCount() throws Exception {
        String cut = d2().substring(0, d2().length() - 3);
        DeliveryFigures figures = verify(i1() + i2() + u1v2() + u1v3() + cut);
        assertThat(figures.missing()).isEqualTo(1);
        assertThat(figures.deliveredLines()).isEqualTo(4);
    }

    @Test
    void aRolledBackChangeDeliveredIsCaught() throws Exception {
        DeliveryFigures figures = verify(i1() + i2() + u1v2() + u1v3() + d2() + "9\t" + rolledBack + "\tI\t3\t1\t0\n");
        assertThat(figures.rolledBackDelivered()).isEqualTo(1);
        assertThat(figures.clean()).isFalse();
    }

    @Test
    void aRowDeliveredOutOfOrderIsCaught() throws Exception {
        DeliveryFigures figures = verify(i1() + i2() + u1v3() + u1v2() + d2());
        assertThat(figures.orderViolations()).isEqualTo(1);
        assertThat(figures.clean()).isFalse();
    }

    @Test
    void aTransactionInterruptedByAnotherIsCaught() throws Exception {
        DeliveryFigures figures = verify(i1() + i2() + "9\t" + rolledBack + "\tI\t3\t1\t0\n" + u1v2() + u1v3() + d2());
        assertThat(figures.splitTransactions()).isEqualTo(1);
    }

    /** A backfill's transaction: it is in neither truth table. */
    private static String read(long changeId, long row, int version) {
        return changeId + "\t" + 77_777_777L + "\tR\t" + row + "\t" + version + "\t0\n";
    }

    @Test
    void aReadIsNeitherMissingNorRolledBackNorUnknown() throws Exception {
        DeliveryFigures figures = verify(i1() + i2() + u1v2() + u1v3() + d2() + read(10, 1, 3));
        assertThat(figures.rolledBackDelivered()).isZero();
        assertThat(figures.unexpected()).isZero();
        assertThat(figures.clean()).isTrue();
    }

    @Test
    void aReadOfAnOlderVersionAfterTheUpdateIsOutOfOrder() throws Exception {
        DeliveryFigures figures = verify(i1() + i2() + u1v2() + u1v3() + read(10, 1, 2) + d2());
        assertThat(figures.orderViolations()).isEqualTo(1);
        assertThat(figures.clean()).isFalse();
    }

    @Test
    void anUpdateDeliveredAfterAReadOfItsOwnVersionIsOutOfOrder() throws Exception {
        DeliveryFigures figures = verify(i1() + i2() + u1v2() + read(10, 1, 3) + u1v3() + d2());
        assertThat(figures.orderViolations()).isEqualTo(1);
    }

    private DeliveryFigures verify(String... files) throws IOException, SQLException {
        List<Path> paths = new java.util.ArrayList<>();
        for (int i = 0; i < files.length; i++) {
            paths.add(Files.writeString(dir.resolve("delivered-" + i + ".tsv"), files[i]));
        }
        try (Connection c = DriverManager.getConnection(url)) {
            return DIALECT.verify(c, paths);
        }
    }
}
