package dev.epidemic.bench;

import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;

import java.io.DataInputStream;
import java.io.BufferedInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Measures Epidemic against its peers on one PostgreSQL, in one run, in alternating rounds:
 * <ol>
 *   <li>writer overhead: single-row INSERT and UPDATE transactions from 1 and 8 clients (pgbench, else
 *       Java), without and with Epidemic's capture trigger;</li>
 *   <li>drain: a backlog to a no-op handler (Epidemic and the Debezium embedded engine, each in a JVM of
 *       its own) and through {@code epidemic tail > /dev/null};</li>
 *   <li>latency: a paced writer at each rate, commit-to-handler p50 / p99 / max, for Epidemic (also with
 *       an old transaction held open), Debezium, and a raw LISTEN/NOTIFY ping-pong as the floor;</li>
 *   <li>memory: peak heap and RSS of each consumer process, start-up time (start to first change);</li>
 *   <li>backfill: the existing rows of a table to a consumer's no-op handler, per chunk size; the writers'
 *       UPDATE TPS on that table while backfills run; Debezium's initial snapshot of the same rows.</li>
 * </ol>
 * Usage: {@code Benchmark JDBC_URL [--smoke] [--debezium-url URL] [--out DIR] [--cli-jar PATH]}. The
 * database should be one the benchmark may fill: it creates bench_* tables and drops the epidemic schema.
 * Prints a table, writes results.json and PNG charts to DIR. Figures are printed, never asserted.
 */
public final class Benchmark {
    static final String EPIDEMIC = "Epidemic";
    static final String EPIDEMIC_OPEN_TX = "Epidemic, old transaction open";
    static final String TAIL = "epidemic tail > /dev/null";
    static final String DEBEZIUM = "Debezium (poll.interval.ms=5)";
    static final String DEBEZIUM_DEFAULTS = "Debezium (defaults)";
    static final String PING_PONG = "LISTEN/NOTIFY ping-pong";
    static final String BACKFILL_CONCURRENT = "Epidemic backfill, consumer running";
    static final String BACKFILL_ALONE = "Epidemic backfill alone (consumer stopped)";
    static final String BACKFILL_DELIVERY = "Epidemic consumer started afterwards, delivering the logged READs";
    static final String DEBEZIUM_SNAPSHOT = "Debezium embedded, snapshot.mode=initial";
    private static final int BACKFILL_WRITERS = 8;
    /** Rate limits of the backfills run during the writers: none, and one that leaves the writers most of the machine. */
    private static final List<Long> BACKFILL_WRITER_RATES = List.of(0L, 20_000L);
    private static final List<String> OPERATIONS = List.of("INSERT", "UPDATE");
    private static final List<Integer> CLIENTS = List.of(1, 8);
    /** No capture, Epidemic's, and the peer: a plain row trigger into a log of its own (bench_peer_capture). */
    private static final List<String> WRITER_VARIANTS = List.of("plain", "watched", "rowtrigger");

    /** What to run against: the Debezium server may differ when the main one lacks wal_level=logical. */
    /** {@code parts}: which of {@link #ALL_PARTS} to run. */
    public record Options(String url, String debeziumUrl, boolean smoke, Path out, Path cliJar, Set<String> parts) {
        public Options(String url, String debeziumUrl, boolean smoke, Path out, Path cliJar) {
            this(url, debeziumUrl, smoke, out, cliJar, Set.copyOf(ALL_PARTS));
        }
    }

    /** The parts of a run, in the order they run. */
    public static final List<String> ALL_PARTS = List.of("writers", "drain", "latency", "backfill");

    private final Options options;
    private final Mode mode;
    private final PgUrl db;
    private final PgUrl dz;
    private final WriterLoad load;
    private final String publication = "epidemic_bench_pub_" + ProcessHandle.current().pid();
    private final Rounds rounds = new Rounds();
    private final List<String> notes = new ArrayList<>();
    private DebeziumSlots slots;

    private Benchmark(Options options) {
        this.options = options;
        this.mode = options.smoke() ? Mode.SMOKE : Mode.FULL;
        this.db = PgUrl.parse(options.url());
        this.dz = PgUrl.parse(options.debeziumUrl() == null ? options.url() : options.debeziumUrl());
        this.load = WriterLoad.pgbench().orElse(new WriterLoad.Java());
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args[0].startsWith("--")) {
            System.err.println("usage: Benchmark JDBC_URL [--smoke] [--only writers,drain,latency,backfill] [--debezium-url URL] [--out DIR] [--cli-jar PATH]");
            System.exit(2);
        }
        String debeziumUrl = null;
        Path out = Path.of("epidemic-bench/target/bench-results");
        Path cliJar = Path.of("epidemic-cli/target/epidemic-cli-all.jar");
        boolean smoke = false;
        Set<String> parts = new LinkedHashSet<>(ALL_PARTS);
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--smoke" -> smoke = true;
                case "--only" -> {
                    parts = new LinkedHashSet<>(List.of(args[++i].split(",")));
                    if (parts.isEmpty() || !ALL_PARTS.containsAll(parts)) {
                        System.err.println("--only takes a comma-separated list of " + String.join(", ", ALL_PARTS) + ": " + args[i]);
                        System.exit(2);
                    }
                }
                case "--debezium-url" -> debeziumUrl = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                case "--cli-jar" -> cliJar = Path.of(args[++i]);
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        run(new Options(args[0], debeziumUrl, smoke, out, cliJar, parts));
        System.exit(0); // Debezium and JDBC leave non-daemon threads behind
    }

    /** Runs everything, prints the table, writes results.json and the charts into {@code options.out()}. */
    public static Results run(Options options) throws Exception {
        return new Benchmark(options).runAll();
    }

    private Results runAll() throws Exception {
        String started = Instant.now().toString();
        Files.createDirectories(options.out());
        if (!Files.isRegularFile(options.cliJar())) {
            throw new IllegalStateException("no CLI jar at " + options.cliJar().toAbsolutePath() + "; build it with mvn -pl epidemic-cli -am package");
        }
        DebeziumSlots.ensureLogical(dz, !mode.smoke());
        slots = new DebeziumSlots(dz);
        slots.dropOrphans();
        setUp();
        try {
            if (options.parts().contains("writers")) {
                log("writer overhead (" + load.name() + ")");
                writerOverhead();
            }
            if (options.parts().contains("drain")) {
                log("drain");
                drain();
            }
            if (options.parts().contains("latency")) {
                log("latency");
                latency();
            }
            if (options.parts().contains("backfill")) {
                log("backfill");
                backfill();
            }
        } finally {
            slots.dropAll();
            dz.exec("DROP PUBLICATION IF EXISTS " + publication);
        }
        notes.add("memory: each consumer (Epidemic dispatcher, Debezium engine) runs alone in a child JVM with " + ChildJvm.HEAP
                + "; peak heap is the heap in use sampled every 10 ms (garbage included), peak RSS is the child's own VmHWM from /proc."
                + " For epidemic tail the parent samples the tail process's VmHWM every 50 ms.");
        notes.add("latency: from the moment the writer's autocommit INSERT returned to the moment the handler was called (System.nanoTime, CLOCK_MONOTONIC, comparable across the processes).");
        notes.add("Debezium: embedded engine 3.6.1.Final, pgoutput, Connect format (SourceRecord, no JSON serialisation), snapshot.mode=no_data,"
                + " a slot created before the backlog and dropped after each run, FileOffsetBackingStore in a temp file.");
        notes.add("start-up: from starting the engine in the consumer process to the first change handed to the handler (JVM start not included).");
        Results results = new Results(started, mode.name(), mode.rounds(), db.host() + ":" + db.port() + "/" + db.database() + " (" + serverVersion(db) + ")",
                dz.host() + ":" + dz.port() + "/" + dz.database() + " (" + serverVersion(dz) + ")", load.name(),
                "child JVM per consumer; heap sampled in-process, RSS = VmHWM of that process", writerRows(), drainRows(), latencyRows(),
                backfillRows(), backfillWriterRows(), notes);
        Report.print(results, System.out);
        Report.writeJson(results, options.out().resolve("results.json"));
        Charts.write(results, rounds, options.out());
        System.out.println("results: " + options.out().resolve("results.json").toAbsolutePath() + ", charts: " + options.out().toAbsolutePath() + "/*.png");
        return results;
    }

    private static String serverVersion(PgUrl url) throws Exception {
        return "PostgreSQL " + url.queryString("SHOW server_version") + ", wal_level " + url.queryString("SHOW wal_level");
    }

    private void log(String section) {
        System.out.println("== " + section + " (" + mode.name() + ", " + mode.rounds() + " round(s))");
    }

    // ------------------------------------------------------------------ set-up

    private void setUp() throws Exception {
        db.exec("DROP SCHEMA IF EXISTS epidemic CASCADE",
                "DROP TABLE IF EXISTS bench_ins_plain, bench_ins_watched, bench_upd_plain, bench_upd_watched, bench_drain, bench_latency,"
                        + " bench_backfill, bench_backfill_probe",
                "CREATE TABLE bench_ins_plain (id bigserial PRIMARY KEY, name text, qty int, at timestamptz DEFAULT now())",
                "CREATE TABLE bench_ins_watched (LIKE bench_ins_plain INCLUDING ALL)",
                "CREATE TABLE bench_upd_plain (id bigserial PRIMARY KEY, name text, qty int, at timestamptz DEFAULT now())",
                "CREATE TABLE bench_upd_watched (LIKE bench_upd_plain INCLUDING ALL)",
                // The peer of issue 12: a plain row trigger that appends each row, as jsonb, to a log of its own.
                "DROP TABLE IF EXISTS bench_ins_rowtrigger, bench_upd_rowtrigger, bench_peer_log",
                "CREATE TABLE bench_peer_log (id bigserial PRIMARY KEY, txid xid8 NOT NULL, op \"char\" NOT NULL, old jsonb, new jsonb,"
                        + " at timestamptz NOT NULL DEFAULT statement_timestamp())",
                "CREATE INDEX ON bench_peer_log (txid)",
                "CREATE OR REPLACE FUNCTION bench_peer_capture() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " INSERT INTO bench_peer_log (txid, op, old, new) VALUES (pg_current_xact_id(), left(TG_OP, 1),"
                        + " CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END, to_jsonb(NEW)); RETURN NULL; END $$",
                "CREATE TABLE bench_ins_rowtrigger (LIKE bench_ins_plain INCLUDING ALL)",
                "CREATE TABLE bench_upd_rowtrigger (LIKE bench_upd_plain INCLUDING ALL)",
                "CREATE TRIGGER peer AFTER INSERT OR UPDATE ON bench_ins_rowtrigger FOR EACH ROW EXECUTE FUNCTION bench_peer_capture()",
                "CREATE TRIGGER peer AFTER INSERT OR UPDATE ON bench_upd_rowtrigger FOR EACH ROW EXECUTE FUNCTION bench_peer_capture()",
                "INSERT INTO bench_upd_plain (id, name, qty) SELECT g, 'user ' || g, 0 FROM generate_series(1, " + WriterLoad.UPDATE_ROWS + ") g",
                "INSERT INTO bench_upd_watched SELECT * FROM bench_upd_plain",
                "INSERT INTO bench_upd_rowtrigger SELECT * FROM bench_upd_plain",
                "TRUNCATE bench_peer_log",
                "CREATE TABLE bench_drain (id bigserial PRIMARY KEY, name text, qty int)",
                "CREATE TABLE bench_latency (id bigint PRIMARY KEY, name text)",
                // The backfill part fills it (unwatched, so that the rows are existing rows, not logged inserts).
                "CREATE TABLE bench_backfill (id bigserial PRIMARY KEY, name text, qty int, at timestamptz DEFAULT now())",
                "CREATE TABLE bench_backfill_probe (id bigint PRIMARY KEY, name text)",
                "VACUUM ANALYZE bench_upd_plain", "VACUUM ANALYZE bench_upd_watched", "VACUUM ANALYZE bench_upd_rowtrigger");
        resetCapture();
        dz.exec("DROP PUBLICATION IF EXISTS " + publication,
                "DROP TABLE IF EXISTS bench_drain_dz, bench_latency_dz, bench_backfill_dz",
                "CREATE TABLE bench_drain_dz (id bigserial PRIMARY KEY, name text, qty int)",
                "CREATE TABLE bench_latency_dz (id bigint PRIMARY KEY, name text)",
                "CREATE TABLE bench_backfill_dz (id bigserial PRIMARY KEY, name text, qty int, at timestamptz DEFAULT now())",
                "CREATE PUBLICATION " + publication + " FOR TABLE bench_drain_dz, bench_latency_dz, bench_backfill_dz");
    }

    /** A fresh epidemic schema: an empty log, no consumers, capture on the watched tables. */
    private void resetCapture() throws Exception {
        db.exec("DROP SCHEMA IF EXISTS epidemic CASCADE");
        EpidemicAdmin admin = EpidemicAdmin.create(db.jdbc(), null, null, "epidemic");
        for (String table : List.of("bench_ins_watched", "bench_upd_watched", "bench_drain", "bench_latency")) {
            admin.watch(table, List.of(), List.of());
        }
    }

    // ------------------------------------------------------------------ writer overhead

    private void writerOverhead() throws Exception {
        for (int r = 0; r < mode.rounds(); r++) {
            for (String op : OPERATIONS) {
                for (int clients : CLIENTS) {
                    String table = op.equals("INSERT") ? "bench_ins" : "bench_upd";
                    // Rotate which goes first, so that drift on a shared machine favours none.
                    List<String> variants = new ArrayList<>(WRITER_VARIANTS);
                    Collections.rotate(variants, r);
                    for (String variant : variants) {
                        double tps = load.tps(db, table + "_" + variant, op, clients, mode);
                        rounds.add(writerKey(op, clients, load.name(), variant), tps);
                        System.out.printf("  round %d %s %d client(s) %s: %.0f TPS%n", r + 1, op, clients, variant, tps);
                    }
                    if (op.equals("INSERT")) {
                        db.exec("TRUNCATE bench_ins_plain", "TRUNCATE bench_ins_watched", "TRUNCATE bench_ins_rowtrigger");
                    }
                    db.exec("TRUNCATE bench_peer_log");
                }
            }
            if (mode.smoke()) { // the smoke run also keeps the Java load generator from rotting
                WriterLoad java = new WriterLoad.Java();
                for (String variant : List.of("plain", "watched")) {
                    rounds.add(writerKey("INSERT", 2, java.name(), variant), java.tps(db, "bench_ins_" + variant, "INSERT", 2, mode));
                }
            }
        }
    }

    private static String writerKey(String op, int clients, String load, String variant) {
        return "writer|" + op + "|" + clients + "|" + load + "|" + variant;
    }

    private List<Results.WriterRow> writerRows() {
        List<Results.WriterRow> rows = new ArrayList<>();
        for (String loadName : List.of("pgbench", "java")) {
            for (String op : OPERATIONS) {
                for (int clients : List.of(1, 2, 8)) {
                    if (!rounds.has(writerKey(op, clients, loadName, "plain"))) {
                        continue;
                    }
                    Figure plain = rounds.figure(writerKey(op, clients, loadName, "plain"));
                    Figure watched = rounds.figure(writerKey(op, clients, loadName, "watched"));
                    String peerKey = writerKey(op, clients, loadName, "rowtrigger");
                    Figure rowTrigger = rounds.has(peerKey) ? rounds.figure(peerKey) : null;
                    rows.add(new Results.WriterRow(op, clients, loadName, plain, watched, watched.ratioTo(plain), rowTrigger,
                            rowTrigger == null ? Double.NaN : rowTrigger.ratioTo(plain)));
                }
            }
        }
        return rows;
    }

    // ------------------------------------------------------------------ drain

    private void drain() throws Exception {
        for (int r = 0; r < mode.rounds(); r++) {
            if (r % 2 == 0) {
                drainEpidemic(r);
                drainDebezium(r);
            } else {
                drainDebezium(r);
                drainEpidemic(r);
            }
        }
    }

    private void backlog(PgUrl target, String table) throws Exception {
        long start = System.nanoTime();
        int n = mode.drainBacklog();
        for (int i = 0; i < n; i += 10_000) {
            target.exec("INSERT INTO " + table + " (name, qty) SELECT 'user ' || g, g FROM generate_series(1, " + Math.min(10_000, n - i) + ") g");
        }
        System.out.printf("  %d changes written to %s in %.1f s%n", n, table, (System.nanoTime() - start) / 1e9);
    }

    private void drainEpidemic(int round) throws Exception {
        db.exec("TRUNCATE bench_drain");
        resetCapture();
        backlog(db, "bench_drain");
        int n = mode.drainBacklog();
        Map<String, String> result = ChildJvm.start(childLog("drain-epidemic", round), List.of("system=epidemic", "mode=drain",
                "url=" + db.jdbc(), "table=bench_drain", "count=" + n, "consumer=bench-drain-" + round, "batch=5000")).awaitResult(1800);
        recordDrain(EPIDEMIC, result, n, round);

        // The same backlog again, through the command line, as a separate process printing JSON to /dev/null.
        List<String> command = List.of(ChildJvm.javaExecutable(), ChildJvm.HEAP, "-jar", options.cliJar().toString(), "tail",
                "--url", db.jdbc(), "--consumer", "bench-tail-" + round, "--max", String.valueOf(n), "--batch-size", "5000");
        long start = System.nanoTime();
        Process tail = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.appendTo(childLog("drain-tail", round).toFile())).start();
        long rssKb = -1;
        while (!tail.waitFor(50, TimeUnit.MILLISECONDS)) {
            rssKb = ProcessMemory.vmHwmKbOrLast(tail.pid(), rssKb);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (tail.exitValue() != 0) {
            throw new IllegalStateException("epidemic tail exited with " + tail.exitValue() + " (log: " + childLog("drain-tail", round) + ")");
        }
        rounds.add("drain|" + TAIL + "|rate", n / seconds);
        rounds.add("drain|" + TAIL + "|rssMb", rssKb / 1024.0);
        System.out.printf("  round %d %s: %.0f changes/s (JVM start included)%n", round + 1, TAIL, n / seconds);
    }

    private void drainDebezium(int round) throws Exception {
        dz.exec("TRUNCATE bench_drain_dz");
        String slot = slots.create();
        try {
            backlog(dz, "bench_drain_dz");
            int n = mode.drainBacklog();
            Map<String, String> result = ChildJvm.start(childLog("drain-debezium", round), List.of("system=debezium", "mode=drain",
                    "url=" + dz.jdbc(), "table=bench_drain_dz", "count=" + n, "slot=" + slot, "publication=" + publication,
                    "offsets=" + offsetsFile())).awaitResult(1800);
            recordDrain(DEBEZIUM_DEFAULTS, result, n, round);
        } finally {
            slots.drop(slot);
        }
    }

    private void recordDrain(String system, Map<String, String> result, int n, int round) {
        double rate = n / (Long.parseLong(result.get("elapsedNanos")) / 1e9);
        rounds.add("drain|" + system + "|rate", rate);
        recordProcess("drain|" + system, result);
        System.out.printf("  round %d %s: %.0f changes/s, start-up %.0f ms%n", round + 1, system, rate,
                Long.parseLong(result.get("startupNanos")) / 1e6);
    }

    private void recordProcess(String key, Map<String, String> result) {
        rounds.add(key + "|startupMs", Long.parseLong(result.get("startupNanos")) / 1e6);
        rounds.add(key + "|heapMb", Long.parseLong(result.get("peakHeapBytes")) / (1024.0 * 1024.0));
        rounds.add(key + "|rssMb", Long.parseLong(result.get("peakRssKb")) / 1024.0);
    }

    private List<Results.DrainRow> drainRows() {
        List<Results.DrainRow> rows = new ArrayList<>();
        Figure epidemic = rounds.figure("drain|" + EPIDEMIC + "|rate");
        for (String system : List.of(EPIDEMIC, TAIL, DEBEZIUM_DEFAULTS)) {
            String key = "drain|" + system;
            if (!rounds.has(key + "|rate")) {
                continue; // not run (--only)
            }
            Figure rate = rounds.figure(key + "|rate");
            rows.add(new Results.DrainRow(system, mode.drainBacklog(), rate, rounds.figure(key + "|startupMs"),
                    rounds.figure(key + "|heapMb"), rounds.figure(key + "|rssMb"), rate.ratioTo(epidemic)));
        }
        return rows;
    }

    // ------------------------------------------------------------------ latency

    private void latency() throws Exception {
        List<Integer> rates = mode.latencyRates();
        List<Integer> firstRateOnly = List.of(rates.get(0));
        for (int r = 0; r < mode.rounds(); r++) {
            List<Runnable> runs = new ArrayList<>();
            int round = r;
            runs.add(unchecked(() -> latencyEpidemic(EPIDEMIC, rates, round, false)));
            runs.add(unchecked(() -> latencyDebezium(DEBEZIUM, "5", rates, round)));
            if (!mode.smoke()) {
                runs.add(unchecked(() -> latencyDebezium(DEBEZIUM_DEFAULTS, null, firstRateOnly, round)));
            }
            runs.add(unchecked(() -> latencyEpidemic(EPIDEMIC_OPEN_TX, firstRateOnly, round, true)));
            runs.add(unchecked(() -> {
                long[] micros = PingPong.latenciesMicros(db, mode.pings());
                recordLatency(PING_PONG, 0, micros, mode.pings(), round);
            }));
            if (r % 2 == 1) {
                java.util.Collections.reverse(runs);
            }
            runs.forEach(Runnable::run);
        }
    }

    private void latencyEpidemic(String system, List<Integer> rates, int round, boolean holdTransactionOpen) throws Exception {
        db.exec("TRUNCATE bench_latency");
        try (Connection open = db.connect(); Statement st = open.createStatement()) {
            if (holdTransactionOpen) {
                // Holds the oldest xmin down for the whole run, over a log that still holds the drained backlog.
                open.setAutoCommit(false);
                st.execute("INSERT INTO bench_ins_plain (name, qty) VALUES ('held open', 0)");
            }
            latencyRun(system, rates, round, db, "bench_latency",
                    List.of("system=epidemic", "consumer=bench-latency-" + round + (holdTransactionOpen ? "-open" : "")));
            if (holdTransactionOpen) {
                open.rollback();
            }
        }
    }

    private void latencyDebezium(String system, String pollMs, List<Integer> rates, int round) throws Exception {
        dz.exec("TRUNCATE bench_latency_dz");
        String slot = slots.create();
        try {
            List<String> args = new ArrayList<>(List.of("system=debezium", "slot=" + slot, "publication=" + publication, "offsets=" + offsetsFile()));
            if (pollMs != null) {
                args.add("poll=" + pollMs);
            }
            latencyRun(system, rates, round, dz, "bench_latency_dz", args);
        } finally {
            slots.drop(slot);
        }
    }

    /** One consumer process, the paced writer at each rate in turn (ids continue), then the latencies per rate. */
    private void latencyRun(String system, List<Integer> rates, int round, PgUrl target, String table, List<String> systemArgs) throws Exception {
        int total = rates.stream().mapToInt(rate -> rate * mode.latencySeconds()).sum();
        Path times = Files.createTempFile("bench-arrivals-", ".bin");
        try {
            List<String> args = new ArrayList<>(systemArgs);
            args.addAll(List.of("mode=latency", "url=" + target.jdbc(), "table=" + table, "count=" + total, "times=" + times));
            ChildJvm child = ChildJvm.start(childLog("latency-" + system.replaceAll("[^A-Za-z0-9]+", "-"), round), args);
            child.awaitStreaming(180);
            List<PacedWriter.Run> runs = new ArrayList<>();
            long firstId = 1;
            for (int rate : rates) {
                PacedWriter.Run run = PacedWriter.run(target, table, rate, mode.latencySeconds(), firstId);
                runs.add(run);
                firstId += run.commitNanos().length;
            }
            Map<String, String> result = child.awaitResult(120 + (long) rates.size() * mode.latencySeconds());
            long[] arrivals = readLongs(times, total);
            for (int i = 0; i < rates.size(); i++) {
                PacedWriter.Run run = runs.get(i);
                String key = "latency|" + system + "|" + rates.get(i);
                rounds.add(key + "|achieved", run.achievedRate());
                recordProcess(key, result);
                recordLatency(system, rates.get(i), PacedWriter.latenciesMicros(run, arrivals), run.achievedRate(), round);
            }
        } finally {
            Files.deleteIfExists(times);
        }
    }

    private void recordLatency(String system, int rate, long[] micros, double achieved, int round) {
        String key = "latency|" + system + "|" + rate;
        long[] sorted = Figure.sortedCopy(micros);
        rounds.addSamples(key, sorted);
        if (rate == 0) {
            rounds.add(key + "|achieved", achieved);
        }
        double p50 = Figure.percentile(sorted, 50) / 1000.0;
        double p99 = Figure.percentile(sorted, 99) / 1000.0;
        double max = sorted[sorted.length - 1] / 1000.0;
        rounds.add(key + "|p50", p50);
        rounds.add(key + "|p99", p99);
        rounds.add(key + "|max", max);
        System.out.printf("  round %d %s at %s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (achieved %.0f/s)%n", round + 1, system,
                rate == 0 ? "ping-pong" : rate + "/s", p50, p99, max, achieved);
    }

    private List<Results.LatencyRow> latencyRows() {
        List<Results.LatencyRow> rows = new ArrayList<>();
        List<Integer> rates = new ArrayList<>(mode.latencyRates());
        rates.add(0);
        for (int rate : rates) {
            Figure epidemicP50 = rounds.figure("latency|" + EPIDEMIC + "|" + rate + "|p50");
            for (String system : List.of(EPIDEMIC, EPIDEMIC_OPEN_TX, DEBEZIUM, DEBEZIUM_DEFAULTS, PING_PONG)) {
                String key = "latency|" + system + "|" + rate;
                if (!rounds.has(key + "|p50")) {
                    continue;
                }
                Figure p50 = rounds.figure(key + "|p50");
                double ratio = rate == 0 ? p50.ratioTo(rounds.figure("latency|" + EPIDEMIC + "|" + mode.latencyRates().get(0) + "|p50")) : p50.ratioTo(epidemicP50);
                rows.add(new Results.LatencyRow(system, rate, rounds.figure(key + "|achieved"), p50, rounds.figure(key + "|p99"),
                        rounds.figure(key + "|max"), rounds.figure(key + "|startupMs"), rounds.figure(key + "|heapMb"),
                        rounds.figure(key + "|rssMb"), ratio));
            }
        }
        return rows;
    }

    // ------------------------------------------------------------------ backfill

    private void backfill() throws Exception {
        int n = mode.backfillRows();
        long start = System.nanoTime();
        fillBackfillTable(db, "bench_backfill");
        fillBackfillTable(dz, "bench_backfill_dz");
        System.out.printf("  %d existing rows written to bench_backfill and bench_backfill_dz in %.1f s%n", n, (System.nanoTime() - start) / 1e9);
        for (int r = 0; r < mode.rounds(); r++) {
            int round = r;
            List<Runnable> runs = new ArrayList<>();
            for (int chunk : mode.backfillChunkSizes()) {
                runs.add(unchecked(() -> backfillWithConsumer(chunk, round)));
            }
            runs.add(unchecked(() -> backfillThenDeliver(EpidemicAdmin.DEFAULT_CHUNK_SIZE, round)));
            for (long rate : BACKFILL_WRITER_RATES) {
                runs.add(unchecked(() -> backfillWriters(EpidemicAdmin.DEFAULT_CHUNK_SIZE, rate, round)));
            }
            runs.add(unchecked(() -> snapshotDebezium(round)));
            if (r % 2 == 1) {
                java.util.Collections.reverse(runs);
            }
            runs.forEach(Runnable::run);
        }
        notes.add("backfill: " + n + " existing rows (id bigserial key, name text, qty int, at timestamptz), written before capture was on"
                + " and vacuumed. Epidemic: EpidemicAdmin.backfill in the benchmark's JVM, the consumer (batch size 5,000, no-op handler,"
                + " counting READs) in a child JVM that was already streaming; rows/s to the handler = rows / (backfill call to the"
                + " handler's last READ); rows/s into the log = rows / (backfill call to its return). A fresh epidemic schema per run."
                + " Debezium: from engine start (connecting included) to the last snapshot record handled, defaults otherwise.");
        notes.add("writers during a backfill: pgbench, " + BACKFILL_WRITERS + " clients, single-row UPDATE of a random row of the "
                + n + "-row backfilled (watched) table; with backfill = backfills of that table (chunk " + EpidemicAdmin.DEFAULT_CHUNK_SIZE
                + ", one after the other, no consumer running) for the whole pgbench run; without and with alternate.");
    }

    private void fillBackfillTable(PgUrl target, String table) throws Exception {
        target.exec("TRUNCATE " + table,
                "INSERT INTO " + table + " (id, name, qty) SELECT g, 'user ' || g, g % 1000 FROM generate_series(1, " + mode.backfillRows() + ") g",
                "VACUUM ANALYZE " + table);
    }

    /** A fresh epidemic schema with the backfilled table and the consumer's probe table watched. */
    private EpidemicAdmin resetBackfill() throws Exception {
        resetCapture();
        EpidemicAdmin admin = EpidemicAdmin.create(db.jdbc(), null, null, "epidemic");
        admin.watch("bench_backfill", List.of(), List.of());
        admin.watch("bench_backfill_probe", List.of(), List.of());
        db.exec("TRUNCATE bench_backfill_probe");
        return admin;
    }

    private List<String> backfillConsumerArgs(String consumer) {
        return List.of("system=epidemic", "mode=backfill", "url=" + db.jdbc(), "table=bench_backfill", "probe=bench_backfill_probe",
                "count=" + mode.backfillRows(), "consumer=" + consumer, "batch=5000");
    }

    /** The backfill with its consumer running, as a user runs them: to the handler's last READ, and until every row is logged. */
    private void backfillWithConsumer(int chunk, int round) throws Exception {
        EpidemicAdmin admin = resetBackfill();
        int n = mode.backfillRows();
        String consumer = "bench-backfill-" + round + "-" + chunk;
        ChildJvm child = ChildJvm.start(childLog("backfill-epidemic-" + chunk, round), backfillConsumerArgs(consumer));
        child.awaitStreaming(180);
        long start = System.nanoTime();
        admin.backfill("bench_backfill", List.of(consumer), null, chunk, status -> { });
        long logged = System.nanoTime();
        Map<String, String> result = child.awaitResult(1800);
        long last = Long.parseLong(result.get("lastNanos"));
        String key = "backfill|" + BACKFILL_CONCURRENT + "|" + chunk;
        rounds.add(key + "|rate", n / ((last - start) / 1e9));
        rounds.add(key + "|logged", n / ((logged - start) / 1e9));
        System.out.printf("  round %d %s, chunk %d: %.0f rows/s to the handler (%.1f s), %.0f rows/s into the log (%.1f s)%n", round + 1,
                BACKFILL_CONCURRENT, chunk, n / ((last - start) / 1e9), (last - start) / 1e9, n / ((logged - start) / 1e9), (logged - start) / 1e9);
    }

    /** Where the time goes: the backfill with its consumer stopped (logging alone), then the consumer alone (delivery). */
    private void backfillThenDeliver(int chunk, int round) throws Exception {
        EpidemicAdmin admin = resetBackfill();
        int n = mode.backfillRows();
        String consumer = "bench-backfill-alone-" + round;
        createConsumer(admin, consumer);
        long start = System.nanoTime();
        admin.backfill("bench_backfill", List.of(consumer), null, chunk, status -> { });
        double loggedRate = n / ((System.nanoTime() - start) / 1e9);
        rounds.add("backfill|" + BACKFILL_ALONE + "|" + chunk + "|logged", loggedRate);
        Map<String, String> result = ChildJvm.start(childLog("backfill-delivery", round), backfillConsumerArgs(consumer)).awaitResult(1800);
        double deliveryRate = n / (Long.parseLong(result.get("elapsedNanos")) / 1e9);
        rounds.add("backfill|" + BACKFILL_DELIVERY + "|" + chunk + "|rate", deliveryRate);
        System.out.printf("  round %d %s, chunk %d: %.0f rows/s into the log; then the consumer: %.0f READs/s (engine start to last READ)%n",
                round + 1, BACKFILL_ALONE, chunk, loggedRate, deliveryRate);
    }

    /** Creates a consumer at the present (it then exists, and a backfill can target it) and stops it. */
    private void createConsumer(EpidemicAdmin admin, String consumer) throws Exception {
        try (Epidemic ignored = Epidemic.builder(db.jdbc(), null, null).consumer(consumer).startAtPresent(true)
                .handle("bench_backfill", List.of(), new ChangeHandler() {
                }).build().start()) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (admin.status().stream().map(ConsumerStatus::name).noneMatch(consumer::equals)) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException("consumer " + consumer + " did not start");
                }
                Thread.sleep(20); // the benchmark's own set-up: waits for the consumer row, nothing to assert
            }
        }
    }

    /**
     * Writers' UPDATE TPS on the backfilled table without and with backfills running through the whole pgbench
     * run, the backfills as fast as they go ({@code maxRate} 0) or paced to {@code maxRate} rows a second.
     */
    private void backfillWriters(int chunk, long maxRate, int round) throws Exception {
        String key = "backfill|writers|" + maxRate + "|";
        EpidemicAdmin admin = resetBackfill();
        String consumer = "bench-backfill-writers-" + round;
        createConsumer(admin, consumer);
        int n = mode.backfillRows();
        for (boolean withBackfill : round % 2 == 0 ? List.of(false, true) : List.of(true, false)) {
            double tps;
            if (!withBackfill) {
                tps = load.tps(db, "bench_backfill", "UPDATE", BACKFILL_WRITERS, mode, n);
            } else {
                long before = Long.parseLong(db.queryString("SELECT count(*) FROM epidemic.change_log WHERE op = 'R'"));

                java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
                java.util.concurrent.atomic.AtomicReference<Exception> failed = new java.util.concurrent.atomic.AtomicReference<>();
                Thread backfills = new Thread(() -> {
                    try {
                        while (!done.get()) { // a finished backfill is followed by a new one of the same rows
                            admin.backfill("bench_backfill", List.of(consumer), null, chunk, maxRate, status -> { });
                        }
                    } catch (Exception e) {
                        if (!done.get()) {
                            failed.set(e);
                        }
                    }
                }, "bench-backfills");
                long start = System.nanoTime();
                backfills.start();
                try {
                    tps = load.tps(db, "bench_backfill", "UPDATE", BACKFILL_WRITERS, mode, n);
                } finally {
                    done.set(true);
                    backfills.interrupt(); // stops the running backfill after its chunk (it stays unfinished)
                    backfills.join(60_000);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                if (failed.get() != null) {
                    throw failed.get();
                }
                long reads = Long.parseLong(db.queryString("SELECT count(*) FROM epidemic.change_log WHERE op = 'R'")) - before;
                rounds.add(key + "reads", reads / seconds);
                System.out.printf("  round %d backfills during the writers (max rate %s): %.0f rows/s into the log%n", round + 1,
                        maxRate == 0 ? "none" : maxRate, reads / seconds);
            }
            rounds.add(key + (withBackfill ? "with" : "without"), tps);
            System.out.printf("  round %d UPDATE %d clients on the backfilled table, %s backfill (max rate %s): %.0f TPS%n", round + 1,
                    BACKFILL_WRITERS, withBackfill ? "with" : "without", maxRate == 0 ? "none" : maxRate, tps);
        }
    }

    /** Debezium's initial snapshot of the same rows, from engine start to the last snapshot record handled. */
    private void snapshotDebezium(int round) throws Exception {
        String slot = slots.create();
        try {
            int n = mode.backfillRows();
            Map<String, String> result = ChildJvm.start(childLog("backfill-debezium", round), List.of("system=debezium", "mode=drain",
                    "url=" + dz.jdbc(), "table=bench_backfill_dz", "count=" + n, "slot=" + slot, "publication=" + publication,
                    "offsets=" + offsetsFile(), "snapshot=initial")).awaitResult(1800);
            double rate = n / (Long.parseLong(result.get("elapsedNanos")) / 1e9);
            rounds.add("backfill|" + DEBEZIUM_SNAPSHOT + "|0|rate", rate);
            recordProcess("backfill|" + DEBEZIUM_SNAPSHOT, result);
            System.out.printf("  round %d %s: %.0f rows/s (%.1f s)%n", round + 1, DEBEZIUM_SNAPSHOT, rate,
                    Long.parseLong(result.get("elapsedNanos")) / 1e9);
        } finally {
            slots.drop(slot);
        }
    }

    private List<Results.BackfillRow> backfillRows() {
        List<Results.BackfillRow> rows = new ArrayList<>();
        for (int chunk : mode.backfillChunkSizes()) {
            backfillRow(rows, BACKFILL_CONCURRENT, chunk);
        }
        backfillRow(rows, BACKFILL_ALONE, EpidemicAdmin.DEFAULT_CHUNK_SIZE);
        backfillRow(rows, BACKFILL_DELIVERY, EpidemicAdmin.DEFAULT_CHUNK_SIZE);
        backfillRow(rows, DEBEZIUM_SNAPSHOT, 0);
        return rows;
    }

    private void backfillRow(List<Results.BackfillRow> rows, String system, int chunk) {
        String key = "backfill|" + system + "|" + chunk;
        if (rounds.has(key + "|rate") || rounds.has(key + "|logged")) {
            rows.add(new Results.BackfillRow(system, chunk, mode.backfillRows(), rounds.has(key + "|rate") ? rounds.figure(key + "|rate") : null,
                    rounds.has(key + "|logged") ? rounds.figure(key + "|logged") : null));
        }
    }

    private List<Results.BackfillWriterRow> backfillWriterRows() {
        List<Results.BackfillWriterRow> rows = new ArrayList<>();
        for (long rate : BACKFILL_WRITER_RATES) {
            String key = "backfill|writers|" + rate + "|";
            if (rounds.has(key + "with")) {
                Figure without = rounds.figure(key + "without");
                Figure with = rounds.figure(key + "with");
                rows.add(new Results.BackfillWriterRow(BACKFILL_WRITERS, load.name(), EpidemicAdmin.DEFAULT_CHUNK_SIZE, rate, without, with,
                        with.ratioTo(without), rounds.figure(key + "reads")));
            }
        }
        return rows;
    }

    // ------------------------------------------------------------------ helpers

    private Path childLog(String name, int round) {
        return options.out().resolve("logs").resolve(name + "-" + (round + 1) + ".log");
    }

    private static Path offsetsFile() throws Exception {
        Path file = Files.createTempFile("bench-debezium-offsets-", ".dat");
        file.toFile().deleteOnExit();
        return file;
    }

    private static long[] readLongs(Path file, int count) throws Exception {
        long[] values = new long[count];
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            for (int i = 0; i < count; i++) {
                values[i] = in.readLong();
            }
        }
        return values;
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private static Runnable unchecked(Step step) {
        return () -> {
            try {
                step.run();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }
}
