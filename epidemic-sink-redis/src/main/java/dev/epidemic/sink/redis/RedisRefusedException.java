package dev.epidemic.sink.redis;

/**
 * Redis refused a change for a reason that waiting does not cure: the stream key holds another type
 * ({@code WRONGTYPE}), the user may not write it ({@code NOPERM}), the credentials are wrong. The table's
 * failure policy decides what follows: more attempts, then a dead letter or a stop.
 */
public class RedisRefusedException extends Exception {
    private final long changeId;

    public RedisRefusedException(String message, long changeId, Throwable cause) {
        super(message, cause);
        this.changeId = changeId;
    }

    /** The change Redis refused (for a refusal of the whole batch, its first change). */
    public long changeId() {
        return changeId;
    }
}
