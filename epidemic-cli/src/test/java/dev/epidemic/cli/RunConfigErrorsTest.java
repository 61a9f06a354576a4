package dev.epidemic.cli;

import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A wrong configuration is refused before anything is installed: exit 2, one line per problem naming
 * the key's path, and the database's catalog exactly as it was.
 */
class RunConfigErrorsTest {
    static String url;

    @TempDir
    Path dir;

    @BeforeAll
    static void database() {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE mail_users (id int PRIMARY KEY, gid int, username text, quota_bytes bigint)");
    }

    /** A correct file with {@code table} as its only table entry. */
    private String withTable(String table) {
        return """
                database:
                  url: %s
                consumers:
                  - name: mail-server
                    tables:
                %s""".formatted(url, table.indent(6));
    }

    private static final String GOOD_TABLE = """
            - table: public.mail_users
              sink: {stdout: {}}""";

    /** Runs {@code epidemic run} on {@code yaml}; asserts exit 2 and an unchanged catalog; returns stderr's lines. */
    private List<String> refused(String yaml) throws IOException {
        return refused(yaml, Map.of());
    }

    private List<String> refused(String yaml, Map<String, String> environment) throws IOException {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, yaml);
        List<String> before = Sql.catalogFingerprint(url);

        Cli.Result result = Cli.runWith(environment, "run", "--config", config.toString());

        assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
        assertThat(result.out()).isEmpty();
        assertThat(Sql.catalogFingerprint(url)).as("catalog after a refused config").isEqualTo(before);
        String prefix = "epidemic: " + config + ": ";
        assertThat(result.errLines()).allSatisfy(line -> assertThat(line).startsWith(prefix));
        return result.errLines().stream().map(line -> line.substring(prefix.length())).toList();
    }

    @Test
    void yamlSyntaxErrorNamesTheLine() throws IOException {
        assertThat(refused("database:\n  url: x\n   oops: [\n")).singleElement().asString()
                .startsWith("line 3: invalid YAML: ");
    }

    @Test
    void unknownKeyIsNamedWithItsPath() throws IOException {
        assertThat(refused(withTable(GOOD_TABLE + "\n  colums: [gid]"))).containsExactly(
                "consumers[0].tables[0].colums: unknown key; expected one of table, columns, where, handler, sink, retry, on-failure");
    }

    @Test
    void missingRequiredKeysAreNamed() throws IOException {
        assertThat(refused("database: {url: '" + url + "'}\nconsumers:\n  - tables:\n      - sink: {stdout: {}}\n")).containsExactly(
                "consumers[0].name: missing required key",
                "consumers[0].tables[0].table: missing required key");
    }

    @Test
    void badDurationIsNamed() throws IOException {
        assertThat(refused(withTable(GOOD_TABLE + "\n  retry: {attempts: 3, backoff: 5 sec}"))).containsExactly(
                "consumers[0].tables[0].retry.backoff: '5 sec' is not a duration; write a number and a unit: ms, s, m or h (e.g. 200ms, 5s, 1m)");
    }

    @Test
    void unknownTableIsFoundInTheCatalog() throws IOException {
        assertThat(refused(withTable("- table: public.nope\n  sink: {stdout: {}}"))).containsExactly(
                "consumers[0].tables[0].table: table public.nope does not exist");
    }

    @Test
    void aWhereThatIsNotAValidRowFilterIsFoundInTheCatalog() throws IOException {
        assertThat(refused(withTable(GOOD_TABLE + "\n  where: quota > 0"))).singleElement().asString()
                .startsWith("consumers[0].tables[0].where: row filter for public.mail_users (quota > 0) is refused: column \"quota\" does not exist");
        assertThat(refused(withTable(GOOD_TABLE + "\n  where: pg_sleep(1) IS NULL"))).singleElement().asString()
                .startsWith("consumers[0].tables[0].where: row filter for public.mail_users (pg_sleep(1) IS NULL) is refused: it uses function pg_sleep");
        assertThat(refused(withTable(GOOD_TABLE + "\n  where: ' '"))).containsExactly(
                "consumers[0].tables[0].where: is empty; give a condition over the table's columns, or leave where out for every row");
    }

    @Test
    void unknownColumnIsFoundInTheCatalog() throws IOException {
        assertThat(refused(withTable(GOOD_TABLE + "\n  columns: [gid, quota]"))).containsExactly(
                "consumers[0].tables[0].columns: column quota does not exist in table public.mail_users");
    }

    @Test
    void parallelismOutOfRangeOrWithATransactionalHandlerIsNamed() throws IOException {
        String consumer = "database:\n  url: " + url + "\nconsumers:\n  - name: mail-server\n    parallelism: %s\n    tables:\n%s";
        assertThat(refused(consumer.formatted("0", GOOD_TABLE.indent(6)))).containsExactly(
                "consumers[0].parallelism: must be between 1 and 256, not 0");
        assertThat(refused(consumer.formatted("4", ("- table: mail_users\n  handler: {class: " + TestHandlers.NoopTransactional.class.getName() + "}").indent(6))))
                .containsExactly("consumers[0].parallelism: cannot be above 1 for a consumer with a transactional handler:"
                        + " it commits each change with the consumer's position, one transaction at a time");
    }

    @Test
    void handlerClassNotFound() throws IOException {
        assertThat(refused(withTable("- table: mail_users\n  handler: {class: com.example.Missing}"))).containsExactly(
                "consumers[0].tables[0].handler.class: class com.example.Missing not found on the class path");
    }

    @Test
    void classThatIsNotAHandler() throws IOException {
        assertThat(refused(withTable("- table: mail_users\n  handler: {class: java.util.ArrayList}"))).containsExactly(
                "consumers[0].tables[0].handler.class: class java.util.ArrayList is not a handler: it implements none of"
                        + " ChangeHandler, BatchHandler and TransactionalHandler (dev.epidemic.api)");
    }

    @Test
    void badWebhookUrl() throws IOException {
        assertThat(refused(withTable("- table: mail_users\n  sink: {webhook: {url: 'ftp://hooks.example/x'}}"))).containsExactly(
                "consumers[0].tables[0].sink.webhook.url: 'ftp://hooks.example/x' is not an http:// or https:// URL");
    }

    @Test
    void badJdbcUrl() throws IOException {
        assertThat(refused("database: {url: 'jdbc:postgresql://127.0.0.1:notaport/x'}\nconsumers:\n  - name: c\n    tables:\n"
                + GOOD_TABLE.indent(6))).containsExactly(
                "database.url: malformed JDBC URL jdbc:postgresql://127.0.0.1:notaport/x;"
                        + " expected jdbc:postgresql://HOST[:PORT]/DATABASE[?PARAMETER=VALUE&...]");
        assertThat(refused("database: {url: 'http://127.0.0.1/x'}\nconsumers:\n  - name: c\n    tables:\n" + GOOD_TABLE.indent(6)))
                .singleElement().asString().startsWith("database.url: unsupported JDBC URL http://127.0.0.1/x");
    }

    @Test
    void unsetEnvironmentVariableIsNamed() throws IOException {
        assertThat(refused(withTable(GOOD_TABLE).replace("database:\n", "database:\n  password: ${MAIL_DB_PASSWORD}\n")))
                .containsExactly("database.password: environment variable MAIL_DB_PASSWORD is not set");
    }

    @Test
    void everyProblemIsReportedOnALineOfItsOwn() throws IOException {
        List<String> problems = refused(withTable("""
                - table: public.nope
                  sink: {stdout: {}}
                - table: mail_users
                  columns: [gid, nosuch]
                  handler: {class: com.example.Missing}
                  on-failure: explode
                - table: mail_users
                  sink: {webhook: {url: 'http://hooks.example/x', timeout: soon, batch: 0}}""") + "  - name: mail-server\n");
        assertThat(problems).containsExactlyInAnyOrder(
                "consumers[0].tables[1].on-failure: must be 'dead-letter' or 'stop', not 'explode'",
                "consumers[0].tables[1].handler.class: class com.example.Missing not found on the class path",
                "consumers[0].tables[2].sink.webhook.timeout: 'soon' is not a duration; write a number and a unit: ms, s, m or h (e.g. 200ms, 5s, 1m)",
                "consumers[0].tables[2].sink.webhook.batch: must be at least 1, not 0",
                "consumers[1].name: consumer mail-server is named twice; each consumer needs a name of its own",
                "consumers[1].tables: missing required key: name at least one table",
                "consumers[0].tables[0].table: table public.nope does not exist",
                "consumers[0].tables[1].columns: column nosuch does not exist in table public.mail_users");
    }

    @Test
    void aPasswordFromTheEnvironmentNeverAppearsInAnError() throws IOException {
        // Given a database that cannot be reached, with the password in the URL and in the password key
        String secret = "pw-" + System.nanoTime();
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, withTable(GOOD_TABLE)
                .replace(url, "jdbc:postgresql://127.0.0.1:1/mail?user=mail&password=${MAIL_DB_PASSWORD}")
                .replace("database:\n", "database:\n  password: ${MAIL_DB_PASSWORD}\n"));

        Cli.Result result = Cli.runWith(Map.of("MAIL_DB_PASSWORD", secret), "run", "--config", config.toString());

        // Then the daemon fails (exit 1: the file is right, the database is not there), without showing it
        assertThat(result.exitCode()).as(result.err()).isEqualTo(1);
        assertThat(result.errLines()).singleElement().asString().startsWith("epidemic: cannot connect to jdbc:postgresql://127.0.0.1:1/mail?user=mail&password=***");
        assertThat(result.out() + result.err()).doesNotContain(secret);
    }

    @Test
    void unknownFormatOfASinkIsNamedWithTheFormatsThatExist() throws IOException {
        String yaml = withTable("""
                - table: public.mail_users
                  sink: {stdout: {format: json}}
                - table: public.mail_users
                  sink: {webhook: {url: 'http://127.0.0.1:9/hook', format: Debezium}}""");
        assertThat(refused(yaml)).containsExactly(
                "consumers[0].tables[0].sink.stdout.format: must be one of epidemic, debezium, cloudevents, not 'json'",
                "consumers[0].tables[1].sink.webhook.format: must be one of epidemic, debezium, cloudevents, not 'Debezium'");
    }

    @Test
    void unknownStartPointIsNamedWithTheWordsThatWork() throws IOException {
        String yaml = withTable(GOOD_TABLE).replace("  - name: mail-server\n", "  - name: mail-server\n    from: yesterday\n");
        assertThat(yaml).contains("from: yesterday");
        assertThat(refused(yaml)).containsExactly("consumers[0].from: must be 'oldest', 'now' or 'snapshot', not 'yesterday'");
    }
}
