package dev.epidemic.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as the daemon's configuration writes them: a number and a unit, {@code 200ms}, {@code 5s},
 * {@code 1.5m}, {@code 1h}: one syntax for the daemon's keys and every sink's.
 */
public final class DurationText {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)");

    private DurationText() {
    }

    /** The duration, or null when {@code text} is not one (the caller names the key). */
    public static Duration parse(String text) {
        Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return null;
        }
        BigDecimal millisPerUnit = switch (m.group(2)) {
            case "ms" -> BigDecimal.ONE;
            case "s" -> BigDecimal.valueOf(1_000);
            case "m" -> BigDecimal.valueOf(60_000);
            default -> BigDecimal.valueOf(3_600_000);
        };
        BigDecimal millis = new BigDecimal(m.group(1)).multiply(millisPerUnit);
        if (millis.compareTo(BigDecimal.valueOf(Long.MAX_VALUE / 1_000_000)) > 0) {
            return null;
        }
        return Duration.ofNanos(millis.movePointRight(6).longValue());
    }

    /** The one-line problem for text that is not a duration. */
    public static String problem(String text) {
        return "'" + text + "' is not a duration; write a number and a unit: ms, s, m or h (e.g. 200ms, 5s, 1m)";
    }
}
