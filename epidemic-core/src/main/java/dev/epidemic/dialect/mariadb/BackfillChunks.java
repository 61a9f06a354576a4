package dev.epidemic.dialect.mariadb;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.dialect.BackfillTargets;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.RowFilter;
import dev.epidemic.dialect.mariadb.Catalog.Column;
import dev.epidemic.dialect.mariadb.Catalog.Table;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import static dev.epidemic.dialect.Jdbc.firstLine;
import static dev.epidemic.dialect.Jdbc.inTransaction;
import static dev.epidemic.dialect.mariadb.Names.quote;

/**
 * Backfills on MariaDB (see {@link Dialect.Backfills}). A chunk is one READ COMMITTED transaction: it reads the
 * next chunk size matching rows after the last key logged with {@code LOCK IN SHARE MODE NOWAIT}, writes them
 * to the log as READs with multi-row {@code INSERT ... VALUES} statements, and stores the cursor. The locking
 * read reads each row's latest committed version and holds a shared lock on it until the chunk commits, so a
 * writer that changes the row later waits, and its change takes its log id (its trigger runs after the row
 * lock is granted) after the chunk's READs: the reader delivers it after them. InnoDB detects deadlocks at
 * once and would pick the writer as the victim (the chunk holds more locks), so the chunk never waits for a
 * lock: NOWAIT fails it at once (error 1205), and the engine tries a smaller chunk again. READ COMMITTED takes
 * no gap locks, so writers inserting new rows into the chunk's range do not wait for it. The log rows are not
 * written by {@code INSERT ... SELECT}: see {@link #logReads}.
 */
final class BackfillChunks implements Dialect.Backfills {
    private static final Logger log = LoggerFactory.getLogger(BackfillChunks.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };
    /** "Lock wait timeout exceeded": NOWAIT met a row lock, or a metadata lock waited past lock_wait_timeout. */
    private static final int ER_LOCK_WAIT_TIMEOUT = 1205;
    /** A deadlock: not expected, since a chunk never waits for a row, but it is safe to try again. */
    private static final int ER_LOCK_DEADLOCK = 1213;
    private static final String COLUMNS = "b.id, CONCAT(w.schema_name, '.', w.table_name), b.row_filter, b.started_by, b.rows_done,"
            + " b.rows_estimate, b.started_at, b.updated_at, b.finished_at,"
            + " (SELECT JSON_ARRAYAGG(t.consumer ORDER BY t.consumer) FROM %s t WHERE t.backfill_id = b.id)";

    /** Rows and bytes of JSON per log INSERT: statements well below max_allowed_packet (16 MB by default). */
    private static final int ROWS_PER_INSERT = 1000;
    private static final long BYTES_PER_INSERT = 1 << 20;

    private final OwnTables own;
    /** Each table's definition as chunks read it, with the registry row it was read for (see {@link #cachedSource}). */
    private final Map<Integer, Cached> sources = new ConcurrentHashMap<>();
    private final Installation installation;
    private final Registry registry;
    private final Catalog catalog;
    private final NamedLocks locks;
    private final Positions positions;

    BackfillChunks(OwnTables own, Installation installation, Registry registry, Catalog catalog, NamedLocks locks, Positions positions) {
        this.own = own;
        this.installation = installation;
        this.registry = registry;
        this.catalog = catalog;
        this.locks = locks;
        this.positions = positions;
    }

    /**
     * A watched table as a chunk reads it: its key (names and catalog types) and its captured columns.
     *
     * @param keyTypes each key column's DATA_TYPE and COLUMN_TYPE, lower case, e.g. {@code int|int(10) unsigned}
     */
    private record Source(int tableId, Table table, List<String> keys, List<String> keyTypes, List<String> columns, List<Column> all) {
        String display() {
            return table.display();
        }
    }

    private record Cached(String registered, Source source) {
    }

    /**
     * The table's definition, read from the catalog once and kept while its registry row ({@code registered}:
     * name, key, captured columns, active) stays the same; a chunk that fails for any reason but busy rows
     * drops it, so a table altered under the backfill is read again (and a gone column then named). The
     * capture triggers are built from the catalog at watch time the same way.
     */
    private Source cachedSource(Connection c, int tableId, String registered) throws SQLException {
        Cached cached = sources.get(tableId);
        if (cached != null && cached.registered().equals(registered)) {
            return cached.source();
        }
        Source source = source(c, tableId);
        sources.put(tableId, new Cached(registered, source));
        return source;
    }

    @Override
    public BackfillStatus begin(Connection c, String table, List<String> consumers, String where) throws SQLException {
        installation.install(c);
        int tableId = registry.tableIds(c, List.of(table))[0];
        Source source = source(c, tableId);
        String condition = RowFilter.check(where, source.display());
        checkCondition(c, source, condition);
        List<String> requested = consumers.isEmpty() ? null : List.copyOf(new TreeSet<>(consumers));
        return locks.whileBeginningBackfill(c, () -> inTransaction(c, () -> {
            List<String> targets = targets(c, source, requested);
            Long unfinished = unfinishedCommand(c, tableId, condition, requested);
            long id = unfinished != null ? unfinished : create(c, source, condition, requested, null, targets);
            return status(c, id);
        }));
    }

    @Override
    public void createFromSnapshot(Connection c, String consumer, int[] tableIds) throws SQLException {
        if (queryExists(c, "SELECT 1 FROM " + own.consumer() + " WHERE name = ?", consumer)) {
            return; // it resumes from its position, and its own unfinished backfills
        }
        // The present is measured first (it takes transactions of its own); the consumer and its backfills
        // are then created in one transaction: a crash leaves neither one without the other.
        String present = positions.startState(c, true).text();
        int[] tables = tableIds == null ? activeTables(c) : tableIds;
        List<Source> sources = new ArrayList<>();
        for (int tableId : tables) {
            sources.add(source(c, tableId));
        }
        inTransaction(c, () -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT IGNORE INTO " + own.consumer() + " (name, delivered) VALUES (?, ?)")) {
                ps.setString(1, consumer);
                ps.setString(2, present);
                if (ps.executeUpdate() == 0) {
                    return;
                }
            }
            for (Source source : sources) {
                create(c, source, null, List.of(consumer), consumer, List.of(consumer));
            }
        });
    }

    @Override
    public boolean tryRun(Connection c, long backfill) throws SQLException {
        return locks.tryRunBackfill(c, backfill);
    }

    @Override
    public void release(Connection c, long backfill) throws SQLException {
        locks.releaseBackfill(c, backfill);
    }

    @Override
    public boolean rowsBusy(SQLException e) {
        return e.getErrorCode() == ER_LOCK_WAIT_TIMEOUT || e.getErrorCode() == ER_LOCK_DEADLOCK;
    }

    @Override
    public BackfillStatus logChunk(Connection c, long backfill, int limit) throws SQLException {
        int isolation = c.getTransactionIsolation();
        // READ COMMITTED: the locking read takes no gap locks, so writers inserting rows into the chunk's
        // range do not wait for it.
        c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        try {
            inTransaction(c, () -> {
                long started = System.nanoTime();
                int tableId;
                String condition;
                List<String> afterKey;
                String registered;
                try (PreparedStatement ps = c.prepareStatement("SELECT b.table_id, b.row_filter, b.after_key, b.finished_at IS NOT NULL,"
                        + " CONCAT_WS('|', w.schema_name, w.table_name, w.key_columns, w.columns, w.active) FROM " + own.backfill() + " b JOIN "
                        + own.watchedTable() + " w ON w.id = b.table_id WHERE b.id = ? FOR UPDATE")) {
                    ps.setLong(1, backfill);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new EpidemicException("backfill " + backfill + " does not exist");
                        }
                        if (rs.getBoolean(4)) {
                            return;
                        }
                        tableId = rs.getInt(1);
                        condition = rs.getString(2);
                        afterKey = rs.getString(3) == null ? null : fromJson(rs.getString(3));
                        registered = rs.getString(5);
                    }
                }
                Source source = cachedSource(c, tableId, registered);
                long sourced = System.nanoTime();
                List<Read> reads;
                try {
                    reads = lockRows(c, source, condition, afterKey, limit);
                } catch (SQLException e) {
                    if (!rowsBusy(e)) {
                        sources.remove(tableId); // the table may have changed under the cached definition: the next try reads it again
                    }
                    throw e;
                }
                long read = System.nanoTime();
                logReads(c, source, backfill, reads);
                long logged = System.nanoTime();
                boolean finished = reads.size() < limit;
                try (PreparedStatement ps = c.prepareStatement("UPDATE " + own.backfill() + " SET after_key = COALESCE(?, after_key),"
                        + " rows_done = rows_done + ?, updated_at = " + EpochSeconds.COLUMNS.now() + ", finished_at = CASE WHEN ? THEN "
                        + EpochSeconds.COLUMNS.now() + " END WHERE id = ?")) {
                    ps.setString(1, reads.isEmpty() ? null : toJson(reads.get(reads.size() - 1).key()));
                    ps.setLong(2, reads.size());
                    ps.setBoolean(3, finished);
                    ps.setLong(4, backfill);
                    ps.executeUpdate();
                }
                if (log.isDebugEnabled()) {
                    log.debug("Backfill {}: {} rows; registry and catalog {} ms, locking read {} ms, log inserts {} ms, cursor {} ms", backfill,
                            reads.size(), millis(started, sourced), millis(sourced, read), millis(read, logged), millis(logged, System.nanoTime()));
                }
            });
        } finally {
            c.setTransactionIsolation(isolation);
        }
        return status(c, backfill);
    }

    private static long millis(long from, long to) {
        return (to - from) / 1_000_000;
    }

    @Override
    public List<BackfillStatus> unfinished(Connection c, String startedBy) throws SQLException {
        if (!installation.installed(c) || installation.installedVersion(c) < 3) {
            return List.of();
        }
        List<BackfillStatus> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(select() + " WHERE b.finished_at IS NULL"
                + (startedBy == null ? "" : " AND b.started_by = ?") + " ORDER BY b.id")) {
            if (startedBy != null) {
                ps.setString(1, startedBy);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(status(rs));
                }
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- chunks

    /**
     * A row of the chunk: its key as the cursor keeps it, the log's key and new values (JSON), and the mask of
     * the table's row filters it matches (null when the table has none; 0: no filter selects it, not logged).
     */
    private record Read(List<String> key, String keyJson, String newJson, Long mask) {
        long size() {
            return keyJson.length() + (newJson == null ? 0 : newJson.length());
        }
    }

    /**
     * Reads and share-locks the next {@code limit} matching rows after {@code afterKey}, in key order, with
     * their JSON as the log keeps it. The locking read reads each row's latest committed version, not a
     * snapshot, and NOWAIT fails it at once (error 1205) on a row a writer holds, or when a DDL statement
     * holds or waits for the table.
     */
    private List<Read> lockRows(Connection c, Source source, String condition, List<String> afterKey, int limit) throws SQLException {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < source.keys().size(); i++) {
            String ref = "r." + quote(source.keys().get(i));
            texts.add(isBinary(source.keyTypes().get(i)) ? "HEX(" + ref + ")" : "CAST(" + ref + " AS CHAR)");
        }
        List<String> binds = new ArrayList<>();
        // A table with row filters: each READ carries their mask, computed as the capture triggers compute it.
        String filterMask = RowFilters.mask("r", registry.filterBits(c, source.tableId()), source.table(), source.all());
        String sql = "SELECT " + String.join(", ", texts) + ", " + Capture.json("r", source.keys(), source.all()) + ", "
                + Capture.json("r", source.columns(), source.all()) + ", " + (filterMask == null ? "NULL" : filterMask) + " FROM " + source.table().quoted() + " r WHERE "
                + range(source, afterKey, binds) + filter(condition) + " ORDER BY " + keyOrder(source) + " LIMIT " + limit
                + " LOCK IN SHARE MODE NOWAIT";
        List<Read> reads = new ArrayList<>(Math.min(limit, 10_000));
        int keys = source.keys().size();
        try (PreparedStatement ps = bind(c.prepareStatement(sql), binds); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                List<String> key = new ArrayList<>(keys);
                for (int i = 1; i <= keys; i++) {
                    key.add(rs.getString(i));
                }
                Object mask = rs.getObject(keys + 3); // (getLong and wasNull do not tell a NULL literal's column from 0)
                reads.add(new Read(key, rs.getString(keys + 1), rs.getString(keys + 2), mask == null ? null : ((Number) mask).longValue()));
            }
        }
        return reads;
    }

    /**
     * Logs the chunk's rows as READs, in key order, with multi-row {@code INSERT ... VALUES} statements.
     * Their row count is known, so InnoDB (innodb_autoinc_lock_mode 1, the default) reserves exactly their
     * ids under its auto-increment mutex for a moment: writers' trigger inserts into the log do not queue
     * behind the chunk as they would behind an {@code INSERT ... SELECT}, which holds the table's AUTO-INC
     * lock to its end (and leaves reserved ids unused, which the reader then has to probe as gaps).
     */
    private void logReads(Connection c, Source source, long backfill, List<Read> chunk) throws SQLException {
        List<Read> reads = chunk.stream().filter(r -> r.mask() == null || r.mask() != 0).toList(); // rows no filter selects are not logged
        boolean masked = reads.stream().anyMatch(r -> r.mask() != null);
        String prefix = "INSERT INTO " + own.changeLog() + " (table_id, op, `key`, old, new, at, backfill_id" + (masked ? ", filter_mask" : "") + ") VALUES ";
        String row = "(" + source.tableId() + ", 'R', ?, NULL, ?, UNIX_TIMESTAMP(SYSDATE(6)), " + backfill + (masked ? ", ?" : "") + ")";
        int from = 0;
        while (from < reads.size()) {
            int to = from;
            long bytes = 0;
            while (to < reads.size() && to - from < ROWS_PER_INSERT && (to == from || bytes + reads.get(to).size() <= BYTES_PER_INSERT)) {
                bytes += reads.get(to).size();
                to++;
            }
            StringBuilder sql = new StringBuilder(prefix.length() + (to - from) * (row.length() + 1)).append(prefix);
            for (int i = from; i < to; i++) {
                sql.append(i > from ? "," : "").append(row);
            }
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                int p = 1;
                for (int i = from; i < to; i++) {
                    ps.setString(p++, reads.get(i).keyJson());
                    ps.setString(p++, reads.get(i).newJson());
                    if (masked) {
                        ps.setObject(p++, reads.get(i).mask());
                    }
                }
                ps.executeUpdate();
            }
            from = to;
        }
    }

    /**
     * The key condition of a chunk: after {@code after} (if any) in key order, spelled out column by column
     * ({@code a > ? OR (a = ? AND b > ?)}), which MariaDB's range optimizer turns into index ranges; the
     * values it takes are added to {@code binds}.
     */
    private static String range(Source source, List<String> after, List<String> binds) {
        if (after == null) {
            return "TRUE";
        }
        List<String> alternatives = new ArrayList<>();
        for (int i = 0; i < source.keys().size(); i++) {
            List<String> terms = new ArrayList<>();
            for (int j = 0; j <= i; j++) {
                terms.add("r." + quote(source.keys().get(j)) + (j < i ? " = " : " > ") + parameter(source.keyTypes().get(j)));
                binds.add(after.get(j));
            }
            alternatives.add("(" + String.join(" AND ", terms) + ")");
        }
        return "(" + String.join(" OR ", alternatives) + ")";
    }

    /** A key value as the text the cursor keeps, converted back to the column's type (exactly: no detour through a double). */
    private static String parameter(String keyType) {
        String dataType = keyType.substring(0, keyType.indexOf('|'));
        boolean unsigned = keyType.contains("unsigned");
        return switch (dataType) {
            case "tinyint", "smallint", "mediumint", "int", "bigint" -> unsigned ? "CAST(? AS UNSIGNED)" : "CAST(? AS SIGNED)";
            case "decimal" -> "CAST(? AS DECIMAL(65,30))";
            case "float", "double" -> "CAST(? AS DOUBLE)";
            case "date" -> "CAST(? AS DATE)";
            case "datetime", "timestamp" -> "CAST(? AS DATETIME(6))";
            case "time" -> "CAST(? AS TIME(6))";
            default -> isBinary(keyType) ? "UNHEX(?)" : "?";
        };
    }

    private static boolean isBinary(String keyType) {
        return List.of("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob").contains(keyType.substring(0, keyType.indexOf('|')));
    }

    private static String keyOrder(Source source) {
        return String.join(", ", source.keys().stream().map(k -> "r." + quote(k)).toList());
    }

    private static String filter(String condition) {
        return condition == null ? "" : " AND (" + condition + ")";
    }

    private static PreparedStatement bind(PreparedStatement ps, List<String> values) throws SQLException {
        for (int i = 0; i < values.size(); i++) {
            ps.setString(i + 1, values.get(i));
        }
        return ps;
    }

    // ---------------------------------------------------------------- registration

    private int[] activeTables(Connection c) throws SQLException {
        List<Integer> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + own.watchedTable() + " WHERE active ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The watched table of a registry id, with its key's types as the catalog has them now. */
    private Source source(Connection c, int tableId) throws SQLException {
        Table table;
        List<String> keys;
        List<String> columns;
        try (PreparedStatement ps = c.prepareStatement("SELECT schema_name, table_name, key_columns, columns FROM " + own.watchedTable()
                + " WHERE id = ? AND active")) {
            ps.setInt(1, tableId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new EpidemicException("the table of backfill (registry id " + tableId + ") is no longer watched");
                }
                table = new Table(rs.getString(1), rs.getString(2));
                keys = fromJson(rs.getString(3));
                columns = fromJson(rs.getString(4));
            }
        }
        List<Column> all = catalog.columnsOf(c, table);
        List<String> keyTypes = new ArrayList<>();
        for (String key : keys) {
            List<String> types = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS"
                    + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?")) {
                ps.setString(1, table.schema());
                ps.setString(2, table.name());
                ps.setString(3, key);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        types.add((rs.getString(1) + "|" + rs.getString(2)).toLowerCase(Locale.ROOT));
                    }
                }
            }
            if (types.isEmpty()) {
                throw new EpidemicException("key column " + key + " of " + table.display() + " is gone; run: epidemic watch " + table.display());
            }
            keyTypes.add(types.get(0));
        }
        List<String> present = all.stream().map(Column::name).toList();
        List<String> gone = columns.stream().filter(name -> !present.contains(name)).toList();
        if (!gone.isEmpty()) {
            throw new EpidemicException("watched columns " + String.join(", ", gone) + " of " + table.display()
                    + " are gone; repair its capture first (epidemic status says how)");
        }
        return new Source(tableId, table, keys, keyTypes, columns, all);
    }

    /** Asks the server whether the condition is valid on the table, reading no row of it (LIMIT 0). */
    private static void checkCondition(Connection c, Source source, String condition) throws SQLException {
        if (condition == null) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + source.table().quoted() + " r WHERE (" + condition + ") LIMIT 0")) {
            ps.executeQuery().close();
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("42") || state.startsWith("22")) { // syntax, unknown names; bad values
                throw new InvalidInputException("--where for " + source.display() + " is not a valid condition (" + condition + "): "
                        + firstLine(e.getMessage()).replaceFirst("^\\(conn=\\d+\\) ", ""));
            }
            throw e;
        }
    }

    /** The consumers that receive the backfill: those requested (each must exist), or every one there is now. */
    private List<String> targets(Connection c, Source source, List<String> requested) throws SQLException {
        List<String> existing = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT name FROM " + own.consumer() + " ORDER BY name"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                existing.add(rs.getString(1));
            }
        }
        return BackfillTargets.resolve(existing, requested, source.display());
    }

    private Long unfinishedCommand(Connection c, int tableId, String condition, List<String> requested) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + own.backfill() + " WHERE table_id = ? AND finished_at IS NULL"
                + " AND started_by IS NULL AND row_filter <=> ? AND requested <=> ? ORDER BY id LIMIT 1")) {
            ps.setInt(1, tableId);
            ps.setString(2, condition);
            ps.setString(3, requested == null ? null : toJson(requested));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    private long create(Connection c, Source source, String condition, List<String> requested, String startedBy, List<String> targets)
            throws SQLException {
        long id;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + own.backfill() + " (table_id, row_filter, requested, started_by,"
                + " rows_estimate, started_at, updated_at) VALUES (?, ?, ?, ?, ?, " + EpochSeconds.COLUMNS.now() + ", " + EpochSeconds.COLUMNS.now()
                + ")", PreparedStatement.RETURN_GENERATED_KEYS)) {
            ps.setInt(1, source.tableId());
            ps.setString(2, condition);
            ps.setString(3, requested == null ? null : toJson(requested));
            ps.setString(4, startedBy);
            long estimate = estimate(c, source, condition);
            if (estimate < 0) {
                ps.setNull(5, java.sql.Types.BIGINT);
            } else {
                ps.setLong(5, estimate);
            }
            ps.executeUpdate();
            try (ResultSet rs = ps.getGeneratedKeys()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + own.backfillTarget() + " (backfill_id, consumer) VALUES (?, ?)")) {
            for (String consumer : targets) {
                ps.setLong(1, id);
                ps.setString(2, consumer);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return id;
    }

    /** The optimizer's estimate of the rows to log (EXPLAIN's rows), or -1 when it gives none. */
    private static long estimate(Connection c, Source source, String condition) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN SELECT 1 FROM " + source.table().quoted() + " r WHERE TRUE" + filter(condition));
             ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return -1;
            }
            long rows = rs.getLong("rows");
            return rs.wasNull() ? -1 : rows;
        }
    }

    private static boolean queryExists(Connection c, String sql, String parameter) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, parameter);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    // ---------------------------------------------------------------- status

    private String select() {
        return "SELECT " + COLUMNS.formatted(own.backfillTarget()) + " FROM " + own.backfill() + " b JOIN " + own.watchedTable()
                + " w ON w.id = b.table_id";
    }

    @Override
    public BackfillStatus status(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(select() + " WHERE b.id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return status(rs);
            }
        }
    }

    private static BackfillStatus status(ResultSet rs) throws SQLException {
        long estimate = rs.getLong(6);
        if (rs.wasNull()) {
            estimate = -1;
        }
        String consumers = rs.getString(10);
        return new BackfillStatus(rs.getLong(1), rs.getString(2), consumers == null ? List.of() : fromJson(consumers),
                rs.getString(3), rs.getString(4), rs.getLong(5), estimate,
                EpochSeconds.COLUMNS.get(rs, 7), EpochSeconds.COLUMNS.get(rs, 8), EpochSeconds.COLUMNS.get(rs, 9));
    }

    private static String toJson(List<String> values) {
        try {
            return JSON.writeValueAsString(values);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> fromJson(String text) {
        try {
            return List.copyOf(JSON.readValue(text, STRINGS));
        } catch (JsonProcessingException e) {
            throw new EpidemicException("unreadable list in Epidemic's backfill tables: " + text, e);
        }
    }
}
