package dev.epidemic.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.OptionalLong;
import java.util.Random;

/**
 * A writer that updates the rows just after the backfill's last logged key, one or two per transaction,
 * as fast as it can: the rows the next chunk reads. It is what makes the stale-READ trap (DESIGN.md
 * "Backfill") show up in a run: a backfill that logged rows without locking them would now and then log a
 * row's old version while this commits the new one first, and the replica would keep the old one. Its
 * transactions are recorded in the truth as any writer's.
 */
final class CursorChaser implements Runnable {
    /** Its rows in the truth: no writer has this number. */
    static final int WRITER = -2;

    private final String url;
    private final String logSchema;
    private final ChaosDialect dialect;
    private final int span;
    private final Random random;
    private final Writer.WriterCounts counts;
    private volatile boolean stopping;

    /** @param span how far after the cursor it updates: the backfill's chunk size */
    CursorChaser(String url, String logSchema, ChaosDialect dialect, int span, long seed, Writer.WriterCounts counts) {
        this.url = url;
        this.logSchema = logSchema;
        this.dialect = dialect;
        this.span = span;
        this.random = new Random(seed * 17 + 5);
        this.counts = counts;
    }

    void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        while (!stopping) {
            try (Connection c = DriverManager.getConnection(url)) {
                c.setAutoCommit(false);
                while (!stopping) {
                    OptionalLong cursor = dialect.backfillCursor(c, logSchema);
                    c.commit();
                    if (cursor.isEmpty()) {
                        Thread.sleep(20);
                        continue;
                    }
                    long[] ids = new long[1 + random.nextInt(2)];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = cursor.getAsLong() + 1 + random.nextInt(span);
                    }
                    int changes = dialect.update(c, java.util.Arrays.stream(ids).distinct().sorted().toArray(), "ok");
                    dialect.recordCommit(c, WRITER, changes);
                    c.commit();
                    counts.committed().incrementAndGet();
                    counts.changes().addAndGet(changes);
                }
            } catch (SQLException e) {
                counts.failed().incrementAndGet();
                pause();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            stopping = true;
        }
    }
}
