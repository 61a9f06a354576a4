package dev.epidemic.bench;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Measures what capture costs writers and how fast changes arrive, against a real PostgreSQL:
 * <ol>
 *   <li>writer overhead: single-row INSERT transactions from 8 clients, without and with capture,
 *       alternating rounds, TPS and the ratio;</li>
 *   <li>drain: a backlog of changes to a no-op handler, changes/s;</li>
 *   <li>latency: a paced writer, commit-to-handler p50 / p99 / max.</li>
 * </ol>
 * Usage: {@code Benchmark JDBC_URL [--smoke]}. The database should be empty; tables bench_* are
 * created and dropped. Figures are printed, never asserted.
 */
public final class Benchmark {
    private final String url;
    private final boolean smoke;

    private Benchmark(String url, boolean smoke) {
        this.url = url;
        this.smoke = smoke;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Benchmark JDBC_URL [--smoke]");
            System.exit(2);
        }
        new Benchmark(args[0], Arrays.asList(args).contains("--smoke")).runAll();
    }

    /** Runs every measurement and returns the report lines it printed. */
    public List<String> runAll() throws Exception {
        List<String> report = new ArrayList<>();
        setUp();
        report.add(writerOverhead());
        report.add(drain());
        report.add(latency(smoke ? 200 : 1000, false));
        report.add(latency(smoke ? 200 : 1000, true));
        report.forEach(System.out::println);
        return report;
    }

    public static List<String> run(String url, boolean smoke) throws Exception {
        return new Benchmark(url, smoke).runAll();
    }

    private void setUp() throws SQLException {
        exec("DROP SCHEMA IF EXISTS epidemic CASCADE",
                "DROP TABLE IF EXISTS bench_plain, bench_watched, bench_drain, bench_latency",
                "CREATE TABLE bench_plain (id bigserial PRIMARY KEY, name text, qty int, at timestamptz DEFAULT now())",
                "CREATE TABLE bench_watched (id bigserial PRIMARY KEY, name text, qty int, at timestamptz DEFAULT now())",
                "CREATE TABLE bench_drain (id bigserial PRIMARY KEY, name text, qty int)",
                "CREATE TABLE bench_latency (id bigint PRIMARY KEY, name text)");
        EpidemicAdmin admin = EpidemicAdmin.create(url, null, null, "epidemic");
        admin.watch("bench_watched", List.of(), List.of());
        admin.watch("bench_drain", List.of(), List.of());
        admin.watch("bench_latency", List.of(), List.of());
    }

    // ------------------------------------------------------------------ writer overhead

    private String writerOverhead() throws Exception {
        int clients = 8;
        long seconds = smoke ? 1 : 10;
        int rounds = 3;
        double[] plain = new double[rounds];
        double[] watched = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            plain[r] = insertTps("bench_plain", clients, seconds);
            watched[r] = insertTps("bench_watched", clients, seconds);
            exec("TRUNCATE bench_plain");
        }
        double ratio = median(watched) / median(plain);
        return String.format(Locale.ROOT,
                "writer overhead, %d clients, single-row INSERT, %d x %d s: without capture %.0f TPS (%s), with capture %.0f TPS (%s), ratio %.2f",
                clients, rounds, seconds, median(plain), spread(plain), median(watched), spread(watched), ratio);
    }

    private double insertTps(String table, int clients, long seconds) throws Exception {
        LongAdder done = new LongAdder();
        long until = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        CountDownLatch ready = new CountDownLatch(clients);
        long[] start = new long[1];
        for (int i = 0; i < clients; i++) {
            Thread t = new Thread(() -> {
                try (Connection c = DriverManager.getConnection(url);
                     PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (name, qty) VALUES ('user', 42)")) {
                    ready.countDown();
                    ready.await();
                    while (System.nanoTime() < until) {
                        ps.executeUpdate();
                        done.increment();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            threads.add(t);
            t.start();
        }
        ready.await();
        start[0] = System.nanoTime();
        for (Thread t : threads) {
            t.join();
        }
        return done.sum() / ((System.nanoTime() - start[0]) / 1e9);
    }

    // ------------------------------------------------------------------ drain

    private String drain() throws Exception {
        int backlog = smoke ? 20_000 : 1_000_000;
        for (int i = 0; i < backlog; i += 10_000) {
            exec("INSERT INTO bench_drain (name, qty) SELECT 'user ' || g, g FROM generate_series(1, " + Math.min(10_000, backlog - i) + ") g");
        }
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
        Runtime rt = Runtime.getRuntime();
        long start = System.nanoTime();
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("bench-drain").batchSize(5000)
                .handle("bench_drain", List.of(), noop).build().start()) {
            drained.await();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long heapMb = (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024);
        return String.format(Locale.ROOT, "drain: %d changes to a no-op handler in %.1f s: %.0f changes/s (heap in use after: %d MB)",
                backlog, seconds, backlog / seconds, heapMb);
    }

    // ------------------------------------------------------------------ latency

    /**
     * @param holdingOldTransaction keep a transaction open (with a transaction id) from before the run
     *                              to its end: with the drained backlog still in the log, this shows that a
     *                              window costs what it contains, not the log's size or the open
     *                              transaction's age
     */
    private String latency(int perSecond, boolean holdingOldTransaction) throws Exception {
        if (!holdingOldTransaction) {
            return latencyRun(perSecond, "latency");
        }
        try (Connection open = DriverManager.getConnection(url); Statement st = open.createStatement()) {
            open.setAutoCommit(false);
            st.execute("INSERT INTO bench_plain (name, qty) VALUES ('held open', 0)");
            String line = latencyRun(perSecond, "latency with a transaction held open throughout, "
                    + queryLong("SELECT count(*) FROM epidemic.change_log") + " changes in the log,");
            open.rollback();
            return line;
        }
    }

    private String latencyRun(int perSecond, String label) throws Exception {
        exec("TRUNCATE bench_latency");
        int total = perSecond * (smoke ? 3 : 30);
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
                while (committed == null) { // the writer records its commit time just after commit() returns
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
        try (Epidemic epidemic = Epidemic.builder(url, null, null).consumer("bench-" + label.length()).startAtPresent(true)
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
            if (!all.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("only " + received.get() + " of " + total + " changes arrived");
            }
        }
        long[] sorted = latenciesMicros.clone();
        Arrays.sort(sorted);
        return String.format(Locale.ROOT, "%s at %d tx/s for %d s: commit-to-handler p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                label, perSecond, total / perSecond, percentile(sorted, 50) / 1000.0, percentile(sorted, 99) / 1000.0,
                sorted[sorted.length - 1] / 1000.0);
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

    private static String spread(double[] values) {
        double min = Arrays.stream(values).min().orElse(0);
        double max = Arrays.stream(values).max().orElse(0);
        return String.format(Locale.ROOT, "%.0f-%.0f", min, max);
    }

    private void exec(String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }

    private long queryLong(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
