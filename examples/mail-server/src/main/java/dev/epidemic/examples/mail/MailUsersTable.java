package dev.epidemic.examples.mail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

import static java.nio.charset.StandardCharsets.UTF_8;

/** The {@code mail_users} table the handler is written for, as SQL (unqualified: it goes where search_path says). */
public final class MailUsersTable {
    private static final String RESOURCE = "mail_users.sql";

    private MailUsersTable() {
    }

    /** The {@code CREATE TABLE mail_users} statement, with its comments. */
    public static String createStatement() {
        try (InputStream in = MailUsersTable.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
