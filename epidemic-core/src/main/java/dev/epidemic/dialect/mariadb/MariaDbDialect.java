package dev.epidemic.dialect.mariadb;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.PruneResult;
import dev.epidemic.api.WatchedTable;
import dev.epidemic.dialect.Consumers;
import dev.epidemic.dialect.DeadLetters;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.Jdbc;
import dev.epidemic.dialect.LogRow;
import dev.epidemic.dialect.LogRows;
import dev.epidemic.dialect.Position;
import dev.epidemic.dialect.mariadb.Capture.Column;
import dev.epidemic.dialect.mariadb.Capture.Table;
import dev.epidemic.dialect.mariadb.LogState.Gap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.queryLong;
import static dev.epidemic.dialect.Jdbc.queryString;
import static dev.epidemic.dialect.Jdbc.rollbackQuietly;
import static dev.epidemic.dialect.mariadb.Names.literal;
import static dev.epidemic.dialect.mariadb.Names.quote;

/**
 * MariaDB 10.6+: capture by generated AFTER triggers into a log kept in the application's own database
 * (see {@link OwnTables}); reading by polling, with the gaps in the log's ids tracked until they fill or
 * can never fill (see {@link LogState}).
 *
 * <p>The log is a system-versioned table with transaction-precise row starts: InnoDB itself stamps each
 * logged change with its writer's transaction id, which keeps a transaction's changes together. TRUNCATE
 * and foreign-key cascades fire no trigger; {@link #watch} says so in the table's warnings.
 */
public final class MariaDbDialect implements Dialect {
    private static final Logger log = LoggerFactory.getLogger(MariaDbDialect.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int VERSION = 1;
    private static final long PROBE_EVERY_NANOS = Duration.ofMillis(200).toNanos();
    private static final int PRUNE_CHUNK = 10_000;
    private static final int ER_SPECIFIC_ACCESS_DENIED_ERROR = 1227;
    private static final int ER_TRG_DOES_NOT_EXIST = 1360;
    /** Binary collation: consumer and handler names are compared exactly, as on PostgreSQL. */
    private static final String TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

    private final OwnTables own;
    private final Capture capture;
    private final TransactionProbe probe;
    private final Consumers consumers;
    private final DeadLetters deadLetters;
    private long lastProbeNanos = System.nanoTime() - PROBE_EVERY_NANOS;

    /**
     * @param database the application's database, the one the JDBC URL names: its tables are the ones
     *                 captured, and Epidemic's own tables are kept in it
     * @param schema   the prefix of Epidemic's table names ({@code epidemic} makes {@code epidemic_change_log})
     */
    public MariaDbDialect(String database, String schema) {
        this.own = new OwnTables(database, schema);
        this.capture = new Capture(own);
        this.probe = new TransactionProbe(own);
        this.consumers = new Consumers(new ConsumerTable(own));
        this.deadLetters = new DeadLetters(new DeadLetterTable(own), EpochSeconds.COLUMNS);
    }

    // ---------------------------------------------------------------- install

    @Override
    public void install(Connection c) throws SQLException {
        if (installedVersion(c) == VERSION) {
            return;
        }
        ServerCheck.requireMariaDb(c);
        withLock(c, () -> {
            if (installedVersion(c) == VERSION) {
                return null;
            }
            // MariaDB commits DDL at once: each statement is written to be re-runnable after a failure.
            // The tables set their character set, whatever the application's database defaults to.
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.watchedTable() + " (id INT AUTO_INCREMENT PRIMARY KEY,"
                    + " schema_name VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL, key_columns LONGTEXT NOT NULL,"
                    + " columns LONGTEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE,"
                    + " installed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), UNIQUE KEY (schema_name, table_name)) " + TABLE_OPTIONS);
            // trx: the writer's InnoDB transaction id, stamped by the server (transaction-precise versioning).
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.changeLog() + " (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                    + " table_id INT NOT NULL, op CHAR(1) NOT NULL, `key` LONGTEXT, old LONGTEXT, new LONGTEXT, at DECIMAL(17,6) NOT NULL,"
                    + " trx BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE,"
                    + " trx_end BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,"
                    + " PERIOD FOR SYSTEM_TIME(trx, trx_end)) " + TABLE_OPTIONS + " WITH SYSTEM VERSIONING");
            // resolved_below: every id up to it has committed or can never commit (prune keeps it).
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.logState() + " (singleton TINYINT PRIMARY KEY, resolved_below BIGINT NOT NULL) " + TABLE_OPTIONS);
            execute(c, "INSERT IGNORE INTO " + own.logState() + " VALUES (1, 0)");
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.consumer() + " (name VARCHAR(255) PRIMARY KEY, delivered LONGTEXT NOT NULL,"
                    + " window_state LONGTEXT, after_tx_last_id BIGINT, after_id BIGINT,"
                    + " created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
                    + " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) " + TABLE_OPTIONS);
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.probe() + " (conn BIGINT UNSIGNED PRIMARY KEY, n BIGINT NOT NULL) " + TABLE_OPTIONS);
            // Changes a handler kept failing on, with the change itself (its log row may be pruned meanwhile).
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.deadLetter() + " (id BIGINT AUTO_INCREMENT PRIMARY KEY, consumer VARCHAR(255) NOT NULL,"
                    + " handler VARCHAR(255) NOT NULL, change_id BIGINT NOT NULL, txid BIGINT UNSIGNED NOT NULL, table_name VARCHAR(130) NOT NULL,"
                    + " op CHAR(1) NOT NULL, `key` LONGTEXT, old LONGTEXT, new LONGTEXT, at DECIMAL(17,6) NOT NULL, error LONGTEXT NOT NULL,"
                    + " attempts INT NOT NULL, first_failure DECIMAL(17,6) NOT NULL, last_failure DECIMAL(17,6) NOT NULL,"
                    + " replay_requested BOOLEAN NOT NULL DEFAULT FALSE, UNIQUE KEY (consumer, handler, change_id)) " + TABLE_OPTIONS);
            execute(c, "CREATE TABLE IF NOT EXISTS " + own.schemaVersion() + " (version INT PRIMARY KEY,"
                    + " applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) " + TABLE_OPTIONS);
            execute(c, "INSERT IGNORE INTO " + own.schemaVersion() + " (version) VALUES (" + VERSION + ")");
            log.info("Installed Epidemic's tables {}_* in {} version {}", own.schema(), own.database(), VERSION);
            return null;
        });
    }

    private int installedVersion(Connection c) throws SQLException {
        if (!installed(c)) {
            return 0;
        }
        return (int) queryLong(c, "SELECT COALESCE(MAX(version), 0) FROM " + own.schemaVersion());
    }

    private boolean installed(Connection c) throws SQLException {
        return own.installed(c);
    }

    // ---------------------------------------------------------------- watch / unwatch / list

    @Override
    public WatchedTable checkWatch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        ServerCheck.requireMariaDb(c);
        plainQuoting(c);
        Table info = resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        List<Column> all = columnsOf(c, info);
        List<String> keys = keyColumns.isEmpty() ? primaryKey(c, info) : pick(all, keyColumns, info, "key column");
        if (keys.isEmpty()) {
            throw new InvalidInputException("table " + info.display() + " has no primary key; add one, or name the key columns explicitly (--key)");
        }
        List<String> watched = columns.isEmpty() ? all.stream().map(Column::name).toList() : pick(all, columns, info, "column");
        return new WatchedTable(info.schema(), info.name(), keys, watched, warnings(c, info));
    }

    @Override
    public WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        ServerCheck.requireMariaDb(c);
        plainQuoting(c);
        // Everything is checked before the first DDL statement: MariaDB cannot roll DDL back.
        Table info = resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        List<Column> all = columnsOf(c, info);
        List<String> keys = keyColumns.isEmpty() ? primaryKey(c, info) : pick(all, keyColumns, info, "key column");
        if (keys.isEmpty()) {
            throw new InvalidInputException("table " + info.display() + " has no primary key; add one, or name the key columns explicitly (--key)");
        }
        List<String> watched = columns.isEmpty() ? all.stream().map(Column::name).toList() : pick(all, columns, info, "column");
        List<String> warnings = warnings(c, info);
        WatchedTable wanted = new WatchedTable(info.schema(), info.name(), keys, watched, warnings);
        return withLock(c, () -> {
            WatchedTable before = installed(c) ? registered(c, info) : null;
            if (before != null && before.keyColumns().equals(keys) && before.columns().equals(watched) && triggersPresent(c, info)) {
                return wanted;
            }
            boolean freshSchema = !installed(c);
            install(c);
            Integer previousId = before == null ? null : registrationId(c, info);
            try {
                int id = register(c, info, keys, watched);
                for (String ddl : capture.createTriggers(info, id, all, keys, watched)) {
                    execute(c, ddl);
                }
            } catch (SQLException | RuntimeException e) {
                undoWatch(c, info, all, before, previousId, freshSchema);
                throw e;
            }
            log.info("Watching {} (columns {})", info.display(), watched);
            return wanted;
        });
    }

    /** Puts the catalog back as it was before a watch that failed half-way. */
    private void undoWatch(Connection c, Table info, List<Column> all, WatchedTable before, Integer previousId, boolean freshSchema) {
        try {
            if (freshSchema) {
                for (String ddl : capture.dropTriggers(info)) {
                    execute(c, ddl);
                }
                for (String table : OwnTables.TABLES) {
                    execute(c, "DROP TABLE IF EXISTS " + own.quoted(table));
                }
            } else if (before == null) {
                for (String ddl : capture.dropTriggers(info)) {
                    execute(c, ddl);
                }
                deleteRegistration(c, info);
            } else {
                register(c, info, before.keyColumns(), before.columns());
                for (String ddl : capture.createTriggers(info, previousId, all, before.keyColumns(), before.columns())) {
                    execute(c, ddl);
                }
            }
        } catch (SQLException | RuntimeException undo) {
            log.warn("Could not undo a failed watch of {}: {}", info.display(), undo.getMessage());
        }
    }

    private void deleteRegistration(Connection c, Table info) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + own.watchedTable() + " WHERE schema_name = ? AND table_name = ?")) {
            ps.setString(1, info.schema());
            ps.setString(2, info.name());
            ps.executeUpdate();
        }
    }

    /** What the triggers cannot see on this table. */
    private static List<String> warnings(Connection c, Table info) throws SQLException {
        List<String> warnings = new ArrayList<>();
        warnings.add("TRUNCATE of " + info.display() + " fires no trigger on MariaDB/MySQL and is not captured; use DELETE to have rows' removal captured");
        try (PreparedStatement ps = c.prepareStatement("SELECT REFERENCED_TABLE_NAME, DELETE_RULE, UPDATE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS"
                + " WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND (DELETE_RULE <> 'RESTRICT' AND DELETE_RULE <> 'NO ACTION'"
                + " OR UPDATE_RULE <> 'RESTRICT' AND UPDATE_RULE <> 'NO ACTION') ORDER BY CONSTRAINT_NAME")) {
            ps.setString(1, info.schema());
            ps.setString(2, info.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    warnings.add("changes that the foreign key to " + rs.getString(1) + " makes to " + info.display() + " (ON DELETE "
                            + rs.getString(2) + ", ON UPDATE " + rs.getString(3) + ") fire no trigger on MariaDB/MySQL and are not captured");
                }
            }
        }
        return warnings;
    }

    /** The session's quoting rules are set, so that the generated trigger text means what it says. */
    private static void plainQuoting(Connection c) throws SQLException {
        execute(c, "SET SESSION sql_mode = REPLACE(REPLACE(@@session.sql_mode, 'NO_BACKSLASH_ESCAPES', ''), 'ANSI_QUOTES', '')");
    }

    /**
     * The table a user named, in the application's database, or null when there is none of that name.
     * A table of another database is an input error: its changes belong in that database's own log.
     */
    private Table resolveTable(Connection c, String text) throws SQLException {
        List<Names.Part> parts = Names.parse(text);
        Names.Part tablePart = parts.get(parts.size() - 1);
        String schemaName = own.database();
        if (parts.size() == 2 && match(List.of(schemaName), parts.get(0)) == null) {
            throw new InvalidInputException("table " + text + " is not in database " + schemaName + ", which the URL names: Epidemic captures the"
                    + " tables of the database it connects to; connect to " + parts.get(0).name() + " to watch it");
        }
        if (own.isOwn(tablePart.name())) {
            throw new InvalidInputException("table " + text + " is one of Epidemic's own tables; watch a table of your own");
        }
        String tableName = match(names(c, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND LOWER(TABLE_NAME) = LOWER(?)",
                schemaName, tablePart.name()), tablePart);
        if (tableName == null) {
            return null;
        }
        String type = queryString(c, "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + literal(schemaName)
                + " AND TABLE_NAME = " + literal(tableName));
        if (!"BASE TABLE".equals(type) && !"SYSTEM VERSIONED".equals(type)) {
            throw new InvalidInputException(schemaName + "." + tableName + " is not a table (" + type + "); only base tables can be watched");
        }
        return new Table(schemaName, tableName);
    }

    private static List<String> names(Connection c, String sql, String first, String second) throws SQLException {
        List<String> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, first);
            if (second != null) {
                ps.setString(2, second);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(rs.getString(1));
                }
            }
        }
        return result;
    }

    /** Exact match first; an unquoted name may also match one name that differs only in case. */
    private static String match(List<String> candidates, Names.Part part) {
        if (candidates.contains(part.name())) {
            return part.name();
        }
        if (part.quoted()) {
            return null;
        }
        List<String> folded = candidates.stream().filter(n -> n.equalsIgnoreCase(part.name())).toList();
        return folded.size() == 1 ? folded.get(0) : null;
    }

    private static List<Column> columnsOf(Connection c, Table t) throws SQLException {
        List<Column> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT COLUMN_NAME, DATA_TYPE, COALESCE(DATETIME_PRECISION, 0) FROM information_schema.COLUMNS"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(new Column(rs.getString(1), rs.getString(2), rs.getInt(3)));
                }
            }
        }
        return result;
    }

    private static List<String> primaryKey(Connection c, Table t) throws SQLException {
        List<String> result = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT COLUMN_NAME FROM information_schema.STATISTICS"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(rs.getString(1));
                }
            }
        }
        return result;
    }

    /** Requested column names matched exactly, or (as MariaDB compares column names) ignoring case. */
    private static List<String> pick(List<Column> all, List<String> requested, Table table, String what) {
        Set<String> result = new LinkedHashSet<>();
        for (String raw : requested) {
            String name = raw.strip();
            if (name.isEmpty()) {
                throw new InvalidInputException("a column name is empty");
            }
            if (name.length() >= 2 && (name.startsWith("`") && name.endsWith("`") || name.startsWith("\"") && name.endsWith("\""))) {
                char q = name.charAt(0);
                name = name.substring(1, name.length() - 1).replace("" + q + q, "" + q);
            }
            String wanted = name;
            String match = all.stream().map(Column::name).filter(wanted::equals).findFirst()
                    .orElse(all.stream().map(Column::name).filter(wanted::equalsIgnoreCase).findFirst().orElse(null));
            if (match == null) {
                throw new InvalidInputException(what + " " + raw.strip() + " does not exist in table " + table.display());
            }
            if (!result.add(match)) {
                throw new InvalidInputException(what + " " + raw.strip() + " is named twice");
            }
        }
        return List.copyOf(result);
    }

    private int register(Connection c, Table t, List<String> keys, List<String> columns) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + own.watchedTable() + " (schema_name, table_name, key_columns, columns, active)"
                + " VALUES (?, ?, ?, ?, TRUE) ON DUPLICATE KEY UPDATE key_columns = VALUES(key_columns), columns = VALUES(columns), active = TRUE")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            ps.setString(3, toJson(keys));
            ps.setString(4, toJson(columns));
            ps.executeUpdate();
        }
        return registrationId(c, t);
    }

    private Integer registrationId(Connection c, Table t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + own.watchedTable() + " WHERE schema_name = ? AND table_name = ?")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : null;
            }
        }
    }

    /**
     * True when the table's three capture triggers exist. information_schema.TRIGGERS shows a trigger only
     * to a user with the TRIGGER right on its table, which a consumer has not (starting one must not take
     * DDL rights when capture is in place), so each is asked for by name: MariaDB answers "access denied"
     * for a trigger that exists and the user may not see, "does not exist" for one that does not.
     */
    private boolean triggersPresent(Connection c, Table t) throws SQLException {
        for (String purpose : Capture.PURPOSES) {
            try (Statement st = c.createStatement(); ResultSet ignored = st.executeQuery("SHOW CREATE TRIGGER " + capture.quotedTriggerName(t, purpose))) {
                // present
            } catch (SQLException e) {
                if (e.getErrorCode() == ER_TRG_DOES_NOT_EXIST) {
                    return false;
                }
                if (e.getErrorCode() != ER_SPECIFIC_ACCESS_DENIED_ERROR) {
                    throw e;
                }
            }
        }
        return true;
    }

    @Override
    public boolean unwatch(Connection c, String table, boolean purge) throws SQLException {
        if (!installed(c)) {
            return false;
        }
        Table info = resolveTable(c, table);
        Table named = info;
        if (named == null) {
            // The table is gone: its registration is found by name.
            List<Names.Part> parts = Names.parse(table);
            named = new Table(own.database(), parts.get(parts.size() - 1).name());
        }
        Table target = named;
        return withLock(c, () -> {
            Integer id = registrationId(c, target);
            WatchedTable registered = registered(c, target);
            if (id == null || registered == null) {
                if (info == null) {
                    throw new InvalidInputException("table " + table + " does not exist");
                }
                return false;
            }
            if (info != null) {
                for (String ddl : capture.dropTriggers(info)) {
                    execute(c, ddl);
                }
            }
            if (purge) {
                execute(c, "DELETE FROM " + own.changeLog() + " WHERE table_id = " + id);
                execute(c, "DELETE HISTORY FROM " + own.changeLog());
                execute(c, "DELETE FROM " + own.watchedTable() + " WHERE id = " + id);
            } else {
                // The registration stays (inactive) so that changes already logged still name their table.
                execute(c, "UPDATE " + own.watchedTable() + " SET active = FALSE WHERE id = " + id);
            }
            log.info("Stopped watching {}{}", target.display(), purge ? " and purged its changes" : "");
            return true;
        });
    }

    @Override
    public List<WatchedTable> list(Connection c) throws SQLException {
        List<WatchedTable> result = new ArrayList<>();
        if (!installed(c)) {
            return result;
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT schema_name, table_name, key_columns, columns FROM " + own.watchedTable()
                     + " WHERE active ORDER BY schema_name, table_name")) {
            while (rs.next()) {
                result.add(new WatchedTable(rs.getString(1), rs.getString(2), fromJson(rs.getString(3)), fromJson(rs.getString(4))));
            }
        }
        return result;
    }

    @Override
    public WatchedTable watched(Connection c, String table) throws SQLException {
        Table info = resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        return installed(c) ? registered(c, info) : null;
    }

    private WatchedTable registered(Connection c, Table t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT schema_name, table_name, key_columns, columns FROM " + own.watchedTable()
                + " WHERE schema_name = ? AND table_name = ? AND active")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new WatchedTable(rs.getString(1), rs.getString(2), fromJson(rs.getString(3)), fromJson(rs.getString(4))) : null;
            }
        }
    }

    @Override
    public int[] tableIds(Connection c, List<String> tables) throws SQLException {
        int[] ids = new int[tables.size()];
        for (int i = 0; i < tables.size(); i++) {
            Table info = resolveTable(c, tables.get(i));
            if (info == null) {
                throw new InvalidInputException("table " + tables.get(i) + " does not exist");
            }
            Integer id = installed(c) ? registrationId(c, info) : null;
            if (id == null) {
                throw new InvalidInputException("table " + info.display() + " is not watched; run: epidemic watch " + tables.get(i));
            }
            ids[i] = id;
        }
        return ids;
    }

    // ---------------------------------------------------------------- positions

    @Override
    public Position openConsumer(Connection c, String consumer, boolean startAtPresent) throws SQLException {
        Consumers.requireName(consumer);
        Position stored = storedPosition(c, consumer);
        if (stored != null) {
            return stored;
        }
        LogState start = startState(c, startAtPresent);
        try (PreparedStatement ps = c.prepareStatement("INSERT IGNORE INTO " + own.consumer() + " (name, delivered) VALUES (?, ?)")) {
            ps.setString(1, consumer);
            ps.setString(2, start.text());
            ps.executeUpdate();
        }
        return storedPosition(c, consumer);
    }

    /**
     * Where a new consumer starts. Ids below {@code low} are settled: they were taken before every
     * transaction still running began (or were pruned). Missing ids above it may belong to a running
     * transaction and become gaps.
     */
    private LogState startState(Connection c, boolean atPresent) throws SQLException {
        long resolved = queryLong(c, "SELECT resolved_below FROM " + own.logState());
        long low = resolved;
        TransactionProbe.Result fresh = null;
        for (int attempt = 0; attempt < 20 && fresh == null; attempt++) {
            fresh = probe.probe(c);
            if (fresh == null) {
                pause(120);
            }
        }
        if (fresh != null) {
            // 2 s of slack for clocks and whole-second start times.
            try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(id), 0) FROM " + own.changeLog() + " WHERE at < ?")) {
                ps.setLong(1, fresh.oldestStart() - 2);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    low = Math.max(low, rs.getLong(1));
                }
            }
        }
        long lowest = low;
        return consistently(c, () -> {
            long oldest = queryLong(c, "SELECT COALESCE(MIN(id), 0) FROM " + own.changeLog());
            if (!atPresent) {
                return new LogState(oldest == 0 ? lowest : Math.min(lowest, oldest - 1), List.of());
            }
            List<Gap> gaps = new ArrayList<>();
            long max = scanAbove(c, lowest, lowest, gaps);
            return new LogState(max, gaps);
        });
    }

    /** Reads the ids above {@code from}, adds the missing ones to {@code gaps}; returns the highest (or {@code from}). */
    private long scanAbove(Connection c, long from, long highWater, List<Gap> gaps) throws SQLException {
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

    private Position storedPosition(Connection c, String consumer) throws SQLException {
        return installed(c) ? consumers.position(c, consumer) : null;
    }

    @Override
    public void storePosition(Connection c, String consumer, Position p) throws SQLException {
        consumers.store(c, consumer, p);
    }

    /**
     * The next window after {@code from}: one consistent read finds which of the old gaps filled and
     * which ids above the high-water mark are missing; gaps whose transactions have all ended (as a probe
     * made before this read showed) and that are still missing are dropped. Then, now and then, a probe
     * measures the new gaps' bounds and marks the gaps whose transactions have all ended.
     */
    @Override
    public String currentSnapshot(Connection c, Position from) throws SQLException {
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
        return new LogState(highWater, gaps).text();
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
     */
    private String windowRows(LogState from, LogState upTo, int[] tableIds) {
        String filter = tableIds == null ? "" : " AND l.table_id IN (" + java.util.Arrays.stream(tableIds).mapToObj(Integer::toString)
                .collect(Collectors.joining(", ")) + ")";
        List<Gap> closed = from.gapsClosedBy(upTo);
        String inGaps = closed.isEmpty() ? "" : " OR " + LogState.condition("l.id", closed); // checked only off the main range
        String where = " WHERE ((l.id > " + from.highWater() + " AND l.id <= " + upTo.highWater() + ")" + inGaps + ")" + filter;
        // Each transaction's last id by GROUP BY and a join: MariaDB evaluates MAX() OVER (PARTITION BY)
        // in time quadratic in the partition's size (35 s for two 10,000-row transactions).
        return "SELECT l.id, l.trx, g.tx_last_id, l.table_id, l.op, l.`key`, l.old, l.new, l.at FROM " + own.changeLog() + " l JOIN"
                + " (SELECT l.trx, MAX(l.id) AS tx_last_id FROM " + own.changeLog() + " l" + where + " GROUP BY l.trx) g ON g.trx = l.trx" + where;
    }

    /** Whether a row read by {@link #windowRows} belongs to the window up to {@code upTo}. */
    private static boolean inWindow(LogState upTo, long id) {
        return !upTo.inGap(id);
    }

    @Override
    public void readWindow(Connection c, Position position, String upTo, int[] tableIds, int fetchSize, RowSink sink) throws SQLException {
        boolean resuming = upTo.equals(position.window());
        LogState end = LogState.parse(upTo);
        String sql = "SELECT w.id, w.trx, w.tx_last_id, CONCAT(t.schema_name, '.', t.table_name), w.op, w.`key`, w.old, w.new, w.at FROM ("
                + windowRows(LogState.parse(position.delivered()), end, tableIds) + ") w JOIN " + own.watchedTable()
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
                    if (!sink.accept(LogRows.read(rs, 1, EpochSeconds.COLUMNS))) {
                        break;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- wake-ups: MariaDB has no NOTIFY, so the dispatcher polls

    @Override
    public void requestWakeUp(Connection listener, String consumer) {
    }

    @Override
    public void cancelWakeUp(Connection listener, String consumer) {
    }

    @Override
    public void listen(Connection connection) {
    }

    /** Sleeps: the dispatcher's idle waits grow from milliseconds to its idle-poll bound. */
    @Override
    public boolean awaitWakeUp(Connection connection, int millis) {
        pause(Math.max(1, millis));
        return false;
    }

    // ---------------------------------------------------------------- leadership and dead letters

    /** A named lock of the session: the server releases it when the holder's session ends. Re-entrant. */
    @Override
    public boolean tryLead(Connection c, String consumer) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT GET_LOCK(?, 0)")) {
            ps.setString(1, lockName("consumer " + consumer));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getInt(1) == 1;
            }
        }
    }

    /**
     * A named lock of this database's Epidemic. Named locks are the server's, not a database's, so the
     * name carries the database. Lock names are at most 64 characters: longer ones are hashed, which
     * keeps them distinct.
     */
    private String lockName(String purpose) {
        String name = "epidemic " + own.database() + "." + own.schema() + " " + purpose;
        if (name.length() <= 64) {
            return name;
        }
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "epidemic " + java.util.HexFormat.of().formatHex(digest).substring(0, 48);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public DeadLetters deadLetters() {
        return deadLetters;
    }

    // ---------------------------------------------------------------- status and prune

    @Override
    public List<ConsumerStatus> status(Connection c) throws SQLException {
        return installed(c) ? consumers.status(c, this::pending) : List.of();
    }

    /** The changes not yet handed over: above the mark or in a gap, less what of the window in hand was. */
    private Consumers.Backlog pending(Connection c, Position p) throws SQLException {
        LogState state = LogState.parse(p.delivered());
        String pendingRows = "SELECT l.id, l.at FROM " + own.changeLog() + " l WHERE l.id > " + state.highWater()
                + (state.gaps().isEmpty() ? "" : " OR " + state.gapCondition("l.id"));
        long pending;
        Instant oldest;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*), MIN(x.at) FROM (" + pendingRows + ") x")) {
            rs.next();
            pending = rs.getLong(1);
            oldest = EpochSeconds.COLUMNS.get(rs, 2);
        }
        if (p.window() != null && pending > 0) {
            // Changes of the window in hand that were already handed over are not pending.
            LogState end = LogState.parse(p.window());
            String window = windowRows(state, end, null);
            try (PreparedStatement ps = c.prepareStatement("SELECT w.id FROM (" + window + ") w WHERE w.tx_last_id < ? OR (w.tx_last_id = ? AND w.id <= ?)")) {
                ps.setLong(1, p.afterTxLastId());
                ps.setLong(2, p.afterTxLastId());
                ps.setLong(3, p.afterId());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        pending -= inWindow(end, rs.getLong(1)) ? 1 : 0;
                    }
                }
            }
        }
        return new Consumers.Backlog(pending, oldest);
    }

    /**
     * Deletes the changes every consumer has passed: ids at or below every consumer's high-water mark
     * that are no consumer's gap. Runs at READ COMMITTED in chunks, so it neither waits for writers
     * nor holds long locks.
     */
    @Override
    public PruneResult prune(Connection c) throws SQLException {
        if (!installed(c)) {
            return new PruneResult(0, 0, 0);
        }
        List<Consumers.Stored> consumers = this.consumers.all(c);
        if (consumers.isEmpty()) {
            return new PruneResult(0, queryLong(c, "SELECT COUNT(*) FROM " + own.changeLog()), 0);
        }
        long minHighWater = Long.MAX_VALUE;
        long settled = Long.MAX_VALUE; // below every consumer's mark and every gap
        List<LogState> states = new ArrayList<>();
        for (Consumers.Stored consumer : consumers) {
            LogState state = LogState.parse(consumer.position().delivered());
            minHighWater = Math.min(minHighWater, state.highWater());
            settled = Math.min(settled, Math.min(state.highWater(), state.lowestGapId() - 1));
            states.add(state);
        }
        int isolation = c.getTransactionIsolation();
        c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        long deleted = 0;
        try {
            long from = queryLong(c, "SELECT COALESCE(MIN(id), 0) FROM " + own.changeLog());
            for (long lo = from; lo <= minHighWater && from > 0; lo += PRUNE_CHUNK) {
                long hi = Math.min(minHighWater, lo + PRUNE_CHUNK - 1);
                // Only the gaps in this chunk: MariaDB checks every term of the condition on every row.
                List<Gap> kept = new ArrayList<>();
                for (LogState state : states) {
                    kept.addAll(state.gapsWithin(lo, hi));
                }
                String keep = kept.isEmpty() ? "" : " AND NOT " + LogState.condition("id", kept);
                try (Statement st = c.createStatement()) {
                    deleted += st.executeUpdate("DELETE FROM " + own.changeLog() + " WHERE id BETWEEN " + lo + " AND " + hi + keep);
                }
            }
            execute(c, "DELETE HISTORY FROM " + own.changeLog());
        } finally {
            c.setTransactionIsolation(isolation);
        }
        execute(c, "UPDATE " + own.logState() + " SET resolved_below = GREATEST(resolved_below, " + settled + ")");
        long retained = queryLong(c, "SELECT COUNT(*) FROM " + own.changeLog());
        log.info("Pruned {} changes; {} retained for {} consumers", deleted, retained, consumers.size());
        return new PruneResult(deleted, retained, consumers.size());
    }

    // ---------------------------------------------------------------- helpers

    private static String toJson(List<String> names) {
        try {
            return JSON.writeValueAsString(names);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> fromJson(String text) {
        try {
            return List.copyOf(JSON.readValue(text, new TypeReference<List<String>>() {
            }));
        } catch (JsonProcessingException e) {
            throw new EpidemicException("unreadable column list in Epidemic's registry: " + text, e);
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs {@code work} in one REPEATABLE READ snapshot, so that its reads agree with each other. */
    private static <T> T consistently(Connection c, Jdbc.SqlWork<T> work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        if (c.getTransactionIsolation() != Connection.TRANSACTION_REPEATABLE_READ) {
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        }
        c.setAutoCommit(false);
        try {
            execute(c, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
            T result = work.run();
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** Serialises installs and watches in this database across processes (MariaDB's named locks end with the session). */
    private <T> T withLock(Connection c, Jdbc.SqlWork<T> work) throws SQLException {
        String name = lockName("install");
        try (PreparedStatement ps = c.prepareStatement("SELECT GET_LOCK(?, 60)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getInt(1) != 1) {
                    throw new EpidemicException("another process is installing Epidemic in " + own.database() + "; try again");
                }
            }
        }
        try {
            return work.run();
        } finally {
            try (PreparedStatement ps = c.prepareStatement("DO RELEASE_LOCK(?)")) {
                ps.setString(1, name);
                ps.execute();
            }
        }
    }

}
