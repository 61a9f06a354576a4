package dev.epidemic.engine;

import dev.epidemic.api.Change;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.LogRow;
import dev.epidemic.dialect.Position;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs one consumer: reads the log window by window, hands each change to its handlers, stores the
 * position after them, and waits for more.
 *
 * <p>Waiting has two modes. While changes flow it polls every {@code pollInterval} (hot), so writers
 * never pay for a NOTIFY under load. After {@code hotPeriod} without changes it registers as waiting,
 * which makes writers NOTIFY, and LISTENs, re-polling at growing intervals up to {@code idlePoll} as a
 * guard against a wake-up that raced with going idle. The first change read withdraws the request.
 *
 * <p>Three connections: the reader streams windows, the committer stores positions (with
 * commits made cheap by the dialect: a position lost in a server crash only means redelivery), the listener waits.
 */
public final class Dispatcher {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    private static final int[] IDLE_WAITS_MILLIS = {2, 5, 10, 25, 50, 100, 250, 500};
    private static final Duration STORE_IDLE_POSITION_EVERY = Duration.ofSeconds(1);

    private final DataSource dataSource;
    private final Dialect dialect;
    private final String consumer;
    private final boolean startAtPresent;
    private final Map<String, List<Registration>> byTable;
    private final List<Registration> everyTable;
    private final List<String> tables;
    private final Settings settings;
    private final CountDownLatch stopped = new CountDownLatch(1);

    private volatile boolean stopping;
    private Position position;
    private long lastStoreNanos;
    private boolean positionDirty;

    /** Timing and sizing; the defaults suit most uses. */
    public record Settings(int batchSize, Duration pollInterval, Duration hotPeriod, Duration idlePoll,
                           Duration reconnectMin, Duration reconnectMax) {
        public static Settings defaults() {
            return new Settings(1000, Duration.ofMillis(1), Duration.ofMillis(200), Duration.ofMillis(500),
                    Duration.ofMillis(100), Duration.ofSeconds(10));
        }
    }

    /**
     * @param tables the tables to read, or null for every table in the log
     */
    public Dispatcher(DataSource dataSource, Dialect dialect, String consumer, boolean startAtPresent,
                      Map<String, List<Registration>> byTable, List<Registration> everyTable, List<String> tables,
                      Settings settings) {
        this.dataSource = dataSource;
        this.dialect = dialect;
        this.consumer = consumer;
        this.startAtPresent = startAtPresent;
        this.byTable = byTable;
        this.everyTable = everyTable;
        this.tables = tables;
        this.settings = settings;
    }

    /** Runs until {@link #stop()}; reconnects by itself. Throws only for a mistake that retrying cannot fix (an InvalidInputException). */
    public void run() {
        Backoff reconnect = new Backoff(settings.reconnectMin(), settings.reconnectMax());
        Backoff handlerRetry = new Backoff(Duration.ofMillis(50), Duration.ofSeconds(30));
        try {
            while (!stopping) {
                try (Connection reader = dataSource.getConnection();
                     Connection committer = dataSource.getConnection();
                     Connection listener = dataSource.getConnection()) {
                    dialect.prepareCommitter(committer);
                    dialect.listen(listener);
                    int[] tableIds = tables == null ? null : dialect.tableIds(reader, tables);
                    position = dialect.openConsumer(committer, consumer, startAtPresent);
                    log.info("Consumer {} started", consumer);
                    reconnect.reset();
                    follow(reader, committer, listener, tableIds, handlerRetry);
                } catch (SQLException e) {
                    if (stopping) {
                        break;
                    }
                    long wait = reconnect.nextMillis();
                    log.warn("Consumer {} lost its database connection ({}); reconnecting in {} ms", consumer, oneLine(e), wait);
                    sleep(wait);
                }
            }
        } finally {
            stopped.countDown();
            log.info("Consumer {} stopped", consumer);
        }
    }

    private void follow(Connection reader, Connection committer, Connection listener, int[] tableIds, Backoff handlerRetry)
            throws SQLException {
        long lastActivity = System.nanoTime();
        boolean waiting = false;
        int idleStep = 0;
        dialect.cancelWakeUp(listener, consumer); // a request left by an earlier run of this consumer
        while (!stopping) {
            Pass pass = readOnce(reader, committer, tableIds);
            if (pass.failure != null) {
                if (stopping) {
                    return;
                }
                long wait = handlerRetry.nextMillis();
                log.warn("Handler failed on change {} of consumer {}; retrying in {} ms: {}", pass.failedChange, consumer, wait,
                        oneLine(pass.failure));
                sleep(wait);
                continue;
            }
            handlerRetry.reset();
            if (pass.delivered > 0) {
                lastActivity = System.nanoTime();
                idleStep = 0;
                if (waiting) {
                    dialect.cancelWakeUp(listener, consumer);
                    waiting = false;
                }
                continue;
            }
            if (System.nanoTime() - lastActivity < settings.hotPeriod().toNanos()) {
                dialect.awaitWakeUp(listener, (int) Math.max(1, settings.pollInterval().toMillis()));
                continue;
            }
            if (!waiting) {
                dialect.requestWakeUp(listener, consumer);
                waiting = true;
                continue; // poll once more: a change may have committed just before the request
            }
            int wait = (int) Math.min(IDLE_WAITS_MILLIS[Math.min(idleStep++, IDLE_WAITS_MILLIS.length - 1)],
                    settings.idlePoll().toMillis());
            if (dialect.awaitWakeUp(listener, wait)) {
                idleStep = 0;
                lastActivity = System.nanoTime(); // hot again: the wake-up request is withdrawn after the read
            }
        }
        if (waiting) {
            dialect.cancelWakeUp(listener, consumer);
        }
    }

    /** The outcome of reading one window. */
    private record Pass(int delivered, Exception failure, long failedChange) {
    }

    private Pass readOnce(Connection reader, Connection committer, int[] tableIds) throws SQLException {
        String upTo = position.window() != null ? position.window() : dialect.currentSnapshot(reader, position);
        if (position.window() == null && dialect.sameSnapshot(upTo, position.delivered())) {
            return new Pass(0, null, 0);
        }
        int[] delivered = {0};
        int[] sinceStore = {0};
        Exception[] failure = {null};
        long[] failedChange = {0};
        SQLException[] storeFailure = {null};
        dialect.readWindow(reader, position, upTo, tableIds, settings.batchSize(), (LogRow row) -> {
            if (stopping) {
                return false;
            }
            Change change = ChangeCodec.decode(row);
            try {
                deliver(change);
            } catch (Exception e) {
                failure[0] = e;
                failedChange[0] = change.id();
                return false;
            }
            position = position.after(upTo, row);
            positionDirty = true;
            delivered[0]++;
            if (++sinceStore[0] >= settings.batchSize()) {
                sinceStore[0] = 0;
                try {
                    store(committer);
                } catch (SQLException e) {
                    storeFailure[0] = e;
                    return false;
                }
            }
            return true;
        });
        if (storeFailure[0] != null) {
            throw storeFailure[0];
        }
        boolean windowComplete = !stopping && failure[0] == null;
        if (windowComplete) {
            position = position.windowDone(upTo);
            positionDirty = true;
        }
        // An empty window moves the position only in memory; it is stored now and then, which is safe
        // because the stored, older position describes a larger window with the same (no) changes.
        if (delivered[0] > 0 || !windowComplete || System.nanoTime() - lastStoreNanos > STORE_IDLE_POSITION_EVERY.toNanos()) {
            if (positionDirty) {
                store(committer);
            }
        }
        return new Pass(delivered[0], failure[0], failedChange[0]);
    }

    private void deliver(Change change) throws Exception {
        List<Registration> registrations = byTable.get(change.table());
        if (registrations != null) {
            for (Registration registration : registrations) {
                if (registration.wants(change)) {
                    registration.deliver(change);
                }
            }
        }
        for (Registration registration : everyTable) {
            if (registration.wants(change)) {
                registration.deliver(change);
            }
        }
    }

    private void store(Connection committer) throws SQLException {
        dialect.storePosition(committer, consumer, position);
        lastStoreNanos = System.nanoTime();
        positionDirty = false;
    }

    /** Asks the dispatcher to stop after the change in hand; its position is stored first. */
    public void stop() {
        stopping = true;
    }

    /** Waits for the dispatcher to stop; false if it did not within the timeout. */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void sleep(long millis) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        try {
            while (!stopping && System.nanoTime() < until) {
                Thread.sleep(Math.min(50, Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }

    private static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
