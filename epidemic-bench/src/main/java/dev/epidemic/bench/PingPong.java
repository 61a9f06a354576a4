package dev.epidemic.bench;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The floor for wake-up latency: raw LISTEN/NOTIFY between two connections, one ping in flight at a time.
 * Measured like the consumers: from the moment the NOTIFY's autocommit returned to the sender to the
 * moment the listener's driver handed the notification over.
 */
final class PingPong {
    private PingPong() {
    }

    static long[] latenciesMicros(PgUrl db, int pings) throws Exception {
        AtomicLongArray sentAt = new AtomicLongArray(pings);
        long[] micros = new long[pings];
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (Connection sender = db.connect(); Connection listener = db.connect();
             Statement send = sender.createStatement(); Statement listen = listener.createStatement()) {
            listen.execute("LISTEN bench_ping");
            send.execute("LISTEN bench_pong");
            Thread answering = new Thread(() -> {
                try {
                    PGConnection pg = listener.unwrap(PGConnection.class);
                    int received = 0;
                    while (received < pings) {
                        for (PGNotification n : pg.getNotifications(1000)) {
                            long now = System.nanoTime();
                            int i = Integer.parseInt(n.getParameter());
                            while (sentAt.get(i) == 0) {
                                Thread.onSpinWait(); // the sender notes the time just after its NOTIFY returned
                            }
                            micros[i] = Math.max(0, (now - sentAt.get(i)) / 1000);
                            received++;
                            listen.execute("NOTIFY bench_pong, '" + i + "'");
                        }
                    }
                } catch (Exception e) {
                    failure.set(e);
                }
            }, "ping-listener");
            answering.start();
            PGConnection pg = sender.unwrap(PGConnection.class);
            for (int i = 0; i < pings && failure.get() == null; i++) {
                send.execute("NOTIFY bench_ping, '" + i + "'");
                sentAt.set(i, System.nanoTime());
                boolean answered = false;
                while (!answered && failure.get() == null) {
                    answered = pg.getNotifications(1000).length > 0;
                }
            }
            answering.join(10_000);
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return micros;
    }
}
