package dev.epidemic.dialect;

import java.time.Instant;

/** A dead letter as the dialect stores it: the change as a log row, not yet decoded. */
public record StoredDeadLetter(long id, String consumer, String handler, LogRow row, String error, int attempts,
                               Instant firstFailure, Instant lastFailure, boolean replayRequested) {
}
