package dev.epidemic.examples.mail;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.InvalidInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Keeps the mail directories in step with the {@code mail_users} table: an INSERT creates the user's
 * Maildir, an UPDATE rewrites its quota and dba files and moves it when {@code username} or {@code gid}
 * changed, a DELETE removes it, a TRUNCATE removes them all. Register it for {@link #COLUMNS}, so that
 * logins and password changes never reach it:
 *
 * <pre>{@code
 * Epidemic.builder(dataSource)
 *         .consumer("mail-server")
 *         .handle("public.mail_users", MailUsersHandler.COLUMNS, new MailUsersHandler(Path.of("/var/mail/vhosts")))
 *         .build()
 *         .start();
 * }</pre>
 *
 * <p>Safe to run more than once on the same change (delivery is at least once; see {@link Mailboxes}).
 * A row whose gid or username cannot safely name a directory under the root (such as a username of
 * {@code ../../etc}) is refused with a {@link RefusedRowException} and nothing is written; the engine
 * does not retry it (it is a {@code RejectedChangeException}) and dead-letters it or stops, as configured.
 */
public final class MailUsersHandler implements ChangeHandler {
    /** The table this handler is written for. */
    public static final String TABLE = "mail_users";
    /** The columns it acts on; changes to any other column are none of its business. */
    public static final List<String> COLUMNS = List.of("gid", "dba", "username", "quota_bytes");
    /** The property naming the mail root directory, for handlers created from configuration. */
    public static final String ROOT_PROPERTY = "root";

    private static final Logger LOG = LoggerFactory.getLogger(MailUsersHandler.class);

    private final Mailboxes mailboxes;

    /** For configuration files: {@code root} names the mail root directory (created when missing). */
    public MailUsersHandler(Map<String, String> properties) {
        this(rootOf(properties));
    }

    public MailUsersHandler(Path root) {
        this.mailboxes = new Mailboxes(root);
    }

    private static Path rootOf(Map<String, String> properties) {
        String root = properties == null ? null : properties.get(ROOT_PROPERTY);
        if (root == null || root.isBlank()) {
            throw new InvalidInputException(MailUsersHandler.class.getSimpleName()
                    + " needs the property '" + ROOT_PROPERTY + "': the mail root directory, e.g. /var/mail/vhosts");
        }
        return Path.of(root);
    }

    /** The mail root this handler writes under. */
    public Path root() {
        return mailboxes.root();
    }

    @Override
    public void onInsert(Change change) throws IOException, RefusedRowException {
        MailUser user = MailUser.from(change.key(), change.newValues());
        mailboxes.provision(user);
        LOG.info("provisioned {}", mailboxes.mailbox(user));
    }

    @Override
    public void onUpdate(Change change) throws IOException, RefusedRowException {
        MailUser after = MailUser.from(change.key(), change.newValues());
        mailboxes.move(previousMailbox(change), after);
        LOG.info("updated {}", mailboxes.mailbox(after));
    }

    @Override
    public void onDelete(Change change) throws IOException {
        Path mailbox = previousMailbox(change);
        if (mailbox != null) {
            mailboxes.remove(mailbox);
            LOG.info("removed {}", mailbox);
        }
    }

    @Override
    public void onTruncate(Change change) throws IOException {
        mailboxes.removeAll();
        LOG.info("mail_users was truncated: removed every mailbox under {}", mailboxes.root());
    }

    /**
     * The mailbox of the row before the change, or null. Old values this handler would have refused
     * can have no mailbox on disk, so a row that was fixed (renamed to a safe name) or deleted after a
     * refusal simply proceeds, instead of being refused a second time.
     */
    private Path previousMailbox(Change change) {
        try {
            return mailboxes.mailbox(MailUser.from(change.key(), change.oldValues()));
        } catch (RefusedRowException neverCreated) {
            return null;
        }
    }
}
