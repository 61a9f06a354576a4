package dev.epidemic.sink.redis;

import dev.epidemic.config.DurationText;

import java.time.Duration;

/** The configuration's durations ({@link DurationText}), no longer than the client's int milliseconds. */
final class Durations {
    private Durations() {
    }

    /** The duration, or null when {@code text} is not one or is too long for the client. */
    static Duration parse(String text) {
        Duration duration = DurationText.parse(text);
        return duration == null || duration.toMillis() > Integer.MAX_VALUE ? null : Duration.ofMillis(duration.toMillis());
    }
}
