package dev.epidemic.examples.mail;

import dev.epidemic.api.Change;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.Operation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The handler's rules on their own, called directly: what a repeated delivery does, and which rows are
 * refused. (End to end through a database: {@link MailUsersHandlerTest}.)
 */
class MailUsersHandlerRulesTest {
    @TempDir
    Path base;

    @Test
    void aRepeatedInsertChangesNothing() throws Exception {
        MailUsersHandler handler = handler();
        handler.onInsert(insert(100, "ann", 1000L));
        Files.writeString(root().resolve("100/ann/Maildir/new/1.M1.mx"), "mail");
        var before = MailTree.of(root());

        handler.onInsert(insert(100, "ann", 1000L));

        assertThat(MailTree.of(root())).isEqualTo(before);
    }

    @Test
    void aRepeatedRenameProvisionsTheTargetAndLosesNothing() throws Exception {
        MailUsersHandler handler = handler();
        handler.onInsert(insert(100, "bob", 500L));
        Files.writeString(root().resolve("100/bob/Maildir/cur/1.M1.mx:2,S"), "read mail");
        Change rename = update(row(100, "bob", 500L), row(100, "robert", 500L));

        handler.onUpdate(rename);
        handler.onUpdate(rename);

        assertThat(MailTree.of(root())).containsEntry("100/robert/Maildir/cur/1.M1.mx:2,S", "read mail")
                .doesNotContainKey("100/bob");
    }

    @Test
    void aRenameOntoAnExistingTreeMergesTheMessages() throws Exception {
        MailUsersHandler handler = handler();
        handler.onInsert(insert(100, "robert", 500L));
        Files.writeString(root().resolve("100/robert/Maildir/new/2.M2.mx"), "new mail");
        handler.onInsert(insert(100, "bob", 500L)); // a redelivered INSERT re-created the old name
        Files.writeString(root().resolve("100/bob/Maildir/new/1.M1.mx"), "old mail");

        handler.onUpdate(update(row(100, "bob", 500L), row(100, "robert", 700L)));

        assertThat(MailTree.of(root()))
                .containsEntry("100/robert/Maildir/new/1.M1.mx", "old mail")
                .containsEntry("100/robert/Maildir/new/2.M2.mx", "new mail")
                .containsEntry("100/robert/Maildir/maildirsize", "700S\n")
                .doesNotContainKey("100/bob");
    }

    @Test
    void aReadOfARowWithoutAMailboxCreatesIt() throws Exception {
        MailUsersHandler handler = handler();

        handler.onRead(read(row(100, "ann", 1000L)));

        assertThat(MailTree.of(root())).containsOnlyKeys("100", "100/ann", "100/ann/Maildir", "100/ann/Maildir/cur", "100/ann/Maildir/new",
                "100/ann/Maildir/tmp", "100/ann/Maildir/maildirsize").containsEntry("100/ann/Maildir/maildirsize", "1000S\n");
    }

    @Test
    void aReadOfAMailboxThatExistsChangesNothingAndAStaleQuotaIsRewrittenKeepingTheMail() throws Exception {
        MailUsersHandler handler = handler();
        handler.onInsert(insert(100, "ann", 1000L));
        Files.writeString(root().resolve("100/ann/Maildir/new/1.M1.mx"), "mail");
        Files.writeString(root().resolve("100/ann/Maildir/maildirsize"), "1000S\n512 3\n"); // a usage line, as delivery appends it
        var before = MailTree.of(root());

        handler.onRead(read(row(100, "ann", 1000L)));
        handler.onRead(read(row(100, "ann", 1000L)));

        assertThat(MailTree.of(root())).isEqualTo(before);

        handler.onRead(read(row(100, "ann", 4000L))); // the row's quota changed while nothing was watching

        assertThat(MailTree.of(root()))
                .containsEntry("100/ann/Maildir/new/1.M1.mx", "mail")
                .containsEntry("100/ann/Maildir/maildirsize", "4000S\n512 3\n");
    }

    @Test
    void deletingAMissingTreeIsHarmless() throws Exception {
        MailUsersHandler handler = handler();
        Change delete = new Change(3, 1, "public.mail_users", Operation.DELETE, Map.of("id", 1), row(100, "ann", 1L), null, Instant.now());

        handler.onInsert(insert(100, "ann", 1L));
        handler.onDelete(delete);
        handler.onDelete(delete);

        assertThat(MailTree.of(root())).isEmpty();
        assertThat(root()).isDirectory();
    }

    @Test
    void truncateRemovesEveryMailboxAndNothingElseUnderTheRoot() throws Exception {
        MailUsersHandler handler = handler();
        handler.onInsert(insert(100, "ann", 1L));
        handler.onInsert(insert(200, "bob", 1L));
        Files.writeString(root().resolve("README"), "not a mailbox");

        handler.onTruncate(change(Operation.TRUNCATE, null, null));

        assertThat(MailTree.of(root())).containsOnlyKeys("README");
    }

    @Test
    void aNullQuotaRemovesTheQuotaFile() throws Exception {
        MailUsersHandler handler = handler();
        handler.onInsert(insert(100, "ann", 1000L));

        handler.onUpdate(update(row(100, "ann", 1000L), row(100, "ann", null)));

        assertThat(root().resolve("100/ann/Maildir/maildirsize")).doesNotExist();
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../etc", "..", ".", "a/b", "a\\b", "/etc", ".hidden", "-rf", "", "ann\u0000", "sp ace"})
    void aUsernameThatIsNotOneSafePathComponentIsRefused(String username) {
        MailUsersHandler handler = handler();

        assertThatThrownBy(() -> handler.onInsert(insert(100, username, 1L)))
                .isInstanceOf(RefusedRowException.class)
                .hasMessageContaining("mail_users row {id=1}: username '" + username + "' is not a safe mailbox name");
        assertThat(root()).doesNotExist();
    }

    @Test
    void aNegativeOrMissingGidAndANegativeQuotaAreRefused() {
        MailUsersHandler handler = handler();

        assertThatThrownBy(() -> handler.onInsert(insert(-1, "ann", 1L))).hasMessageContaining("gid must be a number of 0 or more");
        Map<String, Object> noGid = row(0, "ann", 1L);
        noGid.put("gid", null);
        assertThatThrownBy(() -> handler.onInsert(change(Operation.INSERT, null, noGid))).hasMessageContaining("gid must be");
        assertThatThrownBy(() -> handler.onInsert(insert(1, "ann", -5L))).hasMessageContaining("quota_bytes must be 0 or more");
    }

    @Test
    void fixingARefusedUsernameCreatesTheMailboxAndDeletingItIsHarmless() throws Exception {
        MailUsersHandler handler = handler();

        handler.onUpdate(update(row(0, "../../etc", 1L), row(100, "eve", 1L)));
        handler.onDelete(change(Operation.DELETE, row(0, "../../x", 1L), null));

        assertThat(root().resolve("100/eve/Maildir/new")).isDirectory();
    }

    @Test
    void theRootPropertyIsRequired() {
        assertThatThrownBy(() -> new MailUsersHandler(Map.of()))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("needs the property 'root'");
    }

    private MailUsersHandler handler() {
        return new MailUsersHandler(Map.of("root", root().toString()));
    }

    private Path root() {
        return base.resolve("vhosts");
    }

    private static Map<String, Object> row(long gid, String username, Long quota) {
        Map<String, Object> values = new HashMap<>();
        values.put("gid", gid);
        values.put("dba", null);
        values.put("username", username);
        values.put("quota_bytes", quota);
        return values;
    }

    private static Change insert(long gid, String username, Long quota) {
        return change(Operation.INSERT, null, row(gid, username, quota));
    }

    private static Change read(Map<String, Object> row) {
        return change(Operation.READ, null, row);
    }

    private static Change update(Map<String, Object> before, Map<String, Object> after) {
        return change(Operation.UPDATE, before, after);
    }

    private static Change change(Operation operation, Map<String, Object> before, Map<String, Object> after) {
        return new Change(1, 1, "public.mail_users", operation, Map.of("id", 1), before, after, Instant.now());
    }
}
