package dev.epidemic.examples.mail;

import dev.epidemic.api.RejectedChangeException;

/**
 * A {@code mail_users} row the handler will not act on, because acting on it could write outside the
 * mail root or would make no sense (a missing gid, a negative quota). The message names the row and
 * what is wrong with it; nothing was written. Retrying cannot help, so it is a
 * {@link RejectedChangeException}: the engine skips the remaining attempts, and under a dead-letter
 * policy the change goes to the dead letters at once while the consumer goes on.
 */
public final class RefusedRowException extends RejectedChangeException {
    public RefusedRowException(String message) {
        super(message);
    }
}
