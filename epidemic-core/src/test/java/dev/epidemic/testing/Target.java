package dev.epidemic.testing;

import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;

import java.util.List;

/**
 * One fresh test database: its URL, the schema of Epidemic's log in it (on MariaDB the prefix of
 * Epidemic's tables in the database itself), and the server it is on.
 */
public record Target(TestServer server, String url, String logSchema) {

    public EpidemicAdmin admin() {
        return EpidemicAdmin.create(url, null, null, logSchema);
    }

    public Epidemic.Builder engine() {
        return Epidemic.builder(url, null, null).schema(logSchema);
    }

    /** The name the log gives {@code table}. */
    public String qualified(String table) {
        return server.qualified(url, table);
    }

    /** How SQL on this database names one of Epidemic's tables, e.g. {@code change_log}. */
    public String logTable(String table) {
        return server.logTable(logSchema, table);
    }

    public List<String> catalogFingerprint() {
        return server.catalogFingerprint(url);
    }

    public void exec(String... statements) {
        Sql.exec(url, statements);
    }

    public long queryLong(String sql) {
        return Sql.queryLong(url, sql);
    }

    /** The command-line options that select this database and its log schema. */
    public List<String> cli(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("--url", url, "--schema", logSchema));
        all.addAll(List.of(args));
        return all;
    }

    @Override
    public String toString() {
        return server.toString();
    }
}
