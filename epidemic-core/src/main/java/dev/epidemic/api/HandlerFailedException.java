package dev.epidemic.api;

/**
 * A consumer stopped because a handler with {@link FailurePolicy.Exhausted#STOP} kept failing on a
 * change; its position stays before that change, so a restart retries it.
 */
public class HandlerFailedException extends EpidemicException {
    private final long changeId;

    public HandlerFailedException(String message, long changeId, Throwable cause) {
        super(message, cause);
        this.changeId = changeId;
    }

    public long changeId() {
        return changeId;
    }
}
