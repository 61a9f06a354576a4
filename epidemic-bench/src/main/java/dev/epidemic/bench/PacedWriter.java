package dev.epidemic.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes single-row INSERT transactions at a fixed rate (open loop: a writer that falls behind catches up
 * rather than lowering the rate) and notes when each commit returned. Above 2,000/s the rate is split over
 * four connections, since one connection's commit round trip alone can take longer than the interval.
 */
final class PacedWriter {
    /** commitNanos[i] is when the commit of row firstId + i returned to the writer. */
    record Run(long firstId, long[] commitNanos, double achievedRate) {
    }

    private PacedWriter() {
    }

    static Run run(PgUrl db, String table, int perSecond, int seconds, long firstId) throws Exception {
        int total = perSecond * seconds;
        int writers = perSecond > 2_000 ? 4 : 1;
        long[] committed = new long[total];
        long interval = 1_000_000_000L / perSecond;
        long start = System.nanoTime() + 50_000_000L; // all writers connected before the first tick
        List<Thread> threads = new ArrayList<>();
        List<Exception> failures = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int offset = w;
            Thread t = new Thread(() -> {
                try (Connection c = db.connect();
                     PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (id, name) VALUES (?, 'x')")) {
                    for (int i = offset; i < total; i += writers) {
                        long due = start + i * interval;
                        long wait;
                        while ((wait = due - System.nanoTime()) > 0) {
                            if (wait > 2_000_000) {
                                Thread.sleep(1);
                            } else {
                                Thread.onSpinWait();
                            }
                        }
                        ps.setLong(1, firstId + i);
                        ps.executeUpdate();
                        committed[i] = System.nanoTime();
                    }
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            }, "paced-writer-" + w);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
        long end = 0;
        for (long c : committed) {
            end = Math.max(end, c);
        }
        return new Run(firstId, committed, total / ((end - start) / 1e9));
    }

    /** Commit-to-arrival latencies in microseconds, given arrivals indexed by id - 1. */
    static long[] latenciesMicros(Run run, long[] arrivals) {
        long[] micros = new long[run.commitNanos().length];
        for (int i = 0; i < micros.length; i++) {
            long arrived = arrivals[(int) (run.firstId() + i - 1)];
            // A change can reach the handler before the commit's reply reaches the writer: that counts as 0.
            micros[i] = Math.max(0, (arrived - run.commitNanos()[i]) / 1000);
        }
        return micros;
    }
}
