package dev.epidemic.testing;

import java.util.List;

/** A database server the shared behaviour suite runs against; each test class takes a fresh database of it. */
public interface TestServer {

    /** A new, empty database, with the schema Epidemic keeps its log in for it. */
    Target create();

    boolean isPostgres();

    /** How the log names {@code table} of the database at {@code url}: schema.table or database.table. */
    String qualified(String url, String table);

    /** How a test names one of Epidemic's tables ({@code change_log}) of {@code schema}, from a connection to the database. */
    String logTable(String schema, String table);

    /** Everything installed in the database at {@code url} (and its log schema); equal before and after means nothing was left behind. */
    List<String> catalogFingerprint(String url);
}
