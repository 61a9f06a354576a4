package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.Dialect.WindowEnd;
import dev.epidemic.dialect.Dialect.RowSink;
import dev.epidemic.dialect.Jdbc;
import dev.epidemic.dialect.LogRows;
import dev.epidemic.dialect.Position;
import dev.epidemic.dialect.mariadb.LogState.Gap;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.inTransaction;

/**
 * Reading the log by windows between two {@link LogState}s: ids are taken before commit, so a window is
 * cut by the gaps in the ids, re-checked until they fill or their transactions have certainly ended
 * (the {@link TransactionProbe}), and handed over in (last id of its transaction, id) order.
 */
final class WindowReader implements Dialect.Reader {
    private static final long PROBE_EVERY_NANOS = Duration.ofMillis(200).toNanos();

    private final OwnTables own;
    private final TransactionProbe probe;
    private long lastProbeNanos = System.nanoTime() - PROBE_EVERY_NANOS;

    WindowReader(OwnTables own, TransactionProbe probe) {
        this.own = own;
        this.probe = probe;
    }

    /**
     * The next window after {@code from}: one consistent read finds which of the old gaps filled and
     * which ids above the high-water mark are missing; gaps whose transactions have all ended (as a probe
     * made before this read showed) and that are still missing are dropped. Then, now and then, a probe
     * measures the new gaps' bounds and marks the gaps whose transactions have all ended.
     */
    @Override
    public WindowEnd nextWindowEnd(Connection c, Position from, long changes) throws SQLException {
        LogState state = LogState.parse(from.delivered());
        List<Gap> gaps = new ArrayList<>();
        long highWater = consistently(c, () -> {
            NavigableSet<Long> filled = present(c, state);
            for (Gap gap : state.gaps()) {
                if (!gap.ended()) {
                    gaps.addAll(gap.without(filled));
                }
            }
            return scanAbove(c, state.highWater(), state.highWater(), gaps);
        });
        boolean unsettled = gaps.stream().anyMatch(g -> !g.ended());
        if (unsettled && System.nanoTime() - lastProbeNanos >= PROBE_EVERY_NANOS) {
            lastProbeNanos = System.nanoTime();
            TransactionProbe.Result fresh = probe.probe(c);
            if (fresh != null) {
                gaps.replaceAll(g -> {
                    long bound = g.bound() == 0 ? fresh.ownId() : g.bound();
                    return new Gap(g.from(), g.to(), bound, fresh.noneRunningBelow(bound));
                });
            }
        }
        return new WindowEnd(new LogState(highWater, gaps).text(), true);
    }

    /** The ids in {@code state}'s gaps that are in the log now. */
    private NavigableSet<Long> present(Connection c, LogState state) throws SQLException {
        NavigableSet<Long> result = new TreeSet<>();
        if (state.gaps().isEmpty()) {
            return result;
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT l.id FROM " + own.changeLog() + " l WHERE " + state.gapCondition("l.id"))) {
            while (rs.next()) {
                result.add(rs.getLong(1));
            }
        }
        return result;
    }

    @Override
    public boolean sameSnapshot(String a, String b) {
        return a.equals(b);
    }

    /**
     * The rows of the window {@code (from, upTo]}, and some more that the reader skips ({@link #inWindow}):
     * ids in (from's high water, upTo's] or in the gaps of from that upTo no longer has, including those
     * in upTo's gaps (transactions that committed after upTo was read). Leaving those out in SQL would
     * take a {@code NOT (gap OR gap ...)} that MariaDB evaluates term by term on every row, thousands of
     * terms under bulk writers (33 s for a 176,000-change window); they are whole transactions, so the
     * last ids computed here stay right for the others.
     *
     * <p>The READs of backfills are there only for their targets: a chunk's transaction holds nothing but
     * READs of one backfill, so leaving it out whole keeps the other transactions' last ids right.
     */
    String windowRows(LogState from, LogState upTo, int[] tableIds, String consumer, boolean withMask) {
        String filter = (tableIds == null ? "" : " AND l.table_id IN (" + Arrays.stream(tableIds).mapToObj(Integer::toString)
                .collect(Collectors.joining(", ")) + ")") + forConsumer("l", consumer);
        List<Gap> closed = from.gapsClosedBy(upTo);
        String inGaps = closed.isEmpty() ? "" : " OR " + LogState.condition("l.id", closed); // checked only off the main range
        String where = " WHERE ((l.id > " + from.highWater() + " AND l.id <= " + upTo.highWater() + ")" + inGaps + ")" + filter;
        // Each transaction's last id by GROUP BY and a join: MariaDB evaluates MAX() OVER (PARTITION BY)
        // in time quadratic in the partition's size (35 s for two 10,000-row transactions).
        return "SELECT l.id, l.trx, g.tx_last_id, l.table_id, l.op, l.`key`, l.old, l.new, l.at, " + (withMask ? "l.filter_mask" : "NULL AS filter_mask") + " FROM " + own.changeLog() + " l JOIN"
                + " (SELECT l.trx, MAX(l.id) AS tx_last_id FROM " + own.changeLog() + " l" + where + " GROUP BY l.trx) g ON g.trx = l.trx" + where;
    }

    /** The condition (after AND) that keeps of the log rows aliased {@code alias} those for {@code consumer}: every change, and its backfills' READs; none for a null consumer. */
    String forConsumer(String alias, String consumer) {
        if (consumer == null) {
            return ""; // a log of before version 3, which has no backfills
        }
        return " AND (" + alias + ".backfill_id IS NULL OR " + alias + ".backfill_id IN (SELECT bt.backfill_id FROM " + own.backfillTarget()
                + " bt WHERE bt.consumer = " + Names.literal(consumer) + "))";
    }

    /** Whether a row read by {@link #windowRows} belongs to the window up to {@code upTo}. */
    static boolean inWindow(LogState upTo, long id) {
        return !upTo.inGap(id);
    }

    @Override
    public void readWindow(Connection c, String consumer, Position position, String upTo, int[] tableIds, int fetchSize, RowSink sink) throws SQLException {
        boolean resuming = upTo.equals(position.window());
        LogState end = LogState.parse(upTo);
        String sql = "SELECT w.id, w.trx, w.tx_last_id, CONCAT(t.schema_name, '.', t.table_name), w.op, w.`key`, w.old, w.new, w.at, w.table_id, w.filter_mask FROM ("
                + windowRows(LogState.parse(position.delivered()), end, tableIds, consumer, true) + ") w JOIN " + own.watchedTable()
                + " t ON t.id = w.table_id WHERE w.tx_last_id > ? OR (w.tx_last_id = ? AND w.id > ?) ORDER BY w.tx_last_id, w.id";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            long afterTx = resuming ? position.afterTxLastId() : 0;
            ps.setLong(1, afterTx);
            ps.setLong(2, afterTx);
            ps.setLong(3, resuming ? position.afterId() : 0);
            ps.setFetchSize(fetchSize);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!inWindow(end, rs.getLong(1))) {
                        continue;
                    }
                    if (!sink.accept(LogRows.readFromLog(rs, 1, EpochSeconds.COLUMNS))) {
                        break;
                    }
                }
            }
        }
    }

    /** Reads the ids above {@code from}, adds the missing ones to {@code gaps}; returns the highest (or {@code from}). */
    long scanAbove(Connection c, long from, long highWater, List<Gap> gaps) throws SQLException {
        long expected = highWater + 1;
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + own.changeLog() + " WHERE id > ? ORDER BY id")) {
            ps.setLong(1, from);
            ps.setFetchSize(10_000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    if (id > expected) {
                        gaps.add(new Gap(expected, id - 1, 0, false));
                    }
                    expected = id + 1;
                }
            }
        }
        return expected - 1;
    }

    /** Runs {@code work} in one REPEATABLE READ snapshot, so that its reads agree with each other. */
    static <T> T consistently(Connection c, Jdbc.SqlWork<T> work) throws SQLException {
        if (c.getTransactionIsolation() != Connection.TRANSACTION_REPEATABLE_READ) {
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        }
        return inTransaction(c, () -> {
            execute(c, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
            return work.run();
        });
    }
}
