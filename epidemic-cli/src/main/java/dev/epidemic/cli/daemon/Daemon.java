package dev.epidemic.cli.daemon;

import dev.epidemic.api.BatchHandler;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.TransactionalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs a {@link DaemonPlan}: one {@link Epidemic} per consumer, each on a thread of its own, until
 * {@link #requestStop()} or until one of them stops by itself (a handler whose policy is to stop kept
 * failing); then it stops the others, each after its change in hand and with its position stored.
 */
public final class Daemon {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    private static final long CHECK_MILLIS = 200;

    private final DaemonPlan plan;
    private final Map<String, Epidemic> running = new LinkedHashMap<>();
    private final CountDownLatch stopRequested = new CountDownLatch(1);

    /** Why the daemon ended: null {@code consumer} after a requested stop, else the consumer that failed and why. */
    public record Outcome(String consumer, RuntimeException failure) {
        public boolean failed() {
            return failure != null;
        }
    }

    public Daemon(DaemonPlan plan) {
        this.plan = plan;
    }

    /**
     * Installs what each consumer needs and starts it (dispatching, or standing by while another
     * process holds the consumer). A consumer that cannot start stops those already started.
     */
    public void start() {
        DaemonPlan.Connection db = plan.database();
        try {
            for (DaemonPlan.Consumer consumer : plan.consumers()) {
                Epidemic engine = build(db, consumer);
                engine.start();
                synchronized (running) {
                    running.put(consumer.name(), engine);
                }
                log.info("Consumer {} installed on {}", consumer.name(), consumer.tables().stream().map(DaemonPlan.Table::table).distinct().toList());
            }
        } catch (RuntimeException e) {
            stopAll();
            throw e;
        }
    }

    private static Epidemic build(DaemonPlan.Connection db, DaemonPlan.Consumer consumer) {
        Epidemic.Builder builder = Epidemic.builder(db.url(), db.user(), db.password()).schema(db.schema())
                .consumer(consumer.name()).startFrom(consumer.startFrom());
        if (consumer.batchSize() != null) {
            builder.batchSize(consumer.batchSize());
        }
        if (consumer.parallelism() != null) {
            builder.parallelism(consumer.parallelism());
        }
        for (DaemonPlan.Table table : consumer.tables()) {
            switch (table.kind()) {
                case CHANGE -> builder.handle(table.table(), table.columns(), (ChangeHandler) table.receiver(), table.policy());
                case BATCH -> builder.handleBatches(table.table(), table.columns(), (BatchHandler) table.receiver(), table.policy());
                case TRANSACTIONAL -> builder.handleInTransaction(table.table(), table.columns(), (TransactionalHandler) table.receiver(), table.policy());
            }
            if (table.where() != null) {
                builder.where(table.where());
            }
        }
        return builder.build();
    }

    /** Asks the daemon to stop; {@link #awaitEnd()} then stops every consumer and returns. Any thread may call it. */
    public void requestStop() {
        stopRequested.countDown();
    }

    /** Blocks until a stop is requested or a consumer stops by itself; every consumer is stopped when it returns. */
    public Outcome awaitEnd() throws InterruptedException {
        while (!stopRequested.await(CHECK_MILLIS, TimeUnit.MILLISECONDS)) {
            Outcome failed = firstFailure();
            if (failed != null) {
                log.info("Consumer {} stopped by itself; stopping the others", failed.consumer());
                stopAll();
                return failed;
            }
        }
        log.info("Stop requested; stopping {} consumer(s) after the changes in hand", running.size());
        stopAll();
        log.info("All consumers stopped; positions stored");
        return new Outcome(null, null);
    }

    private Outcome firstFailure() {
        synchronized (running) {
            for (Map.Entry<String, Epidemic> entry : running.entrySet()) {
                Epidemic engine = entry.getValue();
                if (!engine.isRunning()) {
                    RuntimeException failure = engine.failure();
                    return new Outcome(entry.getKey(), failure != null ? failure
                            : new EpidemicException("consumer " + entry.getKey() + " stopped unexpectedly"));
                }
            }
        }
        return null;
    }

    /** Stops every consumer at once, so that none keeps delivering while another finishes its batch. */
    private void stopAll() {
        List<Thread> closers = new ArrayList<>();
        synchronized (running) {
            for (Map.Entry<String, Epidemic> entry : running.entrySet()) {
                Thread closer = new Thread(entry.getValue()::close, "epidemic-stop-" + entry.getKey());
                closer.start();
                closers.add(closer);
            }
        }
        for (Thread closer : closers) {
            try {
                closer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
