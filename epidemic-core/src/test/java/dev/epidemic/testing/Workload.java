package dev.epidemic.testing;

import dev.epidemic.api.Change;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Concurrent writers doing mixed INSERT / UPDATE / DELETE transactions on {@code items}, some of several
 * statements, some rolled back; it remembers exactly what committed, per row in commit order, and
 * checks a consumer's deliveries against that truth.
 *
 * <p>Each row carries a {@code seq} that every committed change raises, so a delivered change names
 * its place in the row's history. Rolled-back work writes the note {@code ROLLBACK}, which must never
 * be delivered.
 */
public final class Workload {
    /** One committed change of a row. */
    public record Event(int id, char op, int seq) {
    }

    private final String url;
    private final Map<Integer, List<Event>> committed = new HashMap<>();

    public Workload(String url) {
        this.url = url;
    }

    public static String createTable() {
        return "CREATE TABLE items (id int PRIMARY KEY, seq int NOT NULL, note text)";
    }

    /** Runs {@code writers} threads of {@code transactionsEach} transactions; returns when all are done. */
    public void run(int writers, int transactionsEach) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<Map<Integer, List<Event>>>> results = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            results.add(pool.submit(() -> write(writer, transactionsEach)));
        }
        for (Future<Map<Integer, List<Event>>> result : results) {
            Map<Integer, List<Event>> events = result.get();
            synchronized (committed) {
                committed.putAll(events);
            }
        }
        pool.shutdown();
    }

    private Map<Integer, List<Event>> write(int writer, int transactions) throws SQLException {
        Random random = new Random(writer * 7919L);
        Map<Integer, List<Event>> mine = new LinkedHashMap<>();
        Map<Integer, Integer> live = new LinkedHashMap<>(); // id -> seq of rows that exist
        int nextId = writer * 1_000_000;
        try (Connection c = DriverManager.getConnection(url);
             PreparedStatement insert = c.prepareStatement("INSERT INTO items (id, seq, note) VALUES (?, ?, ?)");
             PreparedStatement update = c.prepareStatement("UPDATE items SET seq = ?, note = ? WHERE id = ?");
             PreparedStatement delete = c.prepareStatement("DELETE FROM items WHERE id = ?")) {
            c.setAutoCommit(false);
            for (int t = 0; t < transactions; t++) {
                boolean rollback = random.nextInt(10) == 0;
                String note = rollback ? "ROLLBACK" : "ok";
                int statements = 1 + random.nextInt(random.nextInt(5) == 0 ? 5 : 1);
                Map<Integer, Integer> pendingLive = new LinkedHashMap<>(live);
                List<Event> pending = new ArrayList<>();
                for (int s = 0; s < statements; s++) {
                    int kind = pendingLive.size() < 5 ? 0 : random.nextInt(4);
                    if (kind == 0 || kind == 1) {
                        int id = nextId++;
                        insert.setInt(1, id);
                        insert.setInt(2, 0);
                        insert.setString(3, note);
                        insert.executeUpdate();
                        pendingLive.put(id, 0);
                        pending.add(new Event(id, 'I', 0));
                    } else if (kind == 2) {
                        int id = pick(pendingLive, random);
                        int seq = pendingLive.get(id) + 1;
                        update.setInt(1, seq);
                        update.setString(2, note);
                        update.setInt(3, id);
                        update.executeUpdate();
                        pendingLive.put(id, seq);
                        pending.add(new Event(id, 'U', seq));
                    } else {
                        int id = pick(pendingLive, random);
                        delete.setInt(1, id);
                        delete.executeUpdate();
                        pending.add(new Event(id, 'D', pendingLive.remove(id)));
                    }
                }
                if (rollback) {
                    c.rollback();
                } else {
                    c.commit();
                    live = pendingLive;
                    for (Event e : pending) {
                        mine.computeIfAbsent(e.id, k -> new ArrayList<>()).add(e);
                    }
                }
            }
        }
        return mine;
    }

    private static int pick(Map<Integer, Integer> live, Random random) {
        int index = random.nextInt(live.size());
        return live.keySet().stream().skip(index).findFirst().orElseThrow();
    }

    public int committedChanges() {
        synchronized (committed) {
            return committed.values().stream().mapToInt(List::size).sum();
        }
    }

    public static Event eventOf(Change change) {
        int id = ((Number) change.key().get("id")).intValue();
        Map<String, Object> values = change.newValues() != null ? change.newValues() : change.oldValues();
        return new Event(id, change.operation().name().charAt(0), ((Number) values.get("seq")).intValue());
    }

    /** Whether a delivered change came from rolled-back work. */
    public static boolean rolledBack(Change change) {
        return change.newValues() != null && "ROLLBACK".equals(change.newValues().get("note"));
    }

    /**
     * Problems found in {@code delivered} (in delivery order, duplicates allowed): committed changes
     * missing, changes that never committed, and rows whose changes came out of order. Empty means correct.
     */
    public List<String> verify(List<Event> delivered) {
        List<String> problems = new ArrayList<>();
        Map<Integer, List<Event>> firstSeen = new LinkedHashMap<>();
        java.util.Set<Event> seen = new java.util.HashSet<>();
        for (Event e : delivered) {
            if (seen.add(e)) {
                firstSeen.computeIfAbsent(e.id, k -> new ArrayList<>()).add(e);
            }
        }
        synchronized (committed) {
            for (Map.Entry<Integer, List<Event>> row : committed.entrySet()) {
                List<Event> got = firstSeen.getOrDefault(row.getKey(), List.of());
                if (!got.equals(row.getValue())) {
                    problems.add("row " + row.getKey() + ": committed " + row.getValue() + " but delivered " + got);
                }
            }
            for (Integer id : firstSeen.keySet()) {
                if (!committed.containsKey(id)) {
                    problems.add("row " + id + " never committed but delivered " + firstSeen.get(id));
                }
            }
        }
        return problems;
    }
}
