package dev.epidemic;

import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * writer_hint (V7__lean_capture.sql): the slot writers append to and whether an idle dispatcher wants a
 * NOTIFY, which capture reads instead of log_state and waiting. It must follow both tables, and no value
 * of it may lose a change.
 */
class WriterHintTest {
    static String url;

    @BeforeAll
    static void setUp() {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE item (id int PRIMARY KEY, v text)");
        EpidemicAdmin.create(url, null, null, "epidemic").watch("item", List.of(), List.of());
    }

    private static long hint() {
        return Sql.queryLong(url, "SELECT pg_sequence_last_value('epidemic.writer_hint')");
    }

    /** Inserts one row and returns the notifications the listener received for it. */
    private static int notificationsForOneInsert(Connection listener, int id) throws Exception {
        Sql.exec(url, "INSERT INTO item VALUES (" + id + ", 'x')");
        PGNotification[] received = listener.unwrap(PGConnection.class).getNotifications(500);
        return received == null ? 0 : received.length;
    }

    @Test
    void writersNotifyExactlyWhileADispatcherWaits() throws Exception {
        try (Connection listener = DriverManager.getConnection(url); Statement st = listener.createStatement()) {
            st.execute("LISTEN epidemic");
            // Given no dispatcher waiting, a write sends no NOTIFY;
            assertThat(hint() & 4).isZero();
            assertThat(notificationsForOneInsert(listener, 1)).isZero();

            // when a dispatcher goes idle (as WakeUps.request does), writes wake it;
            st.executeUpdate("INSERT INTO epidemic.waiting (consumer, pid) VALUES ('idle', pg_backend_pid())");
            assertThat(hint() & 4).isEqualTo(4);
            assertThat(notificationsForOneInsert(listener, 2)).isEqualTo(1);

            // and once it is busy again, they stop.
            st.executeUpdate("DELETE FROM epidemic.waiting WHERE consumer = 'idle'");
            assertThat(hint() & 4).isZero();
            assertThat(notificationsForOneInsert(listener, 3)).isZero();
        }
    }

    @Test
    void writersAppendToTheSlotThatLogStateNames() {
        try {
            for (int slot : new int[] {1, 2, 0}) {
                Sql.exec(url, "UPDATE epidemic.log_state SET current_slot = " + slot, "INSERT INTO item VALUES (" + (100 + slot) + ", 'x')");

                assertThat(hint() & 3).isEqualTo(slot);
                assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log_" + slot + " WHERE key->>'id' = '" + (100 + slot) + "'"))
                        .isEqualTo(1);
            }
        } finally {
            Sql.exec(url, "UPDATE epidemic.log_state SET current_slot = 0");
        }
    }

    @Test
    void noValueOfTheHintLosesAChange() {
        long before = Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log");
        try {
            // 3 and 7 name no slot: a hint set by hand, or by a future version, must not drop changes.
            for (long value : new long[] {3, 7}) {
                Sql.exec(url, "SELECT setval('epidemic.writer_hint', " + value + ")",
                        "INSERT INTO item VALUES (" + (200 + value) + ", 'x')",
                        "UPDATE item SET v = 'y' WHERE id = " + (200 + value),
                        "DELETE FROM item WHERE id = " + (200 + value));
            }
        } finally {
            Sql.exec(url, "UPDATE epidemic.log_state SET current_slot = current_slot");
        }

        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log")).isEqualTo(before + 6);
        assertThat(hint()).isBetween(0L, 2L);
    }
}
