package dev.epidemic.engine;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with full jitter, from {@code initial} doubling up to {@code max}. */
final class Backoff {
    private final long initialMillis;
    private final long maxMillis;
    private long currentMillis;

    Backoff(Duration initial, Duration max) {
        this.initialMillis = initial.toMillis();
        this.maxMillis = max.toMillis();
        this.currentMillis = initialMillis;
    }

    long nextMillis() {
        long ceiling = currentMillis;
        currentMillis = Math.min(maxMillis, currentMillis * 2);
        return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    }

    void reset() {
        currentMillis = initialMillis;
    }
}
