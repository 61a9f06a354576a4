package dev.epidemic.engine;

import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.Jdbc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Runs one backfill to its end, chunk after chunk, each in its own transaction, so that a writer waits at
 * most one chunk for a row the backfill holds, and no snapshot is held longer than a chunk. A chunk that
 * meets a row a writer holds is given up at once and tried again, smaller, after a short pause; the chunk
 * size grows back after chunks that went through. With a rate limit it pauses between chunks so that, on
 * average, no more rows a second are logged: on a machine whose cores the application's writers need, an
 * unlimited backfill takes a core of its own from them (docs/backfill.md has figures).
 */
public final class Backfiller {
    private static final Logger log = LoggerFactory.getLogger(Backfiller.class);
    private static final long MAX_PAUSE_MILLIS = 200;
    /** How long a run keeps reconnecting without logging a chunk before it gives up (a server restart takes seconds). */
    private static final Duration GIVE_UP_AFTER = Duration.ofMinutes(2);

    private final Dialect dialect;
    private final int chunkSize;
    private final long maxRowsPerSecond;

    /** @param maxRowsPerSecond the most rows a second to log on average; 0 for no limit */
    public Backfiller(Dialect dialect, int chunkSize, long maxRowsPerSecond) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunk size must be at least 1, not " + chunkSize);
        }
        if (maxRowsPerSecond < 0) {
            throw new IllegalArgumentException("rate limit must not be negative, not " + maxRowsPerSecond);
        }
        this.dialect = dialect;
        this.chunkSize = chunkSize;
        this.maxRowsPerSecond = maxRowsPerSecond;
    }

    /** Starts or finds a backfill on a connection: what a run does again after reconnecting. */
    @FunctionalInterface
    public interface Begin {
        BackfillStatus on(Connection connection) throws SQLException;
    }

    /**
     * Begins (or finds again) the backfill and logs it to its end, as {@link #run}, on connections of its
     * own: a lost connection (a server restart, a terminated backend) is reconnected with backoff and the
     * backfill resumed after its last committed chunk, until no chunk was logged for {@link #GIVE_UP_AFTER}.
     */
    public BackfillStatus runReconnecting(DataSource dataSource, Begin begin, BooleanSupplier stop, Consumer<BackfillStatus> progress)
            throws SQLException {
        Backoff reconnect = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10));
        long[] lastProgress = {System.nanoTime()};
        Long id = null;
        while (true) {
            try (Connection c = dataSource.getConnection()) {
                BackfillStatus backfill;
                if (id == null) {
                    backfill = begin.on(c);
                    id = backfill.id();
                    progress.accept(backfill);
                } else {
                    // The same backfill, found by its id: beginning again would start a new one if the
                    // connection was lost just after the last chunk committed.
                    backfill = dialect.backfills().status(c, id);
                }
                return run(c, backfill, stop, status -> {
                    lastProgress[0] = System.nanoTime();
                    progress.accept(status);
                });
            } catch (SQLException e) {
                boolean givingUp = System.nanoTime() - lastProgress[0] > GIVE_UP_AFTER.toNanos();
                if (!connectionLost(e) || givingUp || stop.getAsBoolean()) {
                    throw e;
                }
                long wait = reconnect.nextMillis();
                log.warn("Backfill: lost the database connection ({}); reconnecting in {} ms", Jdbc.firstLine(e.getMessage()), wait);
                sleep(wait);
            }
        }
    }

    /**
     * A connection gone (class 08), a server shutting down or starting up (PostgreSQL's 57P01 to 57P03), or a
     * connection killed by an administrator (MariaDB's 70100).
     */
    static boolean connectionLost(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return state.startsWith("08") || List.of("57P01", "57P02", "57P03", "70100").contains(state);
    }

    /**
     * Logs the rest of the backfill on {@code c}, reporting after each chunk; returns its status at the
     * end, or when {@code stop} turned true (unfinished then: running it again resumes). Throws when
     * another session runs the same backfill.
     */
    public BackfillStatus run(Connection c, BackfillStatus backfill, BooleanSupplier stop, Consumer<BackfillStatus> progress)
            throws SQLException {
        if (!dialect.backfills().tryRun(c, backfill.id())) {
            throw new EpidemicException("backfill " + backfill.id() + " of " + backfill.table() + " is being run by another session");
        }
        try {
            BackfillStatus now = backfill;
            int limit = chunkSize;
            int busyInARow = 0;
            long startedNanos = System.nanoTime();
            while (!now.finished() && !stop.getAsBoolean()) {
                try {
                    now = dialect.backfills().logChunk(c, backfill.id(), limit);
                    busyInARow = 0;
                    limit = (int) Math.min(chunkSize, limit * 2L);
                    progress.accept(now);
                    keepToTheRate(now.rowsDone() - backfill.rowsDone(), startedNanos, stop);
                } catch (SQLException e) {
                    if (!dialect.backfills().rowsBusy(e)) {
                        throw e;
                    }
                    busyInARow++;
                    limit = Math.max(1, limit / 2);
                    long pause = Math.min(MAX_PAUSE_MILLIS, 1L << Math.min(busyInARow, 8));
                    if (busyInARow % 50 == 0) {
                        log.info("Backfill {} of {}: rows are busy ({} tries in a row); retrying chunks of {} rows", backfill.id(),
                                backfill.table(), busyInARow, limit);
                    }
                    sleep(pause / 2 + ThreadLocalRandom.current().nextLong(pause / 2 + 1));
                }
            }
            if (now.finished()) {
                log.info("Backfill {} of {} finished: {} rows", now.id(), now.table(), now.rowsDone());
            }
            return now;
        } finally {
            try {
                dialect.backfills().release(c, backfill.id());
            } catch (SQLException e) {
                log.debug("Backfill {}: releasing it failed ({}); the session's end releases it", backfill.id(), e.getMessage());
            }
        }
    }

    /** Pauses until {@code rows} logged since {@code startedNanos} are within the rate limit. */
    private void keepToTheRate(long rows, long startedNanos, BooleanSupplier stop) {
        if (maxRowsPerSecond == 0) {
            return;
        }
        long dueNanos = startedNanos + rows * 1_000_000_000L / maxRowsPerSecond;
        while (!stop.getAsBoolean()) {
            long waitMillis = (dueNanos - System.nanoTime()) / 1_000_000;
            if (waitMillis <= 0) {
                return;
            }
            try {
                Thread.sleep(Math.min(waitMillis, 100)); // a stop is noticed within a tenth of a second
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the caller's way to stop: the run ends after this chunk
                return;
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EpidemicException("interrupted while backfilling", e);
        }
    }
}
