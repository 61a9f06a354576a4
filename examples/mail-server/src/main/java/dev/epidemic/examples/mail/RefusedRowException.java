package dev.epidemic.examples.mail;

/**
 * A {@code mail_users} row the handler will not act on, because acting on it could write outside the
 * mail root or would make no sense (a missing gid, a negative quota). The message names the row and
 * what is wrong with it; nothing was written. Under a dead-letter policy the change ends up in the
 * dead letters, where it can be replayed once the row is fixed.
 */
public final class RefusedRowException extends RuntimeException {
    public RefusedRowException(String message) {
        super(message);
    }
}
