package dev.epidemic.dialect.mariadb;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * Which InnoDB transactions are running, from {@code information_schema.innodb_trx}, with proof that the
 * answer is current.
 *
 * <p>InnoDB serves that table from a cache that is refreshed only when nobody read it for 0.1 s, so an
 * answer may be old. The probe therefore writes in a transaction of its own first (which gives it a
 * transaction id, larger than that of every transaction that wrote before) and puts a nonce into its
 * query: the answer is fresh only if it lists the probe's own transaction running exactly that query.
 * A stale answer says nothing, and callers then conclude nothing.
 */
final class TransactionProbe {

    /**
     * A fresh answer.
     *
     * @param ownId        the probe's transaction id: every transaction that wrote before the probe has a smaller one
     * @param oldestBelow  the smallest id of another running transaction, or {@code Long.MAX_VALUE} when none runs
     * @param oldestStart  epoch seconds when the oldest other running transaction started, or the present when none runs
     */
    record Result(long ownId, long oldestBelow, long oldestStart) {
        /** True when no transaction with an id below {@code bound} is still running. */
        boolean noneRunningBelow(long bound) {
            return oldestBelow >= bound;
        }
    }

    private final OwnTables own;

    TransactionProbe(OwnTables own) {
        this.own = own;
    }

    /** A fresh answer, asking up to 20 times 120 ms apart (InnoDB refreshes its cache after 0.1 s without readers); null when all were stale. */
    Result awaitFresh(Connection c) throws SQLException {
        Result fresh = null;
        for (int attempt = 0; attempt < 20 && fresh == null; attempt++) {
            fresh = probe(c);
            if (fresh == null) {
                try {
                    Thread.sleep(120);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        return fresh;
    }

    /** A fresh answer, or null when the cache was stale. Leaves {@code c} in autocommit mode. */
    Result probe(Connection c) throws SQLException {
        String nonce = UUID.randomUUID().toString();
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO " + own.probe() + " (conn, n) VALUES (CONNECTION_ID(), 1) ON DUPLICATE KEY UPDATE n = n + 1");
            long own = -1;
            long now = 0;
            record Other(long id, long started) {
            }
            java.util.List<Other> others = new java.util.ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT trx_id, trx_mysql_thread_id = CONNECTION_ID() AND trx_query LIKE '%" + nonce + "%',"
                    + " UNIX_TIMESTAMP(trx_started), UNIX_TIMESTAMP() FROM information_schema.innodb_trx"
                    + " UNION ALL SELECT NULL, NULL, NULL, UNIX_TIMESTAMP()")) {
                while (rs.next()) {
                    now = rs.getLong(4);
                    String id = rs.getString(1);
                    if (id == null) {
                        continue;
                    }
                    long trx = Long.parseUnsignedLong(id);
                    if (rs.getBoolean(2)) {
                        own = trx;
                    } else {
                        others.add(new Other(trx, rs.getLong(3)));
                    }
                }
            }
            if (own < 0) {
                return null;
            }
            // Only transactions that wrote before the probe matter; read-only ones show huge made-up ids.
            long oldest = Long.MAX_VALUE;
            long oldestStart = now;
            for (Other other : others) {
                if (Long.compareUnsigned(other.id, own) < 0) {
                    oldest = Math.min(oldest, other.id);
                    oldestStart = Math.min(oldestStart, other.started);
                }
            }
            return new Result(own, oldest, oldestStart);
        } finally {
            try {
                c.rollback();
            } finally {
                c.setAutoCommit(autoCommit);
            }
        }
    }
}
