package dev.epidemic.examples.mail;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.Operation;
import dev.epidemic.api.StartFrom;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The mail-server handler end to end: rows written to a real database, mail directories checked on disk. */
class MailUsersHandlerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path base;

    String url;
    Path root;
    final List<Change> received = Collections.synchronizedList(new ArrayList<>());
    final List<Epidemic> engines = new ArrayList<>();

    @BeforeEach
    void database() {
        url = TestDatabase.get().createDatabase();
        Sql.exec(url, MailUsersTable.createStatement());
        root = base.resolve("vhosts");
    }

    @AfterEach
    void stop() {
        engines.forEach(Epidemic::close);
    }

    @Test
    void insertCreatesTheMaildirWithQuotaAndDba() {
        start("mail-server");

        Sql.exec(url, "INSERT INTO mail_users (gid, dba, username, quota_bytes) VALUES (100, 'Acme Mail', 'ann', 1000000)");

        Path ann = root.resolve("100/ann");
        await().atMost(WAIT).until(() -> Files.exists(ann.resolve("dba")));
        assertThat(ann.resolve("Maildir/cur")).isDirectory();
        assertThat(ann.resolve("Maildir/new")).isDirectory();
        assertThat(ann.resolve("Maildir/tmp")).isDirectory();
        assertThat(ann.resolve("Maildir/maildirsize")).hasContent("1000000S");
        assertThat(ann.resolve("dba")).hasContent("Acme Mail");
    }

    @Test
    void quotaChangeRewritesTheQuotaLineAndKeepsTheUsageLines() throws Exception {
        start("mail-server");
        Sql.exec(url, "INSERT INTO mail_users (gid, username, quota_bytes) VALUES (100, 'ann', 1000)");
        Path quota = root.resolve("100/ann/Maildir/maildirsize");
        await().atMost(WAIT).until(() -> Files.exists(quota));
        Files.writeString(quota, "1000S\n512 3\n-100 -1\n"); // usage lines, as the delivery agent appends them

        Sql.exec(url, "UPDATE mail_users SET quota_bytes = 2000 WHERE username = 'ann'");

        await().atMost(WAIT).untilAsserted(() -> assertThat(quota).hasContent("2000S\n512 3\n-100 -1"));
    }

    @Test
    void renameMovesTheTreeWithItsMail() throws Exception {
        start("mail-server");
        Sql.exec(url, "INSERT INTO mail_users (gid, username, quota_bytes) VALUES (100, 'bob', 500)");
        await().atMost(WAIT).until(() -> Files.isDirectory(root.resolve("100/bob/Maildir/new")));
        Files.writeString(root.resolve("100/bob/Maildir/new/1700000000.M1P1.mx"), "Subject: hello\n");

        Sql.exec(url, "UPDATE mail_users SET username = 'robert' WHERE username = 'bob'");

        await().atMost(WAIT).until(() -> !Files.exists(root.resolve("100/bob")));
        assertThat(root.resolve("100/robert/Maildir/new/1700000000.M1P1.mx")).hasContent("Subject: hello");
        assertThat(root.resolve("100/robert/Maildir/maildirsize")).hasContent("500S");
    }

    @Test
    void gidChangeMovesTheTreeToTheOtherGroupAndTidiesTheEmptyOne() {
        start("mail-server");
        Sql.exec(url, "INSERT INTO mail_users (gid, username) VALUES (100, 'carol')");
        await().atMost(WAIT).until(() -> Files.isDirectory(root.resolve("100/carol")));

        Sql.exec(url, "UPDATE mail_users SET gid = 200 WHERE username = 'carol'");

        await().atMost(WAIT).until(() -> Files.isDirectory(root.resolve("200/carol/Maildir/cur")));
        assertThat(root.resolve("100")).doesNotExist();
    }

    @Test
    void deleteRemovesTheTreeAndLeavesTheOthers() {
        start("mail-server");
        Sql.exec(url, "INSERT INTO mail_users (gid, username) VALUES (100, 'ann'), (100, 'dave')");
        await().atMost(WAIT).until(() -> Files.isDirectory(root.resolve("100/dave")));

        Sql.exec(url, "DELETE FROM mail_users WHERE username = 'dave'");

        await().atMost(WAIT).until(() -> !Files.exists(root.resolve("100/dave")));
        assertThat(root.resolve("100/ann/Maildir/cur")).isDirectory();
    }

    @Test
    void changesToUnwatchedColumnsDoNothing() throws Exception {
        start("mail-server");
        Sql.exec(url, "INSERT INTO mail_users (gid, dba, username) VALUES (100, 'Acme', 'ann')");
        Path dba = root.resolve("100/ann/dba");
        await().atMost(WAIT).until(() -> Files.exists(dba));
        Files.delete(dba); // any call for ann would write it again
        int before = received.size();

        Sql.exec(url, "UPDATE mail_users SET last_login = now(), password_hash = 'x' WHERE username = 'ann'");
        Sql.exec(url, "INSERT INTO mail_users (gid, username) VALUES (100, 'sentinel')");

        await().atMost(WAIT).until(() -> Files.isDirectory(root.resolve("100/sentinel")));
        assertThat(dba).doesNotExist();
        assertThat(received.subList(before, received.size()))
                .extracting(change -> change.newValues().get("username")).containsExactly("sentinel");
    }

    @Test
    void redeliveringTheWholeHistoryLeavesTheSameTree() throws Exception {
        start("mail-server");
        Sql.exec(url,
                "INSERT INTO mail_users (gid, dba, username, quota_bytes) VALUES (100, 'Acme', 'ann', 1000), (100, 'Acme', 'bob', 500)",
                "UPDATE mail_users SET quota_bytes = 2000 WHERE username = 'ann'",
                "UPDATE mail_users SET username = 'robert' WHERE username = 'bob'",
                "INSERT INTO mail_users (gid, username) VALUES (200, 'carol')",
                "DELETE FROM mail_users WHERE username = 'ann'",
                "INSERT INTO mail_users (gid, username) VALUES (300, 'sentinel')");
        await().atMost(WAIT).until(() -> Files.isDirectory(root.resolve("300/sentinel")));
        Files.writeString(root.resolve("100/robert/Maildir/new/1700000000.M1P1.mx"), "Subject: keep me\n");
        Map<String, String> settled = MailTree.of(root);

        // A second consumer from the oldest change hands every change over again, to the same directories.
        start("mail-server-replay");
        await().atMost(WAIT).until(() -> pending("mail-server-replay") == 0);

        assertThat(MailTree.of(root)).isEqualTo(settled);
        assertThat(settled).containsKeys("100/robert/Maildir/new/1700000000.M1P1.mx", "200/carol/Maildir/cur")
                .doesNotContainKeys("100/ann", "100/bob");
    }

    @Test
    void usersThatExistedBeforeTheInstallGetTheirMailboxesFromASnapshotAndLaterChangesFollow() {
        Sql.exec(url, "INSERT INTO mail_users (gid, dba, username, quota_bytes) VALUES (100, 'Acme', 'ann', 1000), (200, 'Globex', 'bob', 500)");

        start("mail-server", StartFrom.SNAPSHOT, FailurePolicy.defaults());

        await().atMost(WAIT).until(() -> Files.exists(root.resolve("200/bob/dba")));
        assertThat(root.resolve("100/ann/Maildir/maildirsize")).hasContent("1000S");
        assertThat(root.resolve("200/bob/Maildir/cur")).isDirectory();
        assertThat(received).extracting(Change::operation).containsExactly(Operation.READ, Operation.READ);

        Sql.exec(url, "UPDATE mail_users SET quota_bytes = 2000 WHERE username = 'ann'");

        await().atMost(WAIT).untilAsserted(() -> assertThat(root.resolve("100/ann/Maildir/maildirsize")).hasContent("2000S"));
    }

    @Test
    void aBackfillOfMailboxesThatExistAlreadyLeavesTheSameTree() throws Exception {
        start("mail-server");
        Sql.exec(url, "INSERT INTO mail_users (gid, dba, username, quota_bytes) VALUES (100, 'Acme', 'ann', 1000), (100, 'Acme', 'bob', 500)");
        await().atMost(WAIT).until(() -> Files.exists(root.resolve("100/bob/dba")));
        Files.writeString(root.resolve("100/ann/Maildir/new/1700000000.M1P1.mx"), "Subject: keep me\n");
        Files.writeString(root.resolve("100/ann/Maildir/maildirsize"), "1000S\n512 3\n");
        Map<String, String> settled = MailTree.of(root);

        EpidemicAdmin.create(url, null, null, "epidemic").backfill("public.mail_users", List.of("mail-server"), null,
                EpidemicAdmin.DEFAULT_CHUNK_SIZE, progress -> { });
        await().atMost(WAIT).until(() -> received.stream().filter(change -> change.operation() == Operation.READ).count() == 2
                && pending("mail-server") == 0);

        assertThat(MailTree.of(root)).isEqualTo(settled);
    }

    @Test
    void aUsernameThatWouldEscapeTheRootIsDeadLetteredWithoutRetriesAndTheOthersFlow() throws Exception {
        start("mail-server", FailurePolicy.deadLetterAfter(5).withBackoff(Duration.ofSeconds(5), Duration.ofSeconds(5)));

        Sql.exec(url, "INSERT INTO mail_users (gid, username) VALUES (0, '../../etc')");
        Sql.exec(url, "INSERT INTO mail_users (gid, username) VALUES (100, 'sentinel')");

        await().atMost(WAIT).until(() -> Files.isDirectory(root.resolve("100/sentinel")));
        try (var entries = Files.list(base)) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("vhosts");
        }
        assertThat(MailTree.of(root)).allSatisfy((path, content) -> assertThat(path).startsWith("100"));
        var deadLetters = EpidemicAdmin.create(url, null, null, "epidemic").deadLetters("mail-server");
        assertThat(deadLetters).singleElement().satisfies(dead -> {
            assertThat(dead.error()).contains("username '../../etc' is not a safe mailbox name");
            assertThat(dead.attempts()).as("refused rows are not retried").isEqualTo(1);
        });
    }

    private void start(String consumer) {
        start(consumer, FailurePolicy.defaults());
    }

    private void start(String consumer, FailurePolicy policy) {
        start(consumer, StartFrom.OLDEST_RETAINED, policy);
    }

    private void start(String consumer, StartFrom startFrom, FailurePolicy policy) {
        MailUsersHandler handler = new MailUsersHandler(Map.of("root", root.toString()));
        ChangeHandler recording = new ChangeHandler() {
            @Override
            public void onInsert(Change change) throws Exception {
                received.add(change);
                handler.onInsert(change);
            }

            @Override
            public void onUpdate(Change change) throws Exception {
                received.add(change);
                handler.onUpdate(change);
            }

            @Override
            public void onDelete(Change change) throws Exception {
                received.add(change);
                handler.onDelete(change);
            }

            @Override
            public void onRead(Change change) throws Exception {
                received.add(change);
                handler.onRead(change);
            }
        };
        engines.add(Epidemic.builder(url, null, null)
                .consumer(consumer)
                .startFrom(startFrom)
                .handle("public." + MailUsersHandler.TABLE, MailUsersHandler.COLUMNS, recording, policy)
                .build()
                .start());
    }

    private long pending(String consumer) {
        return EpidemicAdmin.create(url, null, null, "epidemic").status().stream()
                .filter(status -> status.name().equals(consumer))
                .mapToLong(status -> status.pending())
                .sum();
    }
}
