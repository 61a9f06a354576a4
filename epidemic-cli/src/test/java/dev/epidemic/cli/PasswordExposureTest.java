package dev.epidemic.cli;

import dev.epidemic.testing.SecurityDocs;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Where a password may show: never in the process list, the logs or an error message when it is passed
 * the recommended ways ($EPIDEMIC_PASSWORD, --password-file); and a consumer role needs exactly the
 * grants docs/security.md lists, read from that file so that the test follows the documentation.
 */
class PasswordExposureTest {
    @TempDir
    Path dir;

    @Test
    void aPasswordFromTheEnvironmentOrAFileIsInNeitherThePsListNorTheVerboseLogs() throws Exception {
        PasswordServer server = PasswordServer.get();
        Sql.exec(server.adminUrl(), "CREATE TABLE IF NOT EXISTS secrets (id int PRIMARY KEY)");
        Sql.exec(server.adminUrl(), "ALTER TABLE secrets OWNER TO " + PasswordServer.USER);
        Path passwordFile = Files.writeString(dir.resolve("password"), PasswordServer.PASSWORD + "\n");

        List<List<String>> ways = List.of(
                List.of("--url", server.url(), "--user", PasswordServer.USER),
                List.of("--url", server.url(), "--user", PasswordServer.USER, "--password-file", passwordFile.toString()));
        for (int i = 0; i < ways.size(); i++) {
            String consumer = "pw-" + i;
            List<String> args = new ArrayList<>(ways.get(i));
            args.addAll(List.of("--verbose", "tail", "--consumer", consumer, "--idle-exit", "2"));
            Map<String, String> env = i == 0 ? Map.of("EPIDEMIC_PASSWORD", PasswordServer.PASSWORD) : Map.of();
            assertThat(Cli.runWith(env, withCommand(ways.get(i), "watch", "secrets")).exitCode()).isZero();

            Process tail = start(env, args);
            try {
                AtomicReference<String> ps = new AtomicReference<>("");
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    ps.set(processList());
                    return ps.get().contains(consumer);
                });
                assertThat(ps.get()).as("ps").doesNotContain(PasswordServer.PASSWORD);
                assertThat(tail.waitFor(60, TimeUnit.SECONDS)).isTrue();
            } finally {
                tail.destroyForcibly();
            }
            String logs = Files.readString(dir.resolve("err"), StandardCharsets.UTF_8);
            assertThat(tail.exitValue()).as(logs).isZero();
            assertThat(logs).as("--verbose logs").contains("Consumer " + consumer + " started").doesNotContain(PasswordServer.PASSWORD);
        }
    }

    @Test
    void aPasswordInTheUrlIsMaskedInMessages() {
        PasswordServer server = PasswordServer.get();
        String withPassword = server.url() + "?user=" + PasswordServer.USER + "&password=wrong-" + PasswordServer.PASSWORD;

        Cli.Result result = Cli.run("--url", withPassword, "--verbose", "list");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).contains("password authentication failed", "password=***").doesNotContain(PasswordServer.PASSWORD);
    }

    @Test
    void aConsumerRoleWithTheDocumentedGrantsTailsAndReportsStatus() throws IOException {
        String db = TestDatabase.get().createDatabase();
        String role = "epidemic_doc_consumer_" + ProcessHandle.current().pid();
        Sql.exec(db, "CREATE ROLE " + role + " LOGIN NOSUPERUSER NOREPLICATION NOCREATEDB NOCREATEROLE",
                "CREATE TABLE orders (id int PRIMARY KEY, total numeric)");
        try {
            assertThat(Cli.run("--url", db, "watch", "orders").exitCode()).isZero();
            String asConsumer = db.replace("user=postgres", "user=" + role);
            Cli.Result refused = Cli.run("--url", asConsumer, "tail", "--consumer", "doc", "--max", "1");
            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.errLines()).singleElement().asString().contains("permission denied");

            Sql.exec(db, documentedGrants(role).toArray(String[]::new));
            Sql.exec(db, "INSERT INTO orders VALUES (1, 9.99)");
            Cli.Result tail = Cli.run("--url", asConsumer, "tail", "--consumer", "doc", "--max", "1", "--idle-exit", "10");
            assertThat(tail.exitCode()).as(tail.err()).isZero();
            assertThat(tail.out()).contains("\"total\":9.99");
            Cli.Result status = Cli.run("--url", asConsumer, "status");
            assertThat(status.exitCode()).as(status.err()).isZero();
            assertThat(status.out()).contains("doc");
        } finally {
            Sql.exec(db, "DROP OWNED BY " + role, "DROP ROLE " + role);
        }
    }

    /** The GRANT statements of docs/security.md's consumer block, for {@code role}. */
    static List<String> documentedGrants(String role) {
        return SecurityDocs.grants("## Who needs what", Map.of("consumer_role", role));
    }

    private static String[] withCommand(List<String> options, String... command) {
        List<String> all = new ArrayList<>(options);
        all.addAll(List.of(command));
        return all.toArray(String[]::new);
    }

    private Process start(Map<String, String> env, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), EpidemicCommand.class.getName()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
        builder.environment().remove("EPIDEMIC_PASSWORD");
        builder.environment().putAll(env);
        return builder.start();
    }

    /** Every process's command line, as ps shows them to any user of the machine. */
    private static String processList() throws IOException, InterruptedException {
        Process ps = new ProcessBuilder("ps", "-eo", "args", "ww").redirectErrorStream(true).start();
        String text = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ps.waitFor();
        return text;
    }
}
