package dev.epidemic.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One writer: transactions of every shape on its own rows, each recording its changes in the truth in
 * the same transaction. Faults make some of them fail; the truth decides what committed, and the
 * writer then re-reads which of its rows exist, so it never needs to guess.
 */
final class Writer implements Runnable {
    private final int number;
    private final String url;
    private final ChaosDialect dialect;
    private final Mix mix;
    private final Random random;
    private final WriterCounts counts;
    private List<Long> live = new ArrayList<>();
    private long nextId;
    private boolean stale;
    private volatile boolean stopping;

    /** Transactions by outcome, shared by all writers. */
    record WriterCounts(AtomicLong committed, AtomicLong rolledBack, AtomicLong failed, AtomicLong changes) {
        WriterCounts() {
            this(new AtomicLong(), new AtomicLong(), new AtomicLong(), new AtomicLong());
        }
    }

    Writer(int number, String url, ChaosDialect dialect, Mix mix, long seed, WriterCounts counts) {
        this.number = number;
        this.url = url;
        this.dialect = dialect;
        this.mix = mix;
        this.random = new Random(seed * 31 + number);
        this.counts = counts;
        this.nextId = (number + 1L) * 1_000_000_000_000L;
    }

    void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        Connection c = null;
        while (!stopping) {
            try {
                if (c == null) {
                    c = DriverManager.getConnection(url);
                    c.setAutoCommit(false);
                    stale = true;
                }
                if (stale) {
                    live.clear();
                    live.addAll(dialect.ids(c, number));
                    c.commit();
                    stale = false;
                }
                transaction(c);
            } catch (SQLException e) {
                counts.failed().incrementAndGet();
                stale = true;
                c = closeIfBroken(c);
                pause(c == null ? 200 : 1);
            }
            pause(random.nextInt(2 * mix.paceMillis() + 1));
        }
        closeIfBroken(c);
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the run is over
            }
        }
    }

    private void transaction(Connection c) throws SQLException {
        boolean rollback = random.nextDouble() < mix.rollback();
        // A rollback restores these rather than re-reading them: a writer may own many rows (those the table
        // held before the run), and it rolls back one transaction in ten.
        List<Long> before = rollback ? new ArrayList<>(live) : null;
        String note = rollback ? "rollback" : "ok";
        int changes = 0;
        try {
            double kind = random.nextDouble();
            if (kind < mix.truncate()) {
                changes += dialect.truncate(c);
                live.clear();
            } else if (kind < mix.truncate() + mix.bulk()) {
                changes += bulk(c, note);
            } else if (kind < mix.truncate() + mix.bulk() + mix.longTx()) {
                int statements = 2 + random.nextInt(3);
                for (int i = 0; i < statements; i++) {
                    if (i > 0) {
                        dialect.pause(c, Duration.ofMillis(500 + random.nextInt(2500)));
                    }
                    changes += small(c, note);
                }
            } else {
                int statements = random.nextInt(5) == 0 ? 2 + random.nextInt(4) : 1;
                for (int i = 0; i < statements; i++) {
                    changes += small(c, note);
                }
            }
            if (rollback) {
                c.rollback();
                counts.rolledBack().incrementAndGet();
                live = before;
            } else {
                dialect.recordCommit(c, number, changes);
                c.commit();
                counts.committed().incrementAndGet();
                counts.changes().addAndGet(changes);
            }
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c);
            throw e;
        }
    }

    private int bulk(Connection c, String note) throws SQLException {
        if (live.size() >= mix.bulkRows() && random.nextBoolean()) {
            // At most bulkRows of them: a writer may own many more (those the table held before the run).
            List<Long> rows = live.subList(live.size() - mix.bulkRows(), live.size());
            long[] ids = rows.stream().mapToLong(Long::longValue).toArray();
            if (random.nextBoolean()) {
                return checked(dialect.update(c, ids, note), ids.length);
            }
            rows.clear();
            return checked(dialect.delete(c, ids), ids.length);
        }
        int made = dialect.insert(c, number, nextId, mix.bulkRows(), note);
        for (int i = 0; i < mix.bulkRows(); i++) {
            live.add(nextId++);
        }
        return made;
    }

    private int small(Connection c, String note) throws SQLException {
        double what = random.nextDouble();
        if (live.size() < 5 || what < 0.45) {
            int rows = 1 + random.nextInt(3);
            int made = dialect.insert(c, number, nextId, rows, note);
            for (int i = 0; i < rows; i++) {
                live.add(nextId++);
            }
            return made;
        }
        if (what < 0.8) {
            long[] ids = new long[1 + random.nextInt(3)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = live.get(random.nextInt(live.size()));
            }
            ids = java.util.Arrays.stream(ids).distinct().toArray();
            return checked(dialect.update(c, ids, note), ids.length);
        }
        int index = random.nextInt(live.size());
        long id = live.get(index);
        live.set(index, live.get(live.size() - 1));
        live.remove(live.size() - 1);
        return checked(dialect.delete(c, new long[] {id}), 1);
    }

    /** Fewer changes than rows named means another writer's TRUNCATE took some: re-read after this transaction. */
    private int checked(int made, int expected) {
        if (made != expected) {
            stale = true;
        }
        return made;
    }

    private Connection closeIfBroken(Connection c) {
        if (c == null) {
            return null;
        }
        try {
            if (c.isValid(2)) {
                return c;
            }
        } catch (SQLException ignored) {
            // treated as broken
        }
        try {
            c.close();
        } catch (SQLException ignored) {
            // already gone
        }
        return null;
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the transaction went with it
        }
    }

    private void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }
}
