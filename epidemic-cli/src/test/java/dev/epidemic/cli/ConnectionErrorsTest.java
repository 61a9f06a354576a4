package dev.epidemic.cli;

import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** How the command line reports what is wrong with its arguments or with the database. */
class ConnectionErrorsTest {

    @Test
    void missingUrlIsBadInput() {
        Cli.Result result = Cli.run("list");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).isEqualTo("epidemic: no database given: pass --url JDBC_URL or set EPIDEMIC_URL\n");
        assertThat(result.out()).isEmpty();
    }

    @Test
    void takesTheUrlAndPasswordFromTheEnvironment() {
        String url = TestDatabase.get().createDatabase();
        Cli.Result result = Cli.runWith(Map.of("EPIDEMIC_URL", url, "EPIDEMIC_PASSWORD", "unused-by-trust-auth"), "list", "--json");
        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(result.out()).isEqualTo("[]\n");
    }

    @Test
    void refusedConnectionIsAFailureOnOneLineWithoutThePassword() {
        Cli.Result result = Cli.run("--url", "jdbc:postgresql://127.0.0.1:1/x?password=s3cret", "list");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("epidemic: cannot connect to jdbc:postgresql://127.0.0.1:1/x?password=***: Connection refused\n");

        Cli.Result withOption = Cli.run("--url", "jdbc:postgresql://127.0.0.1:1/x", "--password", "s3cret", "status");
        assertThat(withOption.exitCode()).isEqualTo(1);
        assertThat(withOption.errLines()).singleElement().asString().doesNotContain("s3cret").contains("Connection refused");
    }

    @Test
    void refusedConnectionOfTailIsAFailureToo() {
        Cli.Result result = Cli.run("--url", "jdbc:postgresql://127.0.0.1:1/x", "tail", "--consumer", "c");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("epidemic: cannot connect to jdbc:postgresql://127.0.0.1:1/x: Connection refused\n");
    }

    @Test
    void unknownDatabaseIsAFailure() {
        Cli.Result result = Cli.run("--url", "jdbc:postgresql://" + TestDatabase.get().hostPort() + "/no_such_db?user=postgres", "list");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.errLines()).singleElement().asString().startsWith("epidemic: cannot connect to ").contains("no_such_db");
    }

    @Test
    void unsupportedUrlIsBadInput() {
        Cli.Result result = Cli.run("--url", "jdbc:sqlite:/tmp/x.db", "list");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.errLines()).singleElement().asString().startsWith("epidemic: unsupported JDBC URL");
    }

    @Test
    void unsupportedUrlOfTailIsBadInputToo() {
        Cli.Result result = Cli.run("--url", "jdbc:sqlserver://127.0.0.1:1;databaseName=x", "tail", "--consumer", "c");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.errLines()).singleElement().asString().contains("unsupported JDBC URL");
    }

    @Test
    void malformedArgumentsAreBadInputOnOneLine() {
        Cli.Result missingTable = Cli.run("--url", "jdbc:postgresql://127.0.0.1:1/x", "watch");
        assertThat(missingTable.exitCode()).isEqualTo(2);
        assertThat(missingTable.err()).isEqualTo("epidemic: Missing required parameter: 'TABLE' (see 'epidemic watch --help')\n");

        Cli.Result missingConsumer = Cli.run("tail");
        assertThat(missingConsumer.exitCode()).isEqualTo(2);
        assertThat(missingConsumer.errLines()).singleElement().asString().contains("--consumer");

        Cli.Result unknownOption = Cli.run("list", "--frobnicate");
        assertThat(unknownOption.exitCode()).isEqualTo(2);
        assertThat(unknownOption.errLines()).singleElement().asString().contains("--frobnicate");

        Cli.Result noCommand = Cli.run();
        assertThat(noCommand.exitCode()).isEqualTo(2);
        assertThat(noCommand.errLines()).hasSize(1);
    }

    @Test
    void tailOptionsAreCheckedBeforeConnecting() {
        String unreachable = "jdbc:postgresql://127.0.0.1:1/x";
        Cli.Result from = Cli.run("--url", unreachable, "tail", "--consumer", "c", "--from", "yesterday");
        assertThat(from.exitCode()).isEqualTo(2);
        assertThat(from.err()).isEqualTo("epidemic: --from must be 'oldest', 'now' or 'snapshot', not 'yesterday'\n");

        assertThat(Cli.run("--url", unreachable, "tail", "--consumer", "c", "--max", "0").exitCode()).isEqualTo(2);
        assertThat(Cli.run("--url", unreachable, "tail", "--consumer", "c", "--idle-exit", "-1").exitCode()).isEqualTo(2);
        assertThat(Cli.run("--url", unreachable, "tail", "--consumer", "c", "--max", "many").exitCode()).isEqualTo(2);
    }

    @Test
    void verbosePrintsTheStackTrace() {
        Cli.Result quiet = Cli.run("--url", "jdbc:postgresql://127.0.0.1:1/x", "list");
        Cli.Result verbose = Cli.run("--url", "jdbc:postgresql://127.0.0.1:1/x", "list", "--verbose");
        assertThat(quiet.err()).doesNotContain("\tat ");
        assertThat(verbose.err()).contains("\tat ").endsWith("epidemic: cannot connect to jdbc:postgresql://127.0.0.1:1/x: Connection refused\n");
        assertThat(verbose.exitCode()).isEqualTo(1);
    }
}
