package dev.epidemic.api;

import java.time.Duration;

/**
 * How far behind one consumer is.
 *
 * @param name              the consumer's name
 * @param pending           committed changes it has not been handed yet
 * @param oldestPendingAge  age of the oldest of them; {@code null} when nothing is pending
 */
public record ConsumerStatus(String name, long pending, Duration oldestPendingAge) {
}
