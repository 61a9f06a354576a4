package dev.epidemic.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;

import static org.awaitility.Awaitility.await;

/**
 * Application writers for tests that change a table under them: each thread INSERTs, UPDATEs and
 * DELETEs rows of its own id range (columns {@code id} and {@code v} only), some in transactions of three
 * statements, and records every error that is not the application's own doing. A test that renames the
 * table sets {@link #table} to the new name.
 */
public final class Writers implements AutoCloseable {
    private final String url;
    private final BiPredicate<SQLException, String> applicationsOwn;
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    private final AtomicLong work = new AtomicLong();
    /** The table the writers name from their next statement on. */
    public volatile String table;

    /**
     * @param applicationsOwn given an error and the table name the failed statement used, whether the
     *                        application would meet it with or without capture (a deadlock among the
     *                        writers, a statement naming a table the test renamed away): not counted
     */
    public Writers(String url, String table, int count, BiPredicate<SQLException, String> applicationsOwn) {
        this.url = url;
        this.table = table;
        this.applicationsOwn = applicationsOwn;
        for (int i = 0; i < count; i++) {
            long base = (i + 1) * 1_000_000L;
            Thread thread = new Thread(() -> write(base), "writer-" + i);
            threads.add(thread);
            thread.start();
        }
    }

    private void write(long base) {
        List<Long> live = new ArrayList<>();
        long next = base;
        try (Connection c = DriverManager.getConnection(url)) {
            while (running.get()) {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                boolean inTransaction = random.nextInt(4) == 0;
                c.setAutoCommit(!inTransaction);
                String name = table;
                List<Long> inserted = new ArrayList<>();
                List<Long> deleted = new ArrayList<>();
                try (Statement st = c.createStatement()) {
                    for (int n = inTransaction ? 3 : 1; n > 0; n--) {
                        int op = random.nextInt(10);
                        if (op < 4 || live.size() < 5) {
                            long id = next++;
                            st.execute("INSERT INTO " + name + " (id, v) VALUES (" + id + ", 'v" + id + "')");
                            inserted.add(id);
                        } else if (op < 8) {
                            long id = live.get(random.nextInt(live.size()));
                            st.execute("UPDATE " + name + " SET v = CONCAT(v, '+') WHERE id BETWEEN " + id + " AND " + (id + 3));
                        } else {
                            long id = live.remove(random.nextInt(live.size()));
                            st.execute("DELETE FROM " + name + " WHERE id = " + id);
                            deleted.add(id);
                        }
                    }
                    if (inTransaction) {
                        c.commit();
                    }
                    live.addAll(inserted);
                    work.incrementAndGet();
                } catch (SQLException e) {
                    if (inTransaction) {
                        c.rollback();
                    }
                    live.addAll(deleted);
                    if (!applicationsOwn.test(e, name)) {
                        errors.add(e.getSQLState() + " " + e.getErrorCode() + " " + e.getMessage());
                    }
                }
            }
        } catch (SQLException e) {
            errors.add(e.getSQLState() + " " + e.getErrorCode() + " " + e.getMessage());
        }
    }

    /** Waits until the writers have done some more work (or one failed). */
    public void awaitSomeWork() {
        long target = work.get() + 30;
        await().atMost(Duration.ofSeconds(30)).until(() -> work.get() >= target || !errors.isEmpty());
    }

    public List<String> errors() {
        return List.copyOf(errors);
    }

    public void stop() throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
