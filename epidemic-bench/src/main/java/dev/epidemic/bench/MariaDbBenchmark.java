package dev.epidemic.bench;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Issue 4's figures against a real MariaDB, each the median of several rounds with their spread:
 * <ol>
 *   <li>writer overhead: single-row INSERT transactions (autocommit) from 8 clients, without and with
 *       capture, alternating; TPS and the ratio (target: at least 0.8);</li>
 *   <li>drain: a backlog of changes (1,000,000 in one-10,000-row transactions) to a no-op handler,
 *       changes/s from the consumer's start to the last change (target: at least 20,000/s);</li>
 *   <li>latency: a writer paced at 1,000 single-row transactions/s, commit-to-handler p50 / p99 / max
 *       (target: p50 at most 50 ms);</li>
 *   <li>backfill: 1,000,000 existing rows to a running consumer's no-op handler, rows/s from the start of
 *       {@link EpidemicAdmin#backfill} to the handler's last READ, and until every row is in the log (target:
 *       at least 30,000 rows/s); "not available" while the MariaDB dialect has no backfill.</li>
 * </ol>
 * Usage: {@code MariaDbBenchmark JDBC_URL [--smoke] [--only backfill]} ({@code --only}: that measurement alone) with a {@code jdbc:mariadb:} URL naming a database;
 * tables bench_* are created there, and Epidemic keeps its log beside them in tables bench_epidemic_* (schema
 * {@code bench_epidemic}); every bench_* table is dropped first.
 * Figures are printed, never asserted.
 */
public final class MariaDbBenchmark {
    private static final int CLIENTS = 8;

    private final String url;
    /** The prefix of Epidemic's tables: bench_, so that the set-up's sweep of bench_* tables removes them too. */
    private final String logSchema = "bench_epidemic";
    private final boolean smoke;
    private final int rounds;
    private final boolean backfillOnly;

    private MariaDbBenchmark(String url, boolean smoke, boolean backfillOnly) {
        this.url = url;
        this.smoke = smoke;
        this.backfillOnly = backfillOnly;
        this.rounds = smoke ? 1 : 3;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || !args[0].startsWith("jdbc:mariadb:")) {
            System.err.println("usage: MariaDbBenchmark jdbc:mariadb://HOST[:PORT]/DATABASE?user=... [--smoke] [--only backfill]");
            System.exit(2);
        }
        boolean smoke = false;
        boolean backfillOnly = false;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--smoke")) {
                smoke = true;
            } else if (args[i].equals("--only") && i + 1 < args.length && args[i + 1].equals("backfill")) {
                backfillOnly = true;
                i++;
            } else {
                System.err.println("unknown option " + args[i] + " (options: --smoke, --only backfill)");
                System.exit(2);
            }
        }
        new MariaDbBenchmark(args[0], smoke, backfillOnly).runAll();
        System.exit(0);
    }

    /** Runs every measurement and returns the report lines it printed. */
    public static List<String> run(String url, boolean smoke) throws Exception {
        return new MariaDbBenchmark(url, smoke, false).runAll();
    }

    private List<String> runAll() throws Exception {
        setUp();
        List<String> report = new ArrayList<>();
        if (backfillOnly) {
            report.add(print(backfill()));
            return report;
        }
        report.add(print(writerOverhead()));
        report.add(print(drain()));
        report.add(print(latency()));
        report.add(print(backfill()));
        return report;
    }

    private static String print(String line) {
        System.out.println(line);
        return line;
    }

    private void setUp() throws SQLException {
        dropBenchTables();
        exec("CREATE TABLE bench_plain (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100), qty INT, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))",
                "CREATE TABLE bench_watched (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100), qty INT, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))",
                "CREATE TABLE bench_drain (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100), qty INT)",
                "CREATE TABLE bench_latency (id BIGINT PRIMARY KEY, name VARCHAR(100))",
                "CREATE TABLE bench_backfill (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100), qty INT, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))");
        EpidemicAdmin admin = admin();
        admin.watch("bench_watched", List.of(), List.of());
        admin.watch("bench_drain", List.of(), List.of());
        admin.watch("bench_latency", List.of(), List.of());
    }

    private EpidemicAdmin admin() {
        return EpidemicAdmin.create(url, null, null, logSchema);
    }

    // ------------------------------------------------------------------ writer overhead

    private String writerOverhead() throws Exception {
        long seconds = smoke ? 1 : 10;
        double[] plain = new double[rounds];
        double[] watched = new double[rounds];
        double[] ratios = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            plain[r] = insertTps("bench_plain", seconds);
            watched[r] = insertTps("bench_watched", seconds);
            ratios[r] = watched[r] / plain[r];
        }
        return String.format(Locale.ROOT,
                "writer overhead, %d clients, single-row INSERT, %d x %d s: without capture %.0f TPS (%s), with capture %.0f TPS (%s),"
                        + " ratio %.2f (%s)",
                CLIENTS, rounds, seconds, median(plain), spread(plain, "%.0f"), median(watched), spread(watched, "%.0f"),
                median(ratios), spread(ratios, "%.2f"));
    }

    private double insertTps(String table, long seconds) throws Exception {
        LongAdder done = new LongAdder();
        CountDownLatch ready = new CountDownLatch(CLIENTS);
        long[] window = new long[2];
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            Thread t = new Thread(() -> {
                try (Connection c = DriverManager.getConnection(url);
                     PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (name, qty) VALUES ('user', 42)")) {
                    ready.countDown();
                    ready.await();
                    while (System.nanoTime() < window[1]) {
                        ps.executeUpdate();
                        done.increment();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            threads.add(t);
        }
        window[0] = System.nanoTime();
        window[1] = window[0] + TimeUnit.SECONDS.toNanos(seconds) + TimeUnit.MILLISECONDS.toNanos(500); // connecting included
        threads.forEach(Thread::start);
        ready.await();
        long start = System.nanoTime();
        long before = done.sum();
        for (Thread t : threads) {
            t.join();
        }
        return (done.sum() - before) / ((System.nanoTime() - start) / 1e9);
    }

    // ------------------------------------------------------------------ drain

    private String drain() throws Exception {
        int backlog = smoke ? 20_000 : 1_000_000;
        double[] rates = new double[rounds];
        double[] fillRates = new double[rounds];
        String extra = "";
        for (int r = 0; r < rounds; r++) {
            String consumer = "bench-drain-" + r;
            openAtPresent(consumer, "bench_drain");
            long fillStart = System.nanoTime();
            for (int i = 0; i < backlog; i += 10_000) {
                exec("INSERT INTO bench_drain (name, qty) SELECT CONCAT('user ', seq), seq FROM seq_1_to_" + Math.min(10_000, backlog - i));
            }
            fillRates[r] = backlog / ((System.nanoTime() - fillStart) / 1e9);
            LongAdder seen = new LongAdder();
            CountDownLatch drained = new CountDownLatch(1);
            ChangeHandler noop = new ChangeHandler() {
                @Override
                public void onInsert(Change change) {
                    seen.increment();
                    if (seen.sum() == backlog) {
                        drained.countDown();
                    }
                }
            };
            long start = System.nanoTime();
            try (Epidemic epidemic = Epidemic.builder(url, null, null).schema(logSchema).consumer(consumer).batchSize(5000)
                    .handle("bench_drain", List.of(), noop).build().start()) {
                if (!drained.await(15, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("only " + seen.sum() + " of " + backlog + " changes arrived");
                }
                rates[r] = backlog / ((System.nanoTime() - start) / 1e9);
            }
            extra = String.format(Locale.ROOT, "; prune after the last round: %s", admin().prune());
        }
        return String.format(Locale.ROOT, "drain: %d x %d changes (10,000 per transaction) to a no-op handler: %.0f changes/s (%s)"
                        + " (filling the backlog: %.0f changes/s)%s",
                rounds, backlog, median(rates), spread(rates, "%.0f"), median(fillRates), extra);
    }

    /** Creates the consumer at the present, so that a round reads only its own backlog. */
    private void openAtPresent(String consumer, String table) throws Exception {
        try (Epidemic epidemic = Epidemic.builder(url, null, null).schema(logSchema).consumer(consumer).startAtPresent(true)
                .handle(table, List.of(), new ChangeHandler() {
                }).build().start()) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (admin().status().stream().map(ConsumerStatus::name).noneMatch(consumer::equals)) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException("consumer " + consumer + " did not start");
                }
                Thread.sleep(20); // a benchmark's own set-up, not a test: nothing to assert here
            }
        }
    }

    // ------------------------------------------------------------------ latency

    private String latency() throws Exception {
        int perSecond = smoke ? 200 : 1000;
        int seconds = smoke ? 2 : 20;
        double[] p50 = new double[rounds];
        double[] p99 = new double[rounds];
        double[] max = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long[] sorted = latencyRun("bench-latency-" + r, perSecond, seconds);
            p50[r] = percentile(sorted, 50) / 1000.0;
            p99[r] = percentile(sorted, 99) / 1000.0;
            max[r] = sorted[sorted.length - 1] / 1000.0;
        }
        return String.format(Locale.ROOT, "latency at %d tx/s, %d x %d s: commit-to-handler p50 %.2f ms (%s), p99 %.2f ms (%s), max %.2f ms (%s)",
                perSecond, rounds, seconds, median(p50), spread(p50, "%.2f"), median(p99), spread(p99, "%.2f"), median(max), spread(max, "%.2f"));
    }

    /** Latencies in microseconds, sorted. */
    private long[] latencyRun(String consumer, int perSecond, int seconds) throws Exception {
        exec("DELETE FROM bench_latency");
        int total = perSecond * seconds;
        ConcurrentHashMap<Long, Long> committedAt = new ConcurrentHashMap<>();
        long[] latenciesMicros = new long[total];
        AtomicLong received = new AtomicLong();
        CountDownLatch all = new CountDownLatch(1);
        ChangeHandler timer = new ChangeHandler() {
            @Override
            public void onInsert(Change change) {
                long now = System.nanoTime();
                long id = ((Number) change.key().get("id")).longValue();
                Long committed = committedAt.get(id);
                while (committed == null) { // the writer records its commit time just after the INSERT returns
                    Thread.onSpinWait();
                    committed = committedAt.get(id);
                }
                int i = (int) received.getAndIncrement();
                if (i < total) {
                    latenciesMicros[i] = Math.max(0, (now - committed) / 1000);
                }
                if (i + 1 == total) {
                    all.countDown();
                }
            }
        };
        openAtPresent(consumer, "bench_latency");
        try (Epidemic epidemic = Epidemic.builder(url, null, null).schema(logSchema).consumer(consumer)
                .handle("bench_latency", List.of(), timer).build().start();
             Connection c = DriverManager.getConnection(url);
             PreparedStatement ps = c.prepareStatement("INSERT INTO bench_latency (id, name) VALUES (?, 'x')")) {
            long interval = 1_000_000_000L / perSecond;
            long next = System.nanoTime();
            for (long id = 1; id <= total; id++) {
                while (System.nanoTime() < next) {
                    Thread.onSpinWait();
                }
                next += interval;
                ps.setLong(1, id);
                ps.executeUpdate();
                committedAt.put(id, System.nanoTime());
            }
            if (!all.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("only " + received.get() + " of " + total + " changes arrived");
            }
        }
        admin().prune();
        long[] sorted = latenciesMicros.clone();
        Arrays.sort(sorted);
        return sorted;
    }

    // ------------------------------------------------------------------ backfill

    private String backfill() throws Exception {
        int rows = smoke ? 20_000 : 1_000_000;
        // Existing rows: written before the table is watched, so that they are not in the log already.
        for (int i = 0; i < rows; i += 10_000) {
            exec("INSERT INTO bench_backfill (name, qty) SELECT CONCAT('user ', seq), seq MOD 1000 FROM seq_1_to_" + Math.min(10_000, rows - i));
        }
        exec("ANALYZE TABLE bench_backfill");
        admin().watch("bench_backfill", List.of(), List.of());
        double[] rates = new double[rounds];
        double[] loggedRates = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            String consumer = "bench-backfill-" + r;
            openAtPresent(consumer, "bench_backfill");
            LongAdder reads = new LongAdder();
            CountDownLatch all = new CountDownLatch(1);
            AtomicLong lastRead = new AtomicLong();
            ChangeHandler noop = new ChangeHandler() {
                @Override
                public void onRead(Change change) {
                    reads.increment();
                    if (reads.sum() == rows) {
                        lastRead.set(System.nanoTime());
                        all.countDown();
                    }
                }
            };
            try (Epidemic epidemic = Epidemic.builder(url, null, null).schema(logSchema).consumer(consumer).batchSize(5000)
                    .handle("bench_backfill", List.of(), noop).build().start()) {
                long start = System.nanoTime();
                try {
                    admin().backfill("bench_backfill", List.of(consumer), null, EpidemicAdmin.DEFAULT_CHUNK_SIZE, status -> { });
                } catch (UnsupportedOperationException notYet) {
                    return "backfill: not available (" + notYet.getMessage() + ")";
                }
                loggedRates[r] = rows / ((System.nanoTime() - start) / 1e9);
                if (!all.await(15, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("only " + reads.sum() + " of " + rows + " READs arrived");
                }
                rates[r] = rows / ((lastRead.get() - start) / 1e9);
            }
            admin().prune();
        }
        return String.format(Locale.ROOT, "backfill: %d x %d existing rows (chunk %d) to a running consumer's no-op handler: %.0f rows/s (%s)"
                        + " to the handler, %.0f rows/s (%s) into the log",
                rounds, rows, EpidemicAdmin.DEFAULT_CHUNK_SIZE, median(rates), spread(rates, "%.0f"), median(loggedRates), spread(loggedRates, "%.0f"));
    }

    // ------------------------------------------------------------------ helpers

    private static long percentile(long[] sorted, double p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static String spread(double[] values, String format) {
        double min = Arrays.stream(values).min().orElse(0);
        double max = Arrays.stream(values).max().orElse(0);
        return String.format(Locale.ROOT, format + "-" + format, min, max);
    }

    /** Every bench_* table of the database: the benchmark's and Epidemic's (its triggers go with their tables). */
    private void dropBenchTables() throws SQLException {
        List<String> tables = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT TABLE_NAME FROM information_schema.TABLES"
                     + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'bench\\_%'")) {
            while (rs.next()) {
                tables.add("`" + rs.getString(1).replace("`", "``") + "`");
            }
        }
        if (!tables.isEmpty()) {
            exec("DROP TABLE IF EXISTS " + String.join(", ", tables));
        }
    }

    private void exec(String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }
}
