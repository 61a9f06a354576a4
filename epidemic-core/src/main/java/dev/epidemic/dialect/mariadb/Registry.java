package dev.epidemic.dialect.mariadb;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.WatchedTable;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.prepare;
import static dev.epidemic.dialect.Jdbc.queryBoolean;

/**
 * Which tables are watched (the registry, {@code watched_table}), and watching and unwatching them: the
 * registry and the capture triggers change together, checked against the catalog first. MariaDB commits
 * DDL at once, so a watch that fails half-way puts back what it changed.
 */
final class Registry {
    /** ER_TABLEACCESS_DENIED_ERROR: a statement on a table the user has no right for. */
    private static final int ACCESS_DENIED = 1142;
    private static final Logger log = LoggerFactory.getLogger(Registry.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final OwnTables own;
    private final Installation installation;
    private final NamedLocks locks;
    private final Catalog catalog;
    private final Capture capture;
    private final RowFilters filters;

    Registry(OwnTables own, Installation installation, NamedLocks locks, Catalog catalog, Capture capture) {
        this.own = own;
        this.installation = installation;
        this.locks = locks;
        this.catalog = catalog;
        this.capture = capture;
        this.filters = new RowFilters(own);
    }

    /** What {@link #watch} would install on a table, found by reading the catalog only. */
    private record Plan(Table info, List<Column> all, WatchedTable wanted, boolean allColumns) {
    }

    /**
     * One active row of the registry. {@code allColumns} is null for a table watched by an older Epidemic,
     * whose triggers do not survive a schema change.
     */
    private record Registration(int id, Table table, List<String> keys, List<String> columns, Boolean allColumns) {
        WatchedTable watched() {
            return new WatchedTable(table.schema(), table.name(), keys, columns);
        }
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
        return new Plan(info, all, new WatchedTable(info.schema(), info.name(), keys, watched, catalog.warnings(c, info)), columns.isEmpty());
    }

    WatchedTable checkWatch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        return plan(c, table, columns, keyColumns).wanted();
    }

    /** Watches the table; its row filters stay as they are. */
    WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns) throws SQLException {
        return watch(c, table, columns, keyColumns, false, null);
    }

    /** Watches the table with {@code where} as its table-wide row filter (null: none, removing one it had). */
    WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns, String where) throws SQLException {
        return watch(c, table, columns, keyColumns, true, where);
    }

    private WatchedTable watch(Connection c, String table, List<String> columns, List<String> keyColumns, boolean setWhere, String where)
            throws SQLException {
        Plan plan = plan(c, table, columns, keyColumns);
        Table info = plan.info();
        WatchedTable wanted = plan.wanted();
        Set<String> tableWide = !setWhere || where == null ? Set.of() : Set.of(filters.check(c, info, plan.all(), where));
        return locks.whileInstalling(c, () -> {
            Registration registration = installation.installed(c) ? registration(c, info) : null;
            WatchedTable before = registration == null ? null : registration.watched();
            boolean current = installation.installedVersion(c) == Installation.VERSION;
            Set<String> tableWideBefore = registration == null || !current || !setWhere ? Set.of()
                    : filters.registered(c, registration.id(), RowFilters.TABLE_WIDE);
            if (before != null && before.keyColumns().equals(wanted.keyColumns()) && before.columns().equals(wanted.columns())
                    && Boolean.valueOf(plan.allColumns()).equals(registration.allColumns()) && capture.present(c, info)
                    && (!setWhere || current && tableWideBefore.equals(tableWide))) {
                return wanted;
            }
            boolean freshSchema = !installation.installed(c);
            installation.install(c);
            Integer previousId = before == null ? null : registrationId(c, info);
            try {
                int id = register(c, info, wanted.keyColumns(), wanted.columns(), plan.allColumns());
                if (setWhere) {
                    filters.replace(c, info.display(), id, RowFilters.TABLE_WIDE, tableWide);
                }
                createTriggers(c, info, id, plan.all(), wanted);
            } catch (SQLException | RuntimeException e) {
                if (setWhere && previousId != null) {
                    try {
                        filters.replace(c, info.display(), previousId, RowFilters.TABLE_WIDE, tableWideBefore);
                    } catch (SQLException | RuntimeException undo) {
                        e.addSuppressed(undo);
                    }
                }
                undoWatch(c, info, plan.all(), registration, previousId, freshSchema);
                throw e;
            }
            log.info("Watching {} (columns {}{})", info.display(), wanted.columns(), tableWide.isEmpty() ? "" : "; rows where " + tableWide.iterator().next());
            return wanted;
        });
    }

    /** Creates (or replaces) the table's capture triggers for the key and columns of {@code watched}, with its row filters. */
    private void createTriggers(Connection c, Table info, int tableId, List<Column> all, WatchedTable watched) throws SQLException {
        Map<String, Integer> bits = installation.installedVersion(c) >= 4 ? filters.bits(c, tableId) : Map.of();
        for (String ddl : capture.createTriggers(info, tableId, all, watched.keyColumns(), watched.columns(), bits)) {
            execute(c, ddl);
        }
    }

    void checkWhere(Connection c, String table, String where) throws SQLException {
        Table info = catalog.resolveTable(c, table);
        if (info == null) {
            throw new InvalidInputException("table " + table + " does not exist");
        }
        filters.check(c, info, catalog.columnsOf(c, info), where);
    }

    /** See {@link dev.epidemic.dialect.Dialect#registerFilters}; MariaDB commits DDL at once, so this puts back what it changed on failure. */
    void registerFilters(Connection c, String registrant, Map<String, Set<String>> byTable) throws SQLException {
        Map<Integer, Set<String>> wanted = new LinkedHashMap<>();
        Map<Integer, Table> infos = new HashMap<>();
        for (Map.Entry<String, Set<String>> entry : byTable.entrySet()) {
            Table info = catalog.resolveTable(c, entry.getKey());
            if (info == null) {
                throw new InvalidInputException("table " + entry.getKey() + " does not exist");
            }
            Integer id = installation.installed(c) ? registrationId(c, info) : null;
            if (id == null || registration(c, info) == null) {
                throw new InvalidInputException("table " + info.display() + " is not watched; run: epidemic watch " + entry.getKey());
            }
            List<Column> all = catalog.columnsOf(c, info);
            Set<String> predicates = new TreeSet<>();
            for (String predicate : entry.getValue()) {
                predicates.add(predicate.equals(RowFilters.EVERY_ROW) ? predicate : filters.check(c, info, all, predicate));
            }
            wanted.computeIfAbsent(id, k -> new TreeSet<>()).addAll(predicates);
            infos.put(id, info);
        }
        boolean anyFilter = wanted.values().stream().flatMap(Set::stream).anyMatch(p -> !p.equals(RowFilters.EVERY_ROW));
        if (installation.installedVersion(c) < Installation.VERSION) {
            if (!anyFilter) {
                return;
            }
            installation.install(c);
        }
        if (!anyFilter && !readable(c)) {
            // A consumer granted its rights before row filters existed starts as before, but is told what it risks.
            warnCannotRegister(registrant);
            return;
        }
        locks.whileInstalling(c, () -> {
            for (int id : filters.tablesOf(c, registrant)) {
                wanted.putIfAbsent(id, Set.of());
            }
            for (Map.Entry<Integer, Set<String>> entry : wanted.entrySet()) {
                int id = entry.getKey();
                Set<String> predicates = entry.getValue();
                boolean everyRowOnly = predicates.stream().allMatch(RowFilters.EVERY_ROW::equals);
                Set<String> before = filters.registered(c, id, registrant);
                if (before.equals(predicates)) {
                    continue;
                }
                // On a table without filters, handlers that take every row are recorded without changing the triggers
                // (a consumer needs no installer's right for it): when a filter comes later, they keep every row.
                if (everyRowOnly && before.stream().allMatch(RowFilters.EVERY_ROW::equals) && !filters.filtered(c, id)) {
                    try {
                        if (predicates.isEmpty()) {
                            filters.withdraw(c, id, registrant);
                        } else {
                            filters.registerEveryRow(c, id, registrant);
                        }
                    } catch (SQLException e) {
                        if (e.getErrorCode() != ACCESS_DENIED) {
                            throw e;
                        }
                        warnCannotRegister(registrant);
                    }
                    continue;
                }
                Registration r = registrations(c, " AND id = ?", Integer.toString(id)).stream().findFirst().orElse(null);
                String name = r == null ? "table #" + id : r.table().display();
                boolean wasFiltered = filters.filtered(c, id);
                filters.replace(c, name, id, registrant, predicates);
                if (!wasFiltered && filters.filtered(c, id)) {
                    List<String> others = filters.unregisteredConsumers(c, id, registrant);
                    if (!others.isEmpty()) {
                        log.warn("{} now has row filters, so only the rows some filter selects are logged; consumers {} registered no handler"
                                + " on it and receive only those rows until they start again (docs/row-filters.md)", name, others);
                    }
                }
                if (r == null) {
                    continue; // unwatched since: its triggers are gone
                }
                try {
                    createTriggers(c, r.table(), id, catalog.columnsOf(c, r.table()), r.watched());
                } catch (SQLException | RuntimeException e) {
                    try {
                        filters.replace(c, name, id, registrant, before);
                    } catch (SQLException | RuntimeException undo) {
                        e.addSuppressed(undo);
                    }
                    throw e;
                }
                log.info("Row filters of consumer {} on {}: {}", registrant, name,
                        everyRowOnly ? "none" : predicates.stream().map(p -> p.isEmpty() ? "(every row)" : p).toList());
            }
            return null;
        });
    }

    private void warnCannotRegister(String registrant) {
        log.warn("Consumer {} may not register its handlers (no INSERT, DELETE on {}; docs/security.md): on a table with row filters"
                + " it receives only the rows they select", registrant, own.filterOwner());
    }

    /** True when this user may read the filter registrations (a consumer granted its rights before they existed may not). */
    private boolean readable(Connection c) {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + own.filterOwner() + " LIMIT 0")) {
            ps.executeQuery().close();
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    Map<String, Integer> filterBits(Connection c, int tableId) throws SQLException {
        return installation.installedVersion(c) >= 4 ? filters.bits(c, tableId) : Map.of();
    }

    /** Puts the catalog back as it was before a watch that failed half-way. */
    private void undoWatch(Connection c, Table info, List<Column> all, Registration before, Integer previousId, boolean freshSchema) {
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
                register(c, info, before.keys(), before.columns(), before.allColumns());
                createTriggers(c, info, previousId, all, before.watched());
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

    private int register(Connection c, Table t, List<String> keys, List<String> columns, Boolean allColumns) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + own.watchedTable() + " (schema_name, table_name, key_columns, columns, all_columns, active)"
                + " VALUES (?, ?, ?, ?, ?, TRUE) ON DUPLICATE KEY UPDATE key_columns = VALUES(key_columns), columns = VALUES(columns),"
                + " all_columns = VALUES(all_columns), active = TRUE")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            ps.setString(3, toJson(keys));
            ps.setString(4, toJson(columns));
            ps.setObject(5, allColumns);
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
            // By name, also when the table is gone: a renamed table took its triggers along, and they still capture.
            for (String ddl : capture.dropTriggers(target)) {
                execute(c, ddl);
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
        if (!installation.installed(c)) {
            return List.of();
        }
        boolean filtered = installation.installedVersion(c) >= 4 && readable(c);
        List<WatchedTable> result = new ArrayList<>();
        for (Registration r : registrations(c, " ORDER BY schema_name, table_name")) {
            result.add(filtered ? r.watched().withFilters(filters.describe(c, r.id())) : r.watched());
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
        Registration r = registration(c, t);
        return r == null ? null : r.watched();
    }

    private Registration registration(Connection c, Table t) throws SQLException {
        return registrations(c, " AND schema_name = ? AND table_name = ?", t.schema(), t.name()).stream().findFirst().orElse(null);
    }

    /** The active registrations, of the rows that {@code condition} (and its parameters) selects. */
    private List<Registration> registrations(Connection c, String condition, String... parameters) throws SQLException {
        // A registry of version 1 (not yet migrated: that takes DDL rights) has no all_columns.
        String allColumnsColumn = installation.installedVersion(c) >= 2 ? "all_columns" : "NULL";
        List<Registration> result = new ArrayList<>();
        try (PreparedStatement ps = prepare(c, "SELECT id, schema_name, table_name, key_columns, columns, " + allColumnsColumn + " FROM "
                + own.watchedTable() + " WHERE active" + condition, (Object[]) parameters);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                boolean all = rs.getBoolean(6);
                Boolean allColumns = rs.wasNull() ? null : all;
                result.add(new Registration(rs.getInt(1), new Table(rs.getString(2), rs.getString(3)), fromJson(rs.getString(4)),
                        fromJson(rs.getString(5)), allColumns));
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- what capture does not do as asked

    /**
     * Watched tables whose capture no longer captures all that was asked, one line each, naming the
     * table, what changed and the command that puts it right; empty when all is well. MariaDB has no DDL
     * triggers, so capture cannot follow a schema change by itself; its triggers only keep the writers
     * working ({@link Capture#createTriggers}).
     */
    List<String> captureProblems(Connection c) throws SQLException {
        if (!installation.installed(c)) {
            return List.of();
        }
        List<String> result = new ArrayList<>();
        for (Registration r : registrations(c, " ORDER BY schema_name, table_name")) {
            String line = problemLine(c, r);
            if (line != null) {
                result.add(line);
            }
        }
        return result;
    }

    private String problemLine(Connection c, Registration r) throws SQLException {
        String table = r.table().display();
        if (!queryBoolean(c, "SELECT COUNT(*) > 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                r.table().schema(), r.table().name())) {
            String movedTo = capture.tableOf(c, r.table());
            if (movedTo != null) {
                return "watched table " + table + " was renamed to " + r.table().schema() + "." + movedTo + ": its triggers went with it and still"
                        + " capture, under the old name; run: epidemic unwatch " + table + ", then: epidemic watch " + r.table().schema() + "."
                        + movedTo + (Boolean.FALSE.equals(r.allColumns()) ? " --columns " + String.join(",", r.columns()) : "");
            }
            if (capture.present(c, r.table())) {
                return null; // its triggers exist: the table is there, and this user may not see it
            }
            return "watched table " + table + " no longer exists; remove it with: epidemic unwatch " + table;
        }
        List<String> live = catalog.columnsOf(c, r.table()).stream().map(Column::name).toList();
        String repair = repair(c, r, live);
        if (r.allColumns() == null) {
            return "capture of " + table + " was installed by an older Epidemic: renaming or dropping a captured column makes the application's"
                    + " writes to it fail; upgrade with: " + repair;
        }
        List<String> parts = new ArrayList<>();
        List<String> gone = Stream.concat(r.keys().stream(), r.columns().stream()).distinct().filter(n -> !live.contains(n)).toList();
        if (!gone.isEmpty()) {
            parts.add(gone.size() == 1 ? "watched column " + gone.get(0) + " of " + table + " was dropped or renamed"
                    : "watched columns " + String.join(", ", gone) + " of " + table + " were dropped or renamed");
            parts.add("its changes are not captured");
        }
        if (r.allColumns()) {
            List<String> added = live.stream().filter(n -> !r.columns().contains(n)).toList();
            if (!added.isEmpty()) {
                parts.add((added.size() == 1 ? "column " + added.get(0) + " was" : "columns " + String.join(", ", added) + " were")
                        + " added to " + table + " and " + (added.size() == 1 ? "is" : "are") + " not captured");
            }
        }
        if (parts.isEmpty() && !capture.present(c, r.table())) {
            parts.add("a capture trigger of " + table + " is missing: its changes are not all captured");
        }
        if (parts.isEmpty()) {
            return null;
        }
        // "dropped or renamed: its changes ..." reads as one clause; the rest are joined by semicolons.
        return String.join("; ", parts).replace("renamed; its changes", "renamed: its changes") + "; run: " + repair;
    }

    /**
     * Watches again each table captured with every column whose columns changed, when its key columns are
     * all still there (a key that changed needs a decision); a user without the rights that takes is left to
     * {@link #captureProblems}.
     */
    List<String> repairCapture(Connection c) throws SQLException {
        if (!installation.installed(c) || installation.installedVersion(c) < Installation.VERSION) {
            return List.of();
        }
        List<String> repaired = new ArrayList<>();
        for (Registration r : registrations(c, " AND all_columns ORDER BY schema_name, table_name")) {
            if (!queryBoolean(c, "SELECT COUNT(*) > 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                    r.table().schema(), r.table().name())) {
                continue;
            }
            List<String> live = catalog.columnsOf(c, r.table()).stream().map(Column::name).toList();
            if (live.equals(r.columns()) || !live.containsAll(r.keys()) || !capture.mayAlter(c, r.table())) {
                continue;
            }
            List<String> key = r.keys().equals(catalog.primaryKey(c, r.table())) ? List.of() : r.keys();
            try {
                WatchedTable now = watch(c, r.table().quoted(), List.of(), key);
                repaired.add("capture of " + r.table().display() + " regenerated after a schema change: columns " + String.join(", ", now.columns())
                        + " (were " + String.join(", ", r.columns()) + ")");
            } catch (SQLException | RuntimeException e) {
                log.debug("Cannot regenerate the capture of {} ({}); it stays reported", r.table().display(), e.getMessage());
            }
        }
        return repaired;
    }

    /** The watch command that makes a table's capture what was asked for again, in the terms of its columns now. */
    private String repair(Connection c, Registration r, List<String> live) throws SQLException {
        StringBuilder command = new StringBuilder("epidemic watch " + r.table().display());
        List<String> columns = r.columns().stream().filter(live::contains).toList();
        boolean every = Boolean.TRUE.equals(r.allColumns()) || r.allColumns() == null && r.columns().equals(live);
        if (!every && !columns.isEmpty()) {
            command.append(" --columns ").append(String.join(",", columns));
        }
        List<String> primaryKey = catalog.primaryKey(c, r.table());
        if (!r.keys().equals(primaryKey) && live.containsAll(r.keys())) {
            command.append(" --key ").append(String.join(",", r.keys()));
        }
        if (installation.installedVersion(c) >= 4 && readable(c)) {
            // watch states the whole capture: without its --where, the table-wide filter would go
            command.append(RowFilter.option(filters.registered(c, r.id(), RowFilters.TABLE_WIDE).stream().findFirst().orElse(null)));
        }
        return command.toString();
    }

    /** The command that repairs the capture of the table registered as {@code tableId}, or null when it is not watched. */
    String repairCommand(Connection c, int tableId) throws SQLException {
        if (!installation.installed(c)) {
            return null;
        }
        Registration r = registrations(c, " AND id = ?", Integer.toString(tableId)).stream().findFirst().orElse(null);
        if (r == null) {
            return null;
        }
        return repair(c, r, catalog.columnsOf(c, r.table()).stream().map(Column::name).toList());
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
