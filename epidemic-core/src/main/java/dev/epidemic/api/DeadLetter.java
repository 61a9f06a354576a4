package dev.epidemic.api;

import java.time.Instant;

/**
 * A change a handler kept failing on: the change itself, the last error, how many attempts were made
 * and when the first and the last failed. {@code handler} names the handler that failed.
 * {@code replayRequested} is true once a replay was asked for and the consumer has not yet retried it.
 */
public record DeadLetter(long id, String consumer, String handler, Change change, String error, int attempts,
                         Instant firstFailure, Instant lastFailure, boolean replayRequested) {
}
