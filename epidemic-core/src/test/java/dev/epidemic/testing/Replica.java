package dev.epidemic.testing;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a consumer's derived state would be: each change applied to a map of rows by key (INSERT and
 * UPDATE put {@code new}, DELETE removes, TRUNCATE clears). Compared with the table's own rows, it proves
 * that the stream lost nothing and delivered nothing that did not happen.
 */
public final class Replica implements ChangeHandler {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Map<String, Map<String, Object>> rows = new TreeMap<>();
    private int applied;

    @Override
    public synchronized void onInsert(Change change) {
        rows.put(keyOf(change.key()), new TreeMap<>(change.newValues()));
        applied++;
    }

    @Override
    public synchronized void onUpdate(Change change) {
        onInsert(change);
    }

    @Override
    public synchronized void onDelete(Change change) {
        rows.remove(keyOf(change.key()));
        applied++;
    }

    @Override
    public synchronized void onTruncate(Change change) {
        rows.clear();
        applied++;
    }

    public synchronized Map<String, Map<String, Object>> rows() {
        return new TreeMap<>(rows);
    }

    public synchronized int applied() {
        return applied;
    }

    /** The rows of {@code table} now, as to_jsonb renders them, keyed by {@code keyColumns}. */
    /** MariaDB has no row-to-JSON function: the name-value pairs of JSON_OBJECT for every column of {@code table}. */
    private static String jsonPairs(Connection c, String table) throws SQLException {
        List<String> pairs = new java.util.ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + table + " LIMIT 0")) {
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                String name = rs.getMetaData().getColumnName(i);
                pairs.add("'" + name + "', t.`" + name + "`");
            }
        }
        return String.join(", ", pairs);
    }

    public static Map<String, Map<String, Object>> tableRows(String url, String table, List<String> keyColumns) {
        Map<String, Map<String, Object>> result = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(url.startsWith("jdbc:mariadb:") ? "SELECT JSON_OBJECT(" + jsonPairs(c, table) + ") FROM " + table + " t"
                     : "SELECT to_jsonb(t)::text FROM " + table + " t")) {
            while (rs.next()) {
                Map<String, Object> row = new TreeMap<>(JSON.readValue(rs.getString(1), new TypeReference<Map<String, Object>>() { }));
                Map<String, Object> key = new TreeMap<>();
                keyColumns.forEach(k -> key.put(k, row.get(k)));
                result.put(keyOf(key), row);
            }
        } catch (SQLException | java.io.IOException e) {
            throw new IllegalStateException("cannot read " + table, e);
        }
        return result;
    }

    private static String keyOf(Map<String, Object> key) {
        return new TreeMap<>(key).toString();
    }
}
