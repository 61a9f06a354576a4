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
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static dev.epidemic.dialect.Jdbc.execute;

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
        List<Column> all = plan.all();
        WatchedTable wanted = plan.wanted();
        List<String> keys = wanted.keyColumns();
        List<String> watched = wanted.columns();
        return locks.whileInstalling(c, () -> {
            WatchedTable before = installation.installed(c) ? registered(c, info) : null;
            if (before != null && before.keyColumns().equals(keys) && before.columns().equals(watched) && capture.present(c, info)) {
                return wanted;
            }
            boolean freshSchema = !installation.installed(c);
            installation.install(c);
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
                installation.uninstall(c);
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
        List<WatchedTable> result = new ArrayList<>();
        if (!installation.installed(c)) {
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

    WatchedTable watched(Connection c, String table) throws SQLException {
        Table info = catalog.resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        return installation.installed(c) ? registered(c, info) : null;
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
