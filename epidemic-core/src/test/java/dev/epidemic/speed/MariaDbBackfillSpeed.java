package dev.epidemic.speed;

import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.testing.MariaDbServer;
import dev.epidemic.testing.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A measurement, not a test: how fast a MariaDB backfill logs and delivers rows, and how long a writer's
 * single-row insert into another watched table waits meanwhile. Run by hand:
 * {@code mvn -B -ntp -o -pl epidemic-core -am verify -Dtest=MariaDbBackfillSpeed -Dsurefire.failIfNoSpecifiedTests=false
 * -Dbackfill.speed=1 -Dbackfill.rows=1000000 -Dbackfill.chunk=5000 -Dbackfill.consumer=true}.
 */
@EnabledIfSystemProperty(named = "backfill.speed", matches = ".+")
class MariaDbBackfillSpeed {
    @Test
    void measure() throws Exception {
        int rows = Integer.getInteger("backfill.rows", 200_000);
        int chunk = Integer.getInteger("backfill.chunk", 5000);
        boolean withConsumer = Boolean.parseBoolean(System.getProperty("backfill.consumer", "true"));
        Target db = MariaDbServer.get().create();
        db.exec("CREATE TABLE t (id int PRIMARY KEY, name varchar(40), n int)",
                "INSERT INTO t SELECT seq, CONCAT('user ', seq), seq * 7 FROM seq_1_to_" + rows,
                "CREATE TABLE w (id int AUTO_INCREMENT PRIMARY KEY, v int)");
        db.admin().watch("t", List.of(), List.of());
        db.admin().watch("w", List.of(), List.of());
        AtomicLong delivered = new AtomicLong();
        ChangeHandler counting = new ChangeHandler() {
            @Override
            public void onInsert(Change change) {
                delivered.incrementAndGet();
            }
        };
        Epidemic consumer = db.engine().consumer("c").handle("t", List.of(), counting).build().start();
        if (!withConsumer) {
            consumer.close();
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        Thread writer = new Thread(() -> {
            try (Connection c = DriverManager.getConnection(db.url());
                 PreparedStatement ps = c.prepareStatement("INSERT INTO w (v) VALUES (1)")) {
                while (!stop.get()) {
                    long start = System.nanoTime();
                    ps.executeUpdate();
                    latencies.add((System.nanoTime() - start) / 1000);
                    Thread.sleep(5);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        if (Boolean.parseBoolean(System.getProperty("backfill.writer", "true"))) {
            writer.start();
        }
        Thread.sleep(500);
        int before = latencies.size();
        long start = System.nanoTime();
        BackfillStatus done = db.admin().backfill("t", List.of(), null, chunk, b -> { });
        long logged = System.nanoTime();
        stop.set(true);
        writer.join();
        List<Long> during = new ArrayList<>(latencies.subList(before, latencies.size()));
        if (withConsumer) {
            while (delivered.get() < rows) {
                Thread.sleep(10);
            }
        }
        long end = System.nanoTime();
        consumer.close();
        Collections.sort(during);
        double logSeconds = (logged - start) / 1e9;
        double allSeconds = (end - start) / 1e9;
        System.out.printf("BACKFILL rows=%d chunk=%d consumer=%s: logged in %.2f s (%.0f rows/s), delivered in %.2f s (%.0f rows/s);"
                        + " writer inserts during the backfill: %d, median %.1f ms, p99 %.1f ms, max %.1f ms%n",
                done.rowsDone(), chunk, withConsumer, logSeconds, rows / logSeconds, allSeconds, rows / allSeconds, during.size(),
                during.isEmpty() ? 0 : during.get(during.size() / 2) / 1000.0,
                during.isEmpty() ? 0 : during.get((int) (during.size() * 0.99)) / 1000.0,
                during.isEmpty() ? 0 : during.get(during.size() - 1) / 1000.0);
    }
}
