package dev.epidemic.bench;

import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.Operation;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.ChangeEvent;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The consumer under test, alone in a JVM of its own so that its heap and RSS are its own: an Epidemic
 * dispatcher or a Debezium embedded engine with a handler that only notes when each change arrived.
 *
 * <p>Arguments are {@code key=value}: {@code system} (epidemic|debezium), {@code mode} (drain|latency),
 * {@code url}, {@code table}, {@code count} (changes to wait for), {@code consumer} (Epidemic),
 * {@code slot}, {@code publication}, {@code offsets}, {@code poll} (Debezium poll.interval.ms, optional),
 * {@code times} (latency: file for the arrival times), {@code snapshot} (Debezium snapshot.mode, default
 * no_data), {@code probe} (backfill: a watched table with columns id and name to probe). In latency mode it
 * writes probe rows with negative ids until the first arrives, so that the paced writer starts only once the
 * consumer streams. In backfill mode (Epidemic only) it counts the READs of {@code table} alone, and probes
 * {@code probe} instead, so that the backfill starts only once the consumer streams.
 *
 * <p>Protocol on stdout: {@code STREAMING nanos} once the first change arrived (nanos since the engine
 * was started), then {@code RESULT key=value ...} and exit 0; {@code FAILED message} and exit 1.
 * Arrival times are {@link System#nanoTime()}, which on Linux is CLOCK_MONOTONIC and therefore comparable
 * with the writer's commit times taken in the parent JVM.
 */
public final class ConsumerProcess {
    private final long expected;
    private final long[] arrivals;
    private final AtomicLong arrived = new AtomicLong();
    private final AtomicLong firstNanos = new AtomicLong();
    private final AtomicLong lastNanos = new AtomicLong();
    private final CountDownLatch first = new CountDownLatch(1);
    private final CountDownLatch all = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private ConsumerProcess(long expected, boolean recordArrivals) {
        this.expected = expected;
        this.arrivals = recordArrivals ? new long[Math.toIntExact(expected)] : null;
    }

    public static void main(String[] args) {
        Map<String, String> a = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        try {
            run(a);
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.out.println("FAILED " + e);
            System.out.flush();
            System.exit(1);
        }
    }

    private static void run(Map<String, String> a) throws Exception {
        boolean latency = a.get("mode").equals("latency");
        boolean backfill = a.get("mode").equals("backfill");
        ConsumerProcess receiver = new ConsumerProcess(Long.parseLong(a.get("count")), latency);
        MemorySampler memory = MemorySampler.start();
        long started = System.nanoTime();
        AutoCloseable engine = a.get("system").equals("epidemic") ? receiver.startEpidemic(a, latency) : receiver.startDebezium(a);
        try {
            if (latency || backfill) {
                receiver.probeUntilStreaming(PgUrl.parse(a.get("url")), backfill ? a.get("probe") : a.get("table"));
            }
            receiver.awaitOrFail(receiver.first, TimeUnit.MINUTES.toNanos(3));
            System.out.println("STREAMING " + (receiver.firstNanos.get() - started));
            System.out.flush();
            receiver.awaitOrFail(receiver.all, TimeUnit.MINUTES.toNanos(30));
        } finally {
            engine.close();
        }
        if (latency) {
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(Path.of(a.get("times")))))) {
                for (long t : receiver.arrivals) {
                    out.writeLong(t);
                }
            }
        }
        // lastNanos: System.nanoTime() of the last change, comparable with the parent's (CLOCK_MONOTONIC).
        System.out.printf("RESULT startupNanos=%d elapsedNanos=%d lastNanos=%d changes=%d peakHeapBytes=%d peakRssKb=%d%n",
                receiver.firstNanos.get() - started, receiver.lastNanos.get() - started, receiver.lastNanos.get(), receiver.arrived.get(),
                memory.stop(), MemorySampler.vmHwmKb());
        System.out.flush();
    }

    /** Called for every change that arrives; negative ids are probes. */
    private void arrived(long id, long now) {
        if (firstNanos.get() == 0) {
            firstNanos.compareAndSet(0, now);
            first.countDown();
        }
        if (id < 0) {
            return;
        }
        if (arrivals != null) {
            if (id < 1 || id > arrivals.length || arrivals[(int) id - 1] != 0) {
                return; // a redelivery (at least once) or a row of an earlier run: counted once only
            }
            arrivals[(int) id - 1] = now;
        }
        if (arrived.incrementAndGet() == expected) {
            lastNanos.set(now);
            all.countDown();
        }
    }

    private void awaitOrFail(CountDownLatch latch, long nanos) throws Exception {
        long until = System.nanoTime() + nanos;
        while (!latch.await(100, TimeUnit.MILLISECONDS)) {
            if (failure.get() != null) {
                throw new IllegalStateException("the consumer failed", failure.get());
            }
            if (System.nanoTime() > until) {
                throw new IllegalStateException("timed out with " + arrived.get() + " of " + expected + " changes");
            }
        }
    }

    private void probeUntilStreaming(PgUrl db, String table) throws Exception {
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (id, name) VALUES (?, 'probe')")) {
            for (long probe = -1; first.getCount() > 0 && failure.get() == null; probe--) {
                ps.setLong(1, probe);
                ps.executeUpdate();
                first.await(20, TimeUnit.MILLISECONDS);
            }
        }
    }

    private AutoCloseable startEpidemic(Map<String, String> a, boolean latency) {
        boolean backfill = a.get("mode").equals("backfill");
        ChangeHandler handler = ChangeHandler.forEveryChange(change -> {
            // A TRUNCATE has no key; during a backfill only its READs count (writers' UPDATEs arrive too).
            if (change.key() != null && (!backfill || change.operation() == Operation.READ)) {
                arrived(((Number) change.key().get("id")).longValue(), System.nanoTime());
            }
        });
        Epidemic.Builder builder = Epidemic.builder(a.get("url"), null, null)
                .consumer(a.get("consumer"))
                .startAtPresent(latency || backfill)
                .handle(a.get("table"), List.of(), handler);
        if (backfill) {
            builder.handle(a.get("probe"), List.of(), ChangeHandler.forEveryChange(change -> {
                if (change.key() != null) {
                    arrived(((Number) change.key().get("id")).longValue(), System.nanoTime());
                }
            }));
        }
        if (a.containsKey("batch")) {
            builder.batchSize(Integer.parseInt(a.get("batch")));
        }
        return builder.build().start();
    }

    private AutoCloseable startDebezium(Map<String, String> a) throws IOException {
        PgUrl db = PgUrl.parse(a.get("url"));
        Properties p = new Properties();
        p.setProperty("name", a.get("slot"));
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        // Kafka 4's MemoryOffsetBackingStore is abstract; a file in the temp directory is the simplest store.
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        p.setProperty("offset.storage.file.filename", a.get("offsets"));
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("database.hostname", db.host());
        p.setProperty("database.port", String.valueOf(db.port()));
        p.setProperty("database.user", db.user());
        p.setProperty("database.password", db.password());
        p.setProperty("database.dbname", db.database());
        p.setProperty("topic.prefix", "bench");
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", a.get("slot"));
        p.setProperty("publication.name", a.get("publication"));
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("table.include.list", "public." + a.get("table"));
        // The slot exists before the backlog is written, so the changes are streamed, not snapshotted; the
        // backfill part asks for the initial snapshot instead.
        p.setProperty("snapshot.mode", a.getOrDefault("snapshot", "no_data"));
        if (a.containsKey("poll")) {
            p.setProperty("poll.interval.ms", a.get("poll"));
        }
        DebeziumEngine<ChangeEvent<SourceRecord, SourceRecord>> engine = DebeziumEngine.create(Connect.class)
                .using(p)
                .notifying((records, committer) -> {
                    for (ChangeEvent<SourceRecord, SourceRecord> event : records) {
                        if (event.value() != null && event.value().key() instanceof Struct key) {
                            arrived(key.getInt64("id"), System.nanoTime());
                        }
                        committer.markProcessed(event);
                    }
                    committer.markBatchFinished();
                })
                .using((success, message, error) -> {
                    if (!success) {
                        failure.compareAndSet(null, error != null ? error : new IllegalStateException(message));
                    }
                })
                .build();
        ExecutorService executor = Executors.newSingleThreadExecutor();
        executor.execute(engine);
        return () -> {
            engine.close();
            executor.shutdown();
            executor.awaitTermination(30, TimeUnit.SECONDS);
        };
    }

    /** Samples the heap in use every 10 ms; the peak includes garbage not yet collected, as a heap graph would. */
    private static final class MemorySampler {
        private final MemoryMXBean bean = ManagementFactory.getMemoryMXBean();
        private final AtomicLong peak = new AtomicLong();
        private volatile boolean running = true;
        private final Thread thread = new Thread(this::sample, "memory-sampler");

        static MemorySampler start() {
            MemorySampler s = new MemorySampler();
            s.thread.setDaemon(true);
            s.thread.start();
            return s;
        }

        private void sample() {
            while (running) {
                peak.accumulateAndGet(bean.getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        long stop() {
            running = false;
            peak.accumulateAndGet(bean.getHeapMemoryUsage().getUsed(), Math::max);
            return peak.get();
        }

        /** The process's peak resident set size so far (the kernel's high-water mark), in kB. */
        static long vmHwmKb() throws IOException {
            return ProcessMemory.vmHwmKb(Path.of("/proc/self/status"));
        }
    }
}
