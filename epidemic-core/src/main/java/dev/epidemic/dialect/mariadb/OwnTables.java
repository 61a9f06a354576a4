package dev.epidemic.dialect.mariadb;

import dev.epidemic.api.InvalidInputException;

import java.util.List;
import java.util.Locale;

import static dev.epidemic.dialect.mariadb.Names.quote;

/**
 * Where Epidemic's own tables are on MariaDB: inside the application's database (the one the JDBC URL
 * names), beside its tables, each named with the schema as a prefix ({@code epidemic_change_log}), the
 * way Flyway keeps {@code flyway_schema_history}. A schema on MariaDB is a database, and one shared by
 * the server would mix the changes, consumers and positions of every application on it; inside the
 * application's database they are its own, go with it when it is dropped, are covered by its grants, and
 * need no right to create databases.
 *
 * @param database the application's database
 * @param schema   the schema value (builder {@code schema}, CLI {@code --schema}): the tables' prefix
 */
record OwnTables(String database, String schema) {
    /** Every table Epidemic creates, without the prefix. */
    static final List<String> TABLES = List.of("watched_table", "change_log", "log_state", "consumer", "probe", "dead_letter", "schema_version",
            "backfill", "backfill_target", "row_filter", "filter_owner");
    private static final int LONGEST = TABLES.stream().mapToInt(String::length).max().orElseThrow();

    OwnTables {
        if (database == null || database.isEmpty()) {
            throw new InvalidInputException("the MariaDB connection names no database; end the URL in /DATABASE, the database whose tables Epidemic captures");
        }
        if (schema.codePointCount(0, schema.length()) + 1 + LONGEST > 64) {
            throw new InvalidInputException("schema " + schema + " is too long for MariaDB, where it prefixes Epidemic's table names ("
                    + schema + "_schema_version) and a name has at most 64 characters; choose one of at most " + (64 - 1 - LONGEST) + " characters");
        }
    }

    /** The unquoted name of one of Epidemic's tables, e.g. {@code epidemic_change_log}. */
    String name(String table) {
        return schema + "_" + table;
    }

    /** The qualified, quoted name of one of Epidemic's tables. */
    String quoted(String table) {
        return quote(database) + "." + quote(name(table));
    }

    /** True when {@code tableName} (of the application's database) is one of Epidemic's tables. */
    boolean isOwn(String tableName) {
        String lower = tableName.toLowerCase(Locale.ROOT);
        return TABLES.stream().anyMatch(t -> name(t).toLowerCase(Locale.ROOT).equals(lower));
    }

    String watchedTable() {
        return quoted("watched_table");
    }

    String changeLog() {
        return quoted("change_log");
    }

    String logState() {
        return quoted("log_state");
    }

    String consumer() {
        return quoted("consumer");
    }

    String probe() {
        return quoted("probe");
    }

    String deadLetter() {
        return quoted("dead_letter");
    }

    String backfill() {
        return quoted("backfill");
    }

    String backfillTarget() {
        return quoted("backfill_target");
    }

    String rowFilter() {
        return quoted("row_filter");
    }

    String filterOwner() {
        return quoted("filter_owner");
    }

    String schemaVersion() {
        return quoted("schema_version");
    }
}
