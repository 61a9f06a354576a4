package dev.epidemic.cli;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writer threads doing mixed INSERT / UPDATE / DELETE transactions on {@code items (id, seq)} until closed,
 * some of several statements, some rolled back, and remembering exactly which changes committed.
 *
 * <p>Every committed change of a row raises its {@code seq}: an INSERT has seq 1, each UPDATE the next
 * number, and a DELETE is known by the seq of the row it removed. So a printed change names its place in
 * the row's history. Rolled-back transactions write only negative seqs (a row they delete is first given
 * one), so a rolled-back change, if ever printed, is recognisable.
 */
final class ItemWriters implements AutoCloseable {
    static final String CREATE_TABLE = "CREATE TABLE items (id int PRIMARY KEY, seq int NOT NULL)";

    /** One change of a row: its key, its operation ('I', 'U', 'D') and its seq. */
    record Event(int id, char op, int seq) {
        /** The place in the row's history: a DELETE comes after the UPDATE that set its seq. */
        long order() {
            return seq * 2L + (op == 'D' ? 1 : 0);
        }
    }

    private final String url;
    private final Set<Event> committed = ConcurrentHashMap.newKeySet();
    private final AtomicInteger commits = new AtomicInteger();
    private final AtomicInteger rollbacks = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    private ItemWriters(String url) {
        this.url = url;
    }

    static ItemWriters start(String url, int writers) {
        ItemWriters started = new ItemWriters(url);
        for (int w = 0; w < writers; w++) {
            int writer = w;
            Thread thread = new Thread(() -> {
                try {
                    started.write(writer);
                } catch (Throwable e) {
                    started.failure.compareAndSet(null, e);
                }
            }, "writer-" + w);
            started.threads.add(thread);
            thread.start();
        }
        return started;
    }

    private void write(int writer) throws SQLException, InterruptedException {
        Random random = new Random();
        Map<Integer, Integer> live = new HashMap<>(); // id -> seq, of this writer's rows that exist
        List<Integer> liveIds = new ArrayList<>();
        int nextId = writer * 1_000_000 + 1;
        try (Connection c = DriverManager.getConnection(url);
             PreparedStatement insert = c.prepareStatement("INSERT INTO items (id, seq) VALUES (?, ?)");
             PreparedStatement update = c.prepareStatement("UPDATE items SET seq = ? WHERE id = ?");
             PreparedStatement delete = c.prepareStatement("DELETE FROM items WHERE id = ?")) {
            c.setAutoCommit(false);
            while (!stopping) {
                boolean rollback = random.nextInt(8) == 0;
                Map<Integer, Integer> after = new HashMap<>(live);
                List<Integer> afterIds = new ArrayList<>(liveIds);
                List<Event> events = new ArrayList<>();
                int statements = 1 + random.nextInt(random.nextInt(4) == 0 ? 4 : 1);
                for (int s = 0; s < statements; s++) {
                    int kind = afterIds.size() < 3 ? 0 : random.nextInt(10);
                    if (kind < 3) {
                        int id = nextId++;
                        int seq = rollback ? -1 : 1;
                        execute(insert, id, seq);
                        after.put(id, seq);
                        afterIds.add(id);
                        events.add(new Event(id, 'I', seq));
                    } else if (kind < 8) {
                        int id = afterIds.get(random.nextInt(afterIds.size()));
                        int seq = rollback ? -Math.abs(after.get(id)) - 1 : after.get(id) + 1;
                        execute(update, seq, id);
                        after.put(id, seq);
                        events.add(new Event(id, 'U', seq));
                    } else {
                        int id = afterIds.remove(random.nextInt(afterIds.size()));
                        if (rollback && after.get(id) > 0) {
                            int seq = -after.get(id) - 1; // so that even the DELETE carries a negative seq
                            execute(update, seq, id);
                            after.put(id, seq);
                            events.add(new Event(id, 'U', seq));
                        }
                        delete.setInt(1, id);
                        delete.executeUpdate();
                        events.add(new Event(id, 'D', after.remove(id)));
                    }
                }
                if (rollback) {
                    c.rollback();
                    rollbacks.incrementAndGet();
                } else {
                    c.commit();
                    committed.addAll(events);
                    commits.incrementAndGet();
                    live = after;
                    liveIds = afterIds;
                }
                Thread.sleep(random.nextInt(3));
            }
        }
    }

    private static void execute(PreparedStatement statement, int first, int second) throws SQLException {
        statement.setInt(1, first);
        statement.setInt(2, second);
        statement.executeUpdate();
    }

    /** Every change that committed; complete once closed. */
    Set<Event> committed() {
        return Set.copyOf(committed);
    }

    int commits() {
        return commits.get();
    }

    int rollbacks() {
        return rollbacks.get();
    }

    /** Stops the writers after their transaction in hand; fails if any of them failed. */
    @Override
    public void close() throws InterruptedException {
        stopping = true;
        for (Thread thread : threads) {
            thread.join(30_000);
        }
        if (failure.get() != null) {
            throw new AssertionError("a writer failed", failure.get());
        }
    }
}
