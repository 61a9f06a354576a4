package dev.epidemic.cli;

import java.util.List;

/**
 * The demo's rows: the users {@code mail_users} holds before Epidemic is installed (the backfill hands them
 * over), then the changes it makes, one step at a time, each with what it shows.
 */
final class DemoScript {
    /** The title of step 0, the backfill of the rows that were there before capture was installed. */
    static final String EXISTING_TITLE = "ann, bob and carol existed before Epidemic was installed:"
            + " the backfill hands each to the handler as a READ";

    /** The users that exist before Epidemic is installed: no trigger logged their INSERTs. */
    static final String EXISTING_USERS = """
            INSERT INTO mail_users (gid, dba, username, quota_bytes) VALUES \
            (100, 'Acme Mail', 'ann', 1000000000), (100, 'Acme Mail', 'bob', 500000000), (200, 'Globex', 'carol', 2000000000)""";

    /** One step: a title, and the statements of its one transaction. */
    record Step(String title, List<String> sql) {
    }

    static final List<Step> STEPS = List.of(
            new Step("dave signs up: a row made after the install arrives as an INSERT", List.of(
                    "INSERT INTO mail_users (gid, dba, username, quota_bytes) VALUES (100, 'Acme Mail', 'dave', 1000000000)")),
            new Step("ann's quota is doubled", List.of(
                    "UPDATE mail_users SET quota_bytes = 2000000000 WHERE username = 'ann'")),
            new Step("bob is renamed robert", List.of(
                    "UPDATE mail_users SET username = 'robert' WHERE username = 'bob'")),
            new Step("carol logs in: last_login and password_hash are not watched, so nothing is delivered", List.of(
                    "UPDATE mail_users SET last_login = now(), password_hash = 'scrypt$16384$8$1$c2FsdA$aGFzaA' WHERE username = 'carol'")),
            new Step("carol leaves", List.of(
                    "DELETE FROM mail_users WHERE username = 'carol'")),
            new Step("a row that tries to escape the mail root is refused and kept as a dead letter; retrying could not help", List.of(
                    "INSERT INTO mail_users (gid, dba, username, quota_bytes) VALUES (100, 'Mallory', '../../etc', 1)")));

    private DemoScript() {
    }
}
