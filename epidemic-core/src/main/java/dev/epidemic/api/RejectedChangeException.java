package dev.epidemic.api;

/**
 * Thrown by a handler for a change that can never succeed (a webhook answering 400, a row that breaks a
 * rule): no further attempts are made, and the failure policy's last step follows at once (a dead
 * letter, or the consumer stops).
 */
public class RejectedChangeException extends Exception {
    public RejectedChangeException(String message) {
        super(message);
    }

    public RejectedChangeException(String message, Throwable cause) {
        super(message, cause);
    }
}
