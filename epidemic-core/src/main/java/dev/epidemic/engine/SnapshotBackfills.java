package dev.epidemic.engine;

import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.dialect.Dialect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * The backfills a consumer started from a snapshot runs itself, beside its dispatcher, until each is
 * finished: after a crash the restarted consumer resumes them here. Only one session runs a backfill; a
 * standby of the same consumer waits for it. Connection losses are retried with backoff.
 */
public final class SnapshotBackfills implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(SnapshotBackfills.class);
    private static final long WAIT_FOR_OTHER_RUNNER_MILLIS = 1000;

    private final DataSource dataSource;
    private final Dialect dialect;
    private final String consumer;
    private final int chunkSize;
    private volatile boolean stopping;
    private volatile boolean done;

    public SnapshotBackfills(DataSource dataSource, Dialect dialect, String consumer, int chunkSize) {
        this.dataSource = dataSource;
        this.dialect = dialect;
        this.consumer = consumer;
        this.chunkSize = chunkSize;
    }

    @Override
    public void run() {
        Backoff reconnect = new Backoff(java.time.Duration.ofMillis(100), java.time.Duration.ofSeconds(10));
        try {
            while (!stopping) {
                try (Connection c = dataSource.getConnection()) {
                    List<BackfillStatus> left = dialect.backfills().unfinished(c, consumer);
                    if (left.isEmpty()) {
                        return;
                    }
                    boolean ranOne = false;
                    for (BackfillStatus backfill : left) {
                        if (stopping) {
                            return;
                        }
                        if (!dialect.backfills().tryRun(c, backfill.id())) {
                            continue; // a standby: the active instance of this consumer runs it
                        }
                        dialect.backfills().release(c, backfill.id());
                        log.info("Consumer {}: backfilling {} from a snapshot ({} rows done, about {} in all)", consumer,
                                backfill.table(), backfill.rowsDone(), backfill.rowsEstimate());
                        new Backfiller(dialect, chunkSize, 0).run(c, backfill, () -> stopping, b -> { });
                        ranOne = true;
                    }
                    reconnect.reset();
                    if (!ranOne) {
                        sleep(WAIT_FOR_OTHER_RUNNER_MILLIS);
                    }
                } catch (SQLException | EpidemicException e) {
                    if (stopping) {
                        return;
                    }
                    long wait = reconnect.nextMillis();
                    log.warn("Consumer {}: backfill interrupted ({}); resuming in {} ms", consumer, e.getMessage(), wait);
                    sleep(wait);
                }
            }
        } finally {
            done = true;
        }
    }

    /** True once every backfill of the consumer was finished (or the runner stopped). */
    public boolean done() {
        return done;
    }

    public void stop() {
        stopping = true;
    }

    private void sleep(long millis) {
        long until = System.currentTimeMillis() + millis;
        while (!stopping && System.currentTimeMillis() < until) {
            try {
                Thread.sleep(Math.min(50, Math.max(1, until - System.currentTimeMillis())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopping = true;
            }
        }
    }
}
