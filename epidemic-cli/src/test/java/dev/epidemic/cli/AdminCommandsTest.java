package dev.epidemic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** watch, unwatch, list, status and prune, run in this JVM against a real database. */
class AdminCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static String url;

    @BeforeAll
    static void database() {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url,
                "CREATE TABLE mail_users (id int PRIMARY KEY, username text, quota_bytes bigint, last_login timestamptz)",
                "CREATE TABLE aliases (id int PRIMARY KEY, alias text)",
                "CREATE TABLE \"Mixed Case\" (\"Id\" int PRIMARY KEY, \"Odd, Name\" text, plain text)",
                "CREATE TABLE x (id int PRIMARY KEY)",
                "CREATE TABLE quotas (id int PRIMARY KEY, active boolean, quota_bytes bigint)");
    }

    @Test
    void watchListUnwatchRoundTripLeavesNoTriggerOrFunction() {
        Cli.Result watchedOther = Cli.run("--url", url, "watch", "aliases");
        assertThat(watchedOther.exitCode()).as(watchedOther.err()).isZero();
        List<String> before = Sql.catalogFingerprint(url);

        Cli.Result watch = Cli.run("watch", "mail_users", "--columns", "username,quota_bytes", "--url", url);
        assertThat(watch.exitCode()).as(watch.err()).isZero();
        assertThat(watch.out()).isEqualTo("watching public.mail_users (columns: username, quota_bytes; key: id)\n");
        assertThat(watch.err()).isEmpty();
        assertThat(triggersOn("mail_users")).isEqualTo(4); // insert, delete, update, truncate

        Cli.Result list = Cli.run("--url", url, "list");
        assertThat(list.outLines()).containsExactly(
                "public.aliases  key: id  columns: id, alias",
                "public.mail_users  key: id  columns: username, quota_bytes");

        Cli.Result unwatch = Cli.run("--url", url, "unwatch", "mail_users");
        assertThat(unwatch.exitCode()).isZero();
        assertThat(unwatch.out()).isEqualTo("unwatched mail_users\n");
        assertThat(triggersOn("mail_users")).isZero();
        assertThat(Sql.catalogFingerprint(url)).isEqualTo(before);
        assertThat(Cli.run("--url", url, "list").outLines()).containsExactly("public.aliases  key: id  columns: id, alias");

    }

    @Test
    void unwatchingATableThatIsNotWatchedSaysSo() {
        assertThat(Cli.run("--url", url, "watch", "aliases").exitCode()).isZero(); // Epidemic is installed

        Cli.Result result = Cli.run("--url", url, "unwatch", "x", "--purge");

        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).isEqualTo("x was not watched\n");
    }

    @Test
    void rewatchingWithOtherColumnsChangesWhatIsCaptured() {
        assertThat(Cli.run("--url", url, "watch", "public.x").exitCode()).isZero();
        Sql.exec(url, "ALTER TABLE x ADD COLUMN IF NOT EXISTS a text, ADD COLUMN IF NOT EXISTS b text");
        Cli.Result narrowed = Cli.run("--url", url, "watch", "x", "--columns", "a");
        assertThat(narrowed.out()).isEqualTo("watching public.x (columns: a; key: id)\n");
        Cli.Result same = Cli.run("--url", url, "watch", "x", "--columns", " a ");
        assertThat(same.exitCode()).isZero();
        assertThat(same.out()).isEqualTo(narrowed.out());
    }

    @Test
    void watchesQuotedMixedCaseNamesIncludingACommaInsideQuotes() {
        Cli.Result watch = Cli.run("--url", url, "watch", "\"Mixed Case\"", "--columns", "\"Odd, Name\",plain");
        assertThat(watch.exitCode()).as(watch.err()).isZero();
        assertThat(watch.out()).isEqualTo("watching public.Mixed Case (columns: Odd, Name, plain; key: Id)\n");

        JsonNode listed = json(Cli.run("--url", url, "list", "--json").out());
        JsonNode mixed = find(listed, "public.Mixed Case");
        assertThat(mixed.get("schema").asText()).isEqualTo("public");
        assertThat(mixed.get("name").asText()).isEqualTo("Mixed Case");
        assertThat(mixed.get("key")).containsExactly(JSON.valueToTree("Id"));
        assertThat(mixed.get("columns")).containsExactly(JSON.valueToTree("Odd, Name"), JSON.valueToTree("plain"));
    }

    @Test
    void watchWhereLogsOnlyMatchingRowsListsTheFilterAndWatchWithoutWhereRemovesIt() {
        Cli.Result watch = Cli.run("--url", url, "watch", "quotas", "--where", "active AND quota_bytes > 0");
        assertThat(watch.exitCode()).as(watch.err()).isZero();
        assertThat(watch.out()).isEqualTo("watching public.quotas (columns: id, active, quota_bytes; key: id; rows where active AND quota_bytes > 0)\n");
        assertThat(Cli.run("--url", url, "list").outLines())
                .containsSubsequence("public.quotas  key: id  columns: id, active, quota_bytes", "  where active AND quota_bytes > 0  (watch --where)");
        JsonNode filter = find(json(Cli.run("--url", url, "list", "--json").out()), "public.quotas").get("filters").get(0);
        assertThat(filter.get("where").asText()).isEqualTo("active AND quota_bytes > 0");
        assertThat(filter.get("table_wide").asBoolean()).isTrue();

        long before = Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log");
        Sql.exec(url, "INSERT INTO quotas VALUES (1, true, 10), (2, false, 10), (3, true, 0)");
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log")).isEqualTo(before + 1);

        assertThat(Cli.run("--url", url, "watch", "quotas").exitCode()).isZero();
        assertThat(find(json(Cli.run("--url", url, "list", "--json").out()), "public.quotas").get("filters")).isEmpty();
        Sql.exec(url, "INSERT INTO quotas VALUES (4, false, 0)");
        assertThat(Sql.queryLong(url, "SELECT count(*) FROM epidemic.change_log")).isEqualTo(before + 2);
    }

    @Test
    void unknownTableIsBadInputNamedOnOneLineAndInstallsNothing() {
        String fresh = TestDatabase.get().createDatabase();
        Sql.exec(fresh, "CREATE TABLE users (id int PRIMARY KEY, name text)");
        List<String> before = Sql.catalogFingerprint(fresh);

        Cli.Result result = Cli.run("--url", fresh, "watch", "no_such_table");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.out()).isEmpty();
        assertThat(result.errLines()).singleElement().asString().startsWith("epidemic: ").contains("no_such_table");
        assertThat(Sql.catalogFingerprint(fresh)).isEqualTo(before);
    }

    @Test
    void unknownColumnIsBadInputNamedOnOneLineAndInstallsNothing() {
        String fresh = TestDatabase.get().createDatabase();
        Sql.exec(fresh, "CREATE TABLE users (id int PRIMARY KEY, name text)");
        List<String> before = Sql.catalogFingerprint(fresh);

        Cli.Result result = Cli.run("--url", fresh, "watch", "users", "--columns", "name,no_such_column");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.errLines()).singleElement().asString().startsWith("epidemic: ").contains("no_such_column");
        assertThat(Sql.catalogFingerprint(fresh)).isEqualTo(before);

        Cli.Result badKey = Cli.run("--url", fresh, "watch", "users", "--key", "nope");
        assertThat(badKey.exitCode()).isEqualTo(2);
        assertThat(badKey.errLines()).singleElement().asString().contains("nope");
        assertThat(Sql.catalogFingerprint(fresh)).isEqualTo(before);
    }

    @Test
    void injectionAttemptIsBadInputAndChangesNothing() {
        String fresh = TestDatabase.get().createDatabase();
        Sql.exec(fresh, "CREATE TABLE users (id int PRIMARY KEY, name text)", "CREATE TABLE victim (id int PRIMARY KEY)");
        List<String> before = Sql.catalogFingerprint(fresh);

        Cli.Result asTable = Cli.run("--url", fresh, "watch", "users; DROP TABLE victim");
        Cli.Result asColumn = Cli.run("--url", fresh, "watch", "users", "--columns", "name); DROP TABLE victim; --");

        assertThat(asTable.exitCode()).isEqualTo(2);
        assertThat(asTable.errLines()).singleElement().asString().contains("users; DROP TABLE victim");
        assertThat(asColumn.exitCode()).isEqualTo(2);
        assertThat(asColumn.errLines()).hasSize(1);
        assertThat(Sql.catalogFingerprint(fresh)).isEqualTo(before);
    }

    @Test
    void emptyColumnListIsBadInput() {
        Cli.Result empty = Cli.run("--url", url, "watch", "aliases", "--columns", "");
        assertThat(empty.exitCode()).isEqualTo(2);
        assertThat(empty.err()).isEqualTo("epidemic: no columns given to --columns; name at least one, or leave --columns out to capture all\n");

        Cli.Result emptyElement = Cli.run("--url", url, "watch", "aliases", "--columns", "alias,,id");
        assertThat(emptyElement.exitCode()).isEqualTo(2);
        assertThat(emptyElement.errLines()).hasSize(1);
    }

    @Test
    void statusShowsPendingPerConsumerAndPruneKeepsWhatALaggingConsumerNeeds() {
        String db = TestDatabase.get().createDatabase();
        Sql.exec(db, "CREATE TABLE t (id int PRIMARY KEY)");
        assertThat(Cli.run("--url", db, "watch", "t").exitCode()).isZero();
        Sql.exec(db, "INSERT INTO t VALUES (1)");
        // "behind" reads the first change only, "ahead" all three.
        assertThat(CliProcess.runToEnd(Duration.ofSeconds(30), "--url", db, "tail", "--consumer", "behind", "--max", "1").lines()).hasSize(1);
        Sql.exec(db, "INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (3)");
        assertThat(CliProcess.runToEnd(Duration.ofSeconds(30), "--url", db, "tail", "--consumer", "ahead", "--max", "3").lines()).hasSize(3);

        JsonNode status = json(Cli.run("--url", db, "status", "--json").out());
        assertThat(status).hasSize(2);
        JsonNode ahead = findConsumer(status, "ahead");
        JsonNode behind = findConsumer(status, "behind");
        assertThat(ahead.get("pending").asLong()).isZero();
        assertThat(ahead.get("oldest_pending_age_seconds").isNull()).isTrue();
        assertThat(behind.get("pending").asLong()).isEqualTo(2);
        assertThat(behind.get("oldest_pending_age_seconds").isNumber()).isTrue();
        assertThat(behind.get("oldest_pending_age_seconds").asDouble()).isGreaterThanOrEqualTo(0);

        List<String> text = Cli.run("--url", db, "status").outLines();
        assertThat(text).hasSize(3);
        assertThat(text.get(0)).startsWith("CONSUMER").contains("PENDING");
        assertThat(text.get(1)).matches("ahead\\s+0\\s+-");
        assertThat(text.get(2)).matches("behind\\s+2\\s+\\d+\\.\\d{3}");

        Cli.Result prune = Cli.run("--url", db, "prune");
        assertThat(prune.exitCode()).isZero();
        assertThat(prune.out()).isEqualTo("deleted 1 changes; retained 2 for 2 consumers\n");
        assertThat(Sql.queryLong(db, "SELECT count(*) FROM epidemic.change_log")).isEqualTo(2);
    }

    @Test
    void statusAndPruneOfAnEmptyDatabase() {
        String db = TestDatabase.get().createDatabase();
        assertThat(Cli.run("--url", db, "status").outLines()).containsExactly("CONSUMER  PENDING  OLDEST PENDING AGE (s)");
        assertThat(Cli.run("--url", db, "status", "--json").out()).isEqualTo("[]\n");
        assertThat(Cli.run("--url", db, "list", "--json").out()).isEqualTo("[]\n");
        assertThat(Cli.run("--url", db, "prune").out()).isEqualTo("deleted 0 changes; retained 0 for 0 consumers\n");
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : List.of("watch", "unwatch", "list", "tail", "status", "prune")) {
            Cli.Result help = Cli.run(command, "--help");
            assertThat(help.exitCode()).isZero();
            assertThat(help.out()).contains("Usage: epidemic " + command).contains("--url");
        }
    }

    private static long triggersOn(String table) {
        return Sql.queryLong(url, "SELECT count(*) FROM pg_trigger WHERE tgrelid = '" + table + "'::regclass AND NOT tgisinternal");
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    private static JsonNode find(JsonNode array, String table) {
        for (JsonNode node : array) {
            if (node.get("table").asText().equals(table)) {
                return node;
            }
        }
        throw new AssertionError(table + " not in " + array);
    }

    private static JsonNode findConsumer(JsonNode array, String consumer) {
        for (JsonNode node : array) {
            if (node.get("consumer").asText().equals(consumer)) {
                return node;
            }
        }
        throw new AssertionError(consumer + " not in " + array);
    }
}
