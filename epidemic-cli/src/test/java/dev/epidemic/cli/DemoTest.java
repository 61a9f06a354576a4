package dev.epidemic.cli;

import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code epidemic demo} end to end: the mail-server example on an embedded PostgreSQL, and on a database given by --url. */
class DemoTest {
    private static final Duration RUN = Duration.ofSeconds(90);

    @TempDir
    Path base;

    @Test
    void withoutUrlItRunsOnAnEmbeddedPostgresAndRemovesEverythingItMade() {
        CliProcess demo = CliProcess.runToEnd(RUN, "demo");

        assertThat(demo.exitCode()).as(demo.err()).isZero();
        assertThat(demo.err()).isEmpty();
        List<String> lines = demo.lines();
        assertTheScriptRan(lines);
        String server = find(lines, "Database: embedded PostgreSQL [0-9.]+ on port ([0-9]+)");
        assertThatThrownBy(() -> DriverManager.getConnection("jdbc:postgresql://localhost:" + server + "/postgres?user=postgres&connectTimeout=2").close())
                .as("the embedded server is stopped").isInstanceOf(SQLException.class);
        assertThat(Path.of(find(lines, "Removed the temporary directory (.+)\\."))).doesNotExist();
        assertThat(lines.get(lines.size() - 1)).matches("Done in [0-9.]+ s\\.");
    }

    @Test
    void withUrlItLeavesTheDatabaseAsItWasAndTheMailRootInPlace() {
        String url = TestDatabase.get().createDatabase();
        List<String> catalogBefore = Sql.catalogFingerprint(url);
        Path root = base.resolve("vhosts");

        Cli.Result demo = Cli.run("--url", url, "demo", "--root", root.toString());

        assertThat(demo.exitCode()).as(demo.err()).isZero();
        assertThat(demo.err()).isEmpty();
        assertTheScriptRan(demo.outLines());
        assertThat(demo.out()).contains("Dropping the schemas epidemic_demo and epidemic_demo_log");
        assertThat(Sql.catalogFingerprint(url)).isEqualTo(catalogBefore);
        assertThat(root.resolve("100/ann/Maildir/maildirsize")).hasContent("2000000000S");
        assertThat(root.resolve("100/robert/Maildir/cur")).isDirectory();
        assertThat(root.resolve("100/dave/Maildir/maildirsize")).hasContent("1000000000S");
        assertThat(root.resolve("100/bob")).doesNotExist();
        assertThat(root.resolve("200")).doesNotExist();
        assertThat(base.resolve("etc")).doesNotExist();
    }

    @Test
    void aSchemaOfTheSameNameThatIsNotTheDemosIsLeftAloneAndRefused() {
        String url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE SCHEMA epidemic_demo", "CREATE TABLE epidemic_demo.precious (id int PRIMARY KEY)");
        List<String> catalogBefore = Sql.catalogFingerprint(url);

        Cli.Result demo = Cli.run("--url", url, "demo", "--root", base.resolve("vhosts").toString());

        assertThat(demo.exitCode()).isEqualTo(2);
        assertThat(demo.errLines()).singleElement().asString()
                .isEqualTo("epidemic: schema epidemic_demo already exists in this database and was not made by the demo; run the demo on another database");
        assertThat(Sql.catalogFingerprint(url)).isEqualTo(catalogBefore);
    }

    @Test
    void aDatabaseOtherThanPostgresqlIsBadInput() {
        Cli.Result demo = Cli.run("--url", "jdbc:mariadb://127.0.0.1:3306/mail?user=root", "demo", "--root", base.resolve("vhosts").toString());

        assertThat(demo.exitCode()).isEqualTo(2);
        assertThat(demo.errLines()).containsExactly(
                "epidemic: the demo runs on PostgreSQL: give a jdbc:postgresql:// URL, or none for an embedded server");
        assertThat(base.resolve("vhosts")).doesNotExist();
    }

    /** The lines a reader of the demo relies on, in the order the script makes them. */
    private static void assertTheScriptRan(List<String> lines) {
        assertThat(lines).containsSubsequence(
                "Created epidemic_demo.mail_users with three users in it; Epidemic is not installed yet:",
                "0. ann, bob and carol existed before Epidemic was installed: the backfill hands each to the handler as a READ",
                "   received #1 READ epidemic_demo.mail_users id=1: dba='Acme Mail' gid=100 username='ann' quota_bytes=1000000000",
                "   received #2 READ epidemic_demo.mail_users id=2: dba='Acme Mail' gid=100 username='bob' quota_bytes=500000000",
                "   received #3 READ epidemic_demo.mail_users id=3: dba='Globex' gid=200 username='carol' quota_bytes=2000000000",
                "   vhosts/",
                "   │   └── bob/",
                "   └── 200/",
                "       └── carol/",
                "1. dave signs up: a row made after the install arrives as an INSERT",
                "   received #4 INSERT epidemic_demo.mail_users id=4: dba='Acme Mail' gid=100 username='dave' quota_bytes=1000000000",
                "2. ann's quota is doubled",
                "   received #5 UPDATE epidemic_demo.mail_users id=1: quota_bytes 1000000000 → 2000000000",
                "3. bob is renamed robert",
                "   received #6 UPDATE epidemic_demo.mail_users id=2: username 'bob' → 'robert'",
                "   │   └── robert/",
                "4. carol logs in: last_login and password_hash are not watched, so nothing is delivered",
                "   (nothing received)",
                "   (the mail directories are unchanged)",
                "5. carol leaves",
                "   received #7 DELETE epidemic_demo.mail_users id=3 (was dba='Globex' gid=200 username='carol' quota_bytes=2000000000)",
                "6. a row that tries to escape the mail root is refused and kept as a dead letter; retrying could not help",
                "   received #8 INSERT epidemic_demo.mail_users id=5: dba='Mallory' gid=100 username='../../etc' quota_bytes=1",
                "   refused: mail_users row {id=5}: username '../../etc' is not a safe mailbox name"
                        + " (1 to 255 of letters, digits, '.', '_', '+', '-', '@', starting with a letter or digit)",
                "Received 8 changes; 1 kept as a dead letter while the consumer went on:",
                "   #8 INSERT epidemic_demo.mail_users id=5: dba='Mallory' gid=100 username='../../etc' quota_bytes=1, after 1 attempt");
        List<String> backfill = lines.subList(lines.indexOf("0. " + DemoScript.EXISTING_TITLE), lines.indexOf("1. " + DemoScript.STEPS.get(0).title()));
        assertThat(backfill).as("step 0: the backfill's READs, then the three mailboxes they made")
                .filteredOn(line -> line.startsWith("   received ")).hasSize(3).allMatch(line -> line.contains(" READ "));
        assertThat(backfill).contains("   │   │   │   └── maildirsize  \"1000000000S\"", "           └── dba  \"Globex\"");
        assertThat(lines).anyMatch(line -> line.endsWith("└── maildirsize  \"2000000000S\""));
    }

    private static String find(List<String> lines, String regex) {
        Pattern pattern = Pattern.compile(regex);
        for (String line : lines) {
            Matcher matcher = pattern.matcher(line);
            if (matcher.matches()) {
                return matcher.group(1);
            }
        }
        throw new AssertionError("no line matches " + regex + " in:\n" + String.join("\n", lines));
    }
}
