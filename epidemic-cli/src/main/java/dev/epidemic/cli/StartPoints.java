package dev.epidemic.cli;

import dev.epidemic.api.StartFrom;

/**
 * The words for where a new consumer starts, as {@code tail --from} and the daemon's {@code from:} take
 * them: one parser, so that both accept the same words and name them the same way in their errors.
 */
public final class StartPoints {
    /** The accepted words, as an error message lists them. */
    public static final String CHOICES = "'oldest', 'now' or 'snapshot'";

    private StartPoints() {
    }

    /** The start point a word names, or null when it names none. */
    public static StartFrom parse(String word) {
        return switch (word.strip()) {
            case "oldest" -> StartFrom.OLDEST_RETAINED;
            case "now" -> StartFrom.NOW;
            case "snapshot" -> StartFrom.SNAPSHOT;
            default -> null;
        };
    }
}
