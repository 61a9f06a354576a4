package dev.epidemic.api;

import dev.epidemic.dialect.Dialect;
import dev.epidemic.engine.ChangeCodec;
import dev.epidemic.engine.Databases;
import dev.epidemic.engine.Dispatcher;
import dev.epidemic.engine.Registration;
import dev.epidemic.engine.SnapshotBackfills;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A running consumer: it installs the capture its handlers need, then hands every committed change
 * to them, at least once and in order, until closed.
 *
 * <pre>{@code
 * try (Epidemic epidemic = Epidemic.builder(dataSource)
 *         .consumer("mail-server")
 *         .handle("public.mail_users", List.of("username", "quota_bytes"), new MailUsers())
 *         .build()
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>{@link #run()} runs the dispatcher on the caller's thread; {@link #start()} runs it on a thread of
 * its own. {@link #close()} stops after the change in hand and stores the position.
 */
public final class Epidemic implements Runnable, AutoCloseable {
    private final Dispatcher dispatcher;
    private final SnapshotBackfills backfills;
    private final String consumer;
    private final Runnable installer;
    private volatile Thread thread;
    private volatile Thread backfillThread;
    private volatile RuntimeException failure;

    private Epidemic(Dispatcher dispatcher, SnapshotBackfills backfills, String consumer, Runnable installer) {
        this.dispatcher = dispatcher;
        this.backfills = backfills;
        this.consumer = consumer;
        this.installer = installer;
    }

    public static Builder builder(DataSource dataSource) {
        return new Builder(Objects.requireNonNull(dataSource, "dataSource"), null);
    }

    /** A builder that connects with a JDBC URL; user and password may be null when the URL carries them. */
    public static Builder builder(String jdbcUrl, String user, String password) {
        return new Builder(Databases.fromUrl(jdbcUrl, user, password), jdbcUrl);
    }

    /** The JSON line of the command-line contract for one change. */
    public static String toJson(Change change) {
        return ChangeCodec.toJson(change);
    }

    /** Installs what is missing, then delivers changes on the calling thread until {@link #close()}. */
    @Override
    public void run() {
        installer.run();
        thread = Thread.currentThread();
        startBackfills();
        dispatcher.run();
    }

    /** Runs what is left of the backfills this consumer started from a snapshot (nothing, mostly) beside the dispatcher. */
    private void startBackfills() {
        Thread t = new Thread(backfills, "epidemic-" + consumer + "-backfill");
        t.setDaemon(true);
        backfillThread = t;
        t.start();
    }

    /** Installs what is missing (failing here on a bad table or column), then delivers on a new thread. */
    public Epidemic start() {
        installer.run();
        Thread t = new Thread(() -> {
            try {
                dispatcher.run();
            } catch (RuntimeException e) {
                failure = e; // logged by the dispatcher; the owner asks for it with failure()
            }
        }, "epidemic-" + consumer);
        t.setDaemon(true);
        thread = t;
        startBackfills();
        t.start();
        return this;
    }

    /**
     * Why a consumer started with {@link #start()} stopped by itself (for example a
     * {@link HandlerFailedException}), or null while it runs or after a normal close.
     */
    public RuntimeException failure() {
        return failure;
    }

    /** True while a consumer started with {@link #start()} is delivering or standing by. */
    public boolean isRunning() {
        Thread t = thread;
        return t != null && t.isAlive();
    }

    /**
     * How long this consumer has been caught up: nothing committed was pending for it at its last read of
     * the log, nor at any read since then, and no read is under way. {@link Duration#ZERO} while it
     * reads or hands over changes (however long a large transaction takes), retries a failed handler,
     * stands by for another dispatcher, reconnects, or before its first read. What "nothing new for a
     * while" means for a consumer that must exit when it has drained the log ({@code tail --idle-exit}).
     */
    public Duration caughtUpFor() {
        Thread backfilling = backfillThread;
        if (backfilling != null && !backfills.done()) {
            return Duration.ZERO; // its own backfill is still logging rows for it
        }
        return dispatcher.caughtUpFor();
    }

    /**
     * Stops after the change in hand and stores the position. Called from any other thread it waits (up
     * to 30 s) for the dispatcher to finish; called from a handler it returns at once, and the dispatcher
     * stops as soon as that handler returns.
     */
    @Override
    public void close() {
        backfills.stop();
        dispatcher.stop();
        if (thread == null || thread == Thread.currentThread()) {
            return; // never started, or called from a handler on the dispatcher's own thread
        }
        try {
            dispatcher.awaitStopped(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Configures one consumer. */
    public static final class Builder {
        private final DataSource dataSource;
        private final String jdbcUrl;
        private String consumer;
        private String schema = "epidemic";
        private StartFrom startFrom = StartFrom.OLDEST_RETAINED;
        private int backfillChunkSize = EpidemicAdmin.DEFAULT_CHUNK_SIZE;
        private final Map<String, List<Registration>> byTable = new LinkedHashMap<>();
        private Registration last; // the handler registered last, which where() applies to
        private final List<Registration> everyTable = new ArrayList<>();
        private final Set<String> tablesOfEveryTable = new LinkedHashSet<>();
        private Dispatcher.Settings settings = Dispatcher.Settings.defaults();
        private FailurePolicy defaultPolicy = FailurePolicy.defaults();

        private Builder(DataSource dataSource, String jdbcUrl) {
            this.dataSource = dataSource;
            this.jdbcUrl = jdbcUrl;
        }

        /** The consumer's durable name: a restarted consumer of the same name resumes where it stopped. */
        public Builder consumer(String name) {
            this.consumer = name;
            return this;
        }

        /**
         * The schema Epidemic keeps its log in (default {@code epidemic}); on MariaDB, where a schema is a
         * database, the prefix of its tables in the application's database ({@code epidemic_change_log}, ...).
         */
        public Builder schema(String schema) {
            this.schema = schema;
            return this;
        }

        /** A new consumer starts at the present instead of at the oldest retained change. */
        public Builder startAtPresent(boolean startAtPresent) {
            this.startFrom = startAtPresent ? StartFrom.NOW : StartFrom.OLDEST_RETAINED;
            return this;
        }

        /**
         * Where a new consumer starts (default {@link StartFrom#OLDEST_RETAINED}). With
         * {@link StartFrom#SNAPSHOT} it first receives a READ of every row its tables hold (every watched
         * table, for {@link #handleEveryTable} without tables), then every change after; a consumer that
         * exists resumes from its position, and finishes a snapshot it had not finished.
         */
        public Builder startFrom(StartFrom startFrom) {
            this.startFrom = Objects.requireNonNull(startFrom, "startFrom");
            return this;
        }

        /** Rows logged per transaction by a backfill from a snapshot (default {@link EpidemicAdmin#DEFAULT_CHUNK_SIZE}). */
        public Builder backfillChunkSize(int chunkSize) {
            if (chunkSize < 1) {
                throw new InvalidInputException("chunk size must be at least 1, not " + chunkSize);
            }
            this.backfillChunkSize = chunkSize;
            return this;
        }

        /**
         * Hands the changes of {@code table} to {@code handler}. Capture is installed on start if missing,
         * or widened to include {@code columns}; an UPDATE that changes none of {@code columns} is not
         * handed over. An empty list means every column.
         */
        public Builder handle(String table, List<String> columns, ChangeHandler handler) {
            return register(Registration.of(table, columns, Objects.requireNonNull(handler, "handler"), null));
        }

        /** As {@link #handle(String, List, ChangeHandler)}, with its own failure policy. */
        public Builder handle(String table, List<String> columns, ChangeHandler handler, FailurePolicy onFailure) {
            return register(Registration.of(table, columns, Objects.requireNonNull(handler, "handler"), onFailure));
        }

        /** Hands {@code table}'s changes to {@code handler} a batch at a time (see {@link BatchHandler}). */
        public Builder handleBatches(String table, List<String> columns, BatchHandler handler, FailurePolicy onFailure) {
            return register(Registration.ofBatches(table, columns, Objects.requireNonNull(handler, "handler"), onFailure));
        }

        /**
         * Hands {@code table}'s changes to {@code handler} inside the transaction that also stores the
         * consumer's position, so what it writes to this database happens exactly once.
         */
        public Builder handleInTransaction(String table, List<String> columns, TransactionalHandler handler, FailurePolicy onFailure) {
            return register(Registration.inTransaction(table, columns, Objects.requireNonNull(handler, "handler"), onFailure));
        }

        /** The failure policy of handlers registered without one (default {@link FailurePolicy#defaults()}). */
        public Builder failurePolicy(FailurePolicy policy) {
            this.defaultPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        private Builder register(Registration registration) {
            byTable.computeIfAbsent(registration.table(), t -> new ArrayList<>()).add(registration);
            last = registration;
            return this;
        }

        /**
         * Restricts the handler registered just before (by a {@code handle...} method) to the rows that
         * {@code predicate} selects: one SQL condition over its table's own columns, for example
         * {@code active AND quota_bytes > 0}. It is evaluated by the capture trigger, so a row that no filter
         * of the table selects is not logged at all; the handler receives an INSERT, DELETE or READ of a row
         * that matches, and an UPDATE when the old or the new row matches. The filter is registered on start
         * (a consumer's filters replace those it registered before) and checked against the catalog first:
         * a condition that is not valid, or that uses anything but the table's columns, constants and built-in
         * functions that are not volatile, is an {@link InvalidInputException}. See docs/row-filters.md.
         */
        public Builder where(String predicate) {
            if (last == null) {
                throw new InvalidInputException("where(" + predicate + ") must follow the handle(...) whose rows it selects");
            }
            if (last.where() != null) {
                throw new InvalidInputException("the handler of " + last.table() + " already has a row filter (" + last.where() + ")");
            }
            if (predicate == null || predicate.isBlank()) {
                throw new InvalidInputException("the row filter for " + last.table() + " is empty");
            }
            List<Registration> list = byTable.get(last.table());
            Registration filtered = last.withWhere(predicate.strip());
            list.set(list.indexOf(last), filtered);
            last = filtered;
            return this;
        }

        /**
         * Hands the changes of every watched table (or of {@code tables}, if not empty) to {@code handler},
         * with all captured columns. Nothing is installed for it.
         */
        public Builder handleEveryTable(List<String> tables, ChangeHandler handler) {
            everyTable.add(Registration.of(null, List.of(), Objects.requireNonNull(handler, "handler"), null));
            tablesOfEveryTable.addAll(tables);
            last = null; // it takes every logged row of its tables: no row filter
            return this;
        }

        /** Changes read and stored per batch (default 1000). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new InvalidInputException("batch size must be at least 1, not " + batchSize);
            }
            settings = settings.withBatchSize(batchSize);
            return this;
        }

        /**
         * Hands changes over in {@code lanes} threads at once (default 1: one at a time, in log order). Changes
         * are split by table and primary key, so one row's changes keep their order; changes to different rows,
         * even of one transaction, may be handled concurrently, and a handler must then be thread-safe. A
         * TRUNCATE waits for everything before it. The stored position passes only changes every lane has
         * finished. Not for a {@link TransactionalHandler}, which commits with the position in one transaction.
         */
        public Builder parallelism(int lanes) {
            if (lanes < 1 || lanes > 256) {
                throw new InvalidInputException("parallelism must be between 1 and 256, not " + lanes);
            }
            settings = settings.withParallelism(lanes);
            return this;
        }

        public Epidemic build() {
            if (consumer == null || consumer.isBlank()) {
                throw new InvalidInputException("a consumer name is required");
            }
            if (settings.parallelism() > 1 && byTable.values().stream().flatMap(List::stream).anyMatch(Registration::transactional)) {
                throw new InvalidInputException("parallelism " + settings.parallelism() + " cannot be used with a transactional handler:"
                        + " it commits each change with the consumer's position, one transaction at a time; use parallelism 1");
            }
            if (byTable.isEmpty() && everyTable.isEmpty()) {
                throw new InvalidInputException("no handler registered; add one with handle(...) or handleEveryTable(...)");
            }
            Dialect dialect = jdbcUrl != null ? Databases.dialectFor(jdbcUrl, schema) : Databases.dialectFor(dataSource, schema);
            // Handlers are keyed by the table name the log reports (schema.table); resolved at install time.
            Map<String, List<Registration>> resolved = new LinkedHashMap<>();
            List<String> tables;
            if (everyTable.isEmpty()) {
                tables = new ArrayList<>(byTable.keySet());
            } else if (tablesOfEveryTable.isEmpty()) {
                tables = null;
            } else {
                tables = new ArrayList<>(tablesOfEveryTable);
                tables.addAll(byTable.keySet());
            }
            Map<String, List<Registration>> registrations = new LinkedHashMap<>();
            byTable.forEach((table, list) -> registrations.put(table,
                    list.stream().map(r -> r.withDefaultPolicy(defaultPolicy)).toList()));
            List<Registration> forEveryTable = everyTable.stream().map(r -> r.withDefaultPolicy(defaultPolicy)).toList();
            boolean startAtPresent = startFrom != StartFrom.OLDEST_RETAINED;
            Dispatcher dispatcher = new Dispatcher(dataSource, dialect, consumer, startAtPresent, resolved,
                    forEveryTable, tables, settings);
            Runnable installer = () -> install(dialect, registrations, resolved, tables, startAtPresent);
            return new Epidemic(dispatcher, new SnapshotBackfills(dataSource, dialect, consumer, backfillChunkSize), consumer, installer);
        }

        private void install(Dialect dialect, Map<String, List<Registration>> registrations,
                             Map<String, List<Registration>> resolved, List<String> tables, boolean startAtPresent) {
            try (Connection c = dataSource.getConnection()) {
                dialect.install(c);
                // Every row filter is checked before anything is watched: a bad one changes nothing.
                for (Map.Entry<String, List<Registration>> entry : registrations.entrySet()) {
                    for (Registration r : entry.getValue()) {
                        if (r.where() != null) {
                            dialect.checkWhere(c, entry.getKey(), r.where());
                        }
                    }
                }
                resolved.clear();
                Map<String, Set<String>> filters = new LinkedHashMap<>();
                for (Map.Entry<String, List<Registration>> entry : registrations.entrySet()) {
                    WatchedTable table = ensureWatched(dialect, c, entry.getKey(), entry.getValue());
                    resolved.put(table.qualifiedName(), entry.getValue());
                    Set<String> predicates = filters.computeIfAbsent(entry.getKey(), t -> new LinkedHashSet<>());
                    entry.getValue().forEach(r -> predicates.add(r.where() == null ? Dialect.EVERY_ROW : r.where()));
                }
                dialect.registerFilters(c, consumer, filters);
                int[] tableIds = null;
                if (tables != null) {
                    tableIds = dialect.tableIds(c, tables); // an unknown or unwatched table fails here, before a consumer exists
                }
                if (startFrom == StartFrom.SNAPSHOT) {
                    dialect.backfills().createFromSnapshot(c, consumer, tableIds);
                }
                // Created here, not on the dispatcher's thread, so that "the present" is the moment of start().
                dialect.positions().open(c, consumer, startAtPresent);
            } catch (SQLException e) {
                throw new EpidemicException("cannot install capture: " + e.getMessage(), e);
            }
        }

        private static WatchedTable ensureWatched(Dialect dialect, Connection c, String table, List<Registration> registrations)
                throws SQLException {
            Set<String> wanted = new LinkedHashSet<>();
            boolean allColumns = false;
            for (Registration r : registrations) {
                allColumns |= r.columns().isEmpty();
                wanted.addAll(r.columns());
            }
            // A consumer role without DDL rights must be able to start when everything is in place,
            // so watch() runs only when something is missing; it changes nothing when nothing differs.
            WatchedTable current = dialect.watched(c, table);
            if (current != null && !allColumns && current.columns().containsAll(wanted)) {
                return current;
            }
            List<String> columns = new ArrayList<>();
            if (!allColumns) {
                if (current != null) {
                    columns.addAll(current.columns());
                }
                wanted.stream().filter(w -> !columns.contains(w)).forEach(columns::add);
            }
            return dialect.watch(c, table, columns, current == null ? List.of() : current.keyColumns());
        }
    }
}
