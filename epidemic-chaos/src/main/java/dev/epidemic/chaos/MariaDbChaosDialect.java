package dev.epidemic.chaos;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.StringJoiner;

/**
 * MariaDB: there is no data-modifying CTE, so the truth is read back from the rows in the same transaction,
 * under the row locks of the change (an UPDATE's own, a DELETE's taken by a locking read first): other
 * writers touch the same rows (the cursor chaser updates any writer's), and no TRUNCATE empties them
 * (MariaDB's triggers cannot see one, so the writers never truncate). The truth tables are system-versioned with
 * transaction-precise row starts, as Epidemic's log is: InnoDB stamps their rows with the writer's
 * transaction id, the very {@code txid} the consumer is given. The consumer logs in as a user of its own,
 * which is how its connections are found and ended with KILL CONNECTION.
 */
final class MariaDbChaosDialect implements ChaosDialect {
    private static final int LOAD_BATCH = 20_000;
    private static final int ER_NO_SUCH_TABLE = 1146;

    private final String database;
    private final String consumerUser;
    private final String consumerPassword;

    MariaDbChaosDialect(String database, String consumerUser, String consumerPassword) {
        this.database = database;
        this.consumerUser = consumerUser;
        this.consumerPassword = consumerPassword;
    }

    @Override
    public String watchedTable() {
        return database + ".chaos_items";
    }

    @Override
    public void createTables(Connection c) throws SQLException {
        String versioned = ", trx BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE,"
                + " trx_end BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,"
                + " PERIOD FOR SYSTEM_TIME(trx, trx_end)) ENGINE=InnoDB WITH SYSTEM VERSIONING";
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE chaos_items (id BIGINT PRIMARY KEY, writer INT NOT NULL, version INT NOT NULL,"
                    + " note VARCHAR(16) NOT NULL, KEY (writer)) ENGINE=InnoDB");
            // Not watched: the truth, written in the writers' transactions. No key: an auto-increment one would
            // serialize the writers' bulk statements on its table lock.
            st.execute("CREATE TABLE chaos_truth (op CHAR(1) NOT NULL, id BIGINT, version INT" + versioned);
            st.execute("CREATE TABLE chaos_commit (writer INT NOT NULL, changes INT NOT NULL, committed_at DECIMAL(17,6) NOT NULL"
                    + versioned);
        }
    }

    @Override
    public boolean backfills() {
        return true;
    }

    /**
     * Epidemic's tables lie in the run's database, named {@code SCHEMA_backfill} (dialect/mariadb/OwnTables);
     * the cursor, {@code after_key}, is a JSON array of the key's values as text.
     */
    @Override
    public OptionalLong backfillCursor(Connection c, String logSchema) throws SQLException {
        String table = "`" + (logSchema + "_backfill").replace("`", "``") + "`";
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(CAST(JSON_VALUE(after_key, '$[0]') AS SIGNED), 0) FROM " + table
                     + " WHERE finished_at IS NULL ORDER BY id LIMIT 1")) {
            return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
        } catch (SQLException e) {
            if (e.getErrorCode() == ER_NO_SUCH_TABLE) {
                return OptionalLong.empty(); // Epidemic's tables are not installed yet
            }
            throw e;
        }
    }

    @Override
    public void seedRows(Connection c, int rows, int writers) throws SQLException {
        // The SEQUENCE engine's seq_1_to_N: N is a number of ours, never input.
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chaos_items (id, writer, version, note)"
                + " SELECT CAST(seq AS SIGNED), seq % ?, 1, 'seed' FROM seq_1_to_" + rows)) {
            ps.setInt(1, writers);
            ps.executeUpdate();
        }
    }

    @Override
    public int insert(Connection c, int writer, long firstId, int count, String note) throws SQLException {
        // The SEQUENCE engine's seq_0_to_N: N is a number of ours, never input.
        String rows = " FROM seq_0_to_" + (count - 1);
        int made;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chaos_items (id, writer, version, note)"
                + " SELECT CAST(seq AS SIGNED) + ?, ?, 1, ?" + rows)) {
            ps.setLong(1, firstId);
            ps.setInt(2, writer);
            ps.setString(3, note);
            made = ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chaos_truth (op, id, version) SELECT 'I', CAST(seq AS SIGNED) + ?, 1"
                + rows)) {
            ps.setLong(1, firstId);
            ps.executeUpdate();
        }
        return made;
    }

    @Override
    public int update(Connection c, long[] ids, String note) throws SQLException {
        String in = in(ids);
        int made;
        try (PreparedStatement ps = c.prepareStatement("UPDATE chaos_items SET version = version + 1, note = ? WHERE id IN " + in)) {
            ps.setString(1, note);
            made = ps.executeUpdate();
        }
        // The rows as this transaction left them: it holds their row locks (the UPDATE took them) until it commits.
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO chaos_truth (op, id, version) SELECT 'U', id, version FROM chaos_items WHERE id IN " + in);
        }
        return made;
    }

    @Override
    public int delete(Connection c, long[] ids) throws SQLException {
        String in = in(ids);
        try (Statement st = c.createStatement()) {
            // FOR UPDATE: the version the DELETE removes. The cursor chaser updates other writers' rows, so a
            // row may change between this read and the DELETE unless the read locks it first (a shared lock, as
            // INSERT ... SELECT takes under REPEATABLE READ, would also make two deleters deadlock on the upgrade).
            st.executeUpdate("INSERT INTO chaos_truth (op, id, version) SELECT 'D', id, version FROM chaos_items WHERE id IN " + in
                    + " FOR UPDATE");
            return st.executeUpdate("DELETE FROM chaos_items WHERE id IN " + in);
        }
    }

    @Override
    public boolean capturesTruncate() {
        return false;
    }

    @Override
    public int truncate(Connection c) {
        throw new UnsupportedOperationException("MariaDB's triggers do not see a TRUNCATE (docs/mariadb.md)");
    }

    @Override
    public void pause(Connection c, Duration duration) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT SLEEP(?)")) {
            ps.setDouble(1, duration.toMillis() / 1000.0);
            ps.execute();
        }
    }

    @Override
    public void recordCommit(Connection c, int writer, int changes) throws SQLException {
        // SYSDATE, not NOW: the moment of the insert, just before the commit, not the statement's start.
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chaos_commit (writer, changes, committed_at)"
                + " VALUES (?, ?, UNIX_TIMESTAMP(SYSDATE(6)))")) {
            ps.setInt(1, writer);
            ps.setInt(2, changes);
            ps.executeUpdate();
        }
    }

    @Override
    public List<Long> ids(Connection c, int writer) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM chaos_items WHERE writer = ?")) {
            ps.setInt(1, writer);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
        }
        return ids;
    }

    @Override
    public int terminateConsumerConnections(Connection c) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?")) {
            ps.setString(1, consumerUser);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
        }
        int killed = 0;
        try (Statement st = c.createStatement()) {
            for (long id : ids) {
                try {
                    st.execute("KILL CONNECTION " + id);
                    killed++;
                } catch (SQLException e) {
                    // ER_NO_SUCH_THREAD: it closed by itself between the list and the KILL
                    if (e.getErrorCode() != 1094) {
                        throw e;
                    }
                }
            }
        }
        return killed;
    }

    @Override
    public String consumerUrl(String url) {
        int q = url.indexOf('?');
        StringJoiner params = new StringJoiner("&", "?", "");
        if (q >= 0) {
            for (String param : url.substring(q + 1).split("&")) {
                if (!param.isEmpty() && !param.startsWith("user=") && !param.startsWith("password=")) {
                    params.add(param);
                }
            }
        }
        params.add("user=" + consumerUser).add("password=" + consumerPassword);
        return (q < 0 ? url : url.substring(0, q)) + params;
    }

    @Override
    public DeliveryFigures verify(Connection c, List<Path> deliveredFiles) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String table : List.of("chaos_delivered", "first_delivery", "truth_count", "delivered_count", "committed_tx")) {
                st.execute("DROP TABLE IF EXISTS " + table);
            }
            st.execute("CREATE TABLE chaos_delivered (file INT, line INT, change_id BIGINT, txid BIGINT, op CHAR(1),"
                    + " id BIGINT, version INT, received_ms BIGINT) ENGINE=InnoDB");
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        for (int f = 0; f < deliveredFiles.size(); f++) {
            load(c, f, deliveredFiles.get(f));
        }
        c.setAutoCommit(autoCommit);
        // Plain tables, not TEMPORARY ones: MariaDB cannot open a temporary table twice in one query.
        try (Statement st = c.createStatement()) {
            // Redeliveries are allowed; order and completeness are judged on each change's first delivery.
            st.execute("CREATE TABLE first_delivery (KEY (txid), KEY (id, rn)) ENGINE=InnoDB AS"
                    + " SELECT change_id, txid, op, id, version, received_ms, ROW_NUMBER() OVER (ORDER BY file, line) AS rn"
                    + " FROM (SELECT d.*, ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY file, line) AS k FROM chaos_delivered d) x"
                    + " WHERE k = 1");
            st.execute("CREATE TABLE truth_count (PRIMARY KEY (txid, op, id, version)) ENGINE=InnoDB AS SELECT trx AS txid, op,"
                    + " COALESCE(id, 0) AS id, COALESCE(version, 0) AS version, COUNT(*) AS n FROM chaos_truth GROUP BY 1, 2, 3, 4");
            st.execute("CREATE TABLE delivered_count (PRIMARY KEY (txid, op, id, version)) ENGINE=InnoDB AS SELECT txid, op,"
                    + " COALESCE(id, 0) AS id, COALESCE(version, 0) AS version, COUNT(*) AS n FROM first_delivery WHERE op <> 'R' GROUP BY 1, 2, 3, 4");
            st.execute("CREATE TABLE committed_tx (PRIMARY KEY (txid)) ENGINE=InnoDB AS SELECT trx AS txid, committed_at FROM chaos_commit");
        }
        long committed = queryLong(c, "SELECT COUNT(*) FROM chaos_truth");
        long transactions = queryLong(c, "SELECT COUNT(*) FROM chaos_commit WHERE changes > 0");
        long lines = queryLong(c, "SELECT COUNT(*) FROM chaos_delivered");
        long distinct = queryLong(c, "SELECT COUNT(*) FROM first_delivery");
        long missing = queryLong(c, "SELECT COALESCE(SUM(t.n - COALESCE(d.n, 0)), 0) FROM truth_count t"
                + " LEFT JOIN delivered_count d USING (txid, op, id, version) WHERE t.n > COALESCE(d.n, 0)");
        String extra = "SELECT COALESCE(SUM(d.n - COALESCE(t.n, 0)), 0) FROM delivered_count d"
                + " LEFT JOIN truth_count t USING (txid, op, id, version) WHERE d.n > COALESCE(t.n, 0) AND ";
        long rolledBack = queryLong(c, extra + "d.txid NOT IN (SELECT txid FROM committed_tx)");
        long unexpected = queryLong(c, extra + "d.txid IN (SELECT txid FROM committed_tx)");
        long orderViolations = queryLong(c, "SELECT COUNT(*) FROM (SELECT version, op, LAG(version) OVER w AS prev_version,"
                + " LAG(op) OVER w AS prev_op FROM first_delivery WINDOW w AS (PARTITION BY id ORDER BY rn)) x"
                + " WHERE (prev_version, " + PostgresChaosDialect.OP_RANK.formatted("prev_op") + ") >= (version, "
                + PostgresChaosDialect.OP_RANK.formatted("op") + ")");
        long split = queryLong(c, "SELECT COUNT(*) FROM (SELECT txid FROM first_delivery GROUP BY txid"
                + " HAVING MAX(rn) - MIN(rn) + 1 <> COUNT(*)) x");
        List<Long> lags = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT GREATEST(0, MIN(d.received_ms) - CAST(t.committed_at * 1000 AS SIGNED)) AS lag_ms"
                     + " FROM first_delivery d JOIN committed_tx t USING (txid) GROUP BY d.txid, t.committed_at ORDER BY lag_ms")) {
            while (rs.next()) {
                lags.add(rs.getLong(1));
            }
        }
        return new DeliveryFigures(committed, transactions, lines, distinct, missing, lines - distinct, rolledBack, unexpected,
                orderViolations, split, percentile(lags, 0.5), percentile(lags, 0.99), lags.isEmpty() ? 0 : lags.get(lags.size() - 1));
    }

    /** PostgreSQL's percentile_disc: the first value whose cumulative share reaches {@code p}. */
    static long percentile(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int index = (int) Math.ceil(p * sorted.size()) - 1;
        return sorted.get(Math.max(0, index));
    }

    /** Inserts one file's lines in batches, without a last line that a kill cut short. */
    private static void load(Connection c, int file, Path path) throws SQLException {
        if (!Files.exists(path)) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chaos_delivered VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
             BufferedReader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            boolean complete = endsWithNewline(path);
            String line = reader.readLine();
            int number = 0;
            int batched = 0;
            while (line != null) {
                String next = reader.readLine();
                if (next != null || complete) {
                    String[] f = line.split("\t", -1);
                    ps.setInt(1, file);
                    ps.setInt(2, number++);
                    ps.setLong(3, Long.parseLong(f[0]));
                    ps.setLong(4, Long.parseLong(f[1]));
                    ps.setString(5, f[2]);
                    nullable(ps, 6, f[3], Types.BIGINT);
                    nullable(ps, 7, f[4], Types.INTEGER);
                    ps.setLong(8, Long.parseLong(f[5]));
                    ps.addBatch();
                    if (++batched == LOAD_BATCH) {
                        ps.executeBatch();
                        c.commit();
                        batched = 0;
                    }
                }
                line = next;
            }
            ps.executeBatch();
            c.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    private static void nullable(PreparedStatement ps, int index, String value, int type) throws SQLException {
        if (value.equals("\\N") || value.equals("null")) {
            ps.setNull(index, type);
        } else {
            ps.setLong(index, Long.parseLong(value));
        }
    }

    private static boolean endsWithNewline(Path path) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r")) {
            if (f.length() == 0) {
                return true;
            }
            f.seek(f.length() - 1);
            return f.read() == '\n';
        }
    }

    private static String in(long[] ids) {
        StringJoiner in = new StringJoiner(",", "(", ")");
        for (long id : ids) {
            in.add(Long.toString(id));
        }
        return in.toString();
    }

    private static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
