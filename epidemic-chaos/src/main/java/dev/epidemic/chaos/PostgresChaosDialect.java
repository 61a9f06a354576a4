package dev.epidemic.chaos;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * PostgreSQL: each change statement is a data-modifying CTE whose RETURNING rows go into the truth in
 * the same statement, so the truth holds exactly the rows the statement touched, even when another
 * writer's TRUNCATE took some of them. The verdict is computed in SQL over the loaded delivery files.
 */
public final class PostgresChaosDialect implements ChaosDialect {
    /** The consumer's connections are found by this application name. */
    private static final String APPLICATION_NAME = "epidemic-chaos-consumer";
    /**
     * The order of a row's changes that carry the same version: its INSERT, UPDATEs, a READ of that version
     * (which may come after the change that made it, never before), then its DELETE.
     */
    static final String OP_RANK = "CASE %s WHEN 'I' THEN 0 WHEN 'U' THEN 1 WHEN 'R' THEN 2 ELSE 3 END";

    @Override
    public String watchedTable() {
        return "public.chaos_items";
    }

    @Override
    public void createTables(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE chaos_items (id bigint PRIMARY KEY, writer int NOT NULL, version int NOT NULL, note text NOT NULL)");
            // Not watched: the truth, written in the writers' transactions.
            st.execute("CREATE TABLE chaos_truth (txid xid8 NOT NULL DEFAULT pg_current_xact_id(), op \"char\" NOT NULL, id bigint, version int)");
            st.execute("CREATE TABLE chaos_commit (txid xid8 PRIMARY KEY DEFAULT pg_current_xact_id(), writer int NOT NULL,"
                    + " changes int NOT NULL, committed_at timestamptz NOT NULL DEFAULT clock_timestamp())");
        }
    }

    @Override
    public boolean backfills() {
        return true;
    }

    @Override
    public void seedRows(Connection c, int rows, int writers) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chaos_items (id, writer, version, note)"
                + " SELECT g, g % ?, 1, 'seed' FROM generate_series(1, ?) g")) {
            ps.setInt(1, writers);
            ps.setInt(2, rows);
            ps.executeUpdate();
        }
        try (Statement st = c.createStatement()) {
            st.execute("ANALYZE chaos_items");
        }
    }

    @Override
    public OptionalLong backfillCursor(Connection c, String logSchema) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(after_key[1]::bigint, 0) FROM \"" + logSchema.replace("\"", "\"\"")
                     + "\".backfill WHERE finished_at IS NULL ORDER BY id LIMIT 1")) {
            return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                return OptionalLong.empty(); // Epidemic's tables are not installed yet
            }
            throw e;
        }
    }

    @Override
    public int insert(Connection c, int writer, long firstId, int count, String note) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("WITH x AS (INSERT INTO chaos_items (id, writer, version, note)"
                + " SELECT g, ?, 1, ? FROM generate_series(?::bigint, ?::bigint) g RETURNING id, version)"
                + " INSERT INTO chaos_truth (op, id, version) SELECT 'I', id, version FROM x")) {
            ps.setInt(1, writer);
            ps.setString(2, note);
            ps.setLong(3, firstId);
            ps.setLong(4, firstId + count - 1);
            return ps.executeUpdate();
        }
    }

    @Override
    public int update(Connection c, long[] ids, String note) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("WITH x AS (UPDATE chaos_items SET version = version + 1, note = ?"
                + " WHERE id = ANY (?) RETURNING id, version)"
                + " INSERT INTO chaos_truth (op, id, version) SELECT 'U', id, version FROM x")) {
            ps.setString(1, note);
            ps.setArray(2, c.createArrayOf("bigint", box(ids)));
            return ps.executeUpdate();
        }
    }

    @Override
    public int delete(Connection c, long[] ids) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("WITH x AS (DELETE FROM chaos_items WHERE id = ANY (?) RETURNING id, version)"
                + " INSERT INTO chaos_truth (op, id, version) SELECT 'D', id, version FROM x")) {
            ps.setArray(1, c.createArrayOf("bigint", box(ids)));
            return ps.executeUpdate();
        }
    }

    @Override
    public boolean capturesTruncate() {
        return true;
    }

    @Override
    public int truncate(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("TRUNCATE chaos_items");
            st.execute("INSERT INTO chaos_truth (op) VALUES ('T')");
        }
        return 1;
    }

    @Override
    public void pause(Connection c, Duration duration) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_sleep(?)")) {
            ps.setDouble(1, duration.toMillis() / 1000.0);
            ps.execute();
        }
    }

    @Override
    public void recordCommit(Connection c, int writer, int changes) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chaos_commit (writer, changes) VALUES (?, ?)")) {
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
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                + " WHERE application_name = ? AND datname = current_database()")) {
            ps.setString(1, APPLICATION_NAME);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    @Override
    public String consumerUrl(String url) {
        return url + (url.contains("?") ? "&" : "?") + "ApplicationName=" + APPLICATION_NAME;
    }

    @Override
    public DeliveryFigures verify(Connection c, List<Path> deliveredFiles) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS chaos_delivered");
            st.execute("CREATE UNLOGGED TABLE chaos_delivered (file int, line int, change_id bigint, txid bigint, op \"char\","
                    + " id bigint, version int, received_ms bigint)");
        }
        for (int f = 0; f < deliveredFiles.size(); f++) {
            load(c, f, deliveredFiles.get(f));
        }
        try (Statement st = c.createStatement()) {
            // Redeliveries are allowed; order and completeness are judged on each change's first delivery.
            st.execute("CREATE TEMP TABLE first_delivery AS SELECT x.*, row_number() OVER (ORDER BY file, line) AS rn"
                    + " FROM (SELECT DISTINCT ON (change_id) * FROM chaos_delivered ORDER BY change_id, file, line) x");
            st.execute("CREATE TEMP TABLE truth_count AS SELECT txid::text::bigint AS txid, op, coalesce(id, 0) id,"
                    + " coalesce(version, 0) version, count(*) n FROM chaos_truth GROUP BY 1, 2, 3, 4");
            st.execute("CREATE TEMP TABLE delivered_count AS SELECT txid, op, coalesce(id, 0) id, coalesce(version, 0) version,"
                    + " count(*) n FROM first_delivery WHERE op <> 'R' GROUP BY 1, 2, 3, 4");
            st.execute("CREATE TEMP TABLE committed_tx AS SELECT txid::text::bigint AS txid, committed_at FROM chaos_commit");
            st.execute("ANALYZE first_delivery, truth_count, delivered_count, committed_tx");
        }
        long committed = queryLong(c, "SELECT count(*) FROM chaos_truth");
        long transactions = queryLong(c, "SELECT count(*) FROM chaos_commit WHERE changes > 0");
        long lines = queryLong(c, "SELECT count(*) FROM chaos_delivered");
        long distinct = queryLong(c, "SELECT count(*) FROM first_delivery");
        long missing = queryLong(c, "SELECT coalesce(sum(t.n - coalesce(d.n, 0)), 0) FROM truth_count t"
                + " LEFT JOIN delivered_count d USING (txid, op, id, version) WHERE t.n > coalesce(d.n, 0)");
        String extra = "SELECT coalesce(sum(d.n - coalesce(t.n, 0)), 0) FROM delivered_count d"
                + " LEFT JOIN truth_count t USING (txid, op, id, version) WHERE d.n > coalesce(t.n, 0) AND ";
        long rolledBack = queryLong(c, extra + "d.txid NOT IN (SELECT txid FROM committed_tx)");
        long unexpected = queryLong(c, extra + "d.txid IN (SELECT txid FROM committed_tx)");
        long orderViolations = queryLong(c, "SELECT count(*) FROM (SELECT version, op, lag(version) OVER w AS prev_version,"
                + " lag(op) OVER w AS prev_op FROM first_delivery WHERE op <> 'T' WINDOW w AS (PARTITION BY id ORDER BY rn)) x"
                + " WHERE (prev_version, " + OP_RANK.formatted("prev_op") + ") >= (version, " + OP_RANK.formatted("op") + ")");
        long split = queryLong(c, "SELECT count(*) FROM (SELECT txid FROM first_delivery GROUP BY txid"
                + " HAVING max(rn) - min(rn) + 1 <> count(*)) x");
        long[] lag = new long[3];
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY lag_ms), 0),"
                     + " coalesce(percentile_disc(0.99) WITHIN GROUP (ORDER BY lag_ms), 0), coalesce(max(lag_ms), 0) FROM"
                     + " (SELECT greatest(0, min(d.received_ms) - (extract(epoch FROM t.committed_at) * 1000)::bigint) AS lag_ms"
                     + "    FROM first_delivery d JOIN committed_tx t USING (txid) GROUP BY d.txid, t.committed_at) x")) {
            rs.next();
            for (int i = 0; i < 3; i++) {
                lag[i] = rs.getLong(i + 1);
            }
        }
        return new DeliveryFigures(committed, transactions, lines, distinct, missing, lines - distinct, rolledBack, unexpected,
                orderViolations, split, lag[0], lag[1], lag[2]);
    }

    /** COPYs one file, without a last line that a kill cut short. */
    private static void load(Connection c, int file, Path path) throws SQLException {
        if (!Files.exists(path)) {
            return;
        }
        boolean lastLineComplete = endsWithNewline(path);
        CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY chaos_delivered FROM STDIN");
        try (BufferedReader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            String line = reader.readLine();
            int number = 0;
            StringBuilder chunk = new StringBuilder();
            while (line != null) {
                String next = reader.readLine();
                if (next != null || lastLineComplete) {
                    chunk.append(file).append('\t').append(number++).append('\t').append(line).append('\n');
                }
                if (chunk.length() > 1 << 20) {
                    byte[] bytes = chunk.toString().getBytes(StandardCharsets.UTF_8);
                    copy.writeToCopy(bytes, 0, bytes.length);
                    chunk.setLength(0);
                }
                line = next;
            }
            byte[] bytes = chunk.toString().getBytes(StandardCharsets.UTF_8);
            copy.writeToCopy(bytes, 0, bytes.length);
            copy.endCopy();
        } catch (IOException e) {
            copy.cancelCopy();
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    private static boolean endsWithNewline(Path path) {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r")) {
            if (f.length() == 0) {
                return true;
            }
            f.seek(f.length() - 1);
            return f.read() == '\n';
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Long[] box(long[] ids) {
        Long[] boxed = new Long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            boxed[i] = ids[i];
        }
        return boxed;
    }
}
