/**
 * The mail-server example: {@link dev.epidemic.examples.mail.MailUsersHandler} keeps Maildir trees in
 * step with a {@code mail_users} table ({@link dev.epidemic.examples.mail.MailUsersTable}).
 */
package dev.epidemic.examples.mail;
