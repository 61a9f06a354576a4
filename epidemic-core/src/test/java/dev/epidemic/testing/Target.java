package dev.epidemic.testing;

import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;

import java.util.List;

/**
 * One fresh test database: its URL, the schema Epidemic's log lives in for it, and the server it is on.
 * On MariaDB a schema is a database, so every test database gets a log database of its own.
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
