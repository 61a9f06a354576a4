package dev.epidemic.api;

import java.time.Duration;
import java.util.Objects;

/**
 * What happens when a handler throws: the change is retried with exponential backoff and jitter, up to
 * {@code maxAttempts} deliveries in all; then it goes to the dead-letter table and the consumer moves on
 * ({@link Exhausted#DEAD_LETTER}), or the consumer stops and holds its position ({@link Exhausted#STOP},
 * for handlers that need strict order).
 *
 * <pre>{@code
 * FailurePolicy.deadLetterAfter(5).withBackoff(Duration.ofMillis(200), Duration.ofSeconds(30))
 * }</pre>
 */
public record FailurePolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Exhausted whenExhausted) {

    /** What follows the last failed attempt. */
    public enum Exhausted { DEAD_LETTER, STOP }

    public FailurePolicy {
        if (maxAttempts < 1) {
            throw new InvalidInputException("attempts must be at least 1, not " + maxAttempts);
        }
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        Objects.requireNonNull(whenExhausted, "whenExhausted");
        if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new InvalidInputException("backoff must satisfy 0 <= initial <= max, not " + initialBackoff + " and " + maxBackoff);
        }
    }

    /** Ten attempts between 100 ms and 30 s apart, then a dead letter. */
    public static FailurePolicy defaults() {
        return deadLetterAfter(10);
    }

    public static FailurePolicy deadLetterAfter(int attempts) {
        return new FailurePolicy(attempts, Duration.ofMillis(100), Duration.ofSeconds(30), Exhausted.DEAD_LETTER);
    }

    public static FailurePolicy stopAfter(int attempts) {
        return new FailurePolicy(attempts, Duration.ofMillis(100), Duration.ofSeconds(30), Exhausted.STOP);
    }

    /** The same policy with waits starting near {@code initial} and doubling up to {@code max}. */
    public FailurePolicy withBackoff(Duration initial, Duration max) {
        return new FailurePolicy(maxAttempts, initial, max, whenExhausted);
    }
}
