package dev.epidemic.chaos;

import dev.epidemic.api.EpidemicAdmin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One chaos run: sets up the tables, starts the consumer JVM and the writers, injects faults one at a
 * time (the next only after the consumer delivers again), stops the writers, waits for the consumer to
 * catch up (a probe row committed last), and returns the verdict.
 *
 * <p>With a backfill phase the table holds rows before it is watched and before the consumer exists; a
 * backfill JVM delivers them to the consumer amid the writers (and a {@link CursorChaser} updating the rows
 * at its cursor) and is killed with SIGKILL, every other fault, until it is done; the run goes on past its
 * duration until then. At the end the replica materialized from the deliveries must equal the table.
 */
public final class ChaosRun {
    /** A consumer that delivers nothing for this long after a fault has not recovered. */
    private static final Duration RECOVERY_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration PRUNE_EVERY = Duration.ofSeconds(20);
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofMinutes(10);
    /** How long past the run's duration the writers and the faults go on for an unfinished backfill. */
    private static final Duration BACKFILL_TIMEOUT = Duration.ofMinutes(10);

    private final ChaosOptions options;
    private final Random random;
    private final Recoveries recoveries = new Recoveries();
    private final AtomicInteger prunes = new AtomicInteger();
    private volatile boolean stopping;

    public ChaosRun(ChaosOptions options) {
        this.options = options;
        this.random = new Random(options.seed());
    }

    public Verdict run() throws Exception {
        Files.createDirectories(options.workDir());
        try (ChaosTarget target = target(options)) {
            return run(target);
        }
    }

    /** An embedded PostgreSQL of the harness's own, or the server the URL names (PostgreSQL or MariaDB), never restarted. */
    private static ChaosTarget target(ChaosOptions options) {
        String url = options.serverUrl();
        if (url == null) {
            return new EmbeddedPostgresTarget(options.workDir());
        }
        return MariaDbServerTarget.accepts(url) ? new MariaDbServerTarget(url) : new PostgresServerTarget(url);
    }

    private Verdict run(ChaosTarget target) throws Exception {
        String url = target.url();
        ChaosDialect dialect = target.dialect();
        boolean backfilling = options.backfillRows() > 0 && dialect.backfills();
        if (options.backfillRows() > 0 && !backfilling) {
            System.err.println("chaos: no backfill phase: Epidemic cannot backfill this database yet");
        }
        try (Connection c = DriverManager.getConnection(url)) {
            dialect.createTables(c);
            if (backfilling) {
                dialect.seedRows(c, options.backfillRows(), options.writers());
            }
        }
        EpidemicAdmin admin = EpidemicAdmin.create(url, null, null, target.logSchema());
        admin.watch(dialect.watchedTable(), List.of(), List.of());

        ConsumerProcess consumer = new ConsumerProcess(dialect.consumerUrl(url), target.logSchema(), options.workDir(),
                options.handlerThrowRate(), options.seed());
        Probes probes = new Probes(url, dialect, options.workDir());
        consumer.start();
        Deliveries deliveries = new Deliveries(consumer);

        // MariaDB's triggers cannot see a TRUNCATE: the writers would make changes no consumer can be given.
        Mix mix = dialect.capturesTruncate() ? options.mix() : options.mix().withoutTruncate();
        Writer.WriterCounts counts = new Writer.WriterCounts();
        List<Writer> writers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < options.writers(); w++) {
            Writer writer = new Writer(w, url, dialect, mix, options.seed(), counts);
            writers.add(writer);
            threads.add(start("chaos-writer-" + w, writer));
        }
        BackfillProcess backfill = null;
        CursorChaser chaser = null;
        if (backfilling) {
            backfill = new BackfillProcess(url, target.logSchema(), dialect.watchedTable(), ChaosConsumer.NAME, options.backfillChunk(),
                    options.workDir(), () -> unfinishedBackfill(admin));
            backfill.start();
            chaser = new CursorChaser(url, target.logSchema(), dialect, options.backfillChunk(), options.seed(), counts);
            threads.add(start("chaos-cursor-chaser", chaser));
        }
        Thread pruner = start("chaos-prune", () -> prune(admin));
        long startNanos = System.nanoTime();
        long endNanos = startNanos + options.duration().toNanos();
        long backfillEndNanos = endNanos + BACKFILL_TIMEOUT.toNanos();
        long nextReport = startNanos + Duration.ofSeconds(10).toNanos();
        int injected = 0;
        int others = 0;
        try {
            while (goingOn(endNanos, backfill, backfillEndNanos)) {
                Thread.sleep(random.nextInt(options.faultGapMillis() + 1));
                if (!goingOn(endNanos, backfill, backfillEndNanos)) {
                    break;
                }
                consumer.restartIfDead();
                // While the backfill runs, every other fault is a kill of it.
                boolean backfillRuns = backfill != null && !backfill.finished();
                Fault fault = backfillRuns && injected % 2 == 0 ? Fault.KILL_BACKFILL : nextFault(target, others++);
                injected++;
                inject(fault, target, dialect, consumer, backfill, deliveries, probes, url);
                if (System.nanoTime() > nextReport) {
                    nextReport += Duration.ofSeconds(10).toNanos();
                    System.err.printf("chaos: %d s: %,d transactions committed, faults: %d kill -9, %d terminated, %d restarts%s%n",
                            Duration.ofNanos(System.nanoTime() - startNanos).toSeconds(), counts.committed().get(),
                            recoveries.count(Fault.KILL_CONSUMER), recoveries.count(Fault.TERMINATE_BACKENDS),
                            recoveries.count(Fault.RESTART_SERVER), backfill == null ? ""
                                    : ", " + recoveries.count(Fault.KILL_BACKFILL) + " backfill kills"
                                    + (backfill.finished() ? " (backfill done)" : ""));
                }
            }
        } finally {
            writers.forEach(Writer::stop);
            if (chaser != null) {
                chaser.stop();
            }
            if (backfill != null && !backfill.finished()) {
                backfill.stop();
            }
            stopping = true;
            for (Thread thread : threads) {
                thread.join();
            }
            pruner.join();
        }
        Duration ran = Duration.ofNanos(System.nanoTime() - startNanos);
        System.err.println("chaos: writers stopped; waiting for the consumer to catch up");
        consumer.restartIfDead();
        long last = probes.commit(RECOVERY_TIMEOUT);
        boolean caughtUp = last != 0 && probes.awaitSeen(last, CATCH_UP_TIMEOUT) >= 0;
        consumer.restartIfDead();
        consumer.stop();
        handlerRecoveries();

        System.err.println("chaos: verifying");
        DeliveryFigures figures;
        BackfillFigures backfillFigures = null;
        try (Connection c = DriverManager.getConnection(url)) {
            figures = dialect.verify(c, consumer.files());
            if (backfill != null) {
                Map<Long, Integer> table = dialect.rows(c);
                backfillFigures = MaterializedReplica.of(consumer.files()).compareWith(table, backfill.kills(), backfill.instances(),
                        backfill.unexpectedExits(), backfill.lastUnexpectedError(), backfill.finished(), backfill.took().toMillis());
            }
        }
        return new Verdict(ran, options.writers(), counts.committed().get(), counts.rolledBack().get(), counts.failed().get(),
                figures, recoveries, prunes.get(), consumer.instances(), consumer.unexpectedExits(), consumer.lastUnexpectedError(),
                caughtUp, backfillFigures);
    }

    /** Until the run's duration is over and, with a backfill, until it is done (or has run out of time). */
    private static boolean goingOn(long endNanos, BackfillProcess backfill, long backfillEndNanos) {
        long now = System.nanoTime();
        return now < endNanos || backfill != null && !backfill.finished() && now < backfillEndNanos;
    }

    /** Whether Epidemic has an unfinished backfill, asking again while the server restarts. */
    private static boolean unfinishedBackfill(EpidemicAdmin admin) {
        long deadline = System.nanoTime() + RECOVERY_TIMEOUT.toNanos();
        while (true) {
            try {
                return !admin.unfinishedBackfills().isEmpty();
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** The first faults cover every kind, so that even a short run injects each; then they come at random. */
    private Fault nextFault(ChaosTarget target, int injected) {
        List<Fault> kinds = new ArrayList<>(List.of(Fault.KILL_CONSUMER, Fault.TERMINATE_BACKENDS));
        if (target.canRestart()) {
            kinds.add(Fault.RESTART_SERVER);
        }
        if (injected < kinds.size()) {
            return kinds.get(injected);
        }
        double r = random.nextDouble();
        if (r < 0.8) {
            return Fault.KILL_CONSUMER;
        }
        return r < 0.92 || !target.canRestart() ? Fault.TERMINATE_BACKENDS : Fault.RESTART_SERVER;
    }

    private void inject(Fault fault, ChaosTarget target, ChaosDialect dialect, ConsumerProcess consumer, BackfillProcess backfill,
                        Deliveries deliveries, Probes probes, String url)
            throws Exception {
        if (fault == Fault.KILL_BACKFILL) {
            // Killed mid-way: only once this instance has logged a chunk, so that every instance makes progress.
            backfill.awaitChunk(RECOVERY_TIMEOUT);
        }
        long at = System.currentTimeMillis();
        switch (fault) {
            case KILL_CONSUMER -> consumer.killAndRestart();
            case KILL_BACKFILL -> backfill.killAndRestart();
            case TERMINATE_BACKENDS -> {
                try (Connection c = DriverManager.getConnection(url)) {
                    dialect.terminateConsumerConnections(c);
                }
            }
            case RESTART_SERVER -> target.restart();
            default -> throw new IllegalArgumentException("the harness does not inject " + fault);
        }
        long seenAt;
        if (fault == Fault.KILL_BACKFILL) {
            // The new JVM's first chunk: start, connect, take over the backfill, log.
            seenAt = backfill.awaitChunk(RECOVERY_TIMEOUT) ? System.currentTimeMillis() : -1;
        } else if (fault == Fault.KILL_CONSUMER) {
            // The new JVM's first delivery: restart, connect, read.
            seenAt = deliveries.awaitFirstAfter(deliveries.newest(), at, RECOVERY_TIMEOUT);
        } else {
            // The old connections may still hand over rows they had fetched; a change committed after the
            // fault can only come through new ones. This includes any backlog ahead of it.
            long probe = probes.commit(RECOVERY_TIMEOUT);
            seenAt = probe == 0 ? -1 : probes.awaitSeen(probe, RECOVERY_TIMEOUT);
        }
        if (seenAt < 0) {
            recoveries.unrecovered(fault);
            System.err.println("chaos: the consumer did not recover within " + RECOVERY_TIMEOUT.toSeconds() + " s after " + fault.description());
        } else {
            recoveries.recovered(fault, Math.max(0, seenAt - at));
        }
    }

    private void prune(EpidemicAdmin admin) {
        while (!stopping) {
            try {
                Thread.sleep(PRUNE_EVERY.toMillis());
                admin.prune();
                prunes.incrementAndGet();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // the server may be restarting; prune again later
            }
        }
    }

    /** The consumer's own record of its handler failures: how long until it delivered again. */
    private void handlerRecoveries() {
        Path events = options.workDir().resolve("events.log");
        if (!Files.exists(events)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(events, StandardCharsets.UTF_8)) {
                String[] parts = line.split(" ");
                if (parts.length == 2 && parts[0].equals("handler")) {
                    recoveries.recovered(Fault.HANDLER, Long.parseLong(parts[1]));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Thread start(String name, Runnable runnable) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
