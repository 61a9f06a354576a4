package dev.epidemic.dialect.mariadb;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.WatchedTable;
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

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.prepare;

/**
 * Which tables are watched (the registry, {@code watched_table}), and watching and unwatching them: the
 * registry and the capture triggers change together, checked against the catalog first. MariaDB commits
 * DDL at once, so a watch that fails half-way puts back what it changed.
 */
final class Registry {
    private static final Logger log = LoggerFactory.getLogger(Registry.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final OwnTables own;
    private final Installation installation;
    private final NamedLocks locks;
    private final Catalog catalog;
    private final Capture capture;

    Registry(OwnTables own, Installation installation, NamedLocks locks, Catalog catalog, Capture capture) {
        this.own = own;
        this.installation = installation;
        this.locks = locks;
        this.catalog = catalog;
        this.capture = capture;
    }

    /** What {@link #watch} would install on a table, found by reading the catalog only. */
    private record Plan(Table info, List<Column> all, WatchedTable wanted) {
    }

    private Plan plan(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        ServerCheck.requireMariaDb(c);
        catalog.plainQuoting(c);
        // Everything is checked before the first DDL statement: MariaDB cannot roll DDL back.
        Table info = catalog.resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        List<Column> all = catalog.columnsOf(c, info);
        List<String> keys = keyColumns.isEmpty() ? catalog.primaryKey(c, info) : Catalog.pick(all, keyColumns, info, "key column");
        if (keys.isEmpty()) {
            throw new InvalidInputException("table " + info.display() + " has no primary key; add one, or name the key columns explicitly (--key)");
        }
        List<String> watched = columns.isEmpty() ? all.stream().map(Column::name).toList() : Catalog.pick(all, columns, info, "column");
        return new Plan(info, all, new WatchedTable(info.schema(), info.name(), keys, watched, catalog.warnings(c, info)));
    }

    WatchedTable checkWatch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        return plan(c, table, columns, keyColumns).wanted();
    }

    WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        Plan plan = plan(c, table, columns, keyColumns);
        Table info = plan.info();
        WatchedTable wanted = plan.wanted();
        return locks.whileInstalling(c, () -> {
            WatchedTable before = installation.installed(c) ? registered(c, info) : null;
            if (before != null && before.keyColumns().equals(wanted.keyColumns()) && before.columns().equals(wanted.columns())
                    && capture.present(c, info)) {
                return wanted;
            }
            boolean freshSchema = !installation.installed(c);
            installation.install(c);
            Integer previousId = before == null ? null : registrationId(c, info);
            try {
                createTriggers(c, info, register(c, info, wanted.keyColumns(), wanted.columns()), plan.all(), wanted);
            } catch (SQLException | RuntimeException e) {
                undoWatch(c, info, plan.all(), before, previousId, freshSchema);
                throw e;
            }
            log.info("Watching {} (columns {})", info.display(), wanted.columns());
            return wanted;
        });
    }

    /** Creates (or replaces) the table's capture triggers for the key and columns of {@code watched}. */
    private void createTriggers(Connection c, Table info, int tableId, List<Column> all, WatchedTable watched) throws SQLException {
        for (String ddl : capture.createTriggers(info, tableId, all, watched.keyColumns(), watched.columns())) {
            execute(c, ddl);
        }
    }

    /** Puts the catalog back as it was before a watch that failed half-way. */
    private void undoWatch(Connection c, Table info, List<Column> all, WatchedTable before, Integer previousId, boolean freshSchema) {
        try {
            if (freshSchema) {
                for (String ddl : capture.dropTriggers(info)) {
                    execute(c, ddl);
                }
                installation.uninstall(c);
            } else if (before == null) {
                for (String ddl : capture.dropTriggers(info)) {
                    execute(c, ddl);
                }
                deleteRegistration(c, info);
            } else {
                register(c, info, before.keyColumns(), before.columns());
                createTriggers(c, info, previousId, all, before);
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

    boolean unwatch(Connection c, String table, boolean purge) throws SQLException {
        if (!installation.installed(c)) {
            return false;
        }
        Table info = catalog.resolveTable(c, table);
        Table named = info;
        if (named == null) {
            // The table is gone: its registration is found by name.
            List<Names.Part> parts = Names.parse(table);
            named = new Table(own.database(), parts.get(parts.size() - 1).name());
        }
        Table target = named;
        return locks.whileInstalling(c, () -> {
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

    List<WatchedTable> list(Connection c) throws SQLException {
        return installation.installed(c) ? registrations(c, " ORDER BY schema_name, table_name") : List.of();
    }

    WatchedTable watched(Connection c, String table) throws SQLException {
        Table info = catalog.resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        return installation.installed(c) ? registered(c, info) : null;
    }

    private WatchedTable registered(Connection c, Table t) throws SQLException {
        return registrations(c, " AND schema_name = ? AND table_name = ?", t.schema(), t.name()).stream().findFirst().orElse(null);
    }

    /** The active registrations, of the rows that {@code condition} (and its parameters) selects. */
    private List<WatchedTable> registrations(Connection c, String condition, String... parameters) throws SQLException {
        List<WatchedTable> result = new ArrayList<>();
        try (PreparedStatement ps = prepare(c, "SELECT schema_name, table_name, key_columns, columns FROM " + own.watchedTable()
                + " WHERE active" + condition, (Object[]) parameters);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                result.add(new WatchedTable(rs.getString(1), rs.getString(2), fromJson(rs.getString(3)), fromJson(rs.getString(4))));
            }
        }
        return result;
    }

    int[] tableIds(Connection c, List<String> tables) throws SQLException {
        int[] ids = new int[tables.size()];
        for (int i = 0; i < tables.size(); i++) {
            Table info = catalog.resolveTable(c, tables.get(i));
            if (info == null) {
                throw new InvalidInputException("table " + tables.get(i) + " does not exist");
            }
            Integer id = installation.installed(c) ? registrationId(c, info) : null;
            if (id == null) {
                throw new InvalidInputException("table " + info.display() + " is not watched; run: epidemic watch " + tables.get(i));
            }
            ids[i] = id;
        }
        return ids;
    }

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
}
