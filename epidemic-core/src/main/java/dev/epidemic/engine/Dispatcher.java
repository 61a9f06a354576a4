package dev.epidemic.engine;

import dev.epidemic.api.Change;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.HandlerFailedException;
import dev.epidemic.api.RejectedChangeException;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.Dialect.WindowEnd;
import dev.epidemic.dialect.LogRow;
import dev.epidemic.dialect.Position;
import dev.epidemic.dialect.StoredDeadLetter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Runs one consumer: reads the log window by window, hands each chunk of changes to its handlers,
 * stores the position after them, and waits for more.
 *
 * <p>Only one dispatcher per consumer is active: it holds the consumer's lock (an advisory lock on the
 * committer's session); another one stands by and takes over when that session ends.
 *
 * <p>Waiting has two modes. While changes flow it polls every {@code pollInterval} (hot), so writers
 * never pay for a NOTIFY under load. After {@code hotPeriod} without changes it registers as waiting,
 * which makes writers NOTIFY, and LISTENs, re-polling at growing intervals up to {@code idlePoll} as a
 * guard against a wake-up that raced with going idle. The first change read withdraws the request.
 *
 * <p>Failures: a handler that throws is retried, after a backoff, by reading the same window again from
 * the stored position; what other handlers (or the same batch handler) already handled is not handed over
 * again. After the policy's attempts the change becomes a dead letter, or the consumer stops.
 *
 * <p>Three connections: the reader streams windows, the committer stores positions (with
 * commits made cheap by the dialect: a position lost in a server crash only means redelivery) and runs
 * transactional handlers, the listener waits.
 */
public final class Dispatcher {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    private static final int[] IDLE_WAITS_MILLIS = {2, 5, 10, 25, 50, 100, 250, 500};
    private static final Duration STORE_IDLE_POSITION_EVERY = Duration.ofSeconds(1);
    private static final Duration CHECK_REPLAYS_EVERY = Duration.ofSeconds(1);
    private static final Duration CHECK_CAPTURE_EVERY = Duration.ofMinutes(1);
    private static final long NOT_CAUGHT_UP = Long.MIN_VALUE;
    /** The first window of a consumer behind ends about this many changes on (one tick's worth). */
    private static final long SMALLEST_WINDOW = 4_096;
    /** The largest window of a consumer behind: ordered in milliseconds, in memory. */
    private static final long LARGEST_WINDOW = 32_768;

    private final DataSource dataSource;
    private final Dialect dialect;
    private final String consumer;
    private final boolean startAtPresent;
    private final Map<String, List<Registration>> byTable;
    private Map<Integer, List<Registration>> byTableId = Map.of();
    /** The bit of each filtered handler's row filter in the filter masks of its table's log rows. */
    private Map<Registration, Integer> filterBits = Map.of();
    private final List<Registration> everyTable;
    private final List<String> tables;
    private final Settings settings;
    private final CountDownLatch stopped = new CountDownLatch(1);

    /** Per handler, the ids of changes it handled that the stored position has not passed yet. */
    private final Map<Registration, Set<Long>> handledAhead = new HashMap<>();
    /** Failed attempts of a handler on a change, while it is being retried. */
    private final Map<AttemptKey, Attempts> attempts = new HashMap<>();

    private volatile boolean stopping;
    /**
     * When (System.nanoTime) a read of the present found nothing for this consumer, with none finding
     * anything since; NOT_CAUGHT_UP until then, and from the moment a read finds something, fails, or
     * the connection is lost. {@code reading} is true while a read is under way: it may find something.
     */
    private volatile long caughtUpSince = NOT_CAUGHT_UP;
    private volatile boolean reading;
    /** Whether the read under way has found a change; the dispatcher's thread only. */
    /** How many changes the next window ends after, when the consumer is behind (Reader.nextWindowEnd). */
    private long windowChanges = SMALLEST_WINDOW;
    private boolean foundAny;
    private Position position;
    /** The delivery lanes while running with parallelism above 1, else null. */
    private Lanes lanes;
    private long lastStoreNanos;
    private long lastReplayCheckNanos;
    private long lastCaptureCheckNanos;

    /** Timing and sizing; the defaults suit most uses. */
    public record Settings(int batchSize, Duration pollInterval, Duration hotPeriod, Duration idlePoll,
                           Duration reconnectMin, Duration reconnectMax, Duration standbyPoll, int parallelism) {
        public static Settings defaults() {
            return new Settings(1000, Duration.ofMillis(1), Duration.ofMillis(200), Duration.ofMillis(500),
                    Duration.ofMillis(100), Duration.ofSeconds(10), Duration.ofMillis(500), 1);
        }

        public Settings withBatchSize(int batchSize) {
            return new Settings(batchSize, pollInterval, hotPeriod, idlePoll, reconnectMin, reconnectMax, standbyPoll, parallelism);
        }

        /** Lanes in which changes to different rows are handed over at once (see {@link Lanes}); 1: in order, one at a time. */
        public Settings withParallelism(int parallelism) {
            return new Settings(batchSize, pollInterval, hotPeriod, idlePoll, reconnectMin, reconnectMax, standbyPoll, parallelism);
        }
    }

    private record AttemptKey(Registration registration, long changeId) {
    }

    private record Attempts(int count, Instant first) {
    }

    /** A change as read (for dead letters) and decoded (for handlers). */
    private record Entry(LogRow row, Change change) {
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

    /**
     * Runs until {@link #stop()}; reconnects by itself. Throws only for what retrying cannot fix: an
     * InvalidInputException, or a HandlerFailedException from a handler whose policy is to stop.
     */
    public void run() {
        Backoff reconnect = new Backoff(settings.reconnectMin(), settings.reconnectMax());
        lanes = settings.parallelism() > 1 ? new Lanes(settings.parallelism(), consumer) : null;
        try {
            while (!stopping) {
                caughtUpSince = NOT_CAUGHT_UP; // (re)connecting, or standing by: whatever is pending is unknown
                try (Connection committer = dataSource.getConnection()) {
                    if (!lead(committer)) {
                        break;
                    }
                    try (Connection reader = dataSource.getConnection();
                         Connection listener = dataSource.getConnection()) {
                        dialect.positions().prepareCommitter(committer);
                        dialect.wakeUps().listen(listener);
                        int[] tableIds = tables == null ? null : dialect.tableIds(reader, tables);
                        resolveHandlerTables(reader);
                        position = dialect.positions().open(committer, consumer, startAtPresent);
                        handledAhead.clear();
                        log.info("Consumer {} started", consumer);
                        reconnect.reset();
                        follow(reader, committer, listener, tableIds);
                    }
                } catch (SQLException e) {
                    caughtUpSince = NOT_CAUGHT_UP;
                    if (stopping) {
                        break;
                    }
                    long wait = reconnect.nextMillis();
                    log.warn("Consumer {} lost its database connection ({}); reconnecting in {} ms", consumer, oneLine(e), wait);
                    sleep(wait);
                }
            }
        } finally {
            if (lanes != null) {
                lanes.close();
            }
            stopped.countDown();
            log.info("Consumer {} stopped", consumer);
        }
    }

    /**
     * Says loudly, after the first read of every connect and then every minute, when a watched table's
     * capture is broken (DROP COLUMN ... CASCADE drops a capture trigger without a word): delivery goes on, but changes
     * are being missed until {@code watch} repairs it. What the dialect can repair without a decision, and
     * this dispatcher has the rights for, it repairs first.
     */
    private void reportBrokenCapture(Connection reader) throws SQLException {
        lastCaptureCheckNanos = System.nanoTime();
        for (String repaired : dialect.repairCapture(reader)) {
            log.warn("Consumer {}: {}", consumer, repaired);
        }
        for (String problem : dialect.captureProblems(reader)) {
            log.error("Consumer {}: {}", consumer, problem);
        }
    }

    /** Waits until this dispatcher holds the consumer's lock; false if it was stopped first. */
    private boolean lead(Connection committer) throws SQLException {
        boolean announced = false;
        while (!stopping) {
            if (dialect.tryLead(committer, consumer)) {
                if (announced) {
                    log.info("Consumer {}: took over as the active dispatcher", consumer);
                }
                return true;
            }
            if (!announced) {
                log.info("Consumer {} is active elsewhere; standing by", consumer);
                announced = true;
            }
            sleep(settings.standbyPoll().toMillis());
        }
        return false;
    }

    private void follow(Connection reader, Connection committer, Connection listener, int[] tableIds) throws SQLException {
        long lastActivity = System.nanoTime();
        boolean waiting = false;
        int idleStep = 0;
        boolean firstRead = true;
        dialect.wakeUps().cancel(listener, consumer); // a request left by an earlier run of this consumer
        while (!stopping) {
            if (System.nanoTime() - lastReplayCheckNanos > CHECK_REPLAYS_EVERY.toNanos()) {
                replayDeadLetters(committer);
            }
            if (!firstRead && System.nanoTime() - lastCaptureCheckNanos > CHECK_CAPTURE_EVERY.toNanos()) {
                reportBrokenCapture(reader);
            }
            Pass pass = readOnce(reader, committer, tableIds);
            if (firstRead) {
                firstRead = false;
                reportBrokenCapture(reader); // after the first read of a connect, not before: a backlog's first change comes first
            }
            if (pass.retryAfterMillis >= 0) {
                sleep(pass.retryAfterMillis);
                continue;
            }
            if (pass.delivered > 0 || pass.more) {
                lastActivity = System.nanoTime();
                idleStep = 0;
                if (waiting) {
                    dialect.wakeUps().cancel(listener, consumer);
                    waiting = false;
                }
                continue;
            }
            if (System.nanoTime() - lastActivity < settings.hotPeriod().toNanos()) {
                dialect.wakeUps().await(listener, (int) Math.max(1, settings.pollInterval().toMillis()));
                continue;
            }
            if (!waiting) {
                dialect.wakeUps().request(listener, consumer);
                waiting = true;
                continue; // poll once more: a change may have committed just before the request
            }
            int wait = (int) Math.min(IDLE_WAITS_MILLIS[Math.min(idleStep++, IDLE_WAITS_MILLIS.length - 1)],
                    settings.idlePoll().toMillis());
            if (dialect.wakeUps().await(listener, wait)) {
                idleStep = 0;
                lastActivity = System.nanoTime(); // hot again: the wake-up request is withdrawn after the read
                lastReplayCheckNanos = 0; // the wake-up may be a replay request
            }
        }
        if (waiting) {
            dialect.wakeUps().cancel(listener, consumer);
        }
    }

    /**
     * The outcome of reading one window: how many changes were handed over, when to retry (-1: no
     * failure), and whether the window ended before the present, so that more is there to read at once.
     */
    private record Pass(int delivered, long retryAfterMillis, boolean more) {
        Pass(int delivered, long retryAfterMillis) {
            this(delivered, retryAfterMillis, false);
        }
    }

    /**
     * How long this consumer has been caught up: every read since then found nothing for it (up to the
     * present: not a window left pinned by a failure), and none is under way. Zero otherwise.
     */
    public Duration caughtUpFor() {
        long since = caughtUpSince;
        if (since == NOT_CAUGHT_UP || reading) {
            return Duration.ZERO;
        }
        return Duration.ofNanos(Math.max(0, System.nanoTime() - since));
    }

    private Pass readOnce(Connection reader, Connection committer, int[] tableIds) throws SQLException {
        reading = true;
        try {
            long started = System.nanoTime();
            boolean pinned = position.window() != null; // a window re-read after a failure or a stop
            foundAny = false;
            Pass pass = readWindow(reader, committer, tableIds);
            if (!pinned && !pass.more && !foundAny) {
                if (caughtUpSince == NOT_CAUGHT_UP) {
                    caughtUpSince = started; // nothing was pending at the snapshot this read took
                }
            } else {
                caughtUpSince = NOT_CAUGHT_UP;
            }
            return pass;
        } finally {
            reading = false;
        }
    }

    private Pass readWindow(Connection reader, Connection committer, int[] tableIds) throws SQLException {
        WindowEnd end = position.window() != null ? new WindowEnd(position.window(), false)
                : dialect.reader().nextWindowEnd(reader, position, windowChanges);
        String upTo = end.snapshot();
        boolean more = !end.present(); // the window ends before the present: read on at once, even if it was empty
        // Behind: the first window is small, so its first change comes at once; the next ones grow to a size
        // whose ordering still takes milliseconds but whose fixed cost (snapshot, query, store) is small.
        windowChanges = more ? Math.min(LARGEST_WINDOW, windowChanges * 2) : SMALLEST_WINDOW;
        if (position.window() == null && dialect.reader().sameSnapshot(upTo, position.delivered())) {
            return new Pass(0, -1, false);
        }
        List<Entry> chunk = new ArrayList<>();
        int[] delivered = {0};
        Pass[] failed = {null};
        SQLException[] storeFailure = {null};
        boolean[] cutShort = {false}; // stopped before the window's end: it is not complete
        Map<Integer, NotCaptured> notCaptured = new LinkedHashMap<>();
        dialect.reader().readWindow(reader, consumer, position, upTo, tableIds, settings.batchSize(), (LogRow row) -> {
            if (!foundAny) {
                foundAny = true;
                caughtUpSince = NOT_CAUGHT_UP; // now, not when the window is done: delivering it may take long
            }
            if (stopping) {
                cutShort[0] = true;
                return false;
            }
            if (row.notCaptured()) {
                notCaptured.merge(row.tableId(), new NotCaptured(row.table(), 1, row.id(), row.id()), NotCaptured::and);
                return true;
            }
            chunk.add(new Entry(row, ChangeCodec.decode(row)));
            if (chunk.size() < settings.batchSize()) {
                return true;
            }
            try {
                Pass pass = deliverChunk(chunk, upTo, false, committer);
                delivered[0] += pass.delivered;
                boolean whole = pass.delivered == chunk.size();
                chunk.clear();
                if (pass.retryAfterMillis >= 0) {
                    failed[0] = pass;
                    return false;
                }
                if (!whole) {
                    cutShort[0] = true; // stopped part-way through the chunk
                    return false;
                }
                return true;
            } catch (SQLException e) {
                storeFailure[0] = e;
                return false;
            }
        });
        reportNotCaptured(reader, notCaptured);
        if (storeFailure[0] != null) {
            throw storeFailure[0];
        }
        if (failed[0] != null) {
            return new Pass(delivered[0], failed[0].retryAfterMillis);
        }
        if (cutShort[0] || stopping && !chunk.isEmpty()) {
            return new Pass(delivered[0], -1);
        }
        // Stopping after the read reached the window's end (its last full chunk handed over) still
        // completes the window: left pinned, it would keep prune from deleting what was delivered.
        if (!chunk.isEmpty()) {
            // The last, partial chunk: the read is over, so handing it over completes the window, and
            // that position is stored with it (one store per window, not two).
            Pass pass = deliverChunk(chunk, upTo, true, committer);
            delivered[0] += pass.delivered;
            return new Pass(delivered[0], pass.retryAfterMillis, more);
        }
        position = position.windowDone(upTo);
        // An empty window moves the position only in memory; it is stored now and then, which is safe
        // because the stored, older position describes a larger window with the same (no) changes.
        if (delivered[0] > 0 || System.nanoTime() - lastStoreNanos > STORE_IDLE_POSITION_EVERY.toNanos()) {
            store(committer);
        }
        return new Pass(delivered[0], -1, more);
    }

    /** The {@link LogRow#NOT_CAPTURED} markers of one table in a window: changes that capture could not log. */
    private record NotCaptured(String table, int count, long firstId, long lastId) {
        NotCaptured and(NotCaptured more) {
            return new NotCaptured(table, count + more.count, Math.min(firstId, more.firstId), Math.max(lastId, more.lastId));
        }
    }

    /**
     * Says, once per table and window, that changes were lost to capture: markers are never handed to a
     * handler (they carry no values), and a replica built from this consumer now differs from the table.
     */
    private void reportNotCaptured(Connection reader, Map<Integer, NotCaptured> notCaptured) throws SQLException {
        for (Map.Entry<Integer, NotCaptured> entry : notCaptured.entrySet()) {
            NotCaptured n = entry.getValue();
            String repair = dialect.repairCommand(reader, entry.getKey());
            log.error("Consumer {}: {} change{} of {} (log ids {} to {}) could not be captured since a schema change of the table and {} not"
                            + " delivered; {}", consumer, n.count(), n.count() == 1 ? "" : "s", n.table(), n.firstId(), n.lastId(),
                    n.count() == 1 ? "is" : "are", repair == null ? "watch the table again" : "run: " + repair);
        }
    }

    /**
     * A handler's failure on part of a chunk: {@code failed} are the chunk indexes it did not handle;
     * {@code cause} is null when it stopped early because the consumer is stopping.
     */
    private record Failed(Registration registration, List<Integer> failed, Throwable cause) {
        int first() {
            return failed.get(0);
        }
    }

    /**
     * Hands a chunk to every handler that wants part of it, then stores the position after it. When a
     * handler fails, the position is stored after the longest prefix every handler has handled, with the
     * window pinned so the retry reads the same changes in the same order.
     */
    private Pass deliverChunk(List<Entry> chunk, String window, boolean endsWindow, Connection committer) throws SQLException {
        List<Registration> registrations = registrationsFor(chunk);
        boolean transactional = registrations.stream().anyMatch(Registration::transactional);
        if (transactional) {
            committer.setAutoCommit(false);
        }
        try {
            while (true) {
                int safe = chunk.size();
                List<Failed> failures = new ArrayList<>();
                for (Registration registration : registrations) {
                    // Transactional handlers commit with the position, so they never run ahead of it.
                    int limit = registration.transactional() ? safe : chunk.size();
                    Failed failed = handOver(registration, chunk, limit, committer);
                    if (failed != null) {
                        if (failed.cause() != null) {
                            failures.add(failed);
                        }
                        safe = Math.min(safe, failed.first());
                    }
                }
                if (stopping && safe < chunk.size()) {
                    // Asked to stop on the way: keep what every handler finished, whatever failed after it.
                    if (safe > 0) {
                        position = position.after(window, chunk.get(safe - 1).row());
                        store(committer);
                    }
                    commitIf(transactional, committer);
                    return new Pass(safe, -1);
                }
                if (failures.isEmpty()) {
                    // A retry re-reads from the stored prefix with the same chunk size in the same pinned
                    // window, so whatever was handled ahead or failed lies in this chunk: all settled now.
                    handledAhead.clear();
                    attempts.clear();
                    position = endsWindow ? position.windowDone(window) : position.after(window, chunk.get(chunk.size() - 1).row());
                    store(committer);
                    commitIf(transactional, committer);
                    return new Pass(chunk.size(), -1);
                }
                long retryAfter = -1;
                for (Failed failed : failures) {
                    retryAfter = Math.max(retryAfter, settle(failed, chunk, safe, window, committer));
                }
                if (retryAfter >= 0) {
                    position = safe > 0 ? position.after(window, chunk.get(safe - 1).row()) : position.pinned(window);
                    store(committer);
                    commitIf(transactional, committer);
                    return new Pass(safe, retryAfter);
                }
                // every failure became a dead letter: hand over the rest of the chunk at once
            }
        } catch (SQLException | RuntimeException e) {
            if (transactional) {
                rollbackQuietly(committer);
            }
            throw e;
        } finally {
            if (transactional) {
                committer.setAutoCommit(true);
            }
        }
    }

    /** Hands a handler the changes of the chunk (below {@code limit}) it wants and has not handled yet. */
    private Failed handOver(Registration registration, List<Entry> chunk, int limit, Connection committer) {
        Set<Long> handled = handledAhead.computeIfAbsent(registration, r -> new HashSet<>());
        List<Integer> indexes = new ArrayList<>();
        List<Change> changes = new ArrayList<>();
        for (int i = 0; i < limit; i++) {
            Change change = chunk.get(i).change();
            if (applies(registration, chunk.get(i)) && !handled.contains(change.id())) {
                indexes.add(i);
                changes.add(change);
            }
        }
        if (changes.isEmpty()) {
            return null;
        }
        if (lanes != null && !registration.transactional()) {
            return handOverInLanes(registration, indexes, changes, handled);
        }
        try {
            int done = registration.receive(changes, committer, () -> stopping);
            changes.subList(0, done).forEach(c -> handled.add(c.id()));
            return done == changes.size() ? null : new Failed(registration, List.of(indexes.get(done)), null);
        } catch (Registration.Failure failure) {
            changes.subList(0, failure.done).forEach(c -> handled.add(c.id()));
            if (stopping) {
                // The handler failed because the consumer is stopping (tail's output closed, say): not a retry.
                return new Failed(registration, List.of(indexes.get(failure.done)), null);
            }
            // A batch handler failed on its whole batch; a per-change handler on one change.
            List<Integer> failed = registration.perChange() ? List.of(indexes.get(failure.done)) : indexes;
            return new Failed(registration, failed, failure.getCause());
        }
    }

    /** {@link #handOver} in lanes: what every lane handled is handled, the first change not handled is where it failed. */
    private Failed handOverInLanes(Registration registration, List<Integer> indexes, List<Change> changes, Set<Long> handled) {
        Lanes.Outcome outcome = lanes.handOver(registration, changes, () -> stopping);
        outcome.handled().forEach(p -> handled.add(changes.get(p).id()));
        if (outcome.firstUnhandled() < 0) {
            return null;
        }
        int first = indexes.get(outcome.firstUnhandled());
        if (stopping || outcome.cause() == null) {
            return new Failed(registration, List.of(first), null);
        }
        // A per-change handler failed on one change (others, in other lanes, are retried with it); a batch
        // handler on the whole part of the batch its failing lanes held.
        List<Integer> failed = registration.perChange() ? List.of(first) : outcome.failed().stream().map(indexes::get).toList();
        return new Failed(registration, failed, outcome.cause());
    }

    /**
     * Counts a failed attempt; when the policy's attempts are spent, dead-letters the changes (and returns
     * -1) or stops the consumer. Otherwise returns how long to wait before the retry.
     */
    private long settle(Failed failed, List<Entry> chunk, int safe, String window, Connection committer) throws SQLException {
        Registration registration = failed.registration();
        FailurePolicy policy = registration.policy();
        Change first = chunk.get(failed.first()).change();
        Attempts so = attempts.merge(new AttemptKey(registration, first.id()), new Attempts(1, Instant.now()),
                (old, one) -> new Attempts(old.count() + 1, old.first()));
        boolean rejected = failed.cause() instanceof RejectedChangeException;
        if (so.count() < policy.maxAttempts() && !rejected) {
            long wait = backoffMillis(policy, so.count());
            log.warn("Consumer {}: {} failed on change {} of {} (attempt {} of {}); retrying in {} ms: {}", consumer,
                    registration.label(), first.id(), first.table(), so.count(), policy.maxAttempts(), wait, oneLine(failed.cause()));
            return wait;
        }
        attempts.remove(new AttemptKey(registration, first.id()));
        String error = oneLine(failed.cause());
        if (policy.whenExhausted() == FailurePolicy.Exhausted.STOP) {
            position = safe > 0 ? position.after(window, chunk.get(safe - 1).row()) : position.pinned(window);
            store(committer);
            commitIf(true, committer);
            log.error("Consumer {} stops: {} failed {} times on change {} of {}: {}", consumer, registration.label(),
                    so.count(), first.id(), first.table(), error);
            throw new HandlerFailedException("consumer " + consumer + " stopped: " + registration.label() + " failed "
                    + so.count() + " times on change " + first.id() + " of " + first.table() + ": " + error, first.id(), failed.cause());
        }
        Set<Long> handled = handledAhead.computeIfAbsent(registration, r -> new HashSet<>());
        for (int index : failed.failed()) {
            Entry entry = chunk.get(index);
            dialect.deadLetters().record(committer, consumer, registration.label(), entry.row(), error, so.count(), so.first(), Instant.now());
            handled.add(entry.change().id());
            log.error("Consumer {}: {} failed {} times on change {} of {}; moved to the dead letters: {}", consumer,
                    registration.label(), so.count(), entry.change().id(), entry.change().table(), error);
        }
        return -1;
    }

    private static long backoffMillis(FailurePolicy policy, int failures) {
        long initial = Math.max(1, policy.initialBackoff().toMillis());
        long ceiling = Math.min(policy.maxBackoff().toMillis(), initial << Math.min(failures - 1, 30));
        return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1); // jitter: spread retries of many consumers
    }

    /**
     * Handlers are found by the table's registry id, not by its name, so that a table renamed while the
     * consumer runs keeps its handlers (its changes then carry the new name).
     */
    private void resolveHandlerTables(Connection reader) throws SQLException {
        Map<Integer, List<Registration>> resolved = new java.util.HashMap<>();
        Map<Registration, Integer> bits = new HashMap<>();
        for (List<Registration> registrations : byTable.values()) {
            // as the user named the table; the map's keys are the names the log used at install time
            int id = dialect.tableIds(reader, List.of(registrations.get(0).table()))[0];
            resolved.put(id, registrations);
            if (registrations.stream().anyMatch(r -> r.where() != null)) {
                Map<String, Integer> bitOf = dialect.filterBits(reader, id);
                registrations.stream().filter(r -> r.where() != null && bitOf.containsKey(r.where()))
                        .forEach(r -> bits.put(r, bitOf.get(r.where())));
            }
        }
        byTableId = resolved;
        filterBits = bits;
    }

    private List<Registration> handlersOf(LogRow row) {
        List<Registration> found = byTableId.get(row.tableId());
        return found != null ? found : byTable.getOrDefault(row.table(), List.of());
    }

    /** The handlers that want some change of the chunk, transactional ones last. */
    private List<Registration> registrationsFor(List<Entry> chunk) {
        Set<Registration> found = new java.util.LinkedHashSet<>();
        for (Entry entry : chunk) {
            List<Registration> forTable = handlersOf(entry.row());
            if (forTable != null) {
                found.addAll(forTable);
            }
        }
        found.addAll(everyTable);
        List<Registration> ordered = new ArrayList<>();
        found.stream().filter(r -> !r.transactional()).forEach(ordered::add);
        found.stream().filter(Registration::transactional).forEach(ordered::add);
        return ordered;
    }

    private boolean applies(Registration registration, Entry entry) {
        boolean forTable = registration.table() == null || handlersOf(entry.row()).contains(registration);
        return forTable && selects(registration, entry.row()) && registration.wants(entry.change());
    }

    /**
     * Whether the handler's row filter selected the row: its bit is set in the row's mask. A row logged
     * without a mask (its table had no filter then) and a handler without a filter take everything; so does a
     * filter the table does not know (never lose a change: at least once).
     */
    private boolean selects(Registration registration, LogRow row) {
        if (registration.where() == null || row.filterMask() == null) {
            return true;
        }
        Integer bit = filterBits.get(registration);
        return bit == null || (row.filterMask() & (1L << bit)) != 0;
    }

    /** Hands dead letters whose replay was asked for to their handlers again. */
    private void replayDeadLetters(Connection committer) throws SQLException {
        lastReplayCheckNanos = System.nanoTime();
        for (StoredDeadLetter letter : dialect.deadLetters().list(committer, consumer, true)) {
            caughtUpSince = NOT_CAUGHT_UP; // a replay is a delivery
            Change change = ChangeCodec.decode(letter.row());
            List<Registration> targets = replayTargets(letter);
            boolean transactional = targets.stream().anyMatch(Registration::transactional);
            committer.setAutoCommit(false);
            String error = null;
            try {
                for (Registration registration : targets) {
                    registration.receive(List.of(change), committer, () -> false);
                }
            } catch (Registration.Failure failure) {
                error = oneLine(failure.getCause());
            }
            try {
                if (error != null && transactional) {
                    committer.rollback();
                }
                dialect.deadLetters().replayed(committer, letter.id(), error);
                committer.commit();
            } catch (SQLException e) {
                rollbackQuietly(committer);
                throw e;
            } finally {
                committer.setAutoCommit(true);
            }
            if (error == null) {
                log.info("Consumer {}: dead letter {} (change {}) replayed", consumer, letter.id(), change.id());
            } else {
                log.warn("Consumer {}: replay of dead letter {} (change {}) failed again: {}", consumer, letter.id(), change.id(), error);
            }
        }
    }

    /** The handler that failed on a dead letter; if it is no longer registered, every handler of its table. */
    private List<Registration> replayTargets(StoredDeadLetter letter) {
        List<Registration> candidates = new ArrayList<>(byTable.getOrDefault(letter.row().table(), List.of()));
        candidates.addAll(everyTable);
        List<Registration> named = candidates.stream().filter(r -> letter.handler().equals(r.label())).toList();
        return named.isEmpty() ? candidates : named;
    }

    private void store(Connection committer) throws SQLException {
        dialect.positions().store(committer, consumer, position);
        lastStoreNanos = System.nanoTime();
    }

    private static void commitIf(boolean inTransaction, Connection committer) throws SQLException {
        if (inTransaction && !committer.getAutoCommit()) {
            committer.commit();
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the transaction is gone with it
        }
    }

    /** Asks the dispatcher to stop after the chunk in hand; its position is stored first. */
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
