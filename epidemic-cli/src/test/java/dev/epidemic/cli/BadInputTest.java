package dev.epidemic.cli;

import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input, case by case: each has its expected exit code (2 bad input, 1 failure) and a fragment
 * of the one line it must print on stderr, and none may change the catalog. The database holds a
 * watched table, so Epidemic's schema is in place and a mistake could damage it.
 */
class BadInputTest {
    static final String UNREACHABLE = "jdbc:postgresql://127.0.0.1:1/x";
    static String url;

    static List<String> catalog;

    @TempDir
    static Path files;

    /** One case: the arguments (with {@code $URL} for the test database), the environment, what must come out. */
    record Case(String name, Map<String, String> environment, List<String> args, int exitCode, String message) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    static void database() throws IOException {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url,
                "CREATE TABLE users (id int PRIMARY KEY, name text, \"select\" text)",
                "CREATE TABLE victim (id int PRIMARY KEY)",
                "CREATE TABLE \"Mixed Case\" (\"Id\" int PRIMARY KEY, \"Val\" text)",
                "CREATE TABLE keyless (v text)",
                "CREATE VIEW users_view AS SELECT * FROM users",
                "CREATE MATERIALIZED VIEW users_mv AS SELECT * FROM users",
                "CREATE SEQUENCE a_sequence",
                "CREATE INDEX users_name ON users (name)",
                "CREATE TYPE a_type AS (x int)",
                "CREATE FUNCTION user_function(int) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
                "CREATE OPERATOR public.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq)");
        assertThat(Cli.run("--url", url, "watch", "victim").exitCode()).isZero();
        Files.writeString(files.resolve("empty-password"), "");
        Files.write(files.resolve("latin1-password"), new byte[] {(byte) 0xE9, (byte) 0xFF, '\n'});
        catalog = Sql.catalogFingerprint(url);
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        // Identifiers: unknown, quoted, reserved, injected.
        bad(cases, "unknown table", 2, "table nope does not exist", "watch", "nope");
        bad(cases, "unknown schema", 2, "table nos.users does not exist", "watch", "nos.users");
        bad(cases, "unknown column", 2, "column nope does not exist in table public.users", "watch", "users", "--columns", "name,nope");
        bad(cases, "unknown key column", 2, "key column nope does not exist", "watch", "users", "--key", "nope");
        bad(cases, "quoted name of the wrong case", 2, "table \"Users\" does not exist", "watch", "\"Users\"");
        bad(cases, "mixed-case name without its quotes", 2, "not a valid table name", "watch", "Mixed Case");
        bad(cases, "quoted column must match exactly", 2, "column \"val\" does not exist", "watch", "\"Mixed Case\"", "--columns", "\"val\"");
        bad(cases, "unbalanced quote", 2, "not a valid table name", "watch", "\"users");
        bad(cases, "too many dots", 2, "not a valid table name", "watch", "a.b.c.d");
        bad(cases, "another database", 2, "not a valid table name", "watch", "otherdb.public.users");
        bad(cases, "empty table name", 2, "table name is empty", "watch", "");
        bad(cases, "blank table name", 2, "table name is empty", "watch", "   ");
        bad(cases, "empty quoted identifier", 2, "does not exist", "watch", "\"\"");
        bad(cases, "NUL in a table name", 2, "NUL", "watch", "users\0");
        bad(cases, "reserved word as an unknown table", 2, "table select does not exist", "watch", "select");
        bad(cases, "reserved word as an unknown column", 2, "column from does not exist", "watch", "users", "--columns", "from");
        bad(cases, "injection as table", 2, "users; DROP TABLE victim", "watch", "users; DROP TABLE victim");
        bad(cases, "injection with quotes as table", 2, "not a valid table name", "watch", "users', 'x");
        bad(cases, "injection as column", 2, "does not exist", "watch", "users", "--columns", "name); DROP TABLE victim; --");
        bad(cases, "injection as key", 2, "does not exist", "watch", "users", "--key", "\"id); DROP TABLE victim; --\"");
        bad(cases, "comment in a table name", 2, "does not exist", "watch", "users--");
        bad(cases, "name longer than PostgreSQL keeps", 2, "does not exist", "watch", "t".repeat(80));
        // Column lists: empty or repeated.
        bad(cases, "empty column list", 2, "no columns given to --columns", "watch", "users", "--columns", "");
        bad(cases, "only a comma", 2, "a column name is empty", "watch", "users", "--columns", ",");
        bad(cases, "empty column in the list", 2, "a column name is empty", "watch", "users", "--columns", "name,,id");
        bad(cases, "repeated column", 2, "named twice", "watch", "users", "--columns", "name,name");
        bad(cases, "repeated column, once folded", 2, "named twice", "watch", "users", "--columns", "name,NAME");
        bad(cases, "empty key list", 2, "no key columns given to --key", "watch", "users", "--key", "");
        bad(cases, "repeated key column", 2, "named twice", "watch", "users", "--key", "id,id");
        // Relations that cannot be watched.
        bad(cases, "table without a primary key", 2, "has no primary key", "watch", "keyless");
        bad(cases, "view", 2, "is not a table", "watch", "users_view");
        bad(cases, "materialized view", 2, "is not a table", "watch", "users_mv");
        bad(cases, "sequence", 2, "is not a table", "watch", "a_sequence");
        bad(cases, "index", 2, "is not a table", "watch", "users_name");
        bad(cases, "composite type", 2, "is not a table", "watch", "a_type");
        bad(cases, "another session's temporary table", 2, "does not exist", "watch", "pg_temp.tmp");
        bad(cases, "system catalog", 2, "belongs to the system", "watch", "pg_catalog.pg_class");
        bad(cases, "information schema", 2, "belongs to the system", "watch", "information_schema.sql_features");
        bad(cases, "Epidemic's own table", 2, "Epidemic's own", "watch", "epidemic.consumer");
        bad(cases, "Epidemic's own change log", 2, "Epidemic's own", "watch", "epidemic.change_log_0");
        // Other commands.
        bad(cases, "unwatch an unknown table", 2, "table nope does not exist", "unwatch", "nope");
        bad(cases, "unwatch an injection", 2, "not a valid table name", "unwatch", "victim\"; DROP TABLE victim; --");
        bad(cases, "tail an unknown table", 2, "table nope does not exist", "tail", "--consumer", "c", "--table", "nope");
        bad(cases, "tail an unwatched table", 2, "is not watched", "tail", "--consumer", "c", "--table", "users");
        bad(cases, "tail with an empty consumer name", 2, "consumer name is required", "tail", "--consumer", "");
        bad(cases, "tail with batch size 0", 2, "batch size must be at least 1", "tail", "--consumer", "c", "--batch-size", "0");
        bad(cases, "tail with a negative --max", 2, "--max must be at least 1", "tail", "--consumer", "c", "--max", "-5");
        bad(cases, "tail with a non-number --idle-exit", 2, "--idle-exit", "tail", "--consumer", "c", "--idle-exit", "soon");
        bad(cases, "tail in an unknown format", 2, "--format must be one of epidemic, debezium, cloudevents, not 'avro'",
                "tail", "--consumer", "c", "--format", "avro");
        bad(cases, "tail from an unknown place", 2, "--from must be 'oldest', 'now' or 'snapshot'", "tail", "--consumer", "c", "--from", "start");
        bad(cases, "backfill an unknown table", 2, "table nope does not exist", "backfill", "nope");
        bad(cases, "backfill an unwatched table", 2, "is not watched", "backfill", "users");
        bad(cases, "backfill for an unknown consumer", 2, "consumer nope does not exist", "backfill", "victim", "--consumer", "nope");
        bad(cases, "backfill with --chunk 0", 2, "--chunk must be at least 1, not 0", "backfill", "victim", "--chunk", "0");
        bad(cases, "backfill with a negative --chunk", 2, "--chunk must be at least 1", "backfill", "victim", "--chunk", "-3");
        bad(cases, "backfill with a non-number --chunk", 2, "--chunk", "backfill", "victim", "--chunk", "lots");
        bad(cases, "backfill with --max-rate 0", 2, "--max-rate must be at least 1 row a second, not 0", "backfill", "victim", "--max-rate", "0");
        bad(cases, "backfill with a non-number --max-rate", 2, "--max-rate", "backfill", "victim", "--max-rate", "fast");
        bad(cases, "backfill without a table", 2, "TABLE", "backfill");
        bad(cases, "--where that is not SQL", 2, "--where for public.victim is not a valid condition", "backfill", "victim", "--where", "id ===");
        bad(cases, "--where on an unknown column", 2, "--where for public.victim", "backfill", "victim", "--where", "nope > 1");
        bad(cases, "--where that is not a condition", 2, "--where for public.victim", "backfill", "victim", "--where", "id + 1");
        bad(cases, "--where with a second statement", 2, "--where for public.victim", "backfill", "victim", "--where", "1=1; DROP TABLE victim");
        bad(cases, "--where escaping its parentheses", 2, "--where for public.victim", "backfill", "victim", "--where", "true) OR (true");
        bad(cases, "--where with a line comment", 2, "--where for public.victim", "backfill", "victim", "--where", "id > 0 -- and more");
        bad(cases, "--where with a block comment", 2, "--where for public.victim", "backfill", "victim", "--where", "id > 0 /* x */");
        bad(cases, "--where that writes", 2, "--where for public.victim", "backfill", "victim", "--where", "(SELECT 1 FROM (DELETE FROM victim RETURNING 1) d) = 1");
        bad(cases, "empty --where", 2, "--where", "backfill", "victim", "--where", "");
        // Row filters (watch --where): checked before any DDL, and never anything that runs with Epidemic's rights.
        bad(cases, "watch --where on an unknown column", 2, "row filter for public.victim (nope > 1) is refused", "watch", "victim", "--where", "nope > 1");
        bad(cases, "watch --where that is not a condition", 2, "row filter for public.victim (id + 1) is refused", "watch", "victim", "--where", "id + 1");
        bad(cases, "watch --where that is not SQL", 2, "row filter for public.victim", "watch", "victim", "--where", "id ===");
        bad(cases, "watch --where ending the statement", 2, "--where for public.victim is not a single condition", "watch", "victim", "--where", "1=1); DROP TABLE victim; --");
        bad(cases, "watch --where with a second statement", 2, "it contains ';'", "watch", "victim", "--where", "1=1; DROP TABLE victim");
        bad(cases, "watch --where with a line comment", 2, "comment", "watch", "victim", "--where", "id > 0 -- and more");
        bad(cases, "watch --where with a block comment", 2, "comment", "watch", "victim", "--where", "id > 0 /* x */");
        bad(cases, "watch --where with a dollar quote", 2, "'$'", "watch", "victim", "--where", "id::text = $$1$$");
        bad(cases, "watch --where with a subquery", 2, "it uses a subquery", "watch", "victim", "--where", "id IN (SELECT id FROM public.users)");
        bad(cases, "watch --where that writes", 2, "public.victim", "watch", "victim", "--where", "(SELECT 1 FROM (DELETE FROM public.victim RETURNING 1) d) = 1");
        bad(cases, "watch --where calling pg_sleep", 2, "pg_sleep(double precision) (volatile)", "watch", "victim", "--where", "pg_sleep(10) IS NOT NULL");
        bad(cases, "watch --where reading a server file", 2, "pg_read_file(text) (volatile)", "watch", "victim", "--where", "pg_read_file('/etc/passwd') <> ''");
        bad(cases, "watch --where calling a user's function", 2, "not built in", "watch", "victim", "--where", "public.user_function(id)");
        bad(cases, "watch --where with a user's operator", 2, "not built in", "watch", "victim", "--where", "id OPERATOR(public.===) 1");
        bad(cases, "empty watch --where", 2, "--where is empty", "watch", "victim", "--where", " ");
        // Options, URLs, configuration.
        bad(cases, "unknown option", 2, "--frobnicate", "list", "--frobnicate");
        bad(cases, "unknown command", 2, "frobnicate", "frobnicate");
        bad(cases, "option without its value", 2, "--columns", "watch", "users", "--columns");
        bad(cases, "empty --schema", 2, "--schema is empty", "list", "--schema", "");
        bad(cases, "system schema as --schema", 2, "reserved for the system", "watch", "users", "--schema", "pg_catalog");
        bad(cases, "both --password and --password-file", 2, "either --password or --password-file",
                "list", "--password", "x", "--password-file", "/nonexistent");
        bad(cases, "missing --password-file", 2, "no such file", "list", "--password-file", "/nonexistent/password");
        bad(cases, "empty --password-file", 2, "is empty", "list", "--password-file", "@empty-password");
        bad(cases, "--password-file that is a directory", 2, "cannot read --password-file", "list", "--password-file", "@");
        bad(cases, "--password-file that is not UTF-8", 2, "not UTF-8", "list", "--password-file", "@latin1-password");
        cases.add(new Case("empty --url", Map.of(), List.of("list", "--url", ""), 2, "no database given"));
        cases.add(new Case("no URL at all", Map.of(), List.of("list"), 2, "no database given"));
        cases.add(new Case("not a JDBC URL", Map.of(), List.of("list", "--url", "postgres://localhost/x"), 2, "unsupported JDBC URL"));
        cases.add(new Case("malformed port", Map.of(), List.of("list", "--url", "jdbc:postgresql://127.0.0.1:notaport/x"), 2, "malformed"));
        cases.add(new Case("MariaDB URL without a database", Map.of(), List.of("list", "--url", "jdbc:mariadb://127.0.0.1:1/?user=root"), 2,
                "the MariaDB URL names no database: jdbc:mariadb://127.0.0.1:1/?user=root"));
        cases.add(new Case("malformed URL in the environment", Map.of("EPIDEMIC_URL", "jdbc:nosuch:x"), List.of("status"), 2, "unsupported JDBC URL"));
        cases.add(new Case("server down (a closed port)", Map.of(), List.of("status", "--url", UNREACHABLE), 1, "Connection refused"));
        cases.add(new Case("unknown host", Map.of(), List.of("list", "--url", "jdbc:postgresql://no-such-host.invalid/x"), 1, "unknown host"));
        cases.add(new Case("wrong password", Map.of(), List.of("list", "--url", "$PW_URL", "--user", PasswordServer.USER,
                "--password", "not-the-password"), 1, "password authentication failed"));
        cases.add(new Case("wrong password in the environment", Map.of("EPIDEMIC_PASSWORD", "not-the-password"),
                List.of("status", "--url", "$PW_URL", "--user", PasswordServer.USER), 1, "password authentication failed"));
        cases.add(new Case("no password where one is needed", Map.of(), List.of("list", "--url", "$PW_URL", "--user", PasswordServer.USER),
                1, "password"));
        return cases.stream();
    }

    private static void bad(List<Case> cases, String name, int exitCode, String message, String... args) {
        List<String> all = new ArrayList<>(List.of("--url", "$URL"));
        all.addAll(List.of(args));
        cases.add(new Case(name, Map.of(), all, exitCode, message));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isRefusedOnOneLineAndChangesNothing(Case c) {
        Cli.Result result = Cli.runWith(c.environment(), args(c));

        assertThat(result.exitCode()).as(c.name() + ": " + result.err()).isEqualTo(c.exitCode());
        assertThat(result.errLines()).as(c.name()).singleElement().asString().startsWith("epidemic: ").contains(c.message());
        assertThat(result.err()).doesNotContain("\tat ");
        assertThat(result.out()).as(c.name()).isEmpty();
        assertThat(result.err()).as(c.name() + ": a password shown").doesNotContain("not-the-password").doesNotContain(PasswordServer.PASSWORD);
        assertThat(Sql.catalogFingerprint(url)).as(c.name() + ": catalog changed").isEqualTo(catalog);
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.backfill")).as(c.name() + ": a backfill begun").isZero();
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log")).as(c.name() + ": a change logged").isZero();
    }

    private static String[] args(Case c) {
        return c.args().stream()
                .map(a -> a.equals("$PW_URL") ? PasswordServer.get().url() : a)
                .map(a -> a.equals("$URL") ? url : a.startsWith("@") ? files.resolve(a.substring(1)).toString() : a)
                .toArray(String[]::new);
    }

}
